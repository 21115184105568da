-- CI success rate and duration by repository, workflow and ISO week (completed runs, latest attempts).
CREATE OR REPLACE TABLE marts.ci_weekly AS
SELECT
    repo,
    coalesce(workflow_name, workflow_path) AS workflow,
    CAST(date_trunc('week', created_at) AS DATE) AS week,
    count(*) AS runs,
    count(*) FILTER (conclusion = 'success') AS successes,
    count(*) FILTER (conclusion IN ('failure', 'timed_out', 'startup_failure')) AS failures,
    count(*) FILTER (conclusion = 'cancelled') AS cancelled,
    count(*) FILTER (conclusion = 'success')
        / nullif(count(*) FILTER (conclusion IN ('success', 'failure', 'timed_out', 'startup_failure')), 0)
        AS success_rate,
    median(duration_seconds) AS median_duration_seconds,
    quantile_cont(duration_seconds, 0.9) AS p90_duration_seconds,
    count(*) FILTER (run_attempt > 1) AS reruns
FROM core.ci_runs
WHERE status = 'completed' AND is_latest_attempt AND created_at IS NOT NULL
GROUP BY ALL;
