"""Materialise selected assets in process, partition by partition (the CLI's engine)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import (
    AssetKey,
    AssetSelection,
    BetaWarning,
    DagsterError,
    DagsterInstance,
    ExecuteInProcessResult,
)
from dagster_shared.error import SerializableErrorInfo

from pipelines.definitions import build_definitions
from pipelines.defs.partitions import GITHUB_POOL, WAREHOUSE_POOL, repository_partitions
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from pipelines.sources.base import RemoteSource
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
    refused: list[str] = field(default_factory=list)
    """Gates that refused (a model not promoted): an outcome to report, not a failure."""
    derived_counts: dict[str, int] = field(default_factory=dict)
    """Row counts of the ``marts``, ``features`` and ``ml`` tables, as ``schema.table``."""
    warehouse: Path = Path()
    dagster_home: Path = Path()


TOLERATED_CHECKS = frozenset({"promotion_gate"})
"""Blocking checks whose failure stops what depends on them but is not a failed run."""


def _refusals(result: ExecuteInProcessResult) -> list[str]:
    """Refusals by tolerated gates; raises for any other failure of the run."""
    if result.success:
        return []
    refused: list[str] = []
    failures: list[str] = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        text = f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
        why = _check_reason(evaluation.metadata)
        if why:
            text += f": {why}"
        (refused if evaluation.check_name in TOLERATED_CHECKS else failures).append(text)
    # several steps failing for one reason (a locked warehouse) are one line
    steps_by_cause: dict[str, list[str]] = {}
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            if (
                error is not None
                and error.cls_name == "DagsterAssetCheckFailedError"
                and (refused or failures)
            ):
                continue  # the failed checks above say why
            cause = _root_cause(error) if error else "failed"
            steps_by_cause.setdefault(cause, []).append(str(event.step_key))
    failures += [f"{', '.join(steps)}: {cause}" for cause, steps in steps_by_cause.items()]
    if failures:
        raise RunFailedError("; ".join(failures))
    return refused


def _check_reason(metadata: Mapping[str, Any]) -> str:
    """Why a check failed: the gate's ``reasons``, or a quality check's first failed expectation."""
    reasons = metadata.get("reasons")
    if reasons is not None:
        return str(reasons.value)
    failed = metadata.get("failed_expectations")
    messages = list(failed.value) if failed is not None and isinstance(failed.value, list) else []
    if not messages:
        return ""
    more = f" (and {len(messages) - 1} more failed expectations)" if len(messages) > 1 else ""
    return f"{messages[0]}{more}"


def _root_cause(error: SerializableErrorInfo) -> str:
    """The message of the exception that failed a step, not Dagster's wrapper around it.

    A step's error is ``DagsterExecutionStepExecutionError: Error occurred while executing op``
    with the real error (a locked or corrupt warehouse, a refused token) as its cause.
    """
    while error.cause is not None:
        error = error.cause
    text = error.message.strip()
    # Dagster prefixes the qualified class name ("pipelines.exports.publish.PublishError: ..."):
    # the message alone is what the user can act on
    qualified, separator, message = text.partition(": ")
    if separator and message and qualified.rsplit(".", 1)[-1] == error.cls_name:
        text = message.strip()
    return text or str(error.cls_name)


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
    *,
    verbose: bool = False,
) -> RunSummary:
    """Materialise the selection (Dagster selection syntax; default: everything).

    Repository-partitioned assets run once per repository of the source, then the
    unpartitioned ones (loader, models) run once. Dagster's own log (warnings, and the traceback
    of a failed step) is shown only when ``verbose``.

    Raises:
        RunFailedError: when a step fails (message from the step).
        SourceError: when the selection fetches from an API that cannot be reached (checked
            before any run, so nothing is written).
        ValueError: when the selection matches no asset.
    """
    defs = build_definitions(history, warehouse)
    graph = defs.resolve_asset_graph()
    try:
        with warnings.catch_warnings():
            # Dagster's own "group:" parsing passes a beta parameter: a warning the user cannot act on
            warnings.simplefilter("ignore", BetaWarning)
            selection = AssetSelection.from_string(select) if select else AssetSelection.all()
        # one asset of a multi-asset (the raw loader) cannot run alone: its siblings come with it
        keys = selection.required_multi_asset_neighbors().resolve(graph)
    except (DagsterError, ValueError) as exc:
        raise ValueError(f"invalid asset selection {select!r}: {exc}") from None
    if not keys:
        raise ValueError(f"the selection {select!r} matches no asset")
    partitioned = sorted((k for k in keys if graph.get(k).is_partitioned), key=AssetKey.to_user_string)
    source = history.open()
    try:
        repos = source.repositories()
        summary = RunSummary(source.label, source.synthetic, repos)
        if partitioned and repos and isinstance(source, RemoteSource):
            # one line in seconds, before any run, rather than every stream's retries in turn
            source.check_reachable()
    finally:
        source.close()
    instance = instance or dagster_instance(warehouse.home_path)
    partition_name = repository_partitions.name or "repository"
    instance.add_dynamic_partitions(partition_name, repos)

    # a failed step is reported once, by its cause (RunFailedError); its traceback only when verbose
    level = "WARNING" if verbose else "CRITICAL"
    quiet = {"loggers": {"console": {"config": {"log_level": level}}}}
    unpartitioned = sorted((k for k in keys if not graph.get(k).is_partitioned), key=AssetKey.to_user_string)
    for group, partition_keys in ((partitioned, repos), (unpartitioned, [None])):
        if not group:
            continue
        job = defs.resolve_implicit_job_def_def_for_assets(group)
        if job is None:
            raise ValueError(f"no job can materialise {[k.to_user_string() for k in group]}")
        for partition_key in partition_keys:
            try:
                result = job.execute_in_process(
                    run_config=quiet,
                    instance=instance,
                    partition_key=partition_key,
                    asset_selection=group,
                    raise_on_error=False,
                )
            except DagsterError as exc:
                raise RunFailedError(str(exc.__cause__ or exc)) from None
            summary.refused.extend(_refusals(result))

    summary.materialized = [k.to_user_string() for k in partitioned + unpartitioned]
    with warehouse.connect(read_only=False) as conn:
        summary.core_counts = table_counts(conn, "core", CORE_TABLES)
        summary.derived_counts = derived_table_counts(conn)
    summary.warehouse = warehouse.database_path
    summary.dagster_home = warehouse.home_path / "dagster"
    return summary
