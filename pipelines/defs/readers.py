"""The reader copy: the slim file the dashboard and notebooks read instead of the warehouse."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from actions.sla.github_data import MARKER as SLA_MARKER
from pipelines.defs.failures import failure_classes
from pipelines.defs.features import FEATURE_ASSETS
from pipelines.defs.ingestion import MART_SOURCES
from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.quality import refuse_after_failed_checks
from pipelines.defs.resources import WarehouseResource
from warehouse.db import CORE_TABLES
from warehouse.reader import READER_FILE, write_reader

READERS_GROUP = "readers"

_COPIED = [
    *(AssetKey(f"core_{table}") for table in CORE_TABLES),
    *(AssetKey(f"marts_{mart}") for mart in MART_SOURCES),
    *(key for feature in (*FEATURE_ASSETS, failure_classes) for key in feature.keys),
    AssetKey("raw_issue_comments"),  # slim.sla_comments; the same load writes raw.sources
]


@asset(
    group_name=READERS_GROUP,
    deps=_COPIED,
    kinds={"duckdb"},
    # the single writer: it attaches the new file from the warehouse's write connection
    pool=WAREHOUSE_POOL,
)
def reader_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult[None]:
    """$REPOPILOT_HOME/reader.duckdb: core, marts, features and ml, no raw; what the dashboard reads.

    Written to a temporary file and renamed into place (:func:`warehouse.reader.write_reader`),
    so readers never hold a lock on the warehouse nor copy its raw JSON. Refuses, keeping the
    previous copy, while a table it copies has failed its blocking check.
    """
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        report = write_reader(conn, warehouse.home_path / READER_FILE, comment_marker=SLA_MARKER)
    rows = "\n".join(f"| {name} | {count:,} |" for name, count in report.tables.items())
    return MaterializeResult(
        metadata={
            "path": str(report.path),
            "tables": len(report.tables),
            "dagster/row_count": sum(report.tables.values()),
            "bytes": report.bytes,
            "seconds": round(report.seconds, 3),
            "rows": MetadataValue.md("| table | rows |\n|---|---|\n" + rows),
        }
    )


READER_ASSETS = [reader_warehouse]
