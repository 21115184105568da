-- Where the warehouse's data came from, per repository (for the exports' manifest).
SELECT repo, source, synthetic FROM raw.sources ORDER BY repo;
