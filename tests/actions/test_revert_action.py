"""The revert action end to end against the double: the sample organisation and the DevLake recording."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from actions.common.report import run_cli
from actions.merging.config import REVERT_MARKER
from actions.revert import main
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from pipelines.sources.sample import generate_sample_org
from tests.actions.revert_helpers import failed_run, fresh_pull, merge_pull
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"


@pytest.fixture(scope="module")
def shared_double() -> Iterator[GitHubDouble]:
    """One double for the dry-run refusals: each uses pull requests and runs of its own, writes nothing."""
    with GitHubDouble(generate_sample_org(), token=FAKE_TOKEN) as double:
        yield double


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, double: GitHubDouble) -> dict[str, Path]:
    files = {name: tmp_path / name for name in ("output", "summary", "audit.jsonl")}
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", double.url)
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("REPOPILOT_AUDIT_LOG", str(files["audit.jsonl"]))
    for name in ("GITHUB_EVENT_PATH", "GITHUB_WORKSPACE", "REPOPILOT_EXPORTS"):
        monkeypatch.delenv(name, raising=False)
    return files


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(list(args)) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def _text(files: dict[str, Path]) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in files.values() if p.exists())


def test_a_failed_default_branch_after_an_auto_merge_opens_a_revert_naming_the_run(
    sample_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _env(monkeypatch, tmp_path, sample_double)
    number = fresh_pull(sample_double, REPO)
    sha = merge_pull(sample_double, REPO, number)
    run_id = failed_run(
        sample_double, REPO, sha, jobs=(("build", "failure"), ("lint", "success"), ("e2e", "timed_out"))
    )
    sample_double.reset_log()
    result = _run(capsys, "--repo", REPO, "--run-id", str(run_id))
    assert result["decision"] == "revert" and result["reverted"], result
    assert [c["name"] for c in result["checks"]] == [
        "enabled",
        "failed_on_default_branch",
        "merged_by_repopilot",
        "not_opted_out",
        "not_a_revert",
        "no_revert_yet",
        "under_daily_cap",
    ]
    opened = result["revert_pull_request"]["number"]
    assert sample_double.writes.reverts == [(REPO, number, opened)]
    assert sample_double.count(method="POST", path_contains="graphql") == 1  # the revertPullRequest mutation
    # no race: the re-count after opening reads the pull request list once more and closes nothing
    listings = [r for r in sample_double.requests if r.method == "GET" and r.path.endswith(f"{REPO}/pulls")]
    assert len(listings) == 2 and sample_double.count(method="PATCH") == 0
    assert len(sample_double.requests) == 14  # the token check, 12 before the re-count
    assert result["recount"] == {
        "kept": True,
        "cause": None,
        "position": 1,
        "reverts_today": 1,
        "earlier": [],
        "detail": f"#{result['revert_pull_request']['number']} is revert 1 of 2 allowed today (UTC)",
    }
    pull = next(p for p in sample_double.recording.pull_requests[REPO] if p["number"] == opened)
    body = pull["body"]
    assert f"https://github.com/{REPO}/actions/runs/{run_id}" in body and f"run id {run_id}" in body
    assert "build" in body and "e2e" in body and "lint" not in body
    assert REVERT_MARKER in body.splitlines() and f"Reverts: #{number}" in body.splitlines()
    assert pull["title"].startswith('Revert "') and pull["head"]["ref"].startswith(f"revert-{number}-")
    assert "repopilot:revert" in [label["name"] for label in pull["labels"]]
    # the revert branch undoes the merge: the change is gone, the rest is as it was
    reverted = sample_double.writes.branch_files(REPO, pull["head"]["ref"]) or {}
    assert f"changes/{number}.txt" not in reverted and "README.md" in reverted
    comments = [
        c["body"]
        for c in sample_double.recording.issue_comments[REPO]
        if c["issue_url"].endswith(f"/{number}")
    ]
    assert f"#{opened} reverts it" in comments[-1]
    outputs = files["output"].read_text()
    assert "revert-pull-request<<" in outputs and str(opened) in outputs
    assert "| ✅ | under_daily_cap |" in files["summary"].read_text()
    audit = [json.loads(line) for line in files["audit.jsonl"].read_text().splitlines()]
    assert audit[-1]["action"] == "revert" and audit[-1]["decision"] == "revert" and not audit[-1]["dry_run"]
    assert FAKE_TOKEN not in _text(files) + capsys.readouterr().err


def test_dry_run_decides_without_writing(
    shared_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _env(monkeypatch, tmp_path, shared_double)
    number = fresh_pull(shared_double, REPO)
    run_id = failed_run(shared_double, REPO, merge_pull(shared_double, REPO, number))
    shared_double.reset_log()
    result = _run(capsys, "--repo", REPO, "--run-id", str(run_id), "--dry-run")
    assert result["decision"] == "revert" and not result["reverted"] and result["pull_request"] == number
    assert (
        shared_double.count(method="POST")
        + shared_double.count(method="PUT")
        + shared_double.count(method="DELETE")
        == 0
    )
    assert f"would open a revert of #{number}" in files["summary"].read_text()


def _refusal_scene(double: GitHubDouble, case: str) -> tuple[int, list[str]]:
    """A run that must not be reverted, and the extra arguments; each case uses a fresh pull request."""
    number = fresh_pull(double, REPO)
    if case == "human merge":
        return failed_run(double, REPO, merge_pull(double, REPO, number, by_repopilot=False)), []
    if case == "opt-out label":
        return failed_run(double, REPO, merge_pull(double, REPO, number, labels=("No-Auto-Revert",))), []
    if case == "revert by trailer":
        body = f"Undo the flag change.\n\n{REVERT_MARKER}\nReverts: #{number - 1}"
        return failed_run(double, REPO, merge_pull(double, REPO, number, title="Undo flags", body=body)), []
    if case == "revert by GitHub's branch":
        sha = merge_pull(double, REPO, number, title="Restore flags", head_ref=f"revert-{number - 1}-flags")
        return failed_run(double, REPO, sha), []
    sha = merge_pull(double, REPO, number)
    if case == "run passed":
        return failed_run(double, REPO, sha, conclusion="success"), []
    if case == "other branch":
        return failed_run(double, REPO, sha, branch="release"), []
    if case == "pull request run":
        return failed_run(double, REPO, sha, event="pull_request"), []
    if case == "fork":
        return failed_run(double, REPO, sha, head_repository="mallory/docs-site"), []
    assert case == "no pull request", case
    return failed_run(double, REPO, "e" * 40), []


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("run passed", "failed_on_default_branch: the run is completed with conclusion success"),
        ("other branch", "failed_on_default_branch: the run is on release, not main"),
        ("pull request run", "failed_on_default_branch: the run was triggered by pull_request"),
        ("fork", "failed_on_default_branch: the run's commit comes from another repository"),
        ("no pull request", "merged_by_repopilot: no pull request was merged as commit eeeeeeeeeeee"),
        ("human merge", "merged_by_repopilot: #"),
        ("opt-out label", "not_opted_out: #"),
        ("revert by trailer", "not_a_revert: #"),
        ("revert by GitHub's branch", "not_a_revert: #"),
    ],
)
def test_every_refusal_writes_nothing_and_explains(
    shared_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    reason: str,
) -> None:
    files = _env(monkeypatch, tmp_path, shared_double)
    run_id, extra = _refusal_scene(shared_double, case)
    before = list(shared_double.writes.reverts)
    result = _run(capsys, "--repo", REPO, "--run-id", str(run_id), *extra)
    assert result["decision"] == "skipped" and result["reason"].startswith(reason), result["reason"]
    assert not result["reverted"] and shared_double.writes.reverts == before
    assert "no revert" in files["summary"].read_text()
    assert json.loads(files["audit.jsonl"].read_text().splitlines()[-1])["decision"] == "skipped"
    if case == "revert by trailer":
        assert REVERT_MARKER in result["reason"]
    if case == "human merge":
        assert "not merged by repopilot" in result["reason"]


def test_disabled_and_malformed_configuration(
    shared_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _env(monkeypatch, tmp_path, shared_double)
    number = fresh_pull(shared_double, REPO)
    run_id = failed_run(shared_double, REPO, merge_pull(shared_double, REPO, number))
    config = tmp_path / "auto-merge.yml"
    config.write_text("revert: {enabled: false}\n")
    result = _run(capsys, "--repo", REPO, "--run-id", str(run_id), "--config", str(config))
    assert result["decision"] == "skipped" and result["reason"] == "enabled: revert automation is off"
    for text, message in [
        (
            "revert: {daily_cap: -1}\n",
            "auto-merge.yml: revert.daily_cap: Input should be greater than or equal to 0",
        ),
        ("revert: {dailycap: 1}\n", "auto-merge.yml: revert.dailycap: Extra inputs are not permitted"),
        (
            f"revert: {{opt_out_label: [{FAKE_TOKEN}]}}\n",
            "revert.opt_out_label: Input should be a valid string",
        ),
    ]:
        config.write_text(text)
        assert run_cli(main, ["--repo", REPO, "--run-id", str(run_id), "--config", str(config)]) == 2
        captured = capsys.readouterr()
        assert message in captured.err and FAKE_TOKEN not in captured.err + captured.out + _text(files)


def test_the_daily_cap_counts_todays_reverts_on_github(
    sample_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _env(monkeypatch, tmp_path, sample_double)
    config = tmp_path / "auto-merge.yml"
    config.write_text("revert: {daily_cap: 1}\n")
    first, second, third = (fresh_pull(sample_double, REPO) for _ in range(3))
    # yesterday's revert does not count against today's cap
    real_now = sample_double.writes.now
    sample_double.writes.now = lambda: datetime.now(UTC) - timedelta(days=1)
    run = failed_run(sample_double, REPO, merge_pull(sample_double, REPO, first))
    assert _run(capsys, "--repo", REPO, "--run-id", str(run), "--config", str(config))["decision"] == "revert"
    sample_double.writes.now = real_now
    run = failed_run(sample_double, REPO, merge_pull(sample_double, REPO, second))
    today = _run(capsys, "--repo", REPO, "--run-id", str(run), "--config", str(config))
    assert today["decision"] == "revert" and today["reverts_today"] == 0
    run = failed_run(sample_double, REPO, merge_pull(sample_double, REPO, third))
    capped = _run(capsys, "--repo", REPO, "--run-id", str(run), "--config", str(config))
    assert capped["decision"] == "skipped" and capped["reverts_today"] == 1
    assert capped["reason"] == "under_daily_cap: 1 of 1 revert pull requests opened today (UTC)"
    assert [r[1] for r in sample_double.writes.reverts] == [first, second]


def test_reruns_and_several_failing_workflows_open_one_revert(
    sample_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _env(monkeypatch, tmp_path, sample_double)
    number = fresh_pull(sample_double, REPO)
    sha = merge_pull(sample_double, REPO, number)
    run_id = failed_run(sample_double, REPO, sha)
    opened = _run(capsys, "--repo", REPO, "--run-id", str(run_id))["revert_pull_request"]["number"]
    # the same run re-run (attempt 2) fails again; another workflow fails on the same commit
    failed_run(sample_double, REPO, sha, run_id=run_id, attempt=2)
    other = failed_run(sample_double, REPO, sha, jobs=(("docs", "failure"),))
    for again in (run_id, other):
        result = _run(capsys, "--repo", REPO, "--run-id", str(again))
        assert result["decision"] == "skipped"
        assert result["reason"] == f"no_revert_yet: #{opened} already reverts #{number} (open)"
    # the revert is closed without merging: still no second revert
    sample_double.configure_pull(REPO, opened, state="closed")
    assert _run(capsys, "--repo", REPO, "--run-id", str(other))["reason"].endswith("(closed)")
    # a re-run that passed is not a failure any more
    failed_run(sample_double, REPO, sha, run_id=other, attempt=2, conclusion="success")
    assert _run(capsys, "--repo", REPO, "--run-id", str(other))["reason"].startswith(
        "failed_on_default_branch: the run is completed with conclusion success"
    )
    assert len(sample_double.writes.reverts) == 1


def test_a_revert_github_cannot_make_is_reported(
    sample_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _env(monkeypatch, tmp_path, sample_double)
    number = fresh_pull(sample_double, REPO)
    sha = merge_pull(sample_double, REPO, number)
    # a later commit changes the same file again: the revert no longer applies cleanly
    files_now = {p: d.decode() for p, d in (sample_double.writes.branch_files(REPO, "main") or {}).items()}
    files_now[f"changes/{number}.txt"] = "edited again\n"
    sample_double.writes.commit_files(REPO, "main", files_now, "follow-up")
    result = _run(capsys, "--repo", REPO, "--run-id", str(failed_run(sample_double, REPO, sha)))
    assert result["decision"] == "revert_failed" and not result["reverted"]
    assert "can't be reverted automatically" in result["reason"]
    assert "revert refused by GitHub" in files["summary"].read_text()


def test_malformed_events_are_rejected_and_the_token_never_shows(
    shared_double: GitHubDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _env(monkeypatch, tmp_path, shared_double)
    event = tmp_path / "event.json"
    repository = {"full_name": REPO}
    for payload, message in [
        ("{not json", "cannot read the event payload"),
        (json.dumps([1, 2]), "not a JSON object"),
        (json.dumps({"repository": repository}), "not a workflow_run event"),
        (
            json.dumps({"repository": repository, "workflow_run": {"id": -3}}),
            "workflow_run.id must be a positive",
        ),
        (json.dumps({"repository": repository, "workflow_run": {"id": "7; rm -rf /"}}), "positive integer"),
        (
            json.dumps({"repository": {"full_name": "../etc"}, "workflow_run": {"id": 1}}),
            "not a repository name",
        ),
        (json.dumps({"workflow_run": {"id": 1}}), "no repository.full_name"),
    ]:
        event.write_text(payload)
        assert run_cli(main, ["--event", str(event)]) == 2
        assert message in capsys.readouterr().err
    assert run_cli(main, ["--repo", REPO]) == 2
    assert "--repo and --run-id go together" in capsys.readouterr().err
    # a run GitHub does not know, and a run whose answer has the wrong shape
    assert run_cli(main, ["--repo", REPO, "--run-id", "999999999999"]) == 2
    assert "HTTP 404" in capsys.readouterr().err
    bad = failed_run(shared_double, REPO, "f" * 40)
    next(r for r in shared_double.recording.workflow_runs[REPO] if r["id"] == bad)["head_sha"] = "not-a-sha"
    shared_double.invalidate()
    assert run_cli(main, ["--repo", REPO, "--run-id", str(bad)]) == 2
    assert f"workflow run {bad} has an unexpected shape: head_sha" in capsys.readouterr().err
    # a good event: decided from the payload's repository and run id
    number = fresh_pull(shared_double, REPO)
    run_id = failed_run(shared_double, REPO, merge_pull(shared_double, REPO, number))
    event.write_text(
        json.dumps({"repository": repository, "workflow_run": {"id": run_id, "conclusion": "failure"}})
    )
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert run_cli(main, ["--dry-run"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["decision"] == "revert"
    assert FAKE_TOKEN not in captured.out + captured.err + _text(files)


# --- the DevLake recording: real runs of a real repository, none merged by repopilot ------------


def _devlake_run(recording: Recording, **wanted: str | None) -> int:
    runs = recording.workflow_runs["panjf2000/ants"]
    return int(next(r for r in runs if all(r.get(k) == v for k, v in wanted.items()))["id"])


@pytest.mark.parametrize(
    ("wanted", "reason"),
    [
        (
            {"event": "push", "conclusion": "failure"},
            "merged_by_repopilot: no pull request was merged as commit",
        ),
        (
            {"event": "pull_request", "conclusion": "failure", "head_branch": "master"},
            "failed_on_default_branch: the run was triggered by pull_request",
        ),
        (
            {"event": "schedule", "conclusion": "success"},
            "failed_on_default_branch: the run is completed with conclusion success",
        ),
    ],
)
def test_real_runs_of_the_devlake_recording_are_not_reverted(
    devlake_double: GitHubDouble,
    devlake_recording: Recording,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    wanted: dict[str, str | None],
    reason: str,
) -> None:
    files = _env(monkeypatch, tmp_path, devlake_double)
    devlake_double.writes.default_branches["panjf2000/ants"] = "master"
    run_id = _devlake_run(devlake_recording, **wanted)
    result = _run(capsys, "--repo", "panjf2000/ants", "--run-id", str(run_id))
    assert result["decision"] == "skipped" and result["reason"].startswith(reason), result["reason"]
    assert devlake_double.writes.reverts == [] and devlake_double.count(method="POST") == 0
    assert FAKE_TOKEN not in _text(files)
