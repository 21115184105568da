-- Where each repository's history came from, and whether it is synthetic (the sample organisation).
SELECT repo, source, synthetic, last_loaded_at
FROM slim.sources
ORDER BY repo;
