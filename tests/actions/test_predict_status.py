"""The predict action publishes its result as the repopilot/risk commit status, and auto-merge reads it."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from github import Auth, Github

import actions.automerge as automerge
from actions.common.risk_status import describe, parse
from actions.predict import main
from pipelines.sources.double import GitHubDouble
from tests.actions.dated_exports import restamp, step_output
from tests.conftest import FAKE_TOKEN

# the first test builds the demo home (the whole pipeline): minutes on a busy machine
pytestmark = pytest.mark.timeout(900)


def _pull_run(home: Path) -> tuple[str, int, int]:
    """``(repo, run id, pull request number)`` of a pull request run with history."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        found = conn.execute(
            """
            SELECT f.repo, f.id, i.pull_number FROM features.run_features AS f
            JOIN features.run_inputs AS i USING (repo, id, run_attempt)
            WHERE i.pull_number IS NOT NULL AND f.completed_runs >= 3
            ORDER BY f.repo, f.id LIMIT 1
            """
        ).fetchone()
    assert found is not None
    return str(found[0]), int(found[1]), int(found[2])


def _risk_statuses(double: GitHubDouble, repo: str, sha: str) -> list[dict[str, object]]:
    client = Github(base_url=double.url, auth=Auth.Token(FAKE_TOKEN), retry=None)
    listed = client.get_repo(repo, lazy=True).get_commit(sha).get_statuses()
    return [s.raw_data for s in listed if s.context == "repopilot/risk"]


def test_predict_posts_the_status_and_auto_merge_gates_on_it(
    demo_home: Path,
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, run_id, number = _pull_run(demo_home)
    sample_double.writes.actor = "github-actions[bot]"  # who a GITHUB_TOKEN posts as
    exports = str(demo_home / "exports")
    assert main(["--repo", repo, "--run-id", str(run_id), "--exports", exports, "--post-status"]) == 0
    result = json.loads(capsys.readouterr().out)
    sha = result["head_sha"]
    posted = _risk_statuses(sample_double, repo, sha)
    assert len(posted) == 1 and result["status"]["id"] == posted[0]["id"]
    status = posted[0]
    wanted = describe(result["probability"], result["risk_level"], run_id, result["run_attempt"])
    assert status["description"] == wanted and status["state"] == "success"
    assert status["target_url"] == f"https://github.com/{repo}/actions/runs/{run_id}"
    assert status["creator"]["login"] == "github-actions[bot]"  # type: ignore[index]
    assert 0 <= parse(wanted).probability - result["probability"] < 0.001
    assert step_output(action_env["output"], "status-posted") == "true"
    assert "Posted as the `repopilot/risk` status" in action_env["summary"].read_text()
    record = json.loads(action_env["audit.jsonl"].read_text().splitlines()[-1])
    assert record["dry_run"] is False and record["details"]["status"]["sha"] == sha

    # auto-merge on the pull request at that commit, without exports: the status gives the risk
    sample_double.configure_pull(
        repo,
        number,
        head_sha=sha,
        mergeable=True,
        mergeable_state="clean",
        draft=False,
        labels=[],
        checks=[("build", "completed", "success")],
        reviews=[("someone-else", "APPROVED")],
    )
    config = tmp_path / "auto-merge.yml"
    config.write_text("risk: {max_probability: 1.0}\nrequired_approvals: 0\n", encoding="utf-8")
    assert automerge.main(["--repo", repo, "--pr", str(number), "--config", str(config), "--dry-run"]) == 0
    decided = json.loads(capsys.readouterr().out)[0]
    risk = next(c for c in decided["checks"] if c["name"] == "risk")
    assert risk["passed"] and "from the live prediction status" in risk["detail"]
    assert decided["risk"]["run_id"] == run_id and decided["risk"]["probability"] == parse(wanted).probability


def test_a_dry_run_posts_no_status(
    demo_home: Path,
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, run_id, _ = _pull_run(demo_home)
    exports = str(demo_home / "exports")
    args = ["--repo", repo, "--run-id", str(run_id), "--exports", exports, "--post-status", "--dry-run"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert "status" not in result and sample_double.count(method="POST", path_contains="/statuses/") == 0
    assert _risk_statuses(sample_double, repo, result["head_sha"]) == []
    record = json.loads(action_env["audit.jsonl"].read_text().splitlines()[-1])
    assert record["dry_run"] is True and record["details"]["status"] is None
    assert step_output(action_env["output"], "status-posted") == "false"
    # without --post-status nothing is posted either (the option is off unless asked for)
    assert main(["--repo", repo, "--run-id", str(run_id), "--exports", exports]) == 0
    assert sample_double.count(method="POST", path_contains="/statuses/") == 0


def test_stale_models_predict_with_a_warning_but_post_no_status_for_auto_merge(
    demo_home: Path,
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Auto-merge gates on the status: a risk from stale models must not open the gate."""
    repo, run_id, number = _pull_run(demo_home)
    sample_double.writes.actor = "github-actions[bot]"
    old = shutil.copytree(demo_home / "exports", tmp_path / "exports")
    restamp(old, datetime.now(UTC) - timedelta(hours=60))
    argv = ["--repo", repo, "--run-id", str(run_id), "--exports", str(old), "--post-status"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert 0.0 <= result["probability"] <= 1.0 and "status" not in result
    assert result["status_withheld"].startswith(f"not posted: the exports at {old} were generated at")
    assert result["status_withheld"].endswith("older than the 48 h allowed (--max-exports-age-hours)")
    assert sample_double.count(method="POST", path_contains="/statuses/") == 0
    assert step_output(action_env["output"], "status-posted") == "false"
    assert step_output(action_env["output"], "exports-stale") == "true"
    assert "The `repopilot/risk` status was not posted." in action_env["summary"].read_text()
    assert "::warning::stale exports" in captured.err
    record = json.loads(action_env["audit.jsonl"].read_text().splitlines()[-1])
    assert record["details"]["status_withheld"] == result["status_withheld"]
    # auto-merge without exports then finds no score for the commit, and blocks
    sample_double.configure_pull(repo, number, head_sha=result["head_sha"], mergeable=True, draft=False)
    config = tmp_path / "auto-merge.yml"
    config.write_text("risk: {max_probability: 1.0}\nrequired_approvals: 0\n", encoding="utf-8")
    assert automerge.main(["--repo", repo, "--pr", str(number), "--config", str(config), "--dry-run"]) == 0
    risk = next(c for c in json.loads(capsys.readouterr().out)[0]["checks"] if c["name"] == "risk")
    assert not risk["passed"] and "no repopilot/risk status" in risk["detail"]
    # with a limit the exports meet, the same prediction is posted
    assert main([*argv, "--max-exports-age-hours", "72"]) == 0
    assert json.loads(capsys.readouterr().out)["status"]["sha"] == result["head_sha"]
    assert step_output(action_env["output"], "exports-stale") == "false"
