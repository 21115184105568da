"""``repopilot benchmark actions``: every action runs in dry run against the scene and decides for real.

The slow test runs the whole command on a small organisation, once per action; the figures it writes
are checked for shape and for the decisions the scene sets up, never for time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.benchmarks_actions import ACTIONS, run_actions_benchmark, synthetic_activity
from pipelines.cli import main


def test_unknown_actions_and_no_runs_are_refused_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "actions", "--only", "route,deploy"]) == 2
    assert "unknown action(s) deploy" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 1"):
        run_actions_benchmark(None, runs=0)


def test_the_activity_export_names_the_given_repositories_first_and_pools_the_organisation() -> None:
    document = synthetic_activity(people=50, issues=2_000, repositories=6, names=["o/a", "o/b"])
    assert list(document["repositories"])[:2] == ["o/a", "o/b"] and len(document["repositories"]) == 6
    assert len(document["organisation"]) == 168 and min(document["organisation"]) >= 0


@pytest.mark.slow
def test_every_action_runs_and_decides(tmp_path: Path) -> None:
    out = tmp_path / "actions.json"
    assert (
        main(
            ["benchmark", "actions", "--runs", "1", "--people", "60", "--issues", "3000", "--json", str(out)]
        )
        == 0
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert list(report["actions"]) == list(ACTIONS)
    for name, figures in report["actions"].items():
        assert figures["exit_code"] == 0 and figures["requests"]["median"] > 0, name
        assert figures["cpu_seconds"]["min"] > 0 and figures["wall_seconds"]["median"] > 0, name
    decisions = {name: figures["decisions"] for name, figures in report["actions"].items()}
    assert decisions["route"] == ["assign"] and decisions["maintain"] == ["would-start"]
    assert decisions["automerge"] == ["merge"] and decisions["revert"] == ["revert"]
    assert len(report["load_average_start"]) == 3 and report["export_bytes"]["scores.json"] > 0
