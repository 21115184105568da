-- Slowest workflows: median and 90th-percentile duration of completed runs, filtered.
SELECT
    repo,
    coalesce(workflow_name, workflow_path) AS workflow,
    count(*) AS runs,
    median(duration_seconds) / 60.0 AS median_minutes,
    quantile_cont(duration_seconds, 0.9) / 60.0 AS p90_minutes
FROM core.ci_runs
WHERE status = 'completed' AND duration_seconds IS NOT NULL
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
GROUP BY ALL
ORDER BY p90_minutes DESC
LIMIT 15;
