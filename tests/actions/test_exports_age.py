"""Stale exports end to end: auto-merge refuses them, the age comes from the manifest, damage is refused.

The exports are written by the pipeline's writer with a chosen ``generated_at``; the actions run
through ``run_cli`` against the double, as in a workflow step.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from actions.automerge import main
from actions.common.exports import verify
from actions.common.freshness import CLOCK_SKEW
from actions.common.report import run_cli
from pipelines.exports.publish import publish_exports
from pipelines.sources.double import GitHubDouble
from tests.actions.dated_exports import MISSING, dated_exports, restamp, step_output
from tests.actions.test_automerge_action import ALLOW_NO_SCORE, REPO, _config, _safe_pull
from tests.conftest import FAKE_TOKEN


def _exports(tmp_path: Path, hours_ago: float, name: str = "exports") -> Path:
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return dated_exports(tmp_path / name, made, (REPO,))


def _audit(files: dict[str, Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files["audit.jsonl"].read_text().splitlines()]


def _automerge(tmp_path: Path, number: int, exports: str, *extra: str) -> int:
    argv = ["--repo", REPO, "--pr", str(number), "--exports", exports, *extra]
    return run_cli(main, [*argv, "--config", str(_config(tmp_path, ALLOW_NO_SCORE))])


def test_auto_merge_refuses_stale_exports_and_says_so_everywhere(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    exports = _exports(tmp_path, hours_ago=72)
    assert _automerge(tmp_path, number, str(exports)) == 3
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)
    assert result["decision"] == "exports_stale" and not result["eligible"] and not result["merged"]
    assert result["blocking_reasons"][0].startswith(f"exports: the exports at {exports} were generated at")
    assert "72.0 h ago, older than the 48 h allowed" in result["blocking_reasons"][0]
    assert result["exports_age"]["stale"] and result["exports_age"]["age_hours"] >= 72.0
    assert sample_double.writes.merges == []
    assert "::error::nothing was merged: the exports at" in captured.err
    assert "::warning::stale exports:" in captured.err
    assert step_output(action_env["output"], "decision") == "exports_stale"
    assert step_output(action_env["output"], "exports-stale") == "true"
    assert 72.0 <= float(step_output(action_env["output"], "exports-age-hours")) < 72.1
    summary = action_env["summary"].read_text()
    assert "> **Stale exports.** The exports at" in summary and "Nothing is merged until" in summary
    assert "not merged: the exports are stale" in summary and "| ❌ | exports_fresh |" in summary
    [record] = _audit(action_env)
    assert record["decision"] == "exports_stale" and record["details"]["exports_age"]["stale"] is True


def test_a_dry_run_on_stale_exports_fails_the_same_way(
    sample_double: GitHubDouble, action_env: dict[str, Path], tmp_path: Path
) -> None:
    number = _safe_pull(sample_double)
    assert _automerge(tmp_path, number, str(_exports(tmp_path, hours_ago=49)), "--dry-run") == 3
    assert step_output(action_env["output"], "decision") == "exports_stale"


def test_fresh_exports_merge_and_report_their_age(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    assert _automerge(tmp_path, number, str(_exports(tmp_path, hours_ago=47))) == 0
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)
    assert result["decision"] == "merge" and result["merged"], result
    assert result["exports_age"]["stale"] is False and 47.0 <= result["exports_age"]["age_hours"] < 47.1
    assert step_output(action_env["output"], "exports-stale") == "false"
    assert 47.0 <= float(step_output(action_env["output"], "exports-age-hours")) < 47.1
    assert "Stale exports" not in action_env["summary"].read_text() and "::warning::" not in captured.err


def test_max_age_hours_comes_from_the_configuration(
    sample_double: GitHubDouble, action_env: dict[str, Path], tmp_path: Path
) -> None:
    number = _safe_pull(sample_double)
    config = _config(tmp_path, ALLOW_NO_SCORE + "exports: {max_age_hours: 168}\n")
    argv = ["--repo", REPO, "--pr", str(number), "--config", str(config)]
    assert run_cli(main, [*argv, "--exports", str(_exports(tmp_path, hours_ago=100))]) == 0
    assert sample_double.writes.merges == [(REPO, number, "squash")]
    for wrong in ("exports: {max_age_hours: 0}\n", "exports: {max_age: 12}\n"):
        bad = _config(tmp_path, wrong)
        code = run_cli(main, ["--repo", REPO, "--pr", str(number), "--config", str(bad), "--dry-run"])
        assert code == 2


def test_without_exports_the_age_output_is_empty(
    sample_double: GitHubDouble, action_env: dict[str, Path], tmp_path: Path
) -> None:
    number = _safe_pull(sample_double)
    config = _config(tmp_path, ALLOW_NO_SCORE)
    assert run_cli(main, ["--repo", REPO, "--pr", str(number), "--config", str(config), "--dry-run"]) == 0
    assert step_output(action_env["output"], "exports-age-hours") == ""
    assert step_output(action_env["output"], "exports-stale") == "false"


@pytest.mark.parametrize(
    ("generated_at", "message"),
    [
        (timedelta(hours=2), "h in the future: a damaged manifest or a wrong clock"),
        ("yesterday at noon", "generated_at 'yesterday at noon' is not an ISO 8601 time with a UTC offset"),
        ("2026-11-27T03:15:00", "generated_at '2026-11-27T03:15:00' is not an ISO 8601 time with a UTC"),
        (1764213300, "generated_at: 1764213300 is not of type 'string'"),
        (MISSING, "'generated_at' is a required property"),
    ],
    ids=["future", "garbled", "no-offset", "number", "missing"],
)
def test_an_unknowable_age_is_refused_as_damage(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    generated_at: object,
    message: str,
) -> None:
    number = _safe_pull(sample_double)
    exports = _exports(tmp_path, hours_ago=1)
    when = datetime.now(UTC) + generated_at if isinstance(generated_at, timedelta) else generated_at
    restamp(exports, when)
    assert _automerge(tmp_path, number, str(exports)) == 3
    assert message in capsys.readouterr().err
    assert sample_double.writes.merges == [] and not action_env["audit.jsonl"].exists()


def test_a_clock_a_little_behind_the_pipeline_is_not_damage(
    sample_double: GitHubDouble, action_env: dict[str, Path], tmp_path: Path
) -> None:
    number = _safe_pull(sample_double)
    exports = restamp(_exports(tmp_path, hours_ago=1), datetime.now(UTC) + CLOCK_SKEW / 2)
    assert _automerge(tmp_path, number, str(exports)) == 0
    assert sample_double.writes.merges == [(REPO, number, "squash")]


def test_a_cache_cannot_make_old_published_exports_look_new(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The age is the manifest's, and a cached manifest is used only when it is the branch's own."""
    number = _safe_pull(sample_double)
    client = Github(base_url=sample_double.url, auth=Auth.Token(FAKE_TOKEN), retry=None)
    publish_exports(verify(_exports(tmp_path, hours_ago=96)), client, REPO, "repopilot-exports")
    location, cache = f"github:{REPO}@repopilot-exports", tmp_path / "cache"
    assert _automerge(tmp_path, number, location, "--dry-run", "--cache-dir", str(cache)) == 3
    [cached] = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert step_output(action_env["output"], "exports-stale") == "true"

    # a cache written just now (fresh file times) with the manifest rewritten to look new
    restamp(cached, datetime.now(UTC) - timedelta(hours=1))
    for path in cached.iterdir():
        os.utime(path)
    blobs = sample_double.count(path_contains="/git/blobs/")
    capsys.readouterr()
    assert _automerge(tmp_path, number, location, "--dry-run", "--cache-dir", str(cache)) == 3
    [result] = json.loads(capsys.readouterr().out)
    assert result["decision"] == "exports_stale" and result["exports_age"]["age_hours"] >= 96.0
    assert sample_double.count(path_contains="/git/blobs/") > blobs  # downloaded again from the branch
    assert (
        json.loads((cached / "manifest.json").read_text())["generated_at"]
        == (result["exports_age"]["generated_at"])
    )

    # an untouched cache is still read without downloading anything
    blobs = sample_double.count(path_contains="/git/blobs/")
    assert _automerge(tmp_path, number, location, "--dry-run", "--cache-dir", str(cache)) == 3
    assert sample_double.count(path_contains="/git/blobs/") == blobs
    shutil.rmtree(cache)
    assert sample_double.writes.merges == []


