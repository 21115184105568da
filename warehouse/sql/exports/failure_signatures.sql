-- Failure signatures by repository (features.failure_classes.signature: the same failure in different
-- builds has the same signature) over the $days days before the newest classified failure: failed
-- runs with that signature, distinct head commits, first and last seen, re-runs of those failures, how
-- many passed and how many failed again with the same signature, and the $max_commits most recently seen commits
-- (runs, first and last seen each), from which the heal action counts earlier runs on other commits.
-- A run without a known head commit counts as a commit of its own ('').
WITH failures AS (
    SELECT c.repo, c.run_id, c.run_attempt, c.signature, c.created_at, coalesce(r.head_sha, '') AS head_sha
    FROM features.failure_classes AS c
    LEFT JOIN core.ci_runs AS r
        ON r.source = 'github' AND r.repo = c.repo AND r.id = c.run_id AND r.run_attempt = c.run_attempt
    WHERE c.signature IS NOT NULL
      AND c.created_at >= (SELECT max(created_at) FROM features.failure_classes)
          - to_days(CAST($days AS INTEGER))
),
again AS (
    SELECT
        f.repo,
        f.signature,
        count(*) AS reruns,
        count(*) FILTER (WHERE n.conclusion = 'success') AS rerun_successes,
        count(*) FILTER (WHERE g.signature = f.signature) AS rerun_failures
    FROM failures AS f
    JOIN core.ci_runs AS n
        ON n.source = 'github' AND n.repo = f.repo AND n.id = f.run_id AND n.run_attempt = f.run_attempt + 1
    LEFT JOIN features.failure_classes AS g
        ON g.repo = n.repo AND g.run_id = n.id AND g.run_attempt = n.run_attempt
    WHERE n.status = 'completed'
    GROUP BY f.repo, f.signature
),
commits AS (
    SELECT
        repo,
        signature,
        head_sha,
        count(DISTINCT run_id) AS runs,
        min(created_at) AS first_seen,
        max(created_at) AS last_seen
    FROM failures
    GROUP BY repo, signature, head_sha
)
SELECT
    c.repo,
    c.signature,
    CAST(sum(c.runs) AS BIGINT) AS failed_runs,
    count(*) AS commits,
    min(c.first_seen) AS first_seen,
    max(c.last_seen) AS last_seen,
    coalesce(any_value(a.reruns), 0) AS reruns,
    coalesce(any_value(a.rerun_successes), 0) AS rerun_successes,
    coalesce(any_value(a.rerun_failures), 0) AS rerun_failures,
    list(
        {'head_sha': c.head_sha, 'runs': c.runs, 'first_seen': c.first_seen, 'last_seen': c.last_seen}
        ORDER BY c.last_seen DESC, c.head_sha
    )[1:CAST($max_commits AS INTEGER)] AS recent_commits
FROM commits AS c
LEFT JOIN again AS a ON a.repo = c.repo AND a.signature = c.signature
GROUP BY c.repo, c.signature
ORDER BY c.repo, c.signature;
