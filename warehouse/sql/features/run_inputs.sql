-- The run input frame of pipelines/features/schemas.py: one row per run attempt, every source.
-- Coverage is the newest coverage status of the repository posted before the run was triggered.
CREATE OR REPLACE VIEW features.run_inputs AS
WITH coverage AS (
    SELECT repo, updated_at AS posted_at,
           TRY_CAST(regexp_extract(description, '([0-9]+(\.[0-9]+)?)%', 1) AS DOUBLE) AS coverage
    FROM core.commit_statuses
    WHERE (context ILIKE '%coverage%' OR context ILIKE 'codecov%') AND description LIKE '%\%%' ESCAPE '\'
)
SELECT
    r.id,
    r.run_attempt,
    r.repo,
    coalesce(r.workflow_name, r.workflow_path) AS workflow,
    r.head_branch AS branch,
    r.event,
    r.head_sha,
    r.actor,
    r.event = 'pull_request' OR r.pull_number IS NOT NULL AS is_pr,
    r.pull_number,
    r.created_at,
    CASE WHEN r.status = 'completed' THEN r.updated_at END AS finished_at,
    r.conclusion,
    CASE
        WHEN r.status <> 'completed' OR r.conclusion IS NULL THEN NULL
        WHEN r.conclusion IN ('failure', 'timed_out', 'startup_failure') THEN true
        WHEN r.conclusion = 'success' THEN false
    END AS failed,
    CASE WHEN r.status = 'completed' THEN r.duration_seconds END AS duration_seconds,
    c.lines_added,
    c.lines_deleted,
    c.files_changed,
    c.src_churn,
    c.test_churn,
    c.doc_churn,
    c.tests_added,
    c.test_density,
    cov.coverage,
    c.review_count,
    c.approval_seconds,
    c.team_size,
    c.by_core_member,
    c.log_tests_failed,
    c.log_tests_run
FROM core.ci_runs AS r
LEFT JOIN core.run_changes AS c USING (repo, id, run_attempt)
ASOF LEFT JOIN coverage AS cov ON cov.repo = r.repo AND cov.posted_at <= r.created_at;
