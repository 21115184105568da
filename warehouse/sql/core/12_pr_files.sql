-- Only the files of each pull request's latest fetch: a force-push can drop files.
CREATE OR REPLACE TABLE core.pr_files AS
SELECT
    repo,
    CAST(parent AS INTEGER) AS pull_number,
    data->>'$.filename' AS filename,
    core.norm(data->>'$.status') AS status,
    TRY_CAST(data->>'$.additions' AS INTEGER) AS additions,
    TRY_CAST(data->>'$.deletions' AS INTEGER) AS deletions,
    TRY_CAST(data->>'$.changes' AS INTEGER) AS changes
FROM raw.pr_files
QUALIFY fetched_at = max(fetched_at) OVER (PARTITION BY repo, parent);
