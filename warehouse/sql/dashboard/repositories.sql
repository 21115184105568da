-- Every repository the warehouse knows, for the repository filter.
SELECT repo FROM slim.sources
UNION
SELECT DISTINCT repo FROM core.ci_runs
ORDER BY repo;
