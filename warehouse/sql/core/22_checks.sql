CREATE OR REPLACE TABLE core.check_runs AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    repo,
    coalesce(data->>'$.head_sha', parent) AS head_sha,
    data->>'$.name' AS name,
    core.norm(data->>'$.status') AS status,
    core.norm(data->>'$.conclusion') AS conclusion,
    data->>'$.app.slug' AS app,
    core.ts(data->>'$.started_at') AS started_at,
    core.ts(data->>'$.completed_at') AS completed_at
FROM raw.check_runs;

CREATE OR REPLACE TABLE core.commit_statuses AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    repo,
    parent AS sha,
    data->>'$.context' AS context,
    core.norm(data->>'$.state') AS state,
    data->>'$.description' AS description,
    data->>'$.target_url' AS target_url,
    core.ts(data->>'$.created_at') AS created_at,
    core.ts(data->>'$.updated_at') AS updated_at
FROM raw.commit_statuses;
