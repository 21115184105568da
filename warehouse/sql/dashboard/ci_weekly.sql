-- Weekly CI outcome counts per repository (completed, latest attempts: marts.ci_weekly), filtered.
SELECT
    repo,
    week,
    sum(runs)::BIGINT AS runs,
    sum(successes)::BIGINT AS successes,
    sum(failures)::BIGINT AS failures,
    sum(cancelled)::BIGINT AS cancelled,
    sum(reruns)::BIGINT AS reruns
FROM marts.ci_weekly
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND week >= date_trunc('week', $start::TIMESTAMPTZ)::DATE
    AND week < $end::TIMESTAMPTZ
GROUP BY ALL
ORDER BY week, repo;
