CREATE OR REPLACE TABLE core.ci_jobs AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    CAST(data->>'$.run_id' AS BIGINT) AS run_id,
    CAST(coalesce(data->>'$.run_attempt', '1') AS INTEGER) AS run_attempt,
    repo,
    data->>'$.name' AS name,
    data->>'$.head_sha' AS head_sha,
    core.run_status(data->>'$.status') AS status,
    core.norm(data->>'$.conclusion') AS conclusion,
    core.ts(data->>'$.started_at') AS started_at,
    core.ts(data->>'$.completed_at') AS completed_at,
    date_diff('second', core.ts(data->>'$.started_at'), core.ts(data->>'$.completed_at')) AS duration_seconds,
    data->>'$.runner_name' AS runner_name,
    list_filter(
        CAST(coalesce(data->'$.steps', '[]') AS JSON[]),
        lambda s: core.norm(s->>'$.conclusion') IN ('failure', 'timed_out')
    )[1]->>'$.name' AS failed_step,
    data->'$.steps' AS steps
FROM raw.jobs;
