-- One row per attempt of a workflow run; attempts of a run share its id. TravisTorrent builds
-- (source 'travistorrent') are mapped in: one attempt each, errored kept apart in travis_status. A PR
-- build's branch is Travis's (the PR's target branch), which keeps the naive baselines as strong as they
-- can be: keying PR builds by their PR instead weakened "same as the previous build".
CREATE OR REPLACE TABLE core.ci_runs AS
SELECT
    'github' AS source,
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
    core.run_status(data->>'$.status') AS status,
    core.norm(data->>'$.conclusion') AS conclusion,
    data->>'$.actor.login' AS actor,
    core.is_bot(data->>'$.actor.login', data->>'$.actor.type') AS actor_is_bot,
    TRY_CAST(data->'$.pull_requests[0].number' AS INTEGER) AS pull_number,
    core.ts(data->>'$.created_at') AS created_at,
    core.ts(data->>'$.run_started_at') AS run_started_at,
    core.ts(data->>'$.updated_at') AS updated_at,
    CASE WHEN core.run_status(data->>'$.status') = 'completed'
        THEN date_diff('second', coalesce(core.ts(data->>'$.run_started_at'), core.ts(data->>'$.created_at')),
                       core.ts(data->>'$.updated_at'))
    END AS duration_seconds,
    CAST(NULL AS BIGINT) AS previous_run_id,
    CAST(NULL AS VARCHAR) AS travis_status
FROM raw.workflow_runs
UNION ALL BY NAME
SELECT
    'travistorrent' AS source,
    tr_build_id AS id,
    1 AS run_attempt,
    gh_project_name AS repo,
    CAST(NULL AS BIGINT) AS workflow_id,
    'travis' AS workflow_name,
    '.travis.yml' AS workflow_path,
    CAST(NULL AS INTEGER) AS run_number,
    CASE WHEN gh_is_pr THEN 'pull_request' ELSE 'push' END AS event,
    nullif(git_branch, '') AS head_branch,
    nullif(git_trigger_commit, '') AS head_sha,
    'completed' AS status,
    CASE core.norm(tr_status)
        WHEN 'passed' THEN 'success'
        WHEN 'failed' THEN 'failure'
        WHEN 'errored' THEN 'failure'
        WHEN 'canceled' THEN 'cancelled'
        ELSE core.norm(tr_status)
    END AS conclusion,
    CAST(NULL AS VARCHAR) AS actor,
    false AS actor_is_bot,
    CAST(gh_pull_req_num AS INTEGER) AS pull_number,
    core.ts(gh_build_started_at) AS created_at,
    core.ts(gh_build_started_at) AS run_started_at,
    core.ts(gh_build_started_at) + to_seconds(CAST(coalesce(tr_duration, 0) AS BIGINT)) AS updated_at,
    CAST(tr_duration AS BIGINT) AS duration_seconds,
    CAST(tr_prev_build AS BIGINT) AS previous_run_id,
    core.norm(tr_status) AS travis_status
FROM raw.travis_builds;

ALTER TABLE core.ci_runs ADD COLUMN is_latest_attempt BOOLEAN;
UPDATE core.ci_runs AS r SET is_latest_attempt = r.run_attempt = m.latest
FROM (SELECT repo, id, max(run_attempt) AS latest FROM core.ci_runs GROUP BY ALL) AS m
WHERE r.repo = m.repo AND r.id = m.id;
