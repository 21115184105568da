CREATE OR REPLACE TABLE core.issues AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    repo,
    CAST(data->>'$.number' AS INTEGER) AS number,
    data->>'$.title' AS title,
    core.norm(data->>'$.state') AS state,
    core.norm(data->>'$.state_reason') AS state_reason,
    data->>'$.user.login' AS author,
    core.is_bot(data->>'$.user.login', data->>'$.user.type') AS author_is_bot,
    core.norm(data->>'$.author_association') AS author_association,
    list_transform(CAST(coalesce(data->'$.labels', '[]') AS JSON[]), lambda l: l->>'$.name') AS labels,
    list_transform(CAST(coalesce(data->'$.assignees', '[]') AS JSON[]), lambda u: u->>'$.login') AS assignees,
    TRY_CAST(data->>'$.comments' AS INTEGER) AS comment_count,
    core.ts(data->>'$.created_at') AS created_at,
    core.ts(data->>'$.updated_at') AS updated_at,
    core.ts(data->>'$.closed_at') AS closed_at,
    json_exists(data, '$.pull_request') AS is_pull_request
FROM raw.issues;
