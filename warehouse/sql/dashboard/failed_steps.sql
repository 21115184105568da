-- Failed or timed-out jobs by job name and the step that failed, filtered.
SELECT
    name AS job,
    coalesce(failed_step, '(no step recorded)') AS failed_step,
    conclusion,
    count(*) AS jobs
FROM core.ci_jobs
WHERE conclusion IN ('failure', 'timed_out', 'startup_failure')
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND started_at >= $start::TIMESTAMPTZ AND started_at < $end::TIMESTAMPTZ
GROUP BY ALL
ORDER BY jobs DESC
LIMIT 25;
