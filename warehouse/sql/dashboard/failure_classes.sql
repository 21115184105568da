-- Failed attempts in the filter with their class and reason lines (features.failure_classes).
-- An attempt without a usable log is labelled by why: its logs not read yet, or not usable.
SELECT
    repo,
    run_id,
    run_attempt,
    coalesce(workflow_name, '(unnamed)') AS workflow,
    created_at,
    conclusion,
    coalesce(
        failure_class,
        CASE WHEN log_status IS NULL THEN 'logs not read' ELSE 'no usable log' END
    ) AS failure_class,
    log_status,
    confidence,
    reason,
    reason_lines,
    reason_line_refs,
    matched_rules
FROM features.failure_classes
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
ORDER BY created_at DESC, repo, run_id, run_attempt;
