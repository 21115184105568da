"""Incidents: severity, playbook, Slack and PagerDuty over loopback HTTP, escalation, post-mortem."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from actions.sla.config import SlaConfig
from actions.sla.engine import check_sla_compliance
from actions.sla.incidents import (
    NotificationError,
    Notifiers,
    PagerDutyNotifier,
    SlackNotifier,
    acknowledge,
    assess,
    handle_incidents,
    load_state,
)

SLACK_SECRET = "T0001/B0002/slacksecretXYZ987"
ROUTING_KEY = "R0UTINGKEYpagerduty0123456789ab"
T0 = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)


class Receiver:
    """A loopback HTTP server that records JSON bodies and answers with a set status."""

    def __init__(self, status: int = 200, body: dict[str, Any] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = status
        self.body = json.dumps(body or {}).encode()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.requests.append(
                    {
                        "path": self.path,
                        "content_type": self.headers["Content-Type"],
                        "json": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack_server() -> Iterator[Receiver]:
    receiver = Receiver(200)
    yield receiver
    receiver.close()


@pytest.fixture
def pagerduty_server() -> Iterator[Receiver]:
    receiver = Receiver(202, {"status": "success", "message": "Event processed"})
    yield receiver
    receiver.close()


def config_for(pagerduty: Receiver) -> SlaConfig:
    return SlaConfig.model_validate(
        {
            "targets": {
                "P0": {"response_hours": 1, "resolution_hours": 8},
                "P1": {"response_hours": 4, "resolution_hours": 24},
                "P2": {"response_hours": 8, "resolution_hours": 48},
                "P3": {"response_hours": 24, "resolution_hours": 96},
            },
            "notifications": {
                "slack": {"webhook_url_env": "TEST_SLACK_URL"},
                "pagerduty": {"routing_key_env": "TEST_PD_KEY", "events_url": f"{pagerduty.base}/v2/enqueue"},
            },
        }
    )


def notifiers_for(config: SlaConfig, slack: Receiver) -> Notifiers:
    env = {"TEST_SLACK_URL": f"{slack.base}/services/{SLACK_SECRET}", "TEST_PD_KEY": ROUTING_KEY}
    return Notifiers.from_config(config, config.notifications.secrets(env))


def breaching_report(config: SlaConfig, now: datetime) -> dict[str, Any]:
    items = [
        {
            "repo": "o/r",
            "number": 7,
            "created_at": (T0 - timedelta(hours=3)).isoformat(),
            "labels": ["P0"],
            "title": "prod down",
        }
    ]
    return check_sla_compliance(items, [], config, now)


def green_report(config: SlaConfig, now: datetime) -> dict[str, Any]:
    return check_sla_compliance([], [], config, now)


def assert_no_secret(*values: Any) -> None:
    text = json.dumps(values, default=str) + repr(values)
    assert SLACK_SECRET not in text and "slacksecret" not in text and ROUTING_KEY not in text


def test_severity_and_playbook() -> None:
    config = SlaConfig()
    now = T0
    report = check_sla_compliance(
        [
            {
                "repo": "o/r",
                "number": 1,
                "created_at": (now - timedelta(hours=5)).isoformat(),
                "labels": ["P1"],
            }
        ],
        [
            {
                "id": 1,
                "repo": "o/r",
                "workflow": "ci",
                "updated_at": (now - timedelta(hours=6)).isoformat(),
                "conclusion": "failure",
            }
        ],
        config,
        now,
    )
    incident = assess(report, config)
    assert incident is not None and incident.severity == "SEV1"  # availability far under target
    assert any("P1 SLA breach" in reason for reason in incident.reasons)
    actions = [step["action"] for step in incident.mitigations]
    assert actions[:3] == ["label", "comment", "assign"]
    assert "rerun_failed_jobs" in actions and "open_issue" in actions
    label = incident.mitigations[0]
    assert label["labels"] == ["sla-breach", "P1"] and (label["repo"], label["number"]) == ("o/r", 1)
    p3_only = check_sla_compliance(
        [{"repo": "o/r", "number": 2, "created_at": (now - timedelta(days=4)).isoformat()}], [], config, now
    )
    minor = assess(p3_only, config)
    assert minor is not None and minor.severity == "SEV3"
    assert assess(green_report(config, now), config) is None


def test_a_capped_breach_list_keeps_the_full_counts(
    tmp_path: Path, slack_server: Receiver, pagerduty_server: Receiver
) -> None:
    """The severity, its reasons, the notifications and the post-mortem count every breach."""
    config = config_for(pagerduty_server).model_copy(update={"max_breaches_listed": 2})
    # Waiting for a first response: a P0 for 3 h (1 h target) and four P3 for 30 h (24 h target).
    raw = [
        {"repo": "o/r", "number": 1, "created_at": (T0 - timedelta(hours=3)).isoformat(), "labels": ["P0"]}
    ]
    raw += [
        {
            "repo": "o/r",
            "number": 10 + n,
            "created_at": (T0 - timedelta(hours=30)).isoformat(),
            "labels": ["P3"],
        }
        for n in range(4)
    ]
    report = check_sla_compliance(raw, [], config, T0)
    assert report["breach_count"] == 5 and len(report["breaches"]) == 2 and report["breaches_truncated"]
    assert [b["number"] for b in report["breaches"]] == [1, 10]

    incident = assess(report, config)
    assert incident is not None and incident.severity == "SEV1" and incident.breach_count == 5
    assert incident.reasons == ["1 P0 SLA breach", "4 P3 SLA breaches"]
    assert {step["number"] for step in incident.mitigations} == {1, 10}  # the listed, most urgent

    notifiers = notifiers_for(config, slack_server)
    state = tmp_path / "incidents.json"
    opened = handle_incidents(report, config, notifiers, state, T0)
    assert opened["status"] == "opened" and opened["incident"]["breach_count"] == 5
    assert "…and 3 more." in slack_server.requests[0]["json"]["text"]
    assert pagerduty_server.requests[0]["json"]["payload"]["custom_details"]["breaches"] == 5
    later = T0 + timedelta(days=3)
    resolved = handle_incidents(green_report(config, later), config, notifiers, state, later)
    assert resolved["status"] == "resolved" and "\n…and 3 more." in resolved["postmortem"]


def test_open_escalate_and_resolve_across_runs(
    tmp_path: Path, slack_server: Receiver, pagerduty_server: Receiver
) -> None:
    config = config_for(pagerduty_server)
    notifiers = notifiers_for(config, slack_server)
    state = tmp_path / "state" / "incidents.json"

    first = handle_incidents(breaching_report(config, T0), config, notifiers, state, T0)
    assert first["status"] == "opened"
    assert [(n["channel"], n["event"], n["status"]) for n in first["notifications"]] == [
        ("slack", "opened", 200),
        ("pagerduty", "trigger", 202),
    ]
    slack_message = slack_server.requests[0]
    assert slack_message["path"] == f"/services/{SLACK_SECRET}"
    assert slack_message["content_type"] == "application/json"
    assert "SLA incident opened" in slack_message["json"]["text"] and "o/r#7" in slack_message["json"]["text"]
    trigger = pagerduty_server.requests[0]
    assert trigger["path"] == "/v2/enqueue"
    event = trigger["json"]
    assert event["routing_key"] == ROUTING_KEY and event["event_action"] == "trigger"
    assert event["dedup_key"] == first["incident"]["dedup_key"]
    assert event["payload"]["severity"] == "critical" and event["payload"]["source"] == "repopilot"
    assert event["payload"]["summary"].startswith("SEV1: 1 P0 SLA breach")

    # Ten minutes later: still breaching, not yet due for escalation, nothing sent.
    second = handle_incidents(
        breaching_report(config, T0 + timedelta(minutes=10)),
        config,
        notifiers,
        state,
        T0 + timedelta(minutes=10),
    )
    assert second["status"] == "ongoing" and second["notifications"] == []

    # Sixteen minutes: escalated once, with the same dedup key.
    third = handle_incidents(
        breaching_report(config, T0 + timedelta(minutes=16)),
        config,
        notifiers,
        state,
        T0 + timedelta(minutes=16),
    )
    assert third["status"] == "escalated"
    escalation = pagerduty_server.requests[-1]["json"]
    assert escalation["event_action"] == "trigger" and escalation["dedup_key"] == event["dedup_key"]
    assert escalation["payload"]["summary"].startswith("[escalated]")
    assert "SLA incident escalated" in slack_server.requests[-1]["json"]["text"]

    fourth = handle_incidents(
        breaching_report(config, T0 + timedelta(minutes=30)),
        config,
        notifiers,
        state,
        T0 + timedelta(minutes=30),
    )
    assert fourth["status"] == "ongoing" and fourth["notifications"] == []

    # Everything green: resolved on PagerDuty and Slack, post-mortem written, state cleared.
    fifth = handle_incidents(
        green_report(config, T0 + timedelta(hours=1)), config, notifiers, state, T0 + timedelta(hours=1)
    )
    assert fifth["status"] == "resolved"
    resolve = pagerduty_server.requests[-1]["json"]
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": event["dedup_key"]}
    assert "SLA incident resolved" in slack_server.requests[-1]["json"]["text"]
    postmortem = fifth["postmortem"]
    assert postmortem.startswith(f"# Post-mortem: SLA incident {event['dedup_key']}")
    assert (
        "**Duration:** 1 h 0 min" in postmortem and "| o/r#7 | P0 | response | 1 | 3.5 | yes |" in postmortem
    )
    assert "escalated: unresolved after 15 minutes" in postmortem and "`label` o/r#7" in postmortem
    saved = load_state(state)
    assert saved["open"] is None and saved["history"][-1]["dedup_key"] == event["dedup_key"]
    assert len(pagerduty_server.requests) == 3 and len(slack_server.requests) == 3

    assert_no_secret(first, second, third, fourth, fifth, state.read_text(), repr(notifiers))


def test_acknowledged_incident_is_not_escalated(
    tmp_path: Path, slack_server: Receiver, pagerduty_server: Receiver
) -> None:
    config = config_for(pagerduty_server)
    notifiers = notifiers_for(config, slack_server)
    state = tmp_path / "incidents.json"
    handle_incidents(breaching_report(config, T0), config, notifiers, state, T0)
    ack = acknowledge(state, notifiers, T0 + timedelta(minutes=5))
    assert ack["status"] == "acknowledged"
    assert pagerduty_server.requests[-1]["json"]["event_action"] == "acknowledge"
    later = T0 + timedelta(minutes=20)
    result = handle_incidents(breaching_report(config, later), config, notifiers, state, later)
    assert result["status"] == "ongoing" and result["notifications"] == []


def test_failed_delivery_is_reported_without_secrets_and_retried(
    tmp_path: Path, slack_server: Receiver, pagerduty_server: Receiver
) -> None:
    config = config_for(pagerduty_server)
    notifiers = notifiers_for(config, slack_server)
    state = tmp_path / "incidents.json"
    pagerduty_server.status = 500
    slack_server.status = 404
    first = handle_incidents(breaching_report(config, T0), config, notifiers, state, T0)
    failures = {n["channel"]: n for n in first["notifications"]}
    assert failures["pagerduty"]["status"] == "failed"
    assert failures["pagerduty"]["error"] == "PagerDuty refused the notification (HTTP 500)"
    assert failures["slack"]["error"] == "Slack refused the notification (HTTP 404)"
    assert_no_secret(first, state.read_text())
    # The announcement and the trigger that failed are sent on the next run, and only then.
    pagerduty_server.status = 202
    slack_server.status = 200
    later = T0 + timedelta(minutes=5)
    second = handle_incidents(breaching_report(config, later), config, notifiers, state, later)
    assert [(n["channel"], n["event"], n["status"]) for n in second["notifications"]] == [
        ("slack", "opened", 200),
        ("pagerduty", "trigger", 202),
    ]
    third = handle_incidents(breaching_report(config, later), config, notifiers, state, later)
    assert third["notifications"] == [] and third["failed"] == []


def test_escalation_and_resolve_are_retried_until_delivered(
    tmp_path: Path, slack_server: Receiver, pagerduty_server: Receiver
) -> None:
    config = config_for(pagerduty_server)
    notifiers = notifiers_for(config, slack_server)
    state = tmp_path / "incidents.json"
    handle_incidents(breaching_report(config, T0), config, notifiers, state, T0)
    pagerduty_server.status = 503
    at = T0 + timedelta(minutes=16)
    failed = handle_incidents(breaching_report(config, at), config, notifiers, state, at)
    assert failed["status"] == "escalated" and [n["channel"] for n in failed["failed"]] == ["pagerduty"]
    assert load_state(state)["open"]["escalated_at"] is None  # not escalated until every channel has it
    pagerduty_server.status = 202
    at = T0 + timedelta(minutes=31)
    retried = handle_incidents(breaching_report(config, at), config, notifiers, state, at)
    # Slack already had the escalation: only PagerDuty is told again
    assert [(n["channel"], n["status"]) for n in retried["notifications"]] == [("pagerduty", 202)]
    assert load_state(state)["open"]["escalated_at"] == at.isoformat()
    pagerduty_server.status = 500
    green = T0 + timedelta(hours=1)
    refused = handle_incidents(green_report(config, green), config, notifiers, state, green)
    assert refused["status"] == "resolve_failed" and load_state(state)["open"] is not None
    pagerduty_server.status = 202
    done = handle_incidents(green_report(config, green), config, notifiers, state, green)
    assert done["status"] == "resolved" and pagerduty_server.requests[-1]["json"]["event_action"] == "resolve"
    assert load_state(state)["open"] is None


def test_unreachable_endpoint_error_has_no_url() -> None:
    slack = SlackNotifier(SecretStr(f"http://127.0.0.1:9/services/{SLACK_SECRET}"), timeout=2)
    with pytest.raises(NotificationError) as info:
        slack.send("hello")
    assert "Slack could not be reached" in str(info.value)
    assert_no_secret(str(info.value), repr(info.value), repr(slack))
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_dry_run_sends_nothing(tmp_path: Path, slack_server: Receiver, pagerduty_server: Receiver) -> None:
    config = config_for(pagerduty_server)
    notifiers = notifiers_for(config, slack_server)
    result = handle_incidents(
        breaching_report(config, T0), config, notifiers, tmp_path / "s.json", T0, dry_run=True
    )
    assert {n["status"] for n in result["notifications"]} == {"dry-run"}
    assert slack_server.requests == [] and pagerduty_server.requests == []


def test_missing_secrets_skip_channels(tmp_path: Path, pagerduty_server: Receiver) -> None:
    config = config_for(pagerduty_server)
    notifiers = Notifiers.from_config(config, config.notifications.secrets({}))
    result = handle_incidents(breaching_report(config, T0), config, notifiers, tmp_path / "s.json", T0)
    assert result["status"] == "opened" and result["notifications"] == []
    assert result["skipped"] == ["slack: TEST_SLACK_URL is not set", "pagerduty: TEST_PD_KEY is not set"]


def test_minor_incident_below_pagerduty_threshold(
    tmp_path: Path, slack_server: Receiver, pagerduty_server: Receiver
) -> None:
    config = config_for(pagerduty_server)
    notifiers = notifiers_for(config, slack_server)
    items = [{"repo": "o/r", "number": 3, "created_at": (T0 - timedelta(days=5)).isoformat()}]  # P3
    result = handle_incidents(
        check_sla_compliance(items, [], config, T0), config, notifiers, tmp_path / "s", T0
    )
    assert result["incident"]["severity"] == "SEV3"
    assert [n["channel"] for n in result["notifications"]] == ["slack"]
    assert pagerduty_server.requests == []


def test_corrupt_state_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not readable JSON"):
        load_state(path)
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(ValueError, match="unknown layout"):
        load_state(path)


def test_pagerduty_trigger_needs_summary() -> None:
    notifier = PagerDutyNotifier(SecretStr(ROUTING_KEY), "http://127.0.0.1:9/v2/enqueue")
    with pytest.raises(ValueError, match="summary"):
        notifier.event("trigger", "k")
    assert ROUTING_KEY not in repr(notifier)
