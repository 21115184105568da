"""The route action over a synthetic 1,000-person team: the exports it reads and the decision it makes.

``repopilot benchmark actions`` times the whole process (start to exit) on these exports; this test
checks, in process and quickly, that the team is a valid export and that the decision over it is real.
The in-process routing speed is ``test_routing_speed.py``'s (pytest-benchmark).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from pytest_benchmark.fixture import BenchmarkFixture

from actions.common.exports import verify
from actions.route import candidates_from_exports
from actions.routing.config import RoutingConfig
from actions.routing.engine import RoutedItem, calculate_assignment
from pipelines.benchmarks_actions import synthetic_reviewers
from pipelines.exports.documents import scores_document
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.sources.sample import generate_sample_org

REPO = "repopilot-sample/web-frontend"


def test_a_1000_person_team_is_a_valid_export_and_routes_by_score(
    tmp_path: Path, benchmark: BenchmarkFixture
) -> None:
    recording = generate_sample_org()
    others = [r for r in recording.repos if r != REPO]
    document = synthetic_reviewers(recording, REPO, people=1_000, others=others)
    generated = datetime(2026, 11, 1, tzinfo=UTC)
    written = write_exports(
        tmp_path / "exports",
        models_dir=None,
        source=SourceInfo("sample", True, generated, tuple(recording.repos)),
        documents={"reviewers": document},
        scores=lambda models: scores_document(pl.DataFrame(), None, generated_at=generated),
        generated_at=generated,
    )
    assert any(row["repo"] != REPO for row in document["reviewers"])
    document = verify(written.root).json("reviewers", repository=REPO)
    team = benchmark(candidates_from_exports, document, REPO, None)
    assert len(team) == 1_000 and len({c.login for c in team}) == 1_000
    files = next(files for (repo, _), files in recording.pr_files.items() if repo == REPO and files)
    item = RoutedItem(number=1, author="dev0000", paths=tuple(f["filename"] for f in files))
    result = calculate_assignment(item, team, RoutingConfig())
    assert len(result.selected) == 2 and "dev0000" not in result.selected and result.fallback_used is None
    assert result.scores[0].values["expertise"] > 0.0
