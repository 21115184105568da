"""The SLA action end to end: the double on the sample organisation, Slack and PagerDuty on loopback.

A P0 issue opened three hours before ``NOW`` without a response breaches its one-hour response
target; every other target is set out of reach so the sample organisation's own backlog does not
interfere (and CI targets are zero: CI health is checked on the DevLake recording). The window is
one hour, so once the issue is answered and closed the breach leaves the window and the incident
resolves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import actions.sla_watch as sla_watch
from actions.common.github import connect
from actions.common.report import run_cli
from actions.sla.github_data import MARKER
from actions.sla.store import parse_body
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from pipelines.sources.sample import generate_sample_org
from tests.conftest import FAKE_TOKEN
from tests.sla.test_incidents import ROUTING_KEY, SLACK_SECRET, Receiver

REPO = "repopilot-sample/docs-site"
OTHER = "repopilot-sample/web-frontend"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
FAR = {"response_hours": 100_000, "resolution_hours": 100_000}


def _at(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat()


@pytest.fixture(scope="module")
def sample() -> Recording:
    return generate_sample_org()


@pytest.fixture
def double(sample: Recording) -> Iterator[GitHubDouble]:
    recording = Recording(**{**sample.__dict__})
    # the recording's lists are changed by the tests: give each test its own copies
    recording.issues = {repo: [dict(i) for i in items] for repo, items in sample.issues.items()}
    recording.issue_comments = {repo: list(items) for repo, items in sample.issue_comments.items()}
    with GitHubDouble(recording, token=FAKE_TOKEN) as served:
        yield served


@pytest.fixture
def slack() -> Iterator[Receiver]:
    receiver = Receiver(200)
    yield receiver
    receiver.close()


@pytest.fixture
def pagerduty() -> Iterator[Receiver]:
    receiver = Receiver(202, {"status": "success", "message": "Event processed"})
    yield receiver
    receiver.close()


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, double: GitHubDouble, slack: Receiver
) -> dict[str, Path]:
    files = {name: tmp_path / name for name in ("output", "summary", "audit.jsonl")}
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", double.url)
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("REPOPILOT_AUDIT_LOG", str(files["audit.jsonl"]))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"{slack.base}/services/{SLACK_SECRET}")
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    return files


def _config(tmp_path: Path, pagerduty: Receiver, **extra: Any) -> Path:
    document = {
        "targets": {
            "P0": {"response_hours": 1, "resolution_hours": 100_000},
            "P1": FAR,
            "P2": FAR,
            "P3": FAR,
        },
        "window_hours": 1,
        "success_rate_target": 0,
        "availability_target": 0,
        "on_call": ["oncall-person"],
        "notifications": {"pagerduty": {"events_url": f"{pagerduty.base}/v2/enqueue"}},
        **extra,
    }
    path = tmp_path / "sla.yml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
    return path


def _p0_issue(double: GitHubDouble) -> int:
    """A P0 issue opened three hours before NOW that nobody has answered."""
    issues = double.recording.issues[REPO]
    number = max(int(i["number"]) for i in [*issues, *double.recording.pull_requests[REPO]]) + 1
    template = next(i for i in issues if "pull_request" not in i)
    stamp = (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    issue = {
        **template,
        "number": number,
        "id": 99_000_000 + number,
        "title": "Production login fails for everyone",
        "state": "open",
        "labels": [{"name": "P0", "color": "b60205"}, {"name": "bug", "color": "d73a4a"}],
        "comments": 0,
        "created_at": stamp,
        "updated_at": stamp,
        "closed_at": None,
        "url": f"https://api.github.com/repos/{REPO}/issues/{number}",
    }
    issues.append(issue)
    double.invalidate()
    return number


def _answer_and_close(double: GitHubDouble, number: int, minutes: float) -> None:
    issue = next(i for i in double.recording.issues[REPO] if i["number"] == number)
    stamp = (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    double.recording.issue_comments[REPO].append(
        {
            "id": 98_000_000 + number,
            "issue_url": f"https://api.github.com/repos/{REPO}/issues/{number}",
            "user": {"login": "jonas-nowak", "type": "User"},
            "body": "Rolled back; fixed.",
            "created_at": stamp,
            "updated_at": stamp,
        }
    )
    issue.update(state="closed", closed_at=stamp, updated_at=stamp, comments=issue["comments"] + 1)
    double.invalidate()


def _run(config: Path, minutes: float, *extra: str, repos: str = f"{REPO},{OTHER}") -> int:
    return run_cli(sla_watch.main, ["--repos", repos, "--config", str(config), "--now", _at(minutes), *extra])


def _result(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    captured = capsys.readouterr()
    return (json.loads(captured.out) if captured.out.strip() else {}), captured.out + captured.err


def _incident_issues(double: GitHubDouble) -> list[dict[str, Any]]:
    return [
        i
        for i in double.recording.issues[REPO]
        if "repopilot-incident" in {lab["name"] for lab in i.get("labels") or []}
    ]


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SLACK_SECRET not in text and ROUTING_KEY not in text and FAKE_TOKEN not in text


def _written(files: dict[str, Path]) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in files.values() if p.exists())


def test_no_breach_no_incident(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    slack: Receiver,
    pagerduty: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(_config(tmp_path, pagerduty), 0) == 0
    result, _ = _result(capsys)
    assert result["compliant"] is True and result["incident_status"] == "ok" and result["incident"] is None
    assert slack.requests == [] and pagerduty.requests == []
    assert double.count(method="POST") == 0 and double.count(method="PATCH") == 0
    summary = env["summary"].read_text()
    assert "all targets met" in summary and "| P0 | response | 1 h |" in summary
    assert "compliant=" not in summary and "true" in env["output"].read_text()


def test_incident_lifecycle_across_fresh_runs(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    slack: Receiver,
    pagerduty: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(tmp_path, pagerduty)
    number = _p0_issue(double)

    # Breach: the incident issue is opened, Slack told, PagerDuty triggered, the playbook applied.
    assert _run(config, 0) == 0
    opened, log = _result(capsys)
    assert opened["incident_status"] == "opened" and opened["incident"]["severity"] == "SEV1"
    assert [b["number"] for b in opened["report"]["breaches"]] == [number]
    [incident_issue] = _incident_issues(double)
    assert opened["incident_issue"] == incident_issue["number"]
    key, state = parse_body(incident_issue["body"], "incident") or ("", {})
    assert key == f"repopilot-sla/{REPO},{OTHER}"
    assert state["open"]["pagerduty_triggered"] is True and state["open"]["escalated_at"] is None
    assert [r["json"]["text"].split(" —")[0] for r in slack.requests] == [
        ":rotating_light: *SLA incident opened*"
    ]
    assert slack.requests[0]["path"] == f"/services/{SLACK_SECRET}"
    [trigger] = [r["json"] for r in pagerduty.requests]
    assert trigger["routing_key"] == ROUTING_KEY and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == state["open"]["dedup_key"]
    assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["source"] == "repopilot"
    assert trigger["payload"]["summary"] == "SEV1: 1 P0 SLA breach"
    item = next(i for i in double.recording.issues[REPO] if i["number"] == number)
    assert {"sla-breach", "P0"} <= {lab["name"] for lab in item["labels"]}
    assert [a["login"] for a in item["assignees"]] == ["oncall-person"]
    ours = [c for c in double.recording.issue_comments[REPO] if c["issue_url"].endswith(f"/issues/{number}")]
    assert len(ours) == 1 and MARKER in ours[0]["body"] and "first response" in ours[0]["body"]

    # Ten minutes later, a fresh run: nothing new is sent or opened, and our comment is no response.
    writes = double.count(method="POST") + double.count(method="PATCH")
    assert _run(config, 10) == 0
    ongoing, log2 = _result(capsys)
    assert ongoing["incident_status"] == "ongoing" and ongoing["notifications"] == []
    assert len(slack.requests) == 1 and len(pagerduty.requests) == 1 and len(_incident_issues(double)) == 1
    assert double.count(method="POST") + double.count(method="PATCH") == writes  # nothing material changed

    # Sixteen minutes: escalated once; twenty: not again.
    assert _run(config, 16) == 0
    escalated, log3 = _result(capsys)
    assert escalated["incident_status"] == "escalated"
    assert pagerduty.requests[-1]["json"]["payload"]["summary"].startswith("[escalated]")
    assert pagerduty.requests[-1]["json"]["dedup_key"] == trigger["dedup_key"]
    assert "SLA incident escalated" in slack.requests[-1]["json"]["text"]
    assert _run(config, 20) == 0
    again, log4 = _result(capsys)
    assert again["incident_status"] == "ongoing" and again["notifications"] == []
    assert (len(slack.requests), len(pagerduty.requests)) == (2, 2)

    # Answered and closed; once the breach has left the window, the incident resolves.
    _answer_and_close(double, number, 25)
    assert _run(config, 95) == 0
    resolved, log5 = _result(capsys)
    assert resolved["incident_status"] == "resolved" and resolved["compliant"] is True
    assert pagerduty.requests[-1]["json"] == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }
    assert "SLA incident resolved" in slack.requests[-1]["json"]["text"]
    [closed] = _incident_issues(double)
    assert closed["state"] == "closed" and closed["state_reason"] == "completed"
    postmortem = next(
        c
        for c in reversed(double.recording.issue_comments[REPO])
        if c["issue_url"].endswith(f"/issues/{closed['number']}")
    )
    assert f"# Post-mortem: SLA incident {trigger['dedup_key']}" in postmortem["body"]
    assert "escalated: unresolved after 15 minutes" in postmortem["body"]
    assert resolved["postmortem"].startswith("# Post-mortem")

    audit = [json.loads(line) for line in env["audit.jsonl"].read_text().splitlines()]
    assert [a["decision"] for a in audit] == ["opened", "ongoing", "escalated", "ongoing", "resolved"]
    bodies = json.dumps([i.get("body") for i in double.recording.issues[REPO]])
    comments = json.dumps(double.recording.issue_comments[REPO])
    _no_secret(log, log2, log3, log4, log5, _written(env), bodies, comments)


def test_capped_breach_list_with_exact_counts_end_to_end(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    slack: Receiver,
    pagerduty: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    numbers = [_p0_issue(double) for _ in range(3)]
    assert _run(_config(tmp_path, pagerduty, max_breaches_listed=1), 0) == 0
    result, _ = _result(capsys)
    report = result["report"]
    assert report["breach_count"] == 3 and report["breaches_truncated"] is True
    assert [b["number"] for b in report["breaches"]] == [numbers[0]]  # equally late: lowest number
    assert result["incident"]["summary"] == "SEV1: 3 P0 SLA breaches"
    assert re.search(r"^breaches<<(\S+)\n3\n\1$", env["output"].read_text(), re.MULTILINE)
    assert "…and 2 more." in env["summary"].read_text()
    [audit] = [json.loads(line) for line in env["audit.jsonl"].read_text().splitlines()]
    assert audit["details"]["breaches"] == 3
    [incident_issue] = _incident_issues(double)
    assert "…and 2 more." in incident_issue["body"]
    _, state = parse_body(incident_issue["body"], "incident") or ("", {})
    assert state["open"]["breach_count"] == 3 and len(state["open"]["breaches"]) == 1


def test_acknowledge_label_stops_the_escalation(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    pagerduty: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(tmp_path, pagerduty)
    _p0_issue(double)
    assert _run(config, 0) == 0
    [incident_issue] = _incident_issues(double)
    incident_issue["labels"].append({"name": "incident-acknowledged"})
    double.invalidate()
    assert _run(config, 5) == 0
    assert _run(config, 30) == 0
    capsys.readouterr()
    assert [r["json"]["event_action"] for r in pagerduty.requests] == ["trigger", "acknowledge"]
    state = (parse_body(_incident_issues(double)[0]["body"], "x") or ("", {}))[1]
    assert state["open"]["acknowledged_at"] == _at(5) and state["open"]["escalated_at"] is None


def test_notification_endpoint_down_keeps_the_state_and_retries(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    slack: Receiver,
    pagerduty: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(tmp_path, pagerduty)
    _p0_issue(double)
    pagerduty.status = 500
    assert _run(config, 0) == 2
    _, log = _result(capsys)
    assert "::error::1 notification(s) failed (PagerDuty refused the notification (HTTP 500))" in log
    assert "retried on the next run" in log
    [incident_issue] = _incident_issues(double)
    state = (parse_body(incident_issue["body"], "x") or ("", {}))[1]
    assert state["open"]["pagerduty_triggered"] is False and state["open"]["slack_announced"] is True
    _no_secret(log, _written(env), incident_issue["body"])

    pagerduty.status = 202
    assert _run(config, 5) == 0
    retried, _ = _result(capsys)
    assert [(n["channel"], n["event"], n["status"]) for n in retried["notifications"]] == [
        ("pagerduty", "trigger", 202)
    ]
    assert len(slack.requests) == 1  # Slack had it already
    assert len(_incident_issues(double)) == 1


def test_unreachable_slack_is_a_clear_error_without_the_url(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    pagerduty: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"http://127.0.0.1:9/services/{SLACK_SECRET}")
    _p0_issue(double)
    assert _run(_config(tmp_path, pagerduty), 0) == 2
    _, log = _result(capsys)
    assert "Slack could not be reached" in log
    _no_secret(log, _written(env))


def test_dry_run_sends_and_writes_nothing(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    slack: Receiver,
    pagerduty: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _p0_issue(double)
    assert _run(_config(tmp_path, pagerduty), 0, "--dry-run") == 0
    result, _ = _result(capsys)
    assert result["incident_status"] == "opened" and result["incident_issue"] is None
    assert {n["status"] for n in result["notifications"]} == {"dry-run"}
    assert {m["status"] for m in result["mitigations"]} == {"dry-run"}
    assert slack.requests == [] and pagerduty.requests == []
    assert double.count(method="POST") == 0 and double.count(method="PATCH") == 0
    assert "dry run: nothing was written" in env["summary"].read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets: {P9: {response_hours: 1, resolution_hours: 2}}", "sla.yml: targets.P9"),
        ("window_hours: -1", "sla.yml: window_hours: Input should be greater than 0"),
        ("on_call: ['not a login!']", "sla.yml: on_call: Value error, must be GitHub logins"),
        (
            f"notifications: {{slack: {{webhook_url_env: 'https://hooks.slack.com/services/{SLACK_SECRET}'}}}}",
            "NAME",
        ),
        ("targets: [", "sla.yml: not valid YAML"),
    ],
)
def test_malformed_config_is_refused_clearly(
    env: dict[str, Path], tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sla.yml"
    path.write_text(text, encoding="utf-8")
    assert _run(path, 0) == 2
    _, log = _result(capsys)
    assert message in log
    _no_secret(log)


def test_malformed_payload_and_state_are_refused_clearly(
    double: GitHubDouble,
    env: dict[str, Path],
    tmp_path: Path,
    pagerduty: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(tmp_path, pagerduty)
    number = _p0_issue(double)
    broken = next(i for i in double.recording.issues[REPO] if i["number"] == number)
    broken["created_at"] = "yesterday"
    double.invalidate()
    assert _run(config, 0) == 2
    _, log = _result(capsys)
    assert f"GitHub answered data the SLA check cannot read: item {REPO}#{number}: created_at is not" in log

    broken["created_at"] = (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    double.invalidate()
    assert _run(config, 0) == 0
    [incident_issue] = _incident_issues(double)
    incident_issue["body"] = incident_issue["body"].replace('"version":1', '"version":1,,')
    double.invalidate()
    assert _run(config, 5) == 2
    _, log = _result(capsys)
    assert f"the incident state in {REPO}#{incident_issue['number']} is not readable JSON" in log
    assert "fix or close that issue" in log and len(_incident_issues(double)) == 1


def test_first_responses_match_the_recording(
    double: GitHubDouble, env: dict[str, Path], sample: Recording
) -> None:
    """Every first response the action finds is the earliest non-author, non-bot comment or review."""
    from actions.sla.github_data import fetch_items

    client = connect(FAKE_TOKEN, double.url)
    since = NOW - timedelta(days=30)
    items, _ = fetch_items(client.requester, OTHER, since, "repopilot-incident")
    assert len(items) > 20
    by_number = {i["number"]: i for i in sample.issues[OTHER]}
    answered = 0
    for item in items:
        author = by_number[item["number"]]["user"]["login"]
        candidates = [
            c["created_at"]
            for c in sample.issue_comments.get(OTHER, [])
            if c["issue_url"].endswith(f"/issues/{item['number']}")
            and c["user"]["login"] != author
            and c["user"].get("type") != "Bot"
            and not c["user"]["login"].endswith("[bot]")
        ]
        if item["is_pull_request"]:
            candidates += [
                r["submitted_at"]
                for r in sample.reviews.get((OTHER, item["number"]), [])
                if r["user"]["login"] != author and r.get("submitted_at")
            ]
        expected = min(
            candidates, key=lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")), default=None
        )
        assert item["first_response_at"] == expected, item["number"]
        answered += expected is not None
    assert answered > 10


def test_ci_health_on_the_devlake_recording(
    devlake_double: GitHubDouble,
    devlake_recording: Recording,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Real runs (panjf2000/ants): the success rate is the share of the week's finished runs that passed."""
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", devlake_double.url)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "REPOPILOT_AUDIT_LOG", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    now = datetime(2022, 7, 1, 14, tzinfo=UTC)
    config = tmp_path / "sla.yml"
    config.write_text("window_hours: 168\nsuccess_rate_target: 0.9\n", encoding="utf-8")
    argv = ["--repos", "panjf2000/ants", "--config", str(config), "--now", now.isoformat(), "--dry-run"]
    assert run_cli(sla_watch.main, argv) == 0
    result = json.loads(capsys.readouterr().out)
    start = now - timedelta(hours=168)
    ok = failed = 0
    for run in devlake_recording.workflow_runs["panjf2000/ants"]:
        finished = datetime.fromisoformat(run["updated_at"].replace("Z", "+00:00"))
        conclusion = (run.get("conclusion") or "").lower()
        if start <= finished < now and conclusion:
            ok += conclusion == "success"
            failed += conclusion in {"failure", "timed_out", "startup_failure"}
    success = result["report"]["success_rate"]
    assert (success["succeeded"], success["failed"]) == (ok, failed) and ok > 5 and failed > 2
    assert success["met"] is False and result["incident"]["severity"] in {"SEV1", "SEV2"}
    assert result["report"]["availability"]["value"] < 1
    assert devlake_double.count(method="POST") == 0  # a dry run
