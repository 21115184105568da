-- Review load per person over the selected repositories (marts.review_load).
SELECT
    login,
    sum(open_review_requests)::BIGINT AS open_review_requests,
    sum(reviewed_last_30_days)::BIGINT AS reviewed_last_30_days,
    sum(pull_requests_reviewed)::BIGINT AS pull_requests_reviewed,
    median(median_first_review_hours) AS median_first_review_hours
FROM marts.review_load
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
GROUP BY ALL
ORDER BY open_review_requests DESC, reviewed_last_30_days DESC;
