-- One row per attempt of a workflow run; attempts of a run share its id.
CREATE OR REPLACE TABLE core.ci_runs AS
SELECT
    CAST(data->>'$.id' AS BIGINT) AS id,
    CAST(coalesce(data->>'$.run_attempt', '1') AS INTEGER) AS run_attempt,
    repo,
    TRY_CAST(data->>'$.workflow_id' AS BIGINT) AS workflow_id,
    data->>'$.name' AS workflow_name,
    data->>'$.path' AS workflow_path,
    TRY_CAST(data->>'$.run_number' AS INTEGER) AS run_number,
    core.norm(data->>'$.event') AS event,
    data->>'$.head_branch' AS head_branch,
    data->>'$.head_sha' AS head_sha,
    core.norm(data->>'$.status') AS status,
    core.norm(data->>'$.conclusion') AS conclusion,
    data->>'$.actor.login' AS actor,
    core.is_bot(data->>'$.actor.login', data->>'$.actor.type') AS actor_is_bot,
    TRY_CAST(data->'$.pull_requests[0].number' AS INTEGER) AS pull_number,
    core.ts(data->>'$.created_at') AS created_at,
    core.ts(data->>'$.run_started_at') AS run_started_at,
    core.ts(data->>'$.updated_at') AS updated_at,
    CASE WHEN core.norm(data->>'$.status') = 'completed'
        THEN date_diff('second', coalesce(core.ts(data->>'$.run_started_at'), core.ts(data->>'$.created_at')),
                       core.ts(data->>'$.updated_at'))
    END AS duration_seconds
FROM raw.workflow_runs;

ALTER TABLE core.ci_runs ADD COLUMN is_latest_attempt BOOLEAN;
UPDATE core.ci_runs AS r SET is_latest_attempt = r.run_attempt = m.latest
FROM (SELECT repo, id, max(run_attempt) AS latest FROM core.ci_runs GROUP BY ALL) AS m
WHERE r.repo = m.repo AND r.id = m.id;
