"""Feature assets: Polars transforms over the core tables, written to the ``features`` schema."""

from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.quality import refuse_after_failed_checks
from pipelines.defs.resources import WarehouseResource
from pipelines.features.activity import activity_by_hour_of_week
from pipelines.features.reviewers import path_expertise, reviewer_features
from pipelines.features.runs import FEATURE_COLUMNS, build_run_features
from pipelines.features.schemas import RUN_INPUT_SCHEMA, conform
from pipelines.features.sla import sla_clocks
from warehouse.db import create_feature_inputs, data_as_of, preview
from warehouse.frames import read_relation, write_table

FEATURES_GROUP = "features"


@asset(
    group_name=FEATURES_GROUP,
    deps=[AssetKey("core_ci_runs"), AssetKey("core_run_changes"), AssetKey("core_commit_statuses")],
    kinds={"polars", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def run_features(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult[None]:
    """features.run_features: one row per run attempt, every feature as of the run's trigger time.

    Built from the ``features.run_inputs`` view (all sources in one shape) by
    :func:`pipelines.features.runs.build_run_features`; ``attempt_group`` keeps the attempts of
    one commit and workflow together for the splits.
    """
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        create_feature_inputs(conn)
        inputs = conform(read_relation(conn, "features.run_inputs"), RUN_INPUT_SCHEMA)
        features = build_run_features(inputs)
        rows = write_table(conn, "features", "run_features", features)
        sample = preview(conn, "features.run_features")
    labelled = features.drop_nulls("failed")
    metadata: dict[str, Any] = {
        "dagster/row_count": rows,
        "feature_count": len(FEATURE_COLUMNS),
        "labelled_runs": labelled.height,
        "failure_rate": round(
            labelled["failed"].cast(pl.Float64).fill_null(0.0).sum() / max(1, labelled.height), 4
        ),
        "repositories": features["repo"].n_unique(),
        "preview": MetadataValue.md(sample),
    }
    return MaterializeResult(metadata=metadata)


def _core(conn: duckdb.DuckDBPyConnection, *tables: str) -> list[pl.DataFrame]:
    return [read_relation(conn, f"core.{table}") for table in tables]


def _written(
    conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, as_of: datetime
) -> MaterializeResult[None]:
    rows = write_table(conn, "features", table, frame)
    return MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "as_of": as_of.isoformat(),
            "preview": MetadataValue.md(preview(conn, f"features.{table}")),
        }
    )


def _as_of(conn: duckdb.DuckDBPyConnection) -> datetime:
    return data_as_of(conn) or datetime.now(UTC)


@asset(
    group_name=FEATURES_GROUP,
    deps=[
        AssetKey(f"core_{t}") for t in ("pull_requests", "reviews", "pr_files", "comments", "issue_events")
    ],
    kinds={"polars", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def reviewer_stats(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult[None]:
    """features.reviewer_stats: per repository and human candidate, as of the newest event.

    Expertise (decayed), open workload, median first-response hours, availability (recent
    activity, usual working hours) and review outcome record; the inputs of routing.
    """
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        as_of = _as_of(conn)
        prs, reviews, files, comments, events = _core(
            conn, "pull_requests", "reviews", "pr_files", "comments", "issue_events"
        )
        frame = reviewer_features(prs, reviews, files, comments, as_of=as_of, issue_events=events)
        return _written(conn, "reviewer_stats", frame, as_of)


@asset(
    group_name=FEATURES_GROUP,
    deps=[AssetKey(f"core_{t}") for t in ("pull_requests", "reviews", "pr_files")],
    kinds={"polars", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def path_expertise_weights(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult[None]:
    """features.path_expertise_weights: who knows which paths (decayed weight per path prefix)."""
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        as_of = _as_of(conn)
        prs, reviews, files = _core(conn, "pull_requests", "reviews", "pr_files")
        return _written(
            conn, "path_expertise_weights", path_expertise(prs, reviews, files, as_of=as_of), as_of
        )


@asset(
    group_name=FEATURES_GROUP,
    deps=[
        AssetKey(f"core_{t}")
        for t in ("pull_requests", "reviews", "comments", "issues", "issue_events", "ci_runs")
    ],
    kinds={"polars", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def activity_by_hour(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult[None]:
    """features.activity_by_hour: each repository's average activity per hour of the week.

    Active users, workflow runs, merges and issue activity per hour (Monday 00:00 UTC = 0) with
    the design's impact score; maintenance windows are the hours where it is lowest.
    """
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        as_of = _as_of(conn)
        tables = _core(conn, "pull_requests", "reviews", "comments", "issues", "issue_events", "ci_runs")
        return _written(conn, "activity_by_hour", activity_by_hour_of_week(*tables, as_of=as_of), as_of)


@asset(
    group_name=FEATURES_GROUP,
    deps=[AssetKey(f"core_{t}") for t in ("issues", "comments", "issue_events", "reviews")],
    kinds={"polars", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def sla_clock_states(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult[None]:
    """features.sla_clock_states: priority, first response and resolution clocks per issue and PR."""
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        as_of = _as_of(conn)
        issues, comments, events, reviews = _core(conn, "issues", "comments", "issue_events", "reviews")
        frame = sla_clocks(issues, comments, events, as_of=as_of, reviews=reviews)
        return _written(conn, "sla_clock_states", frame, as_of)


FEATURE_ASSETS = [run_features, reviewer_stats, path_expertise_weights, activity_by_hour, sla_clock_states]
