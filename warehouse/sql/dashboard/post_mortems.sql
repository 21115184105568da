-- Post-mortems the SLA action posted on its incident issues: its comments (slim.sla_comments
-- keeps only those carrying its marker) that open with a post-mortem heading, on issues with the
-- incident label.
SELECT
    c.repo,
    core_issue.number AS issue_number,
    core_issue.title AS issue_title,
    c.created_at AS posted_at,
    c.html_url AS url,
    c.body
FROM slim.sla_comments AS c
JOIN core.issues AS core_issue
    ON core_issue.repo = c.repo
    AND core_issue.number = c.issue_number
WHERE list_contains(core_issue.labels, $incident_label)
    AND regexp_matches(c.body, '(?m)^#+ Post-mortem')
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], c.repo))
ORDER BY posted_at DESC, c.repo, issue_number;
