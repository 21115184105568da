-- Every repository the warehouse knows, for the repository filter.
SELECT repo FROM reader.sources
UNION
SELECT DISTINCT repo FROM core.ci_runs
ORDER BY repo;
