-- The issue comments the SLA action posted (they carry its $marker), latest version of each, typed:
-- the dashboard's post-mortems, without copying every comment's JSON.
CREATE OR REPLACE TABLE reader_copy.slim.sla_comments AS
SELECT
    repo,
    CAST(data->>'$.id' AS BIGINT) AS id,
    CAST(regexp_extract(data->>'$.issue_url', '/issues/([0-9]+)$', 1) AS BIGINT) AS issue_number,
    CAST(data->>'$.created_at' AS TIMESTAMPTZ) AS created_at,
    data->>'$.html_url' AS html_url,
    data->>'$.body' AS body
FROM raw.issue_comments
WHERE contains(data->>'$.body', $marker)
QUALIFY row_number() OVER (PARTITION BY repo, data->>'$.id' ORDER BY version DESC) = 1;
