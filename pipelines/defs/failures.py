"""The failure-class asset: each failed attempt's class from its log excerpt (features.failure_classes)."""

from typing import Any

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.defs.features import FEATURES_GROUP
from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.quality import refuse_after_failed_checks, table_quality_check
from pipelines.defs.resources import WarehouseResource
from pipelines.features.failure_classes import FAILURE_CLASSES
from pipelines.features.failure_classes import failure_classes as classify_failures
from warehouse.db import preview
from warehouse.frames import read_query, write_table


@asset(
    group_name=FEATURES_GROUP,
    deps=[AssetKey("core_ci_runs"), AssetKey("core_ci_log_excerpts")],
    kinds={"polars", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def failure_classes(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult[None]:
    """features.failure_classes: transient, dependency or permanent per failed attempt, with the reason lines.

    Classified by the self-healing action's ``classify_failure`` from the excerpt the ``run_logs``
    stream kept; attempts without a usable log keep a null class.
    """
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        frame = classify_failures(read_query(conn, "features/failure_inputs", {}))
        rows = write_table(conn, "features", "failure_classes", frame)
        sample = preview(conn, "features.failure_classes")
    counts = dict(frame.group_by("failure_class").len().iter_rows())
    classified = rows - int(counts.get(None, 0))
    metadata: dict[str, Any] = {
        "dagster/row_count": rows,
        "unclassified": int(counts.get(None, 0)),
        **{f"class_{name}": int(counts.get(name, 0)) for name in FAILURE_CLASSES},
        "mean_confidence": round(float(frame["confidence"].fill_null(0.0).sum()) / max(1, classified), 4),
        "repositories": frame["repo"].n_unique(),
        "preview": MetadataValue.md(sample),
    }
    return MaterializeResult(metadata=metadata)


failure_class_check = table_quality_check(
    "failure_classes_quality", {"failure_classes": ("features", "failure_classes")}
)
