"""The predict action end to end: exports published to the double, a run read through the API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from github import Auth, Github, GithubException

from actions.common.errors import ExportError
from actions.common.exports import open_exports, verify
from actions.predict import main
from actions.prediction.features import run_features
from actions.prediction.github_runs import change_of, history, run_input
from pipelines.exports.publish import PublishError, publish_exports
from pipelines.features.runs import FEATURE_COLUMNS
from pipelines.sources.double import GitHubDouble
from tests.conftest import FAKE_TOKEN

EXPORTS_REPO = "repopilot-sample/web-frontend"

# the first test builds the demo home (the whole pipeline): minutes on a busy machine
pytestmark = pytest.mark.timeout(900)


def _runs(home: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        frame: pl.DataFrame = conn.sql(sql).pl()
    return frame.to_dicts()


def _latest_runs(home: Path, limit: int = 6) -> list[dict[str, Any]]:
    """Latest attempts with history: PR runs, push runs and a re-run among them."""
    return _runs(
        home,
        f"""
        WITH latest AS (
            SELECT f.*, i.pull_number FROM features.run_features AS f
            JOIN features.run_inputs AS i USING (repo, id, run_attempt)
            QUALIFY row_number() OVER (PARTITION BY f.repo, f.id ORDER BY f.run_attempt DESC) = 1
        )
        SELECT * FROM latest WHERE completed_runs >= 3
        ORDER BY (run_attempt > 1) DESC, (pull_number IS NOT NULL) DESC, hash(id)
        LIMIT {limit}
        """,
    )


def _client(double: GitHubDouble) -> Github:
    return Github(base_url=double.url, auth=Auth.Token(FAKE_TOKEN), retry=None)


def test_features_through_the_api_equal_the_warehouse(demo_home: Path, sample_double: GitHubDouble) -> None:
    client = _client(sample_double)
    rows = _latest_runs(demo_home)
    assert any(r["run_attempt"] > 1 for r in rows) and any(r["pull_number"] is not None for r in rows)
    # actors work across repositories; the action sees one repository, so actor features may differ
    compared = [c for c in FEATURE_COLUMNS if not c.startswith("actor_") and c != "coverage"]
    for row in rows:
        repo = client.get_repo(row["repo"], lazy=True)
        target = run_input(repo.get_workflow_run(row["id"]).raw_data, row["repo"])
        if target["pull_number"] is not None:
            target.update(change_of(repo.get_pull(target["pull_number"]), target))
        got = run_features(target, [*history(repo, target, max_runs=100_000), target])
        for column in compared:
            want = row[column]
            if isinstance(want, float):
                assert got[column] == pytest.approx(want, rel=1e-9), (row["id"], column)
            else:
                assert got[column] == want, (row["id"], column)


def _published(demo_home: Path, double: GitHubDouble) -> str:
    result = publish_exports(
        verify(demo_home / "exports"), _client(double), EXPORTS_REPO, "repopilot-exports"
    )
    assert result.changed and result.uploaded == result.files
    return f"github:{EXPORTS_REPO}@repopilot-exports"


def test_a_refused_publish_names_the_target_and_the_cause(
    demo_home: Path, sample_double: GitHubDouble
) -> None:
    exports = verify(demo_home / "exports")
    with pytest.raises(PublishError) as missing:
        publish_exports(exports, _client(sample_double), "nobody/nothing", "repopilot-exports")
    assert str(missing.value) == (
        "cannot publish the exports to nobody/nothing@repopilot-exports: GitHub answered HTTP 404: "
        "Not Found (no such repository, or the token cannot see it)"
    )
    refused = Github(base_url=sample_double.url, auth=Auth.Token("ghp_" + "x" * 36), retry=None)
    with pytest.raises(PublishError, match=r"HTTP 401: Bad credentials \(the token is invalid or expired\)"):
        publish_exports(exports, refused, EXPORTS_REPO, "repopilot-exports")


def test_predict_a_run_from_published_exports(
    demo_home: Path,
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    location = _published(demo_home, sample_double)
    row = _latest_runs(demo_home, limit=1)[0]
    assert main(["--repo", row["repo"], "--run-id", str(row["id"]), "--exports", location]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    manifest = json.loads((demo_home / "exports" / "manifest.json").read_text())
    assert result["run_id"] == row["id"] and result["repository"] == row["repo"]
    assert 0.0 <= result["probability"] <= 1.0 and 0.0 <= result["confidence"] <= 1.0
    assert result["risk_level"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    assert 1 <= len(result["factors"]) <= 5 and result["recommendation"].endswith(".")
    low, high = result["duration_interval"]
    assert low <= result["predicted_duration_seconds"] <= high
    assert result["model_version"] == manifest["model"]["version"]
    assert result["synthetic_training_data"] is True
    assert result["exports"].startswith(f"github:{EXPORTS_REPO}@repopilot-exports#")
    outputs = action_env["output"].read_text()
    assert "risk-level<<" in outputs and result["risk_level"] in outputs
    summary = action_env["summary"].read_text()
    assert "| factor | value | log-odds | effect |" in summary and result["factors"][0]["feature"] in summary
    record = json.loads(action_env["audit.jsonl"].read_text().splitlines()[-1])
    assert record["action"] == "predict" and record["decision"] == result["risk_level"]
    for text in (captured.out, captured.err, outputs, summary, action_env["audit.jsonl"].read_text()):
        assert FAKE_TOKEN not in text
    # the exports were downloaded once and are read from the cache the second time
    gets = sample_double.count(path_contains="/git/blobs/")
    assert main(["--repo", row["repo"], "--run-id", str(row["id"]), "--exports", location]) == 0
    assert sample_double.count(path_contains="/git/blobs/") == gets


def test_publishing_the_same_exports_again_makes_no_commit(
    demo_home: Path, sample_double: GitHubDouble
) -> None:
    _published(demo_home, sample_double)
    again = publish_exports(
        verify(demo_home / "exports"), _client(sample_double), EXPORTS_REPO, "repopilot-exports"
    )
    assert not again.changed and again.uploaded == 0
    files = sample_double.writes.branch_files(EXPORTS_REPO, "repopilot-exports")
    assert (
        files is not None and files["manifest.json"] == (demo_home / "exports" / "manifest.json").read_bytes()
    )


def test_predict_from_a_workflow_run_event(
    demo_home: Path,
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    row = _latest_runs(demo_home, limit=1)[0]
    run = _client(sample_double).get_repo(row["repo"], lazy=True).get_workflow_run(row["id"]).raw_data
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"action": "completed", "workflow_run": run, "repository": {"full_name": row["repo"]}})
    )
    assert main(["--event", str(event), "--exports", str(demo_home / "exports")]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == row["id"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "cannot read the event payload"),
        ("[1, 2]", "not a JSON object"),
        ('{"pull_request": {}, "repository": {"full_name": "a/b"}}', "not a workflow_run event"),
        ('{"workflow_run": {"id": 1}, "repository": {"full_name": "a/b"}}', "has no 'created_at'"),
        (
            json.dumps(
                {
                    "workflow_run": {"id": -4, "created_at": "x", "status": "q"},
                    "repository": {"full_name": "a/b"},
                }
            ),
            "positive integer",
        ),
        (
            json.dumps(
                {
                    "workflow_run": {"id": 4, "created_at": "x", "status": "q"},
                    "repository": {"full_name": "../x"},
                }
            ),
            "not a repository name",
        ),
    ],
)
def test_malformed_events_are_refused_clearly(
    demo_home: Path,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    payload: str,
    message: str,
) -> None:
    from actions.common.report import run_cli

    event = tmp_path / "event.json"
    event.write_text(payload)
    assert run_cli(main, ["--event", str(event), "--exports", str(demo_home / "exports")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _copy(demo_home: Path, tmp_path: Path) -> Path:
    target = tmp_path / "exports"
    shutil.copytree(demo_home / "exports", target)
    return target


def test_exports_fail_closed(demo_home: Path, tmp_path: Path) -> None:
    exports = _copy(demo_home, tmp_path)
    verify(exports)
    (exports / "models" / "failure_model.txt").write_text("tree\n", encoding="utf-8")
    with pytest.raises(ExportError, match="does not match its checksum"):
        verify(exports)

    exports = _copy(demo_home, tmp_path / "v")
    manifest = json.loads((exports / "manifest.json").read_text())
    manifest["schema_version"] = "2.0"
    (exports / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match=r"schema version '2\.0'"):
        verify(exports)

    with pytest.raises(ExportError, match=r"manifest\.json is missing"):
        verify(tmp_path / "nowhere")

    exports = _copy(demo_home, tmp_path / "s")
    scores = json.loads((exports / "scores.json").read_text())
    scores["runs"][0]["risk_level"] = "SEVERE"
    (exports / "scores.json").write_text(json.dumps(scores))
    manifest = json.loads((exports / "manifest.json").read_text())
    import hashlib

    manifest["files"]["scores"]["sha256"] = hashlib.sha256((exports / "scores.json").read_bytes()).hexdigest()
    (exports / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="scores is invalid"):
        verify(exports)


def test_missing_exports_give_exit_code_3(
    action_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from actions.common.report import run_cli

    code = run_cli(main, ["--repo", "a/b", "--run-id", "1", "--exports", str(tmp_path / "none")])
    assert code == 3
    assert "no exports at" in capsys.readouterr().err


def test_a_missing_branch_is_an_export_error(sample_double: GitHubDouble, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not found"):
        open_exports(f"github:{EXPORTS_REPO}@nothing-here", client=_client(sample_double), cache_dir=tmp_path)


def test_a_cut_short_model_is_an_export_error_not_a_crash(demo_home: Path, tmp_path: Path) -> None:
    """A model file cut short (checksum matching) made LightGBM abort the process; now it exits 3."""
    import hashlib
    import os
    import subprocess
    import sys

    exports = _copy(demo_home, tmp_path)
    model = exports / "models" / "failure_model.txt"
    text = model.read_text(encoding="utf-8")
    model.write_text(text[: len(text) // 2], encoding="utf-8")
    manifest = json.loads((exports / "manifest.json").read_text())
    manifest["files"]["failure_model"]["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
    manifest["files"]["failure_model"]["bytes"] = model.stat().st_size
    (exports / "manifest.json").write_text(json.dumps(manifest))
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_EVENT_PATH")}
    # in a child process: LightGBM's abort would take pytest down with it
    argv = ["--repo", "a/b", "--run-id", "1", "--exports", str(exports)]
    done = subprocess.run(
        [sys.executable, "-m", "actions.predict", *argv],
        capture_output=True,
        text=True,
        env=env | {"GITHUB_API_URL": "http://127.0.0.1:9"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("::error::")
    assert "failure_model is not a whole LightGBM model" in done.stderr and "[LightGBM]" not in done.stderr


def test_models_and_a_feature_spec_that_disagree_are_an_export_error(demo_home: Path, tmp_path: Path) -> None:
    """LightGBM refused the matrix at predict time: an internal error after its own stderr lines."""
    import hashlib

    from actions.prediction.model import ExportedModels

    exports = _copy(demo_home, tmp_path)
    spec = json.loads((exports / "feature_spec.json").read_text())
    spec["features"]["names"] = spec["features"]["names"][:-3]
    (exports / "feature_spec.json").write_text(json.dumps(spec))
    manifest = json.loads((exports / "manifest.json").read_text())
    manifest["files"]["feature_spec"]["sha256"] = hashlib.sha256(
        (exports / "feature_spec.json").read_bytes()
    ).hexdigest()
    (exports / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match=r"failure_model reads \d+ inputs but feature_spec\.json names"):
        ExportedModels.load(verify(exports))


def test_publishing_to_a_repository_without_a_commit_says_to_make_one(
    demo_home: Path, sample_double: GitHubDouble
) -> None:
    """GitHub's git data API answers 409 "Git Repository is empty." until a first commit exists."""
    exports = verify(demo_home / "exports")
    sample_double.writes.make_empty(EXPORTS_REPO)
    client = _client(sample_double)
    with pytest.raises(GithubException) as raw:
        client.get_repo(EXPORTS_REPO).create_git_blob("aGk=", "base64")
    assert raw.value.status == 409 and raw.value.data["message"] == "Git Repository is empty."
    with pytest.raises(PublishError) as empty:
        publish_exports(exports, client, EXPORTS_REPO, "repopilot-exports")
    assert str(empty.value) == (
        "cannot publish the exports to repopilot-sample/web-frontend@repopilot-exports: GitHub answered "
        "HTTP 409: Git Repository is empty. (the exports repository has no commit yet: create one "
        "(e.g. a README) first)"
    )
    assert sample_double.writes.branch_files(EXPORTS_REPO, "repopilot-exports") is None
    # once the repository has its first commit, the same publish goes through
    sample_double.writes.commit_files(EXPORTS_REPO, "main", {"README.md": "exports\n"}, "Initial commit")
    assert _published(demo_home, sample_double) == f"github:{EXPORTS_REPO}@repopilot-exports"
