-- Completed attempts that did not succeed, by repository, workflow and conclusion, filtered. Every
-- attempt counts (a run re-run twice counts up to three times); cancelled attempts are not failures.
SELECT
    repo,
    coalesce(workflow_name, workflow_path) AS workflow,
    conclusion,
    count(*) AS attempts
FROM core.ci_runs
WHERE status = 'completed'
    AND conclusion IS DISTINCT FROM 'success'
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
GROUP BY ALL
ORDER BY attempts DESC;
