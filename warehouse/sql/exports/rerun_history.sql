-- Re-runs of failed attempts by repository and workflow: a failed (or timed-out) attempt followed by
-- another attempt of the same run is one re-run; it succeeded when that next attempt passed. Only
-- finished next attempts count (one still going says nothing yet). These rows hold for failures of
-- any class; exports/rerun_history_by_class splits them by the class of the re-run failure.
SELECT
    f.repo,
    coalesce(f.workflow_name, f.workflow_path, '') AS workflow,
    any_value(f.workflow_path) AS workflow_path,
    count(*) AS reruns,
    count(*) FILTER (WHERE n.conclusion = 'success') AS successes
FROM core.ci_runs AS f
JOIN core.ci_runs AS n
    ON n.repo = f.repo AND n.id = f.id AND n.run_attempt = f.run_attempt + 1 AND n.source = f.source
WHERE f.source = 'github'
  AND f.conclusion IN ('failure', 'timed_out')
  AND n.status = 'completed'
GROUP BY f.repo, coalesce(f.workflow_name, f.workflow_path, '')
ORDER BY f.repo, workflow;
