-- First and last workflow-run creation time: the bounds of the time filter.
SELECT min(created_at) AS first_at, max(created_at) AS last_at
FROM core.ci_runs;
