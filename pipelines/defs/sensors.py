"""Sensors that keep the repository partitions in line with the configured source."""

from dagster import (
    AssetKey,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    asset_sensor,
    sensor,
)

from pipelines.defs.partitions import repository_partitions
from pipelines.defs.resources import HistorySourceResource
from pipelines.defs.schedules import exports_job


@sensor(minimum_interval_seconds=600, description="Add a partition for every repository of the source.")
def repository_partitions_sensor(
    context: SensorEvaluationContext, history: HistorySourceResource
) -> SensorResult | SkipReason:
    """Register repositories of the configured source as ``repository`` partitions."""
    source = history.open()
    try:
        wanted = source.repositories()
    finally:
        source.close()
    known = set(context.instance.get_dynamic_partitions(repository_partitions.name or "repository"))
    new = [repo for repo in wanted if repo not in known]
    if not new:
        return SkipReason(f"all {len(wanted)} repositories already have partitions")
    return SensorResult(dynamic_partitions_requests=[repository_partitions.build_add_request(new)])


@asset_sensor(
    asset_key=AssetKey("promoted_models"),
    job=exports_job,
    minimum_interval_seconds=60,
    description="Export and publish as soon as a model is promoted.",
)
def exports_after_promotion(context: SensorEvaluationContext, asset_event: EventLogEntry) -> RunRequest:
    """One export run per promotion (keyed by the promotion's run), so the actions see a new model at once."""
    return RunRequest(run_key=f"promotion-{asset_event.run_id}")
