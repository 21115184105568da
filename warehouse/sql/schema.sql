-- Schemas and raw tables of the repopilot warehouse. Idempotent.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS features;
CREATE SCHEMA IF NOT EXISTS ml;
CREATE SCHEMA IF NOT EXISTS marts;

-- Committed state of each stream of each repository (cursor, ETags, ...), written in the same
-- transaction as the rows it covers.
CREATE TABLE IF NOT EXISTS raw.sync_state (
    repo VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    state JSON NOT NULL,
    batch_seq BIGINT NOT NULL,
    committed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, stream)
);

-- Where the warehouse's data came from; a sample (synthetic) load is labelled as such.
CREATE TABLE IF NOT EXISTS raw.sources (
    repo VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    synthetic BOOLEAN NOT NULL,
    first_loaded_at TIMESTAMPTZ NOT NULL,
    last_loaded_at TIMESTAMPTZ NOT NULL
);
