-- Normalisation shared by the core models: lower-case enum values, empty strings to NULL,
-- timestamps (Z or offsets) to UTC TIMESTAMPTZ, bots recognised by type or by the [bot] suffix.
CREATE OR REPLACE MACRO core.norm(x) AS lower(nullif(trim(CAST(x AS VARCHAR)), ''));
CREATE OR REPLACE MACRO core.ts(x) AS TRY_CAST(nullif(CAST(x AS VARCHAR), '') AS TIMESTAMPTZ);
CREATE OR REPLACE MACRO core.is_bot(login, kind) AS
    (coalesce(CAST(kind AS VARCHAR), '') = 'Bot' OR coalesce(CAST(login AS VARCHAR), '') LIKE '%[bot]');
CREATE OR REPLACE MACRO core.number_of(url) AS TRY_CAST(regexp_extract(url, '/(\d+)$', 1) AS BIGINT);
-- A status that is really a conclusion (DevLake's edge rows store SUCCESS, TIMED_OUT, ... there)
-- means the run or job completed.
CREATE OR REPLACE MACRO core.run_status(x) AS
    CASE
        WHEN core.norm(x) IN ('success', 'failure', 'cancelled', 'timed_out', 'skipped', 'neutral', 'stale',
                              'action_required', 'startup_failure') THEN 'completed'
        ELSE core.norm(x)
    END;
