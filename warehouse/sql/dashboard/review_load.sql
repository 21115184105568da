-- Review load per person over the selected repositories: open review requests now and reviews in
-- the 30 days before the newest review (marts.review_load; not narrowed by the time range), and the
-- median hours from a pull request's creation to the person's first review of it, pooled over the
-- selected repositories' pull requests opened in the time range (a median of per-repository
-- medians is not the person's median).
WITH load AS (
    SELECT
        login,
        sum(open_review_requests)::BIGINT AS open_review_requests,
        sum(reviewed_last_30_days)::BIGINT AS reviewed_last_30_days,
        sum(pull_requests_reviewed)::BIGINT AS pull_requests_reviewed
    FROM marts.review_load
    WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    GROUP BY ALL
),
firsts AS (
    SELECT repo, reviewer AS login, pull_number, min(submitted_at) AS first_at
    FROM core.reviews
    WHERE NOT reviewer_is_bot
        AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    GROUP BY ALL
),
waits AS (
    SELECT f.login, median(date_diff('second', p.created_at, f.first_at) / 3600.0) AS median_first_review_hours
    FROM firsts AS f
    JOIN core.pull_requests AS p ON p.repo = f.repo AND p.number = f.pull_number
    WHERE p.created_at >= $start::TIMESTAMPTZ AND p.created_at < $end::TIMESTAMPTZ
    GROUP BY ALL
)
SELECT
    load.login,
    load.open_review_requests,
    load.reviewed_last_30_days,
    load.pull_requests_reviewed,
    waits.median_first_review_hours
FROM load
LEFT JOIN waits ON waits.login = load.login
ORDER BY load.open_review_requests DESC, load.reviewed_last_30_days DESC, load.login;
