"""The repopilot code location: ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

from pipelines.defs.features import FEATURE_ASSETS
from pipelines.defs.ingestion import (
    INGEST_GROUP,
    core_tables,
    landed_assets,
    marts,
    raw_tables,
    raw_travis_builds,
)
from pipelines.defs.partitions import repository_partitions
from pipelines.defs.quality import quality_checks
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from pipelines.defs.sensors import repository_partitions_sensor

ingest_job = define_asset_job(
    "ingest_repositories",
    selection=AssetSelection.groups(INGEST_GROUP),
    partitions_def=repository_partitions,
    description="Fetch every stream of one repository partition into the landing zone.",
)


def build_definitions(
    history: HistorySourceResource | None = None, warehouse: WarehouseResource | None = None
) -> Definitions:
    """The code location, with resources that can be replaced (the CLI and tests do)."""
    return Definitions(
        assets=[*landed_assets, raw_tables, raw_travis_builds, core_tables, marts, *FEATURE_ASSETS],
        asset_checks=quality_checks(),
        jobs=[ingest_job],
        sensors=[repository_partitions_sensor],
        resources={
            "history": history or HistorySourceResource(),
            "warehouse": warehouse or WarehouseResource(),
        },
    )


defs = build_definitions()
