-- The instant the history reaches: the newest event of any kind. Features "as of now" use it,
-- so that a recording or the sample gives the same features whenever they are built.
SELECT max(seen_at) FROM (
    SELECT max(updated_at) AS seen_at FROM core.pull_requests
    UNION ALL SELECT max(submitted_at) FROM core.reviews
    UNION ALL SELECT max(updated_at) FROM core.comments
    UNION ALL SELECT max(updated_at) FROM core.issues
    UNION ALL SELECT max(created_at) FROM core.issue_events
    UNION ALL SELECT max(updated_at) FROM core.ci_runs
);
