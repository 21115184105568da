-- Upsert a landed batch (the Arrow table `incoming`) into a raw table. A row is only replaced by
-- the same or a newer version of its object, so replaying an old batch never rolls data back.
INSERT INTO raw.{table}
SELECT repo, key, parent, CAST(version AS TIMESTAMPTZ), CAST(data AS JSON), CAST(fetched_at AS TIMESTAMPTZ)
FROM incoming
ON CONFLICT (repo, key) DO UPDATE SET
    parent = excluded.parent,
    version = excluded.version,
    data = excluded.data,
    fetched_at = excluded.fetched_at
WHERE excluded.version IS NULL OR raw.{table}.version IS NULL OR excluded.version >= raw.{table}.version;
