-- The latest attempt of each run triggered in the last $days days before the newest one: the runs
-- whose risk the actions may ask about (open pull requests' heads, the default branch's tip).
WITH latest AS (
    SELECT * FROM features.run_features
    QUALIFY row_number() OVER (PARTITION BY repo, id ORDER BY run_attempt DESC) = 1
)
SELECT l.*, i.branch, i.head_sha
FROM latest AS l
JOIN features.run_inputs AS i USING (repo, id, run_attempt)
WHERE l.created_at >= (SELECT max(created_at) FROM features.run_features) - to_days(CAST($days AS INTEGER))
ORDER BY l.created_at DESC, l.repo, l.id
LIMIT $limit;
