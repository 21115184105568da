"""The routing benchmark on a small slice of the real community-health data, and its protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.routing.config import RoutingConfig
from pipelines.benchmarks_routing import gini, replay_team, team_split
from pipelines.cli import main
from pipelines.features.routing_history import ReviewedPull, TeamHistory
from tests.conftest import require_shared

SMALL_TEAMS = "coolsoftwaretyler,kentcdodds,testing-library-react-testing-library"
KEYS = ("prs", "top1", "top3", "mrr", "load_gini")


@pytest.mark.shared_data
@pytest.mark.parametrize("as_of", ["merged", "created"])
def test_benchmark_on_a_slice_of_the_shared_teams(
    tmp_path: Path, as_of: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = require_shared("reviews/community-health")
    out = tmp_path / "routing.json"
    assert (
        main(
            [
                "benchmark",
                "routing",
                "--data",
                str(data),
                "--teams",
                SMALL_TEAMS,
                "--as-of",
                as_of,
                "--json",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert "all teams: baseline" in capsys.readouterr().out
    assert report["as_of"] == as_of
    assert set(report["teams"]) == set(SMALL_TEAMS.split(","))
    assert report["prs"] == sum(team["prs"] for team in report["teams"].values()) > 0
    assert report["seconds"] >= 0
    for section in [report, *report["splits"].values(), *report["teams"].values()]:
        for ranker in (section, section["baseline"]):
            assert all(key in ranker for key in KEYS)
            assert ranker["prs"] == section["prs"]
            for key in ("top1", "top3", "mrr", "load_gini"):
                assert 0.0 <= ranker[key] <= 1.0
            assert ranker["top1"] <= ranker["top3"]
    assert report["config"] == RoutingConfig().model_dump(mode="json")


def test_unknown_data_directory_is_an_error(tmp_path: Path) -> None:
    assert main(["benchmark", "routing", "--data", str(tmp_path)]) == 2


def _pull(i: int, author: str, approvers: tuple[str, ...], day: float, age: float = 1.0) -> ReviewedPull:
    return ReviewedPull("t", "repo", f"https://x/pull/{i}", author, approvers, (), day, age)


def test_replay_scores_only_from_earlier_history() -> None:
    pulls = [
        _pull(1, "ann", ("bob",), 100.0),
        _pull(2, "ann", ("bob",), 101.0),
        _pull(3, "ann", ("cat",), 102.0),
        _pull(4, "dan", ("ann",), 103.0),
        _pull(5, "ann", ("ann",), 104.0),  # self-approval only: not scored
    ]
    result = replay_team("t", pulls, RoutingConfig())
    # PR 1 has no history; PRs 2, 3 and 4 are scored; 5 has no approver but its author.
    assert result.engine.prs == result.baseline.prs == 3
    # Only bob approved before: a hit for PR 2; cat (PR 3) and ann (PR 4) are not candidates yet.
    assert result.engine.top1 == result.baseline.top1 == result.engine.top3 == result.baseline.top3 == 1
    assert result.pool == {"bob", "cat"}


def test_created_mode_hides_pull_requests_merged_while_open() -> None:
    pulls = [_pull(1, "ann", ("bob",), 100.0), _pull(2, "ann", ("bob",), 100.5, age=2.0)]
    assert replay_team("t", pulls, RoutingConfig(), "merged").engine.prs == 1
    assert replay_team("t", pulls, RoutingConfig(), "created").engine.prs == 0


def test_history_never_offers_bots_and_decays() -> None:
    history = TeamHistory()
    history.record(_pull(1, "ann", ("bob", "helper[bot]"), 10.0))
    fresh = {c.login: c for c in history.candidates(_pull(2, "ann", ("x",), 11.0), 11.0)}
    late = {c.login: c for c in history.candidates(_pull(2, "ann", ("x",), 400.0), 400.0)}
    assert set(fresh) == {"bob"}
    assert late["bob"].author_history["ann"] < fresh["bob"].author_history["ann"]
    assert fresh["bob"].median_response_hours == 24.0


def test_gini_and_split() -> None:
    assert gini([1, 1, 1]) == 0.0
    assert gini([0, 0, 9]) == pytest.approx(2 / 3)
    assert gini([]) == 0.0
    assert team_split("ReactCore.json") in {"tuning", "held_out"}
    assert team_split("ReactCore.json") == team_split("ReactCore.json")
