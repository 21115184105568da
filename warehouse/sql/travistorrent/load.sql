-- Copy a TravisTorrent-schema build table into raw.travis_builds (replacing what was there).
CREATE OR REPLACE TABLE raw.travis_builds AS
SELECT *, now() AS fetched_at FROM read_parquet($path);
