"""Feature assets: Polars transforms over the core tables, written to the ``features`` schema."""

from typing import Any

import polars as pl
from dagster import AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.resources import WarehouseResource
from pipelines.features.runs import FEATURE_COLUMNS, build_run_features
from pipelines.features.schemas import RUN_INPUT_SCHEMA, conform
from warehouse.db import create_feature_inputs, preview
from warehouse.frames import read_relation, write_table

FEATURES_GROUP = "features"


@asset(
    group_name=FEATURES_GROUP,
    deps=[AssetKey("core_ci_runs"), AssetKey("core_run_changes"), AssetKey("core_commit_statuses")],
    kinds={"polars", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def run_features(warehouse: WarehouseResource) -> MaterializeResult[None]:
    """features.run_features: one row per run attempt, every feature as of the run's trigger time.

    Built from the ``features.run_inputs`` view (all sources in one shape) by
    :func:`pipelines.features.runs.build_run_features`; ``attempt_group`` keeps the attempts of
    one commit and workflow together for the splits.
    """
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
