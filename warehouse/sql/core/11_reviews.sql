CREATE OR REPLACE TABLE core.reviews AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    repo,
    coalesce(TRY_CAST(parent AS INTEGER), core.number_of(data->>'$.pull_request_url')) AS pull_number,
    data->>'$.user.login' AS reviewer,
    core.is_bot(data->>'$.user.login', data->>'$.user.type') AS reviewer_is_bot,
    core.norm(data->>'$.state') AS state,
    core.ts(data->>'$.submitted_at') AS submitted_at,
    data->>'$.commit_id' AS commit_id,
    core.norm(data->>'$.author_association') AS author_association
FROM raw.reviews;
