-- One raw table: one row per API object, keyed by repository and the object's natural key.
-- {table} is an identifier from the fixed list in pipelines/sources/streams.py, never user input.
CREATE TABLE IF NOT EXISTS raw.{table} (
    repo VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    parent VARCHAR,
    version TIMESTAMPTZ,
    data JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, key)
);
