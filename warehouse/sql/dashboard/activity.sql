-- Activity by hour of week, averaged over the selected repositories.
SELECT
    hour_of_week,
    any_value(day_of_week) AS day_of_week,
    any_value(hour_of_day) AS hour_of_day,
    avg(impact_score) AS impact_score,
    sum(active_users) AS active_users,
    sum(workflow_runs) AS workflow_runs,
    sum(pr_merges) AS pr_merges
FROM features.activity_by_hour
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
GROUP BY hour_of_week
ORDER BY hour_of_week;
