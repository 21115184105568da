INSERT INTO raw.sources (repo, source, synthetic, first_loaded_at, last_loaded_at)
VALUES ($repo, $source, $synthetic, now(), now())
ON CONFLICT (repo) DO UPDATE SET
    source = excluded.source,
    synthetic = excluded.synthetic,
    last_loaded_at = excluded.last_loaded_at;
