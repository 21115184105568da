"""Ingestion assets: one landed stream per repository partition, one loader, the core models."""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from pipelines.defs.partitions import GITHUB_POOL, WAREHOUSE_POOL, repository_partitions
from pipelines.defs.quality import refuse_after_failed_checks
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from pipelines.sources.ingest import land_stream
from pipelines.sources.streams import RAW_TABLES, STREAMS, Stream
from warehouse.db import CORE_SOURCES, build_core, build_marts, preview, table_counts
from warehouse.loader import load_landed
from warehouse.travistorrent import load_travistorrent

INGEST_GROUP = "github_ingest"


def _landed_asset(stream: Stream) -> AssetsDefinition:
    @asset(
        name=f"landed_{stream.name}",
        partitions_def=repository_partitions,
        group_name=INGEST_GROUP,
        pool=GITHUB_POOL,
        deps=[AssetKey(f"landed_{name}") for name in stream.after],
        kinds={"github"},
        description=stream.description + " Lands batch files for the warehouse loader.",
    )
    def _landed(
        context: AssetExecutionContext, history: HistorySourceResource, warehouse: WarehouseResource
    ) -> MaterializeResult[None]:
        source = history.open()
        try:
            report = land_stream(source, context.partition_key, stream.name, warehouse.landing_zone())
        finally:
            source.close()
        metadata: dict[str, Any] = {
            "source": source.label,
            "batches": report.batches,
            "objects": report.objects(),
            "traversal_completed": report.completed,
            "seconds": round(report.seconds, 3),
        }
        metadata.update({f"objects_{table}": count for table, count in report.objects_by_table.items()})
        stats = getattr(getattr(source, "client", None), "stats", None)
        if stats is not None:
            metadata.update({f"requests_{status}": n for status, n in stats.by_status.items()})
        return MaterializeResult(metadata=metadata)

    return _landed


landed_assets = [_landed_asset(stream) for stream in STREAMS.values()]

_STREAM_OF_TABLE = {table: stream.name for stream in STREAMS.values() for table in stream.tables}


@multi_asset(
    specs=[
        AssetSpec(
            f"raw_{table}",
            deps=[AssetKey(f"landed_{_STREAM_OF_TABLE[table]}")],
            group_name="warehouse",
            kinds={"duckdb"},
            description=f"raw.{table}: one row per GitHub object, the API JSON kept.",
        )
        for table in RAW_TABLES
    ],
    pool=WAREHOUSE_POOL,
    description="Upsert every landed batch into raw.* and advance the stream cursors in one transaction.",
)
def raw_tables(warehouse: WarehouseResource) -> Iterator[MaterializeResult[None]]:
    """Load the landing zone into the raw tables (the single DuckDB writer)."""
    with warehouse.connect() as conn:
        report = load_landed(conn, warehouse.landing_zone())
        counts = table_counts(conn, "raw", list(RAW_TABLES))
    for table in RAW_TABLES:
        yield MaterializeResult(
            asset_key=f"raw_{table}",
            metadata={
                "dagster/row_count": counts[table],
                "rows_upserted": report.rows_by_table.get(table, 0),
                "batches_loaded": report.batches,
            },
        )


@asset(
    group_name="warehouse",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="raw.travis_builds: a TravisTorrent build table, when the source is travistorrent:PATH.",
)
def raw_travis_builds(
    history: HistorySourceResource, warehouse: WarehouseResource
) -> MaterializeResult[None]:
    """Load the TravisTorrent table of the source (other sources keep the table as it is)."""
    path = history.travistorrent_path()
    with warehouse.connect() as conn:
        loaded = load_travistorrent(conn, path) if path is not None else None
        rows = table_counts(conn, "raw", ["travis_builds"])["travis_builds"]
    metadata: dict[str, Any] = {"dagster/row_count": rows, "loaded_from": str(path or "(not travistorrent)")}
    if loaded is not None:
        metadata["rows_loaded"] = loaded
    return MaterializeResult(metadata=metadata)


@multi_asset(
    specs=[
        AssetSpec(
            f"core_{table}",
            deps=[AssetKey(f"raw_{raw}") for raw in raws]
            + ([AssetKey("raw_travis_builds")] if table in {"ci_runs", "run_changes"} else []),
            group_name="warehouse",
            kinds={"duckdb", "sql"},
            description=f"core.{table}: typed, deduplicated, normalised (warehouse/sql/core).",
        )
        for table, raws in CORE_SOURCES.items()
    ],
    pool=WAREHOUSE_POOL,
)
def core_tables(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult[None]]:
    """Rebuild the core tables from raw with the SQL models in ``warehouse/sql/core``."""
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        counts = build_core(conn)
        previews = {table: preview(conn, f"core.{table}") for table in CORE_SOURCES}
    for table in CORE_SOURCES:
        yield MaterializeResult(
            asset_key=f"core_{table}",
            metadata={"dagster/row_count": counts[table], "preview": MetadataValue.md(previews[table])},
        )


MART_SOURCES: dict[str, tuple[str, ...]] = {
    "ci_weekly": ("ci_runs",),
    "review_load": ("reviews", "pull_requests"),
}


@multi_asset(
    specs=[
        AssetSpec(
            f"marts_{mart}",
            deps=[AssetKey(f"core_{table}") for table in tables],
            group_name="marts",
            kinds={"duckdb", "sql"},
            description=f"marts.{mart} (warehouse/sql/marts/{mart}.sql).",
        )
        for mart, tables in MART_SOURCES.items()
    ],
    pool=WAREHOUSE_POOL,
)
def marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[MaterializeResult[None]]:
    """Rebuild the marts the dashboard and exports read."""
    refuse_after_failed_checks(context)
    with warehouse.connect() as conn:
        counts = build_marts(conn)
        previews = {mart: preview(conn, f"marts.{mart}") for mart in MART_SOURCES}
    for mart in MART_SOURCES:
        yield MaterializeResult(
            asset_key=f"marts_{mart}",
            metadata={"dagster/row_count": counts[mart], "preview": MetadataValue.md(previews[mart])},
        )
