-- Hours from a pull request's creation to its first human review, per pull request, filtered.
WITH firsts AS (
    SELECT repo, pull_number, min(submitted_at) AS first_at
    FROM core.reviews
    WHERE NOT reviewer_is_bot
    GROUP BY ALL
)
SELECT
    p.repo,
    p.number,
    p.created_at,
    date_diff('second', p.created_at, f.first_at) / 3600.0 AS hours_to_first_review
FROM core.pull_requests AS p
JOIN firsts AS f ON f.repo = p.repo AND f.pull_number = p.number
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], p.repo))
    AND p.created_at >= $start::TIMESTAMPTZ AND p.created_at < $end::TIMESTAMPTZ
ORDER BY p.created_at;
