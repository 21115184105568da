-- One row per failed attempt and job of its failure excerpt (raw.run_log_excerpts): the excerpt's
-- lines, their line numbers in the job's log, and which lines carry a failure marker. An attempt
-- without a usable archive has one row, job '', saying why (unavailable, too_large, corrupt, empty).
CREATE OR REPLACE TABLE core.ci_log_excerpts AS
SELECT
    CAST(data->>'$.run_id' AS BIGINT) AS run_id,
    CAST(data->>'$.run_attempt' AS INTEGER) AS run_attempt,
    repo,
    coalesce(data->>'$.job', '') AS job,
    data->>'$.status' AS status,
    CAST(coalesce(data->'$.lines', '[]') AS VARCHAR[]) AS lines,
    CAST(coalesce(data->'$.line_numbers', '[]') AS INTEGER[]) AS line_numbers,
    CAST(coalesce(data->'$.markers', '[]') AS BOOLEAN[]) AS markers,
    TRY_CAST(data->>'$.archive_bytes' AS BIGINT) AS archive_bytes,
    data->>'$.error' AS error
FROM raw.run_log_excerpts;
