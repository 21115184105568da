"""repopilot's Dagster pipelines and the logic they wire together."""
