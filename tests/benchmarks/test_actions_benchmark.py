"""``repopilot benchmark actions``: every action runs in dry run against the scene and decides for real.

The slow test runs the whole command on a small organisation, once per action; the figures it writes
are checked for shape and for the decisions the scene sets up, never for time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from actions.heal import Settings, heal_run
from actions.healing.config import SelfHealingConfig
from actions.healing.logs import JobLog, read_log_archive
from actions.healing.priors import PriorTable
from pipelines.benchmarks_actions import (
    ACTIONS,
    HEAL_DECISIONS,
    _failed_runs,
    _heal_check,
    run_actions_benchmark,
    synthetic_activity,
)
from pipelines.cli import main
from pipelines.sources.recording import Recording
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org


class _RecordedRuns:
    """The heal action's gateway over a recording's runs and log archives (dry run: no re-runs)."""

    def __init__(self, rec: Recording, repo: str) -> None:
        self.runs = {int(r["id"]): r for r in rec.workflow_runs[repo]}
        self.logs_of = {
            (run_id, attempt): a for (name, run_id, attempt), a in rec.logs.items() if name == repo
        }

    def run(self, run_id: int) -> Mapping[str, Any]:
        return self.runs[run_id]

    def logs(self, run_id: int, attempt: int) -> list[JobLog]:
        return read_log_archive(self.logs_of[(run_id, attempt)])

    def rerun_failed_jobs(self, run_id: int) -> None:
        raise AssertionError("dry run")


def test_unknown_actions_and_no_runs_are_refused_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "actions", "--only", "route,deploy"]) == 2
    assert "unknown action(s) deploy" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 1"):
        run_actions_benchmark(None, runs=0)


def test_the_activity_export_names_the_given_repositories_first_and_pools_the_organisation() -> None:
    document = synthetic_activity(people=50, issues=2_000, repositories=6, names=["o/a", "o/b"])
    assert list(document["repositories"])[:2] == ["o/a", "o/b"] and len(document["repositories"]) == 6
    assert len(document["organisation"]) == 168 and min(document["organisation"]) >= 0


def test_the_heal_samples_are_classified_not_refused_on_github_limits() -> None:
    # the benchmark's default organisation, where sampling by repository name took a 33-day-old run
    spec = SampleOrgSpec(people=1_000)
    rec = generate_sample_org(spec)
    failed = _failed_runs(rec, spec.end)
    assert sorted(category for _, category in failed.values()) == sorted(HEAL_DECISIONS)
    settings = Settings(SelfHealingConfig(), PriorTable(), None, spec.end, True, 0.0)
    decided: set[str] = set()
    for run_id, (repo, category) in failed.items():
        result = heal_run(_RecordedRuns(rec, repo), repo, run_id, settings)
        decided.add(_heal_check(failed)([result]))
        assert result["category"] == category and result["excerpt"], result["reason"]
    assert "transient/would_rerun" in decided
    # the same run a month later: GitHub's 30-day limit refuses it before any log is read; the check says so
    run_id, (repo, _) = next(iter(failed.items()))
    late = Settings(SelfHealingConfig(), PriorTable(), None, spec.end + timedelta(days=31), True, 0.0)
    refused = heal_run(_RecordedRuns(rec, repo), repo, run_id, late)
    assert refused["category"] is None and "30 days" in refused["reason"]
    with pytest.raises(RuntimeError, match="30 days"):
        _heal_check(failed)([refused])


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
    # one run per action: the first heal sample, a transient failure classified and re-run (dry run)
    assert decisions["heal"] == ["transient/would_rerun"]
    assert len(report["load_average_start"]) == 3 and report["export_bytes"]["scores.json"] > 0
