CREATE OR REPLACE TABLE core.pull_requests AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    repo,
    CAST(data->>'$.number' AS INTEGER) AS number,
    data->>'$.title' AS title,
    core.norm(data->>'$.state') AS state,
    coalesce(CAST(data->>'$.draft' AS BOOLEAN), false) AS draft,
    data->>'$.user.login' AS author,
    core.is_bot(data->>'$.user.login', data->>'$.user.type') AS author_is_bot,
    core.norm(data->>'$.author_association') AS author_association,
    core.ts(data->>'$.created_at') AS created_at,
    core.ts(data->>'$.updated_at') AS updated_at,
    core.ts(data->>'$.closed_at') AS closed_at,
    core.ts(data->>'$.merged_at') AS merged_at,
    core.ts(data->>'$.merged_at') IS NOT NULL AS merged,
    data->>'$.head.ref' AS head_ref,
    data->>'$.head.sha' AS head_sha,
    data->>'$.base.ref' AS base_ref,
    TRY_CAST(data->>'$.additions' AS INTEGER) AS additions,
    TRY_CAST(data->>'$.deletions' AS INTEGER) AS deletions,
    TRY_CAST(data->>'$.changed_files' AS INTEGER) AS changed_files,
    list_transform(CAST(coalesce(data->'$.labels', '[]') AS JSON[]), lambda l: l->>'$.name') AS labels,
    list_transform(CAST(coalesce(data->'$.requested_reviewers', '[]') AS JSON[]), lambda u: u->>'$.login')
        AS requested_reviewers
FROM raw.pull_requests;
