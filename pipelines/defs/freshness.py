"""Freshness: whether ingestion, the warehouse load, training and the exports still run on schedule.

The time a table's rows carry cannot say it (``raw.*.fetched_at`` stays put when a sync finds
nothing new, and a quiet repository has no new activity), but every scheduled run materialises its
assets, changes or not. So these are Dagster's last-update freshness checks: an asset fails its
check when no materialisation happened in the window before its deadline. The deadlines follow
:mod:`pipelines.defs.schedules`, with the slack each run's retries need:

========================  ===================  ====================  =================================
assets                    schedule (UTC)       deadline (UTC)        a materialisation is needed since
========================  ===================  ====================  =================================
``landed_*`` (ingestion)  hourly at :05        hourly at :55         the previous :55
``raw_*``, reader copy    hourly at :35        hourly at :00         the previous :00
``candidate_models``      daily at 03:15       daily at 04:45        04:45 the day before
``exports``               daily at 04:45       daily at 05:45        05:45 the day before
========================  ===================  ====================  =================================

A landed asset is partitioned by repository: its check looks at the newest materialisation of
any partition (ingestion stopped, not one repository lagging; a repository that fails says so in
its own run). Dagster's freshness sensor (:func:`freshness_sensor`, running by default) launches
a check when it may have become overdue, so a stopped pipeline shows as failed checks within the
sensor's interval of the deadline.

Dagster 1.12 marks these checks superseded by ``FreshnessPolicy``; in open-source Dagster a policy
only sets a freshness state in the UI (alerts on it are Dagster+), while a check fails visibly, is
kept in the event log and is seen by anything that reads check results.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta

from dagster import (
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    DefaultSensorStatus,
    SensorDefinition,
    SupersessionWarning,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
)
from pydantic import BaseModel, ConfigDict, Field

from pipelines.sources.streams import RAW_TABLES, STREAMS

FRESHNESS_SENSOR = "freshness_checks_sensor"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Deadline(BaseModel):
    """When an asset must have been materialised: after ``deadline_cron`` minus ``window``.

    Attributes:
        deadline_cron: cron of the deadlines (in ``timezone``).
        window: how long before each deadline a materialisation counts (at most the cron's period).
    """

    model_config = ConfigDict(frozen=True)

    deadline_cron: str
    window: timedelta


class FreshnessSettings(BaseModel):
    """The deadlines of each scheduled chain, the checks' severity and the sensor's interval."""

    model_config = ConfigDict(frozen=True)

    ingestion: Deadline = Deadline(deadline_cron="55 * * * *", window=HOUR)
    warehouse_load: Deadline = Deadline(deadline_cron="0 * * * *", window=HOUR)
    models: Deadline = Deadline(deadline_cron="45 4 * * *", window=DAY)
    exports: Deadline = Deadline(deadline_cron="45 5 * * *", window=DAY)
    timezone: str = "UTC"
    severity: AssetCheckSeverity = AssetCheckSeverity.WARN
    sensor_interval_seconds: int = Field(default=120, ge=30)


def _keys(names: Sequence[str]) -> list[AssetKey]:
    return [AssetKey(name) for name in names]


def freshness_checks(settings: FreshnessSettings | None = None) -> list[AssetChecksDefinition]:
    """Last-update freshness checks of the ingestion, raw, reader-copy, model and export assets."""
    settings = settings or FreshnessSettings()
    chains = (
        (_keys([f"landed_{name}" for name in STREAMS]), settings.ingestion),
        # the reader copy closes the same run: a stale one is a dashboard showing old figures
        (_keys([*(f"raw_{table}" for table in RAW_TABLES), "reader_warehouse"]), settings.warehouse_load),
        (_keys(["candidate_models"]), settings.models),
        (_keys(["exports"]), settings.exports),
    )
    with warnings.catch_warnings():
        # chosen over FreshnessPolicy on purpose (see the module's docstring); not the user's to act on
        warnings.simplefilter("ignore", SupersessionWarning)
        return [
            check
            for keys, deadline in chains
            for check in build_last_update_freshness_checks(
                assets=keys,
                lower_bound_delta=deadline.window,
                deadline_cron=deadline.deadline_cron,
                timezone=settings.timezone,
                severity=settings.severity,
            )
        ]


def freshness_sensor(
    checks: Sequence[AssetChecksDefinition], settings: FreshnessSettings | None = None
) -> SensorDefinition:
    """Dagster's sensor that runs each freshness check when it may have become overdue."""
    settings = settings or FreshnessSettings()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SupersessionWarning)
        return build_sensor_for_freshness_checks(
            freshness_checks=checks,
            minimum_interval_seconds=settings.sensor_interval_seconds,
            name=FRESHNESS_SENSOR,
            default_status=DefaultSensorStatus.RUNNING,
        )
