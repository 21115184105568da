"""Dagster wiring only: assets, checks, resources, sensors (logic lives elsewhere)."""
