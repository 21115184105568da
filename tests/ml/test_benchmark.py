"""`repopilot benchmark ci` end to end on a small TravisTorrent subset (three projects, two trials)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.ml.benchmark import run_ci_benchmark
from tests.conftest import require_shared

PROJECTS = ("jnicklas/capybara", "jphp-compiler/jphp", "leereilly/swot")

REQUIRED = (
    "failure.roc_auc",
    "failure.pr_auc",
    "failure.balanced_accuracy",
    "failure.accuracy",
    "failure.always_pass_accuracy",
    "failure.mcc",
    "failure.brier",
    "failure.ece",
    "baselines.previous_outcome.balanced_accuracy",
    "baselines.rolling_rate.roc_auc",
    "baselines.majority.accuracy",
    "duration.mae",
    "duration.baseline_mae",
    "duration.median_ape",
    "duration.interval_coverage",
    "risk.failure_rate_by_level",
    "mlp.roc_auc",
    "tuning.trials",
    "failure.threshold",
    "seconds",
)

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = require_shared("travistorrent/builds.parquet")
    path = tmp_path_factory.mktemp("tt") / "three.parquet"
    pl.read_parquet(source).filter(pl.col("gh_project_name").is_in(PROJECTS)).write_parquet(path)
    return path


def _get(report: dict, dotted: str) -> object:
    node: object = report
    for part in dotted.split("."):
        assert isinstance(node, dict), dotted
        assert part in node, dotted
        node = node[part]
    return node


def test_cli_time_split_writes_every_required_key(
    subset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    card = tmp_path / "card"
    args = ["benchmark", "ci", "--data", str(subset), "--split", "time", "--trials", "2"]
    code = main([*args, "--json", str(out), "--card", str(card)])
    assert code == 0
    report = json.loads(out.read_text())
    for key in REQUIRED:
        value = _get(report, key)
        assert value is not None, key
    assert report["tuning"]["trials"] == 2
    assert set(report["risk"]["failure_rate_by_level"]) <= {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    assert 0.5 < report["failure"]["roc_auc"] <= 1.0
    assert report["data"]["repositories_train"] == 3
    printed = capsys.readouterr().out
    assert "previous outcome" in printed or "prev." in printed
    assert "targets:" in printed
    markdown = (card / "model_card.md").read_text()
    for section in ("## Failure probability", "## By repository", "## Duration", "## Risk levels"):
        assert section in markdown
    for image in ("pr_curve.svg", "reliability.svg", "importance.svg"):
        assert f"({image})" in markdown
        assert ET.parse(card / image).getroot().tag.endswith("svg")
    example = report["example_prediction"]
    assert {"probability", "risk_level", "confidence", "factors", "recommendation"} <= set(example)


def test_project_split_holds_out_a_project(subset: Path) -> None:
    report = run_ci_benchmark(data=subset, split="project", trials=2, json_path=None, echo=False)
    assert report["data"]["repositories_test"] == 1
    assert report["data"]["repositories_train"] == 2
    (held,) = report["data"]["held_out_projects"]
    assert held in PROJECTS
    assert [row["repo"] for row in report["by_repository"]] == [held]


def test_train_and_test_files(subset: Path, tmp_path: Path) -> None:
    builds = pl.read_parquet(subset).sort("gh_build_started_at")
    cut = int(builds.height * 0.75)
    train, test = tmp_path / "train.parquet", tmp_path / "test.parquet"
    builds[:cut].write_parquet(train)
    builds[cut:].write_parquet(test)
    report = run_ci_benchmark(train=train, test=test, trials=2, json_path=None, echo=False)
    assert report["data"]["test_rows"] <= builds.height - cut
    assert report["data"]["split"].startswith("files")
    # the test file's first builds have no history of their own: its features never see TRAIN
    assert report["duration"]["history_share"] < 1.0


def test_bad_arguments_fail_cleanly(subset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "ci", "--data", str(subset), "--train", str(subset)]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["benchmark", "ci"]) == 2
