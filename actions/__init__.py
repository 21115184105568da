"""Action scripts run as GitHub Actions steps (light: no Dagster, Polars or DuckDB)."""
