"""Blocking data-quality checks on the warehouse tables (the suites live in ``warehouse.quality``).

One multi-asset check per layer: a check step reads the warehouse read-only, so keeping each
layer in one step means no check still holds the file while the next writer starts, and
``dagster dev`` starts one process per layer rather than one per table.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Failure,
    MetadataValue,
    multi_asset_check,
)

from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.resources import WarehouseResource
from pipelines.sources.streams import RAW_TABLES
from warehouse.db import CORE_KEYS
from warehouse.quality import QualityResult, suite_spec, validate_table

QUALITY_CHECK = "data_quality"
"""Name of the quality check of every checked asset."""

ROW_COUNT = "dagster/row_count"


def table_quality_check(
    name: str,
    tables: Mapping[str, tuple[str, str]],
    *,
    max_row_drop: float = 0.5,
) -> AssetChecksDefinition:
    """One blocking check op validating several tables against their registered suites.

    Args:
        name: op name (unique in the code location).
        tables: asset name -> (schema, table) of the warehouse table it materialises; each
            table needs a suite (``warehouse.quality.register_suite``).
        max_row_drop: largest accepted fractional drop of a table's row count since the
            asset's previous materialisation.

    Returns:
        The checks; a failed ``error`` expectation fails its check with ERROR severity, which
        stops the assets downstream of the checked one.
    """
    specs = [
        AssetCheckSpec(QUALITY_CHECK, asset=asset, blocking=True, description=suite_spec(*table).describe())
        for asset, table in tables.items()
    ]

    @multi_asset_check(
        name=name,
        specs=specs,
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Great Expectations suites (warehouse/quality.py); blocking.",
    )
    def _quality(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[AssetCheckResult]:
        selected = [
            asset
            for asset in tables
            if AssetCheckKey(AssetKey(asset), QUALITY_CHECK) in context.selected_asset_check_keys
        ]
        # a table that shrank on purpose (a repository removed) is accepted once, by configuration
        previous = {
            asset: None if warehouse.accept_row_drop else previous_row_count(context, AssetKey(asset))
            for asset in selected
        }
        results: dict[str, QualityResult] = {}
        with warehouse.connect(read_only=True) as conn:
            for asset in selected:
                schema, table = tables[asset]
                results[asset] = validate_table(
                    conn,
                    schema,
                    table,
                    previous_row_count=previous[asset],
                    max_row_drop=max_row_drop,
                )
        for asset, result in results.items():
            if not result.success or result.warnings:
                context.log.warning(result.summary())
            yield check_result(asset, result)

    return _quality


FEATURE_TABLES = (
    "run_features",
    "reviewer_stats",
    "path_expertise_weights",
    "activity_by_hour",
    "sla_clock_states",
)
"""Feature assets, each materialising ``features.<name>``, guarded by ``features_quality``."""


def quality_checks(*, max_row_drop: float = 0.5) -> list[AssetChecksDefinition]:
    """The blocking quality checks of every ``raw_<table>`` and ``core_<table>`` asset.

    Raw tables are those of ``RAW_TABLES`` plus ``raw.travis_builds``; core tables those of
    ``CORE_KEYS``. Whether the tables are fresh is not theirs to say (``pipelines.defs.freshness``).

    Args:
        max_row_drop: largest accepted fractional drop of a table's row count.
    """
    raw = {f"raw_{t}": ("raw", t) for t in [*RAW_TABLES, "travis_builds"]}
    core = {f"core_{t}": ("core", t) for t in CORE_KEYS}
    features = {name: ("features", name) for name in FEATURE_TABLES}
    return [
        table_quality_check("raw_quality", raw, max_row_drop=max_row_drop),
        table_quality_check("core_quality", core, max_row_drop=max_row_drop),
        table_quality_check("features_quality", features, max_row_drop=max_row_drop),
    ]


ROW_COUNT_HISTORY = 100
"""Earlier check evaluations searched for the last accepted row count."""


def previous_row_count(context: AssetCheckExecutionContext, asset_key: AssetKey) -> int | None:
    """The row count the table last had when its quality check accepted it (in an earlier run).

    Not simply the previous materialisation's count: a table that lost most of its rows fails
    its check but stays written, and would be the reference of the next run, which then passes
    the shrink (the hourly load would accept a vanished history within the hour). Without an
    accepted evaluation among the last :data:`ROW_COUNT_HISTORY`, the previous materialisation's
    ``dagster/row_count`` is the reference (instances from before the check kept its count).
    """
    check_key = AssetCheckKey(asset_key, QUALITY_CHECK)
    history = context.instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=ROW_COUNT_HISTORY
    )
    for execution in history:
        evaluation = execution.event.asset_check_evaluation if execution.event else None
        if execution.run_id == context.run.run_id or evaluation is None or failed_with_error(evaluation):
            continue
        value = evaluation.metadata.get("row_count")
        count = getattr(value, "value", value)
        if isinstance(count, int):
            return count
    records = context.instance.fetch_materializations(asset_key, limit=2).records
    for record in records:
        if record.run_id == context.run.run_id:
            continue
        materialization = record.asset_materialization
        value = materialization.metadata.get(ROW_COUNT) if materialization else None
        count = getattr(value, "value", value)
        return int(count) if isinstance(count, int) else None
    return None


def check_result(asset: str, result: QualityResult) -> AssetCheckResult:
    """The Dagster check result of one table's validation."""
    failed = result.failures + result.warnings
    metadata: dict[str, Any] = {
        "row_count": result.row_count,
        "expectations": len(result.outcomes),
        "failed_expectations": MetadataValue.json([o.message for o in failed]),
        "seconds": round(result.seconds, 3),
    }
    if result.previous_row_count is not None:
        metadata["previous_row_count"] = result.previous_row_count
    if failed:
        metadata["offending_rows"] = MetadataValue.md(result.markdown())
    return AssetCheckResult(
        asset_key=asset,
        check_name=QUALITY_CHECK,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR if result.failures else AssetCheckSeverity.WARN,
        metadata=metadata,
        description=result.summary(),
    )


