"""Repositories as Dagster partitions, so ingestion fans out across executors."""

from __future__ import annotations

from dagster import DynamicPartitionsDefinition

repository_partitions = DynamicPartitionsDefinition(name="repository")
"""One partition per ``owner/name``; added by ``repopilot run`` and the repositories sensor."""

GITHUB_POOL = "github_api"
"""Concurrency pool bounding parallel requests towards GitHub (one token's secondary limit)."""

WAREHOUSE_POOL = "warehouse_writer"
"""Concurrency pool of the single DuckDB writer."""
