-- What the reader copy is: its format (readers refuse another) and when it was written.
CREATE OR REPLACE TABLE reader_copy.slim.manifest AS
SELECT $format::INTEGER AS format, $written_at::TIMESTAMPTZ AS written_at;
