"""The maintenance action end to end: the demo's exports, the double serving the sample organisation."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest
import yaml

from actions.common.exports import sha256_of, verify
from actions.common.report import run_cli
from actions.maintain import main, read_activity
from actions.maintenance.config import MaintenanceConfig
from actions.maintenance.plan import plan_window
from pipelines.sources.double import GitHubDouble
from tests.actions.dated_exports import restamp, step_output
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"
WEEK = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday just after the sample's history ends
DISPATCH = """
tasks:
  dependency-update:
    duration_hours: 2
    workflow: deps.yml
    inputs: {mode: weekly}
  cleanup: {enabled: false}
"""


@pytest.fixture
def exports(demo_home: Path) -> Path:
    return demo_home / "exports"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "maintenance.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _window(
    exports: Path, text: str, task: str = "dependency-update", when: datetime = WEEK
) -> dict[str, Any]:
    """The window the action will find, planned here by the same code from the same exports."""
    activity, template, _ = read_activity(verify(exports), REPO)
    assert activity is not None
    config = MaintenanceConfig.model_validate(yaml.safe_load(text) or {})
    window = plan_window(activity, config, task, when, template=template).window  # type: ignore[arg-type]
    assert window is not None
    return window


def _run(double: GitHubDouble, exports: Path, config: Path, now: datetime, *extra: str) -> int:
    double.writes.now = lambda: now  # the double stamps what it creates with the action's clock
    argv = [
        "--repo",
        REPO,
        "--exports",
        str(exports),
        "--config",
        str(config),
        "--now",
        now.isoformat(),
        *extra,
    ]
    return run_cli(main, argv)


def _results(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return json.loads(out) if out.strip() else []


def _everything(files: dict[str, Path], captured: str) -> str:
    return captured + "".join(p.read_text(encoding="utf-8") for p in files.values() if p.exists())


def test_inside_the_window_the_workflow_is_dispatched_once(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml", dispatch_inputs=["mode"])
    config = _config(tmp_path, DISPATCH)
    window = _window(exports, DISPATCH)
    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])

    code = _run(sample_double, exports, config, start + timedelta(minutes=7))
    first = _results(capsys)
    assert code == 0 and [r["decision"] for r in first] == ["started", "disabled"]
    assert first[0]["window"] == window and first[0]["details"]["workflow"] == ".github/workflows/deps.yml"
    assert [(d.repo, d.ref, d.inputs) for d in sample_double.writes.dispatches] == [
        (REPO, "main", {"mode": "weekly"})
    ]
    run_id = sample_double.writes.dispatches[0].run_id
    assert first[0]["details"]["run_id"] == run_id

    # the next hourly run in the same window finds the dispatched run and starts nothing
    code = _run(sample_double, exports, config, start + timedelta(minutes=67))
    second = _results(capsys)[0]
    assert code == 0 and second["decision"] == "already-started" and str(run_id) in second["reason"]
    assert len(sample_double.writes.dispatches) == 1

    # after the window: nothing, and the reason says the window is over
    code = _run(sample_double, exports, config, end + timedelta(minutes=7))
    third = _results(capsys)[0]
    assert third["decision"] == "outside-window" and "is over" in third["reason"]
    assert third["next_window"]["start"] > window["start"] and len(sample_double.writes.dispatches) == 1

    outputs = action_env["output"].read_text(encoding="utf-8")
    assert "window-start<<" in outputs and window["start"] in outputs and "deps.yml" in outputs
    summary = action_env["summary"].read_text(encoding="utf-8")
    assert (
        "dependency-update: started" in summary and "| chosen |" in summary and "| alternative 1 |" in summary
    )
    assert "**Reasoning**" in summary and "lowest expected impact" in summary
    audit = [json.loads(line) for line in action_env["audit.jsonl"].read_text().splitlines()]
    decisions = [(a["subject"].split()[0], a["decision"], a["dry_run"]) for a in audit]
    assert ("dependency-update", "started", False) in decisions and decisions.count(
        ("cleanup", "disabled", False)
    ) == 3
    assert FAKE_TOKEN not in _everything(action_env, json.dumps([*first, second, third]))


def test_dry_run_decides_without_writing(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml", dispatch_inputs=["mode"])
    window = _window(exports, DISPATCH)
    sample_double.reset_log()
    code = _run(
        sample_double,
        exports,
        _config(tmp_path, DISPATCH),
        datetime.fromisoformat(window["start"]) + timedelta(minutes=30),
        "--dry-run",
        "--task",
        "dependency-update",
    )
    result = _results(capsys)
    assert code == 0 and [r["decision"] for r in result] == ["would-start"]
    assert sample_double.writes.dispatches == [] and {r.method for r in sample_double.requests} == {"GET"}
    assert "dry run: nothing was written" in action_env["summary"].read_text(encoding="utf-8")
    assert "started<<" in action_env["output"].read_text(encoding="utf-8")


def test_outside_the_window_nothing_is_started_and_the_reason_says_when(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml", dispatch_inputs=["mode"])
    window = _window(exports, DISPATCH)
    now = datetime.fromisoformat(window["start"]) - timedelta(hours=5)
    code = _run(sample_double, exports, _config(tmp_path, DISPATCH), now, "--task", "dependency-update")
    result = _results(capsys)[0]
    assert code == 0 and result["decision"] == "outside-window"
    assert "in 5.0 hours" in result["reason"] and sample_double.writes.dispatches == []
    assert "nothing to do: outside the window" in action_env["summary"].read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["holiday", "avoided-date"])
def test_a_holiday_or_avoided_date_keeps_the_window_off_that_day(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml", dispatch_inputs=["mode"])
    window = _window(exports, DISPATCH)
    now = datetime.fromisoformat(window["start"]) + timedelta(minutes=30)
    day = now.date()
    # a country whose calendar has a holiday on the window's day (the sample's windows fall in November 2026)
    country = next(
        (
            c
            for c in (
                "US",
                "FR",
                "DE",
                "BE",
                "PL",
                "IT",
                "ES",
                "AT",
                "BR",
                "JP",
                "IN",
                "MX",
                "CA",
                "AR",
                "CO",
            )
            if day in holidays.country_holidays(c, years=day.year)
        ),
        None,
    )
    if kind == "holiday" and country is None:
        pytest.skip(f"no listed country has a holiday on {day}")
    extra = (
        f"holidays: {{country: {country}}}\n"
        if kind == "holiday"
        else f"avoided_dates: [{day.isoformat()}]\n"
    )
    code = _run(
        sample_double, exports, _config(tmp_path, DISPATCH + extra), now, "--task", "dependency-update"
    )
    result = _results(capsys)[0]
    assert code == 0 and result["decision"] == kind and sample_double.writes.dispatches == []
    assert day.isoformat() in result["reason"] and not result["window"]["start"].startswith(day.isoformat())
    assert "the next window is" in result["reason"]


ISSUE = """
tasks:
  dependency-update: {enabled: false}
  cleanup: {enabled: true, duration_hours: 1, labels: [maintenance, cleanup]}
