-- Where each repository's history came from (raw.sources is bookkeeping: a row per repository).
CREATE OR REPLACE TABLE reader_copy.slim.sources AS
SELECT repo, source, synthetic, first_loaded_at, last_loaded_at
FROM raw.sources;
