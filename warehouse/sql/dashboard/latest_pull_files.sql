-- The files of the most recently opened pull request that changed any (the routing notebook's example).
SELECT f.repo, f.pull_number, p.created_at, list(f.filename ORDER BY f.filename) AS files
FROM core.pr_files AS f
JOIN core.pull_requests AS p ON p.repo = f.repo AND p.number = f.pull_number
GROUP BY ALL
ORDER BY p.created_at DESC, f.repo, f.pull_number
LIMIT 1;
