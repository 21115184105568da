-- Everyone who appears in the history, with bots flagged and where they were seen.
CREATE OR REPLACE TABLE core.people AS
WITH appearances AS (
    SELECT repo, author AS login, author_is_bot AS is_bot, created_at AS seen_at, 'pull_request' AS role
    FROM core.pull_requests
    UNION ALL SELECT repo, reviewer, reviewer_is_bot, submitted_at, 'review' FROM core.reviews
    UNION ALL SELECT repo, author, author_is_bot, created_at, 'comment' FROM core.comments
    UNION ALL SELECT repo, author, author_is_bot, created_at, 'issue' FROM core.issues
    UNION ALL SELECT repo, actor, actor_is_bot, created_at, 'issue_event' FROM core.issue_events
    UNION ALL SELECT repo, actor, actor_is_bot, created_at, 'ci_run' FROM core.ci_runs WHERE source = 'github'
)
SELECT
    login,
    bool_or(is_bot) OR login LIKE '%[bot]' AS is_bot,
    min(seen_at) AS first_seen_at,
    max(seen_at) AS last_seen_at,
    count(*) AS appearances,
    count(DISTINCT repo) AS repositories,
    list(DISTINCT role ORDER BY role) AS roles
FROM appearances
WHERE login IS NOT NULL
GROUP BY login;
