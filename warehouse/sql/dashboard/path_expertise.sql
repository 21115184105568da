-- Who knows which paths: the strongest expertise weights per repository, person and path prefix,
-- filtered. Repositories stay apart: tests/ of one repository is not tests/ of another.
SELECT repo, candidate, path_prefix, weight
FROM features.path_expertise_weights
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
ORDER BY weight DESC, repo, candidate, path_prefix
LIMIT $limit;