def refuse_after_failed_checks(
    context: AssetExecutionContext, checks: Sequence[str] = (QUALITY_CHECK,)
) -> None:
    """Stop an asset whose inputs failed a blocking check in an earlier run.

    Dagster's blocking checks stop downstream steps only within the run that evaluated them, and
    a table is written before its check reads it: without this, a later run that selects only
    the downstream asset (the daily ``train_models`` job, ``export_and_publish``, a ``--select``)
    would build on the table its check refused, or promote the candidate the gate refused. The
    latest evaluation of the named checks on every direct upstream asset must not have failed
    with ERROR severity; materialising that asset again (with its check) clears the refusal.

    Args:
        context: the asset's execution context.
        checks: names of the blocking checks to look at on each upstream asset (the instance is
            asked by name: a run's job only knows the checks it selected).

    Raises:
        Failure: naming each failed check, its table and why it failed (not retried).
    """
    assets = context.assets_def
    upstream = {dep for key in context.selected_asset_keys for dep in assets.asset_deps.get(key, ())}
    check_keys = sorted(
        (AssetCheckKey(asset, name) for asset in upstream for name in checks),
        key=lambda k: (k.asset_key.to_user_string(), k.name),
    )
    refusals = []
    for check_key in check_keys:
        record = context.instance.get_latest_asset_check_evaluation_record(check_key)
        evaluation = record.event.asset_check_evaluation if record and record.event else None
        if record is None or evaluation is None or not failed_with_error(evaluation):
            continue
        refusals.append(
            f"{check_key.name} on {check_key.asset_key.to_user_string()} failed "
            f"(run {record.run_id[:8]}): {_why(evaluation)}"
        )
    if refusals:
        raise Failure(
            description="; ".join(refusals)
            + ". Once the cause is fixed, materialise the upstream asset again: its checks run with it.",
            allow_retries=False,
        )


def failed_with_error(evaluation: AssetCheckEvaluation) -> bool:
    """Whether a check evaluation failed with ERROR severity (a warning does not block)."""
    return not evaluation.passed and evaluation.severity is AssetCheckSeverity.ERROR


def _why(evaluation: AssetCheckEvaluation) -> str:
    reasons = evaluation.metadata.get("reasons")
    if reasons is not None:
        return str(reasons.value)
    text = evaluation.description or "failed"
    first, _, rest = text.partition("\n")
    return first + (" (and more: see the check in the Dagster UI)" if rest else "")
