"""Repositories as Dagster partitions, so ingestion fans out across executors."""

from __future__ import annotations

from dagster import DynamicPartitionsDefinition

repository_partitions = DynamicPartitionsDefinition(name="repository")
"""One partition per ``owner/name``; added by ``repopilot run`` and the repositories sensor."""

GITHUB_POOL = "github_api"
"""Concurrency pool bounding parallel requests towards GitHub (one token's secondary limit)."""

WAREHOUSE_POOL = "warehouse_writer"
"""Concurrency pool of every step that opens the warehouse file, readers included.

DuckDB lets one process write, and a read-only open from another process is refused while the
writer holds the file (and makes the writer's own open fail while it reads), so the steps that
only read it (training, exports) take the pool too; the dashboard and notebooks read the reader
copy instead."""
