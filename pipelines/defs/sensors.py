"""Sensors that keep the repository partitions in line with the configured source."""

from dagster import SensorEvaluationContext, SensorResult, SkipReason, sensor

from pipelines.defs.partitions import repository_partitions
from pipelines.defs.resources import HistorySourceResource


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
