-- Who knows which paths: the strongest expertise weights, per person and path prefix, filtered.
SELECT candidate, path_prefix, sum(weight) AS weight
FROM features.path_expertise_weights
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
GROUP BY ALL
ORDER BY weight DESC
LIMIT $limit;
