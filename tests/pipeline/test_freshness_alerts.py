"""Freshness checks that fail or recover reach Slack (a loopback webhook) once each, the URL never shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from dagster import (
    AssetChecksDefinition,
    DagsterInstance,
    SensorDefinition,
    SensorResult,
    build_sensor_context,
)

from actions.sla.incidents import NotificationError, SlackNotifier
from pipelines.definitions import build_definitions
from pipelines.defs.alerts import FRESHNESS_ALERTS_SENSOR, RunAlertsResource, freshness_alerts_sensor
from pipelines.defs.freshness import freshness_checks
from tests.pipeline.test_freshness import _at, _evaluate, _materialised
from tests.sla.test_incidents import SLACK_SECRET, Receiver, slack_server

__all__ = ["slack_server"]  # the loopback webhook fixture of the SLA tests

URL_ENV = "TEST_REPOPILOT_SLACK_URL"
RAN = _at(27, 4, 50)  # the exports' daily run; the deadline is 05:45
OVERDUE = (
    ":warning: repopilot: exports is stale: freshness_check failed at the 2026-11-28 05:45 UTC deadline; "
    "last updated 2026-11-27 04:50 UTC\n"
    "• Asset is overdue for an update. The last update was 1 day, 1 hour ago, which is past the allowed "
    "distance of 1 day, 5 minutes ago."
)


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def checks() -> list[AssetChecksDefinition]:
    return freshness_checks()


@pytest.fixture
def webhook(slack_server: Receiver, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    monkeypatch.setenv(URL_ENV, f"{slack_server.base}/services/{SLACK_SECRET}")
    return slack_server


def _tick(sensor: SensorDefinition, instance: DagsterInstance, cursor: str | None) -> SensorResult:
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"alerts": RunAlertsResource(webhook_url_env=URL_ENV)}
    )
    result = sensor(context)
    assert isinstance(result, SensorResult)
    return result


def _texts(receiver: Receiver) -> list[str]:
    return [request["json"]["text"] for request in receiver.requests]


def test_a_stale_export_is_told_once_and_its_recovery_once(
    instance: DagsterInstance,
    checks: list[AssetChecksDefinition],
    webhook: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sensor = freshness_alerts_sensor(checks)
    _materialised(instance, "exports", RAN)
    assert _evaluate(instance, checks, "exports", _at(27, 5, 50))[0]
    fresh = _tick(sensor, instance, None)
    assert webhook.requests == [] and fresh.skip_reason is not None  # a first pass is nothing to tell
    assert not _evaluate(instance, checks, "exports", _at(28, 5, 50))[0]
    stale = _tick(sensor, instance, fresh.cursor)
    assert _texts(webhook) == [OVERDUE]
    assert webhook.requests[0]["path"] == f"/services/{SLACK_SECRET}"
    assert _tick(sensor, instance, stale.cursor).cursor == stale.cursor and len(webhook.requests) == 1
    # still failing on the next evaluation: no news
    assert not _evaluate(instance, checks, "exports", _at(28, 5, 55))[0]
    still = _tick(sensor, instance, stale.cursor)
    assert len(webhook.requests) == 1
    _materialised(instance, "exports", _at(28, 6, 0))
    assert _evaluate(instance, checks, "exports", _at(28, 6, 2))[0]
    recovered = _tick(sensor, instance, still.cursor)
    assert _texts(webhook)[1:] == [
        ":white_check_mark: repopilot: exports recovered: updated 2026-11-28 06:00 UTC"
    ]
    _tick(sensor, instance, recovered.cursor)
    assert len(webhook.requests) == 2
    for cursor in (fresh.cursor, stale.cursor, still.cursor, recovered.cursor):
        assert cursor is not None and "127.0.0.1" not in cursor and SLACK_SECRET not in cursor
    assert SLACK_SECRET not in caplog.text


def test_every_transition_between_two_ticks_is_told_in_order(
    instance: DagsterInstance, checks: list[AssetChecksDefinition], webhook: Receiver
) -> None:
    sensor = freshness_alerts_sensor(checks)
    _materialised(instance, "exports", RAN)
    assert _evaluate(instance, checks, "exports", _at(27, 5, 50))[0]
    first = _tick(sensor, instance, None)
    assert not _evaluate(instance, checks, "exports", _at(28, 5, 50))[0]
    _materialised(instance, "exports", _at(28, 6, 0))
    assert _evaluate(instance, checks, "exports", _at(28, 6, 2))[0]
    assert not _evaluate(instance, checks, "exports", _at(30, 5, 50))[0]
    _tick(sensor, instance, first.cursor)
    assert [text.split("\n")[0] for text in _texts(webhook)] == [
        ":warning: repopilot: exports is stale: freshness_check failed at the 2026-11-28 05:45 UTC deadline; "
        "last updated 2026-11-27 04:50 UTC",
        ":white_check_mark: repopilot: exports recovered: updated 2026-11-28 06:00 UTC",
        ":warning: repopilot: exports is stale: freshness_check failed at the 2026-11-30 05:45 UTC deadline; "
        "last updated 2026-11-28 06:00 UTC",
    ]


def test_a_sensor_switched_on_late_tells_the_state_now_not_the_history(
    instance: DagsterInstance, checks: list[AssetChecksDefinition], webhook: Receiver
) -> None:
    assert not _evaluate(instance, checks, "exports", RAN)[0]
    _materialised(instance, "exports", RAN)
    assert _evaluate(instance, checks, "exports", _at(27, 5, 50))[0]
    assert not _evaluate(instance, checks, "exports", _at(28, 5, 50))[0]
    assert _evaluate(instance, checks, "candidate_models", RAN)[0] is False
    _materialised(instance, "candidate_models", _at(27, 5, 0))
    assert _evaluate(instance, checks, "candidate_models", _at(27, 5, 1))[0]
    _tick(freshness_alerts_sensor(checks), instance, None)
    assert _texts(webhook) == [OVERDUE]  # exports fails now; the models' old failure is not told


def test_without_a_webhook_nothing_is_sent_the_tick_says_why_and_nothing_is_sent_later(
    instance: DagsterInstance,
    checks: list[AssetChecksDefinition],
    slack_server: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sensor = freshness_alerts_sensor(checks)
    monkeypatch.delenv(URL_ENV, raising=False)
    assert not _evaluate(instance, checks, "exports", RAN)[0]  # never materialised
    unset = _tick(sensor, instance, None)
    assert unset.skip_reason is not None and URL_ENV in str(unset.skip_reason.skip_message)
    assert "1 freshness changes were not sent" in str(unset.skip_reason.skip_message)
    monkeypatch.setenv(URL_ENV, f"{slack_server.base}/services/{SLACK_SECRET}")
    _tick(sensor, instance, unset.cursor)
    assert slack_server.requests == []  # an old failure is not told late


def test_a_slack_that_refuses_fails_the_tick_without_the_url_and_is_asked_again(
    instance: DagsterInstance, checks: list[AssetChecksDefinition], webhook: Receiver
) -> None:
    sensor = freshness_alerts_sensor(checks)
    assert not _evaluate(instance, checks, "exports", RAN)[0]
    webhook.status = 500
    with pytest.raises(NotificationError) as raised:
        _tick(sensor, instance, None)
    assert str(raised.value) == "Slack refused the notification (HTTP 500)"
    webhook.status = 200
    _tick(sensor, instance, None)  # the failed tick kept no cursor: the same change is sent
    assert len(webhook.requests) == 2 and _texts(webhook)[0] == _texts(webhook)[1]


def test_a_refusal_after_a_message_keeps_what_was_sent_and_sends_only_the_rest(
    instance: DagsterInstance,
    checks: list[AssetChecksDefinition],
    webhook: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sensor = freshness_alerts_sensor(checks)
    assert not _evaluate(instance, checks, "candidate_models", RAN)[0]
    assert not _evaluate(instance, checks, "exports", RAN)[0]
    send = SlackNotifier.send

    def then_refuse(notifier: SlackNotifier, text: str) -> int:
        status = send(notifier, text)
        webhook.status = 500  # Slack takes the first message and refuses the next
        return status

    monkeypatch.setattr(SlackNotifier, "send", then_refuse)
    partial = _tick(sensor, instance, None)
    assert partial.skip_reason is not None
    assert "HTTP 500" in str(partial.skip_reason.skip_message)
    assert "1 freshness changes left for next tick" in str(partial.skip_reason.skip_message)
    assert [text.split(":")[2] for text in _texts(webhook)] == [" repopilot", " repopilot"]
    webhook.status = 200
    monkeypatch.setattr(SlackNotifier, "send", send)
    _tick(sensor, instance, partial.cursor)
    told = [text.split(" is stale")[0] for text in _texts(webhook)]
    # the first went through, the second was refused and is the only one sent again
    assert told == [
        ":warning: repopilot: candidate_models",
        ":warning: repopilot: exports",
        ":warning: repopilot: exports",
    ]


def test_the_code_location_tells_every_freshness_check(instance: DagsterInstance, webhook: Receiver) -> None:
    defs = build_definitions()
    sensor = defs.resolve_sensor_def(FRESHNESS_ALERTS_SENSOR)
    checks = freshness_checks()
    when = _at(27, 11, 1) + timedelta(minutes=1)
    assert not _evaluate(instance, checks, "landed_pull_requests", when)[0]
    assert not _evaluate(instance, checks, "raw_workflow_runs", when)[0]
    _tick(sensor, instance, None)
    assert sorted(text.split(" is stale")[0] for text in _texts(webhook)) == [
        ":warning: repopilot: landed_pull_requests",
        ":warning: repopilot: raw_workflow_runs",
    ]