"""


def test_an_issue_task_opens_one_issue_per_window(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(tmp_path, ISSUE)
    window = _window(exports, ISSUE, task="cleanup")
    start = datetime.fromisoformat(window["start"])
    assert _run(sample_double, exports, config, start + timedelta(minutes=5), "--task", "cleanup") == 0
    result = _results(capsys)[0]
    assert result["decision"] == "started" and result["start"] == "issue"
    number = result["details"]["issue"]
    issue = next(i for i in sample_double.recording.issues[REPO] if i["number"] == number)
    assert [label["name"] for label in issue["labels"]] == ["maintenance", "cleanup"]
    assert (
        f"task=cleanup window-start={window['start']}" in issue["body"]
        and "lowest expected impact" in issue["body"]
    )
    issue["state"] = "closed"  # closed quickly by someone: still this window's work
    sample_double.invalidate()
    assert _run(sample_double, exports, config, start + timedelta(minutes=35), "--task", "cleanup") == 0
    again = _results(capsys)[0]
    assert again["decision"] == "already-started" and f"#{number}" in again["reason"]
    opened = [
        i for i in sample_double.recording.issues[REPO] if "repopilot-maintenance" in (i.get("body") or "")
    ]
    assert len(opened) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "tasks: {dependency-update: {workflow: ../evil.yml}}",
            "tasks.dependency-update.workflow: Value error, workflow must",
        ),
        ("tasks: {cleanup: {start: workflow}}", "start: workflow needs the workflow"),
        ("tasks: {cleanup: {inputs: {'bad name': x}}}", "input names must be identifiers"),
        (f"time_zone: {FAKE_TOKEN}", "time_zone: Value error, unknown time zone"),
        ("holidays: [DE", "not valid YAML at line 1"),
        ("window_hours: 0", "window_hours: Input should be greater than 0"),
    ],
)
def test_malformed_configs_are_refused_clearly(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    code = _run(sample_double, exports, _config(tmp_path, text), WEEK)
    captured = capsys.readouterr()
    assert code == 2 and message in captured.err and captured.out == ""
    assert FAKE_TOKEN not in _everything(action_env, captured.err) and sample_double.writes.dispatches == []


def _tampered(exports: Path, tmp_path: Path) -> Path:
    target = tmp_path / "exports"
    shutil.copytree(exports, target)
    return target


def _reseal(folder: Path, name: str) -> None:
    """Update a file's checksum in the manifest, as a careless hand edit with a fixed checksum would."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name]["sha256"] = sha256_of(folder / manifest["files"][name]["path"])
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_malformed_exports_are_refused_clearly(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(tmp_path, DISPATCH)
    folder = _tampered(exports, tmp_path)
    activity = json.loads((folder / "activity.json").read_text())
    activity["repositories"][REPO]["active_users"] = activity["repositories"][REPO]["active_users"][:167]
    (folder / "activity.json").write_text(json.dumps(activity))
    assert _run(sample_double, folder, config, WEEK) == 3
    assert "does not match its checksum" in capsys.readouterr().err
    _reseal(folder, "activity")
    assert _run(sample_double, folder, config, WEEK) == 3
    err = capsys.readouterr().err
    assert "activity is invalid" in err and "is too short" in err

    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"]["activity"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert _run(sample_double, folder, config, WEEK) == 3
    assert "have no activity.json" in capsys.readouterr().err
    assert sample_double.writes.dispatches == []


def test_missing_inputs_are_named(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(tmp_path, DISPATCH)
    assert run_cli(main, ["--repo", REPO, "--config", str(config)]) == 2
    assert "no exports" in capsys.readouterr().err
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert run_cli(main, ["--exports", str(exports), "--config", str(config)]) == 2
    assert "no repository" in capsys.readouterr().err
    assert _run(sample_double, exports, config, WEEK, "--now", "next tuesday") == 2
    assert "--now is not an ISO 8601 time" in capsys.readouterr().err
    assert run_cli(main, ["--repo", REPO, "--exports", str(exports), "--now", "2026-11-02T10:00"]) == 2
    assert "--now needs a UTC offset" in capsys.readouterr().err


def test_an_unknown_workflow_stops_the_action_inside_the_window(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    window = _window(exports, DISPATCH)
    code = _run(sample_double, exports, _config(tmp_path, DISPATCH), datetime.fromisoformat(window["start"]))
    assert code == 2 and "workflow deps.yml of task dependency-update is not in" in capsys.readouterr().err


def test_a_repository_without_activity_is_explained(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a repository GitHub knows but the exports have no history of yet
    sample_double.recording.repos.append("repopilot-sample/brand-new")
    sample_double.invalidate()
    argv = [
        "--repo",
        "repopilot-sample/brand-new",
        "--exports",
        str(exports),
        "--config",
        str(_config(tmp_path, DISPATCH)),
    ]
    assert run_cli(main, [*argv, "--now", WEEK.isoformat()]) == 0
    result = _results(capsys)[0]
    assert (
        result["decision"] == "no-activity"
        and "no activity for repopilot-sample/brand-new" in result["reason"]
    )


def test_a_repository_that_does_not_exist_is_refused_like_in_the_other_actions(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a local configuration and no activity: nothing else would ask GitHub about the repository
    config = _config(tmp_path, DISPATCH)
    argv = ["--repo", "nobody/nothing", "--exports", str(exports), "--config", str(config)]
    before = len(sample_double.requests)
    assert run_cli(main, [*argv, "--now", WEEK.isoformat(), "--dry-run"]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("::error::")]
    assert captured.out == "" and errors == [
        "::error::GitHub answered HTTP 404 while reading nobody/nothing: no such repository or object, "
        "or the token cannot see it"
    ], captured.err
    assert FAKE_TOKEN not in captured.err
    asked = [r.path for r in sample_double.requests[before:] if r.path.startswith("/repos/nobody/")]
    assert len(asked) == 1, asked


def test_stale_activity_still_plans_and_starts_with_a_warning(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Weekly activity changes slowly: a window from old exports is still a quiet one, said to be old."""
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml", dispatch_inputs=["mode"])
    window = _window(exports, DISPATCH)
    start = datetime.fromisoformat(window["start"])
    old = restamp(shutil.copytree(exports, tmp_path / "exports"), start - timedelta(days=4))
    assert _run(sample_double, old, _config(tmp_path, DISPATCH), start + timedelta(minutes=7)) == 0
    captured = capsys.readouterr()
    first = json.loads(captured.out)[0]
    assert first["decision"] == "started" and len(sample_double.writes.dispatches) == 1
    assert first["exports"]["age"]["stale"] and first["exports"]["age"]["age_hours"] == 96.12
    assert step_output(action_env["output"], "exports-stale") == "true"
    assert step_output(action_env["output"], "exports-age-hours") == "96.12"
    assert "::warning::stale exports" in captured.err
    assert "> **Stale exports.**" in action_env["summary"].read_text()
