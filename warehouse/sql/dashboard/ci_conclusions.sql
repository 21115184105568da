-- Completed runs that did not succeed, by repository, workflow and conclusion, filtered.
SELECT
    repo,
    coalesce(workflow_name, workflow_path) AS workflow,
    conclusion,
    count(*) AS runs
FROM core.ci_runs
WHERE status = 'completed'
    AND conclusion IS DISTINCT FROM 'success'
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
GROUP BY ALL
ORDER BY runs DESC;
