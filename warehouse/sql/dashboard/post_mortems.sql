-- Post-mortems the SLA action posted on its incident issues: comments that carry the action's
-- marker and open with a post-mortem heading, on issues with the incident label. Read from raw,
-- because the core comments table keeps no comment bodies.
SELECT
    c.repo,
    core_issue.number AS issue_number,
    core_issue.title AS issue_title,
    CAST(c.data->>'$.created_at' AS TIMESTAMPTZ) AS posted_at,
    c.data->>'$.html_url' AS url,
    c.data->>'$.body' AS body
FROM raw.issue_comments AS c
JOIN core.issues AS core_issue
    ON core_issue.repo = c.repo
    AND c.data->>'$.issue_url' LIKE '%/issues/' || core_issue.number
WHERE list_contains(core_issue.labels, $incident_label)
    AND contains(c.data->>'$.body', $marker)
    AND regexp_matches(c.data->>'$.body', '(?m)^#+ Post-mortem')
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], c.repo))
QUALIFY row_number() OVER (PARTITION BY c.repo, c.data->>'$.id' ORDER BY c.version DESC) = 1
ORDER BY posted_at DESC, c.repo, issue_number;
