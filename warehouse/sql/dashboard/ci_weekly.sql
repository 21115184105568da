-- Weekly CI outcome counts per repository: completed runs created in the filter, each counted once
-- by its latest attempt (an attempt re-run to green is not also a failure), weeks in UTC.
-- Read from core.ci_runs rather than marts.ci_weekly: the mart's whole weeks would count runs
-- outside a time range that starts or ends mid-week.
SELECT
    repo,
    CAST(date_trunc('week', created_at AT TIME ZONE 'UTC') AS DATE) AS week,
    count(*)::BIGINT AS runs,
    (count(*) FILTER (conclusion = 'success'))::BIGINT AS successes,
    (count(*) FILTER (conclusion IN ('failure', 'timed_out', 'startup_failure')))::BIGINT AS failures,
    (count(*) FILTER (conclusion = 'cancelled'))::BIGINT AS cancelled,
    (count(*) FILTER (run_attempt > 1))::BIGINT AS reruns
FROM core.ci_runs
WHERE status = 'completed' AND is_latest_attempt
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
GROUP BY ALL
ORDER BY week, repo;
