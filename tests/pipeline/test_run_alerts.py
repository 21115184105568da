"""Failed runs reported to Slack (a loopback webhook), the URL never shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dagster import (
    DagsterInstance,
    RunFailureSensorContext,
    SkipReason,
    build_run_status_sensor_context,
    job,
    op,
)

from actions.sla.incidents import NotificationError
from pipelines.definitions import build_definitions
from pipelines.defs.alerts import RunAlertsResource, slack_on_run_failure
from pipelines.sources.base import SourceError
from tests.sla.test_incidents import SLACK_SECRET, Receiver, slack_server

__all__ = ["slack_server"]  # the loopback webhook fixture of the SLA tests

URL_ENV = "TEST_REPOPILOT_SLACK_URL"
REASON = "GitHub could not be reached at http://127.0.0.1:1 on GET /rate_limit after 3 attempts"


@op
def fetch() -> None:
    raise SourceError(REASON + "\nsecond line, left out")


@op
def fine() -> None:
    return None


@job
def ingest_repositories() -> None:
    fetch()
    fine()


@pytest.fixture
def failed() -> Iterator[RunFailureSensorContext]:
    """The sensor's context for a failed run of a job with one failing step."""
    with DagsterInstance.ephemeral() as instance:
        result = ingest_repositories.execute_in_process(
            instance=instance, raise_on_error=False, tags={"dagster/partition": "octo/hello"}
        )
        assert not result.success
        context = build_run_status_sensor_context(
            sensor_name="slack_on_run_failure",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"alerts": RunAlertsResource(webhook_url_env=URL_ENV)},
        ).for_run_failure()
        with context:  # tears the resources down
            yield context


def test_a_failed_run_is_posted_to_slack(
    failed: RunFailureSensorContext,
    slack_server: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(URL_ENV, f"{slack_server.base}/services/{SLACK_SECRET}")
    assert slack_on_run_failure(failed) is None
    (posted,) = slack_server.requests
    run_id = failed.dagster_run.run_id[:8]
    assert posted["path"] == f"/services/{SLACK_SECRET}"
    assert posted["json"]["text"] == (
        f":x: repopilot: run {run_id} of ingest_repositories (octo/hello) failed\n"
        f"• fetch: pipelines.sources.base.SourceError: {REASON}"
    )
    assert SLACK_SECRET not in caplog.text


def test_without_a_webhook_nothing_is_sent_and_the_tick_says_why(
    failed: RunFailureSensorContext, slack_server: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    skipped = slack_on_run_failure(failed)
    assert isinstance(skipped, SkipReason) and URL_ENV in str(skipped.skip_message)
    assert slack_server.requests == []


def test_a_slack_that_refuses_fails_the_tick_without_the_url(
    failed: RunFailureSensorContext, slack_server: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_server.status = 500
    monkeypatch.setenv(URL_ENV, f"{slack_server.base}/services/{SLACK_SECRET}")
    with pytest.raises(NotificationError) as raised:
        slack_on_run_failure(failed)
    assert str(raised.value) == "Slack refused the notification (HTTP 500)"
    assert len(slack_server.requests) == 1  # the tick fails, so Dagster asks again on the next one


def test_the_code_location_reports_failed_runs() -> None:
    defs = build_definitions()
    assert defs.resolve_sensor_def("slack_on_run_failure") is slack_on_run_failure
    assert isinstance(defs.resources["alerts"], RunAlertsResource)
