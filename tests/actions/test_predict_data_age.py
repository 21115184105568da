"""predict's limit on how old the data in the exports may be: ``--max-data-age-hours`` (``off`` turns it off).

The other actions read ``exports.max_data_age_hours`` from their settings file; predict has none. The
demo's exports are copied and their ``source.data_as_of`` set 200 h before they were generated, as when
ingestion stopped and the pipeline kept exporting; predict then runs as in a workflow step.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from actions.common.report import run_cli
from actions.predict import main
from pipelines.sources.double import GitHubDouble
from tests.actions.test_predict_status import _pull_run

# the first test of a session builds the demo home (the whole pipeline): minutes on a busy machine
pytestmark = pytest.mark.timeout(900)


def _old_data(demo_home: Path, tmp_path: Path, hours_before: float) -> Path:
    exports = shutil.copytree(demo_home / "exports", tmp_path / "exports")
    manifest = json.loads((exports / "manifest.json").read_text(encoding="utf-8"))
    made = datetime.fromisoformat(manifest["generated_at"].replace("Z", "+00:00"))
    manifest["source"]["data_as_of"] = (
        (made - timedelta(hours=hours_before)).isoformat().replace("+00:00", "Z")
    )
    (exports / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return exports


@pytest.mark.parametrize(
    ("limit", "warned", "allowed"),
    [(None, True, 168.0), ("240", False, 240.0), ("off", False, None), ("OFF", False, None)],
    ids=["default", "raised", "off", "off-any-case"],
)
def test_predict_warns_of_old_data_at_the_default_and_not_with_the_limit_raised_or_off(
    demo_home: Path,
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    limit: str | None,
    warned: bool,
    allowed: float | None,
) -> None:
    repo, run_id, _ = _pull_run(demo_home)
    exports = _old_data(demo_home, tmp_path, hours_before=200)
    argv = ["--repo", repo, "--run-id", str(run_id), "--exports", str(exports), "--dry-run"]
    assert run_cli(main, [*argv, *(["--max-data-age-hours", limit] if limit else [])]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    age = result["exports_age"]
    assert (age["data_age_hours"], age["max_data_age_hours"], age["data_stale"]) == (200.0, allowed, warned)
    assert age["stale"] is False and 0.0 <= result["probability"] <= 1.0
    assert ("::warning::old data in the exports" in captured.err) is warned
    summary = action_env["summary"].read_text()
    assert ("Old data in the exports" in summary) is warned
    if warned:
        assert "older than the 168 h allowed (--max-data-age-hours)" in captured.err
    record = json.loads(action_env["audit.jsonl"].read_text().splitlines()[-1])
    assert record["details"]["exports_age"]["data_stale"] is warned


@pytest.mark.parametrize("value", ["0", "-5", "2161", "nan", "", "null", "a week"])
def test_a_bad_limit_is_refused_in_one_line_before_the_exports_are_read(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    argv = [
        "--repo",
        "a/b",
        "--run-id",
        "1",
        "--exports",
        str(tmp_path / "none"),
        "--max-data-age-hours",
        value,
    ]
    assert run_cli(main, argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("::error::")]
    assert errors == [f"::error::--max-data-age-hours must be off or above 0 and at most 2160, got {value!r}"]
    assert not action_env["audit.jsonl"].exists()
