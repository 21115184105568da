-- SLA clocks of issues and pull requests opened in the filter (features.sla_clock_states).
SELECT
    as_of,
    repo,
    number,
    is_pull_request,
    priority,
    created_at,
    time_to_first_response_hours,
    response_clock_open,
    response_open_hours,
    time_to_resolution_hours,
    resolution_clock_open,
    resolution_open_hours
FROM features.sla_clock_states
WHERE NOT author_is_bot
    AND (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
ORDER BY created_at;
