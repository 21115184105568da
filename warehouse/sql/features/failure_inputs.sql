-- Failed attempts of GitHub workflow runs with their log excerpt (every job's lines, in job order).
-- log_status: the excerpt's status, or NULL when the attempt's logs have not been read yet.
SELECT
    r.repo,
    r.id AS run_id,
    r.run_attempt,
    r.workflow_name,
    r.conclusion,
    r.created_at,
    e.log_status,
    coalesce(e.jobs, []) AS jobs,
    coalesce(e.lines, []) AS lines,
    coalesce(e.line_refs, []) AS line_refs
FROM core.ci_runs AS r
LEFT JOIN (
    SELECT
        repo,
        run_id,
        run_attempt,
        min(status) AS log_status,
        list(nullif(job, '') ORDER BY job) FILTER (WHERE job <> '') AS jobs,
        flatten(list(lines ORDER BY job)) AS lines,
        flatten(list(
            list_transform(line_numbers, lambda n: job || ':' || CAST(n AS VARCHAR)) ORDER BY job
        )) AS line_refs
    FROM core.ci_log_excerpts
    GROUP BY ALL
) AS e ON e.repo = r.repo AND e.run_id = r.id AND e.run_attempt = r.run_attempt
WHERE r.source = 'github'
  AND r.status = 'completed'
  AND r.conclusion IN ('failure', 'timed_out', 'startup_failure')
ORDER BY r.repo, r.created_at, r.id, r.run_attempt
