-- Run features (inputs of the failure model) of the runs in the filter, for scoring.
SELECT *
FROM features.run_features
WHERE (len($repos::VARCHAR[]) = 0 OR list_contains($repos::VARCHAR[], repo))
    AND created_at >= $start::TIMESTAMPTZ AND created_at < $end::TIMESTAMPTZ
ORDER BY created_at;
