-- Re-runs of failed attempts by repository, workflow and the class of the failure that was re-run
-- (features.failure_classes, one row per failed attempt): counted as exports/rerun_history counts
-- them, for the attempts whose class is known (a log excerpt was read and classified). Attempts
-- without a class count only in exports/rerun_history.
SELECT
    f.repo,
    coalesce(f.workflow_name, f.workflow_path, '') AS workflow,
    c.failure_class,
    count(*) AS reruns,
    count(*) FILTER (WHERE n.conclusion = 'success') AS successes
FROM core.ci_runs AS f
JOIN core.ci_runs AS n
    ON n.repo = f.repo AND n.id = f.id AND n.run_attempt = f.run_attempt + 1 AND n.source = f.source
JOIN features.failure_classes AS c
    ON c.repo = f.repo AND c.run_id = f.id AND c.run_attempt = f.run_attempt
WHERE f.source = 'github'
  AND f.conclusion IN ('failure', 'timed_out')
  AND n.status = 'completed'
  AND c.failure_class IS NOT NULL
GROUP BY f.repo, coalesce(f.workflow_name, f.workflow_path, ''), c.failure_class
ORDER BY f.repo, workflow, c.failure_class;
