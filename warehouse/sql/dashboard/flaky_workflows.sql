-- Flaky workflows: runs whose failed attempt passed when re-run on the same commit, filtered.
-- flaky_share is the share of runs with a failed attempt that a re-run alone turned green.
WITH attempts AS (
    SELECT
        repo,
        coalesce(workflow_name, workflow_path) AS workflow,
        id,
        bool_or(conclusion IN ('failure', 'timed_out', 'startup_failure')) AS any_failed,
        bool_or(conclusion = 'success' AND run_attempt > 1) AS passed_on_rerun
    FROM core.ci_runs
    WHERE status = 'completed'
        AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
        AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
    GROUP BY ALL
)
SELECT
    repo,
    workflow,
    count(*) AS runs,
    count(*) FILTER (any_failed) AS runs_with_failure,
    count(*) FILTER (any_failed AND passed_on_rerun) AS flaky_runs,
    count(*) FILTER (any_failed AND passed_on_rerun) / nullif(count(*) FILTER (any_failed), 0) AS flaky_share
FROM attempts
GROUP BY ALL
HAVING count(*) FILTER (any_failed) > 0
ORDER BY flaky_runs DESC, flaky_share DESC
LIMIT 15;
