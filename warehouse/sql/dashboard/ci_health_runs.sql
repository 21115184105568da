-- Completed GitHub workflow runs in the filter, as the SLA engine reads them (success rate, availability).
SELECT
    repo,
    coalesce(workflow_name, workflow_path, CAST(workflow_id AS VARCHAR)) AS workflow,
    coalesce(updated_at, created_at) AS completed_at,
    conclusion
FROM core.ci_runs
WHERE status = 'completed'
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
ORDER BY completed_at;