def _old_data(tmp_path: Path, hours_ago: float, data_hours_before: float | None) -> Path:
    """Exports generated ``hours_ago`` from data whose newest event is ``data_hours_before`` older."""
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    newest = None if data_hours_before is None else made - timedelta(hours=data_hours_before)
    return dated_exports(tmp_path / "exports", made, (REPO,), data_as_of=newest)


def test_fresh_exports_of_old_data_warn_and_still_merge(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ingestion stopped, the exports go on: said everywhere, yet not refused (a quiet organisation looks
    the same, and a head the old data never saw has no score to merge on)."""
    number = _safe_pull(sample_double)
    exports = _old_data(tmp_path, hours_ago=2, data_hours_before=200)
    assert _automerge(tmp_path, number, str(exports)) == 0
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)
    assert result["decision"] == "merge" and result["merged"]
    age = result["exports_age"]
    assert age["stale"] is False and age["data_stale"] is True
    assert (age["data_age_hours"], age["max_data_age_hours"]) == (200.0, 168.0)
    assert age["data_as_of"].endswith("Z")
    assert "::warning::old data in the exports: the newest event in the exports at" in captured.err
    assert "200.0 h before they were generated, older than the 168 h allowed" in captured.err
    assert "::warning::stale exports" not in captured.err
    summary = action_env["summary"].read_text()
    assert "> [!WARNING]\n> **Old data in the exports.** The newest event" in summary
    assert "(exports.max_data_age_hours)" in summary and "Stale exports" not in summary
    assert step_output(action_env["output"], "exports-stale") == "false"
    [record] = _audit(action_env)
    assert record["details"]["exports_age"]["data_stale"] is True


def test_stale_exports_of_old_data_say_both(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    assert _automerge(tmp_path, number, str(_old_data(tmp_path, 72, 200))) == 3
    err = capsys.readouterr().err
    assert "::warning::stale exports" in err and "::warning::old data in the exports" in err
    summary = action_env["summary"].read_text()
    assert "> **Stale exports.**" in summary and "> **Old data in the exports.**" in summary


@pytest.mark.parametrize(
    ("data_hours_before", "setting", "warned"),
    [
        (167.0, "", False),  # within the default week
        (100.0, "exports: {max_data_age_hours: 48}\n", True),
        (2000.0, "exports: {max_data_age_hours: null}\n", False),  # a quiet organisation turns it off
        (None, "", False),  # an empty warehouse: no events to date
    ],
    ids=["default", "configured", "off", "no-data"],
)
def test_how_old_the_data_may_be_comes_from_the_configuration(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data_hours_before: float | None,
    setting: str,
    warned: bool,
) -> None:
    number = _safe_pull(sample_double)
    config = _config(tmp_path, ALLOW_NO_SCORE + setting)
    exports = _old_data(tmp_path, 1, data_hours_before)
    argv = ["--repo", REPO, "--pr", str(number), "--exports", str(exports), "--dry-run"]
    assert run_cli(main, [*argv, "--config", str(config)]) == 0
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)
    assert result["exports_age"]["data_stale"] is warned
    assert ("::warning::old data" in captured.err) is warned
    assert ("Old data in the exports" in action_env["summary"].read_text()) is warned
    if data_hours_before is None:
        assert result["exports_age"]["data_as_of"] is None and result["exports_age"]["data_age_hours"] is None


def test_a_garbled_data_as_of_is_refused_as_damage(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    exports = _exports(tmp_path, hours_ago=1)
    manifest = json.loads((exports / "manifest.json").read_text())
    manifest["source"]["data_as_of"] = "last Tuesday"
    (exports / "manifest.json").write_text(json.dumps(manifest))
    assert _automerge(tmp_path, number, str(exports)) == 3
    assert "source.data_as_of 'last Tuesday' is not an ISO 8601 time" in capsys.readouterr().err
    assert sample_double.writes.merges == []
