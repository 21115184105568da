"""Freshness checks: a stopped ingestion, load, training or export fails its check after the deadline."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from dagster import (
    AssetCheckKey,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    SkipReason,
    build_sensor_context,
    materialize,
)
from dagster._core.test_utils import freeze_time

from pipelines.definitions import build_definitions
from pipelines.defs.freshness import (
    DAY,
    FRESHNESS_SENSOR,
    Deadline,
    FreshnessSettings,
    freshness_checks,
    freshness_sensor,
)
from pipelines.sources.streams import RAW_TABLES, STREAMS

CHECK = "freshness_check"
REPO = "octo/hello"


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def _at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _materialised(
    instance: DagsterInstance, asset: str, when: datetime, partition: str | None = None
) -> None:
    with freeze_time(when):
        instance.report_runless_asset_event(AssetMaterialization(asset, partition=partition))


def _evaluate(
    instance: DagsterInstance, checks: Sequence[AssetChecksDefinition], asset: str, when: datetime
) -> tuple[bool, str]:
    """Run the asset's freshness check at ``when``; whether it passed, and why."""
    with freeze_time(when):
        result = materialize(
            checks, instance=instance, selection=AssetSelection.checks(AssetCheckKey(AssetKey(asset), CHECK))
        )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.passed, evaluation.description or ""


@pytest.mark.parametrize(
    ("asset", "partition", "ran", "checked_on_time", "checked_after_a_missed_run"),
    [
        # hourly ingestion at :05, deadline :55
        ("landed_pull_requests", REPO, _at(27, 10, 7), _at(27, 10, 56), _at(27, 11, 56)),
        # hourly load at :35, deadline :00
        ("raw_workflow_runs", None, _at(27, 10, 37), _at(27, 11, 1), _at(27, 12, 1)),
        # daily training at 03:15, deadline 04:45
        ("candidate_models", None, _at(27, 3, 40), _at(27, 4, 50), _at(28, 4, 50)),
        # daily exports at 04:45, deadline 05:45
        ("exports", None, _at(27, 4, 50), _at(27, 5, 50), _at(28, 5, 50)),
    ],
)
def test_an_asset_is_fresh_until_its_next_run_is_missed(
    instance: DagsterInstance,
    asset: str,
    partition: str | None,
    ran: datetime,
    checked_on_time: datetime,
    checked_after_a_missed_run: datetime,
) -> None:
    checks = freshness_checks()
    never, why = _evaluate(instance, checks, asset, ran - timedelta(minutes=1))
    assert not never and "never been observed/materialized" in why
    _materialised(instance, asset, ran, partition)
    passed, why = _evaluate(instance, checks, asset, checked_on_time)
    assert passed and "currently fresh" in why, why
    passed, why = _evaluate(instance, checks, asset, checked_after_a_missed_run)
    assert not passed and "overdue" in why, why
    # the next run clears it
    _materialised(instance, asset, checked_after_a_missed_run, partition)
    assert _evaluate(instance, checks, asset, checked_after_a_missed_run + timedelta(minutes=1))[0]


def test_a_materialisation_before_the_window_does_not_count(instance: DagsterInstance) -> None:
    """The 04:45 deadline wants a model trained since 04:45 the day before, not any earlier one."""
    checks = freshness_checks()
    _materialised(instance, "candidate_models", _at(26, 4, 40))
    passed, why = _evaluate(instance, checks, "candidate_models", _at(27, 4, 50))
    assert not passed and "overdue" in why


def test_the_deadlines_are_settings(instance: DagsterInstance) -> None:
    _materialised(instance, "exports", _at(27, 4, 50))
    late = FreshnessSettings(exports=Deadline(deadline_cron="0 6 * * *", window=DAY))
    assert not _evaluate(instance, freshness_checks(), "exports", _at(28, 5, 50))[0]
    assert _evaluate(instance, freshness_checks(late), "exports", _at(28, 5, 50))[0]
    failing = FreshnessSettings(severity=AssetCheckSeverity.ERROR)
    with freeze_time(_at(29, 6, 0)):
        result = materialize(
            freshness_checks(failing),
            instance=instance,
            selection=AssetSelection.checks(AssetCheckKey(AssetKey("exports"), CHECK)),
        )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is AssetCheckSeverity.ERROR


def test_the_sensor_runs_a_check_again_once_it_can_be_overdue(instance: DagsterInstance) -> None:
    checks = freshness_checks()
    sensor = freshness_sensor(checks)
    exports = AssetCheckKey(AssetKey("exports"), CHECK)
    with freeze_time(_at(27, 5, 0)):
        first = sensor(build_sensor_context(instance=instance))
    assert isinstance(first, RunRequest) and exports in (first.asset_check_keys or [])  # never evaluated
    _materialised(instance, "exports", _at(27, 4, 50))
    assert _evaluate(instance, checks, "exports", _at(27, 5, 50))[0]
    with freeze_time(_at(27, 6, 0)):
        quiet = sensor(build_sensor_context(instance=instance, cursor=None))
    assert isinstance(quiet, SkipReason) or exports not in (quiet.asset_check_keys or [])
    with freeze_time(_at(28, 5, 46)):  # past the next deadline: the check can fail now
        again = sensor(build_sensor_context(instance=instance))
    assert isinstance(again, RunRequest) and exports in (again.asset_check_keys or [])


def test_the_code_location_checks_every_ingestion_load_model_and_export_asset() -> None:
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    checked = {key.asset_key for key in graph.asset_check_keys if key.name == CHECK}
    expected = {
        *(AssetKey(f"landed_{name}") for name in STREAMS),
        *(AssetKey(f"raw_{table}") for table in RAW_TABLES),
        AssetKey("reader_warehouse"),
        AssetKey("candidate_models"),
        AssetKey("exports"),
    }
    assert checked == expected and expected <= set(graph.get_all_asset_keys())
    sensor = defs.resolve_sensor_def(FRESHNESS_SENSOR)
    assert sensor.default_status is DefaultSensorStatus.RUNNING
