-- Conversation comments (issues and pull requests) and review comments on diffs, in one table.
CREATE OR REPLACE TABLE core.comments AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    repo,
    'issue' AS kind,
    core.number_of(data->>'$.issue_url') AS issue_number,
    CAST(NULL AS VARCHAR) AS path,
    data->>'$.user.login' AS author,
    core.is_bot(data->>'$.user.login', data->>'$.user.type') AS author_is_bot,
    core.norm(data->>'$.author_association') AS author_association,
    core.ts(data->>'$.created_at') AS created_at,
    core.ts(data->>'$.updated_at') AS updated_at,
    length(data->>'$.body') AS body_length
FROM raw.issue_comments
UNION ALL
SELECT
    CAST(data->>'$.id' AS BIGINT),
    repo,
    'review',
    core.number_of(data->>'$.pull_request_url'),
    data->>'$.path',
    data->>'$.user.login',
    core.is_bot(data->>'$.user.login', data->>'$.user.type'),
    core.norm(data->>'$.author_association'),
    core.ts(data->>'$.created_at'),
    core.ts(data->>'$.updated_at'),
    length(data->>'$.body')
FROM raw.review_comments;
