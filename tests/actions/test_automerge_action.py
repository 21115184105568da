"""The auto-merge action end to end against the double on the sample organisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import actions.automerge as automerge
from actions.automerge import main
from actions.common.report import run_cli
from pipelines.sources.double import GitHubDouble
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"


def _safe_pull(double: GitHubDouble, **changes: Any) -> int:
    number = min(p["number"] for p in double.recording.pull_requests[REPO] if p["state"] == "open")
    author = next(p for p in double.recording.pull_requests[REPO] if p["number"] == number)["user"]["login"]
    reviewer = "jonas-nowak" if author != "jonas-nowak" else "hanahaddad"
    state: dict[str, Any] = {
        "mergeable": True,
        "mergeable_state": "clean",
        "draft": False,
        "labels": [],
        "checks": [("build", "completed", "success"), ("auto-merge", "in_progress", None)],
        "statuses": [("codecov/project", "success", "88.10% (+0.20%) compared to 1a2b3c")],
        "reviews": [(reviewer, "APPROVED")],
    }
    double.configure_pull(REPO, number, **(state | changes))
    return number


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auto-merge.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _outputs(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _everything(files: dict[str, Path], captured: Any) -> str:
    return captured.out + captured.err + "".join(_outputs(p) for p in files.values())


ALLOW_NO_SCORE = "risk: {on_missing: allow}\ncoverage: {minimum: 80}\n"


def test_a_safe_pull_request_is_merged_labelled_commented_and_its_branch_deleted(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    config = _config(tmp_path, ALLOW_NO_SCORE)
    assert main(["--repo", REPO, "--pr", str(number), "--config", str(config)]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["decision"] == "merge" and result["merged"], result
    pull = next(p for p in sample_double.recording.pull_requests[REPO] if p["number"] == number)
    assert pull["merged"] and pull["state"] == "closed"
    assert sample_double.writes.merges == [(REPO, number, "squash")]
    assert (REPO, pull["head"]["ref"]) in sample_double.writes.deleted_branches, result["actions"]
    assert "repopilot:auto-merged" in [label["name"] for label in pull["labels"]]
    commit = sample_double.writes.store(REPO).commits[pull["merge_commit_sha"]]
    assert "Auto-merged-by: repopilot" in commit["message"]
    comments = [
        c for c in sample_double.recording.issue_comments[REPO] if c["issue_url"].endswith(f"/{number}")
    ]
    assert "Merged by repopilot" in comments[-1]["body"]
    assert "merged=" not in _outputs(action_env["output"]) or "merged<<" in _outputs(action_env["output"])
    assert "| ✅ | required_checks |" in _outputs(action_env["summary"])
    audit = [json.loads(line) for line in action_env["audit.jsonl"].read_text().splitlines()]
    assert audit[-1]["decision"] == "merge" and audit[-1]["dry_run"] is False


def test_dry_run_decides_without_writing(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    sample_double.reset_log()
    assert (
        main(
            [
                "--repo",
                REPO,
                "--pr",
                str(number),
                "--config",
                str(_config(tmp_path, ALLOW_NO_SCORE)),
                "--dry-run",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)[0]
    assert result["eligible"] and not result["merged"]
    # the only POST is the GraphQL query reading the merge queue; nothing is written
    assert (
        sample_double.count(method="POST") == sample_double.count(method="POST", path_contains="graphql") == 1
    )
    assert sample_double.count(method="PUT") + sample_double.count(method="DELETE") == 0
    assert sample_double.writes.merges == [] and sample_double.writes.merge_queues == {}
    assert "would merge" in _outputs(action_env["summary"])


@pytest.mark.parametrize(
    ("changes", "config", "reason"),
    [
        (
            {"checks": [("build", "in_progress", None)]},
            ALLOW_NO_SCORE,
            "required_checks: build is in_progress",
        ),
        ({"reviews": []}, ALLOW_NO_SCORE, "approvals: 0 of 1 approvals"),
        (
            {"mergeable": None, "mergeable_state": "unknown"},
            ALLOW_NO_SCORE,
            "no_conflicts: GitHub has not computed",
        ),
        ({"mergeable_state": "behind"}, ALLOW_NO_SCORE, "up_to_date: the branch is behind its base"),
        ({"statuses": [("codecov/project", "success", "61.00%")]}, ALLOW_NO_SCORE, "coverage: 61.00%"),
        ({"labels": ["do-not-merge"]}, ALLOW_NO_SCORE, "labels: blocking label do-not-merge"),
        ({}, "coverage: {minimum: 80}\n", "risk: no exported risk score for the head commit (fail closed)"),
    ],
)
def test_every_refusal_writes_nothing_and_explains(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, Any],
    config: str,
    reason: str,
) -> None:
    number = _safe_pull(sample_double, **changes)
    assert main(["--repo", REPO, "--pr", str(number), "--config", str(_config(tmp_path, config))]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["decision"] == "blocked" and not result["merged"]
    assert any(r.startswith(reason) for r in result["blocking_reasons"]), result["blocking_reasons"]
    assert sample_double.writes.merges == []
    assert "blocked" in action_env["audit.jsonl"].read_text()


def test_drafts_and_exempt_pull_requests_are_skipped(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double, draft=True)
    assert (
        main(["--repo", REPO, "--pr", str(number), "--config", str(_config(tmp_path, ALLOW_NO_SCORE))]) == 0
    )
    assert json.loads(capsys.readouterr().out)[0]["skip_reason"] == "the pull request is a draft"
    assert sample_double.writes.merges == []


def test_a_head_pushed_after_the_decision_is_not_merged(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = _safe_pull(sample_double)
    real = automerge.check_eligibility

    def then_push(*args: Any, **kwargs: Any) -> dict[str, Any]:
        result = real(*args, **kwargs)
        sample_double.configure_pull(REPO, number, head_sha="c" * 40)  # a push lands mid-decision
        return result

    monkeypatch.setattr(automerge, "check_eligibility", then_push)
    assert (
        main(["--repo", REPO, "--pr", str(number), "--config", str(_config(tmp_path, ALLOW_NO_SCORE))]) == 0
    )
    result = json.loads(capsys.readouterr().out)[0]
    assert result["decision"] == "merge_failed" and "head moved" in result["blocking_reasons"][-1]
    assert sample_double.writes.merges == []


def test_config_from_the_default_branch_and_malformed_config_rejected(
    sample_double: GitHubDouble, action_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    number = _safe_pull(sample_double)
    sample_double.writes.commit_files(
        REPO, "main", {".github/auto-merge.yml": "required_approvals: 3\n"}, "cfg"
    )
    assert main(["--repo", REPO, "--pr", str(number), "--dry-run"]) == 0
    assert "approvals: 1 of 3 approvals" in json.loads(capsys.readouterr().out)[0]["blocking_reasons"]
    sample_double.writes.commit_files(
        REPO, "main", {".github/auto-merge.yml": f"required_approvals: {FAKE_TOKEN}\n"}, "bad"
    )
    assert run_cli(main, ["--repo", REPO, "--pr", str(number), "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert "auto-merge.yml: required_approvals: Input should be a valid integer" in captured.err
    assert FAKE_TOKEN not in _everything(action_env, captured)


def test_malformed_events_are_rejected_and_the_token_never_shows(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = tmp_path / "event.json"
    for payload, message in [
        ("{not json", "cannot read the event payload"),
        (json.dumps({"repository": {"full_name": REPO}}), "names no pull request"),
        (json.dumps({"repository": {"full_name": REPO}, "pull_request": {"number": -3}}), "positive integer"),
        (
            json.dumps({"repository": {"full_name": "../etc"}, "pull_request": {"number": 1}}),
            "not a repository name",
        ),
    ]:
        event.write_text(payload)
        assert run_cli(main, ["--event", str(event)]) == 2
        assert message in capsys.readouterr().err
    number = _safe_pull(sample_double)
    event.write_text(json.dumps({"repository": {"full_name": REPO}, "pull_request": {"number": number}}))
    assert run_cli(main, ["--event", str(event), "--config", str(_config(tmp_path, ALLOW_NO_SCORE))]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["merged"]
    assert FAKE_TOKEN not in _everything(action_env, captured)


def test_a_base_branch_with_a_merge_queue_gets_the_pull_request_enqueued_not_merged(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample_double.writes.enable_merge_queue(REPO, "main")
    number = _safe_pull(sample_double, mergeable_state="behind")  # the queue tests it on the latest base
    config = str(_config(tmp_path, ALLOW_NO_SCORE))
    assert main(["--repo", REPO, "--pr", str(number), "--config", config]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["decision"] == "enqueue" and result["enqueued"] and not result["merged"], result
    assert "merge_queue" in [c["name"] for c in result["checks"]]
    entry = sample_double.writes.queue_entry(REPO, number)
    assert entry is not None and entry["position"] == 1 and entry["head_sha"] == result["head_sha"]
    assert sample_double.writes.merges == []
    assert "enqueued<<" in _outputs(action_env["output"]) and "enqueued in the merge queue" in _outputs(
        action_env["summary"]
    )
    # the next event finds it queued: reported as such, not enqueued twice
    assert main(["--repo", REPO, "--pr", str(number), "--config", config]) == 0
    again = json.loads(capsys.readouterr().out)[0]
    assert again["decision"] == "queued" and not again["eligible"]
    assert again["skip_reason"] == "already in the merge queue at position 1 (AWAITING_CHECKS)"
    # the queue merges it
    assert sample_double.writes.land_merge_queue(REPO, "main") == [number]
    assert sample_double.writes.queue_entry(REPO, number) is None
    assert sample_double.writes.merges == [(REPO, number, "squash")]


def test_without_a_merge_queue_a_behind_branch_still_waits_and_a_contradicting_config_blocks(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double, mergeable_state="behind")
    config = str(_config(tmp_path, ALLOW_NO_SCORE + "merge_queue: true\n"))
    assert main(["--repo", REPO, "--pr", str(number), "--config", config]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["decision"] == "blocked" and result["merge_queue"]["enabled"] is False
    assert (
        "merge_queue: merge_queue is true but GitHub reports no merge queue" in result["blocking_reasons"][0]
    )
    assert sample_double.writes.merges == [] and sample_double.writes.merge_queues == {}


ANTS = "panjf2000/ants"


def test_the_real_pull_requests_of_the_devlake_recording(
    devlake_double: GitHubDouble,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As recorded (no check runs or statuses for their heads), no real pull request merges: fail closed."""
    for name, value in {
        "GITHUB_TOKEN": FAKE_TOKEN,
        "GITHUB_API_URL": devlake_double.url,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "REPOPILOT_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
    }.items():
        monkeypatch.setenv(name, value)
    config = str(_config(tmp_path, ALLOW_NO_SCORE))
    pulls = devlake_double.recording.pull_requests[ANTS]
    open_pulls = sorted(p["number"] for p in pulls if p["state"] == "open")
    assert open_pulls, "the recording holds open pull requests"
    for number in open_pulls:
        assert main(["--repo", ANTS, "--pr", str(number), "--config", config]) == 0
        result = json.loads(capsys.readouterr().out)[0]
        assert result["decision"] != "merge" and not result["merged"], result
        assert any(r.startswith("required_checks") for r in result["blocking_reasons"]), result
    assert devlake_double.writes.merges == []

    # the same real pull request, once its checks, review and mergeability are in place, would merge
    number = open_pulls[0]
    author = next(p for p in pulls if p["number"] == number)["user"]["login"]
    devlake_double.configure_pull(
        ANTS,
        number,
        mergeable=True,
        mergeable_state="clean",
        draft=False,
        labels=[],
        checks=[("build", "completed", "success")],
        statuses=[("codecov/project", "success", "88.10% (+0.20%) compared to 1a2b3c")],
        reviews=[("not-" + author, "APPROVED")],
    )
    assert main(["--repo", ANTS, "--pr", str(number), "--config", config, "--dry-run"]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["eligible"] and result["decision"] == "merge" and not result["merged"], result
    assert devlake_double.writes.merges == []
    assert FAKE_TOKEN not in (tmp_path / "audit.jsonl").read_text() + (tmp_path / "output").read_text()
