-- Every repository the warehouse knows, for the repository filter.
SELECT repo FROM raw.sources
UNION
SELECT DISTINCT repo FROM core.ci_runs
ORDER BY repo;
