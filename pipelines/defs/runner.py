"""Materialise selected assets in process, partition by partition (the CLI's engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dagster import AssetKey, AssetSelection, DagsterError, DagsterInstance

from pipelines.definitions import build_definitions
from pipelines.defs.partitions import GITHUB_POOL, WAREHOUSE_POOL, repository_partitions
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from warehouse.db import CORE_TABLES, derived_table_counts, table_counts


class RunFailedError(RuntimeError):
    """A step of an in-process run failed; the message is the step's own error."""


@dataclass
class RunSummary:
    """What a run materialised and where it lives."""

    source: str
    synthetic: bool
    repositories: list[str]
    materialized: list[str] = field(default_factory=list)
    core_counts: dict[str, int] = field(default_factory=dict)
    derived_counts: dict[str, int] = field(default_factory=dict)
    """Row counts of the ``marts``, ``features`` and ``ml`` tables, as ``schema.table``."""
    warehouse: Path = Path()
    dagster_home: Path = Path()


def dagster_instance(home: Path) -> DagsterInstance:
    """A persistent Dagster instance under ``home/dagster``, with the project's pools set."""
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    instance = DagsterInstance.local_temp(tempdir=str(dagster_home))
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        storage.set_concurrency_slots(GITHUB_POOL, 2)
        storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
    return instance


def run_assets(
    history: HistorySourceResource,
    warehouse: WarehouseResource,
    select: str | None = None,
    instance: DagsterInstance | None = None,
) -> RunSummary:
    """Materialise the selection (Dagster selection syntax; default: everything).

    Repository-partitioned assets run once per repository of the source, then the
    unpartitioned ones (loader, models) run once.

    Raises:
        RunFailedError: when a step fails (message from the step).
        ValueError: when the selection matches no asset.
    """
    defs = build_definitions(history, warehouse)
    graph = defs.resolve_asset_graph()
    try:
        selection = AssetSelection.from_string(select) if select else AssetSelection.all()
        keys = selection.resolve(graph)
    except (DagsterError, ValueError) as exc:
        raise ValueError(f"invalid asset selection {select!r}: {exc}") from None
    if not keys:
        raise ValueError(f"the selection {select!r} matches no asset")
    instance = instance or dagster_instance(warehouse.home_path)
    source = history.open()
    try:
        repos = source.repositories()
        summary = RunSummary(source.label, source.synthetic, repos)
    finally:
        source.close()
    partition_name = repository_partitions.name or "repository"
    instance.add_dynamic_partitions(partition_name, repos)

    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    partitioned = sorted((k for k in keys if graph.get(k).is_partitioned), key=AssetKey.to_user_string)
    unpartitioned = sorted((k for k in keys if not graph.get(k).is_partitioned), key=AssetKey.to_user_string)
    for group, partition_keys in ((partitioned, repos), (unpartitioned, [None])):
        if not group:
            continue
        job = defs.resolve_implicit_job_def_def_for_assets(group)
        if job is None:
            raise ValueError(f"no job can materialise {[k.to_user_string() for k in group]}")
        for partition_key in partition_keys:
            try:
                job.execute_in_process(
                    run_config=quiet, instance=instance, partition_key=partition_key, asset_selection=group
                )
            except DagsterError as exc:
                raise RunFailedError(str(exc.__cause__ or exc)) from None
    summary.materialized = [k.to_user_string() for k in partitioned + unpartitioned]
    with warehouse.connect(read_only=False) as conn:
        summary.core_counts = table_counts(conn, "core", CORE_TABLES)
        summary.derived_counts = derived_table_counts(conn)
    summary.warehouse = warehouse.database_path
    summary.dagster_home = warehouse.home_path / "dagster"
    return summary
