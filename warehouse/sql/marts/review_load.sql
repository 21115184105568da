-- Review load per person and repository: reviews done (all time, last 30 days of the data),
-- review requests still open, and median hours from pull request creation to their first review.
CREATE OR REPLACE TABLE marts.review_load AS
WITH horizon AS (SELECT max(submitted_at) AS now FROM core.reviews),
first_reviews AS (
    SELECT v.repo, v.reviewer, v.pull_number, min(v.submitted_at) AS first_at
    FROM core.reviews AS v
    WHERE NOT v.reviewer_is_bot
    GROUP BY ALL
),
done AS (
    SELECT f.repo, f.reviewer AS login,
           count(*) AS pull_requests_reviewed,
           count(*) FILTER (f.first_at >= (SELECT now FROM horizon) - INTERVAL 30 DAY) AS reviewed_last_30_days,
           median(date_diff('second', p.created_at, f.first_at) / 3600.0) AS median_first_review_hours
    FROM first_reviews AS f
    JOIN core.pull_requests AS p ON p.repo = f.repo AND p.number = f.pull_number
    GROUP BY ALL
),
requested AS (
    SELECT repo, unnest(requested_reviewers) AS login FROM core.pull_requests WHERE state = 'open'
),
open_requests AS (
    SELECT repo, login, count(*) AS open_review_requests FROM requested GROUP BY ALL
)
SELECT
    coalesce(d.repo, o.repo) AS repo,
    coalesce(d.login, o.login) AS login,
    coalesce(d.pull_requests_reviewed, 0) AS pull_requests_reviewed,
    coalesce(d.reviewed_last_30_days, 0) AS reviewed_last_30_days,
    coalesce(o.open_review_requests, 0) AS open_review_requests,
    d.median_first_review_hours
FROM done AS d
FULL OUTER JOIN open_requests AS o ON o.repo = d.repo AND o.login = d.login;
