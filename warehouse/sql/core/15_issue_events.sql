CREATE OR REPLACE TABLE core.issue_events AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    repo,
    coalesce(TRY_CAST(data->>'$.issue.number' AS INTEGER), core.number_of(data->>'$.issue.url')) AS issue_number,
    core.norm(data->>'$.event') AS event,
    data->>'$.actor.login' AS actor,
    core.is_bot(data->>'$.actor.login', data->>'$.actor.type') AS actor_is_bot,
    data->>'$.label.name' AS label,
    data->>'$.assignee.login' AS assignee,
    data->>'$.requested_reviewer.login' AS requested_reviewer,
    core.ts(data->>'$.created_at') AS created_at
FROM raw.issue_events;
