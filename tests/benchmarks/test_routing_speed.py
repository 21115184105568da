"""Speed of one routing decision over a synthetic 1,000-person organisation (pytest-benchmark).

The figure is what pytest-benchmark prints (the design asks for 100 ms; the issue for 10 ms); the test
only checks that the decision is a real one, never the time.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from pytest_benchmark.fixture import BenchmarkFixture

from actions.routing.config import RoutingConfig
from actions.routing.engine import AssignmentResult, Candidate, RoutedItem, calculate_assignment

AREAS = [f"{top}/{sub}/" for top in ("src", "lib", "docs", "tests", "tools") for sub in "abcdefghij"]


def _organisation(people: int = 1_000, seed: int = 7) -> list[Candidate]:
    """Synthetic people with a few expertise areas, a history with some authors and usual hours."""
    rng = random.Random(seed)
    logins = [f"dev{i:04d}" for i in range(people)]
    team = []
    for login in logins:
        hours = [rng.random() for _ in range(24)]
        team.append(
            Candidate(
                login=login,
                expertise={area: rng.expovariate(1.0) for area in rng.sample(AREAS, 4)},
                author_history={author: rng.expovariate(1.0) for author in rng.sample(logins, 5)},
                open_reviews=rng.randrange(0, 12),
                median_response_hours=rng.choice([None, rng.uniform(0.5, 96)]),
                recent_activity=rng.expovariate(0.2),
                active_hours=hours,
                completed_reviews=rng.expovariate(0.1),
                completion_rate=rng.random(),
                is_bot=rng.random() < 0.01,
            )
        )
    return team


def test_routing_one_pull_request_among_1000_people(benchmark: BenchmarkFixture) -> None:
    team = _organisation()
    item = RoutedItem(
        number=4242,
        author="dev0001",
        paths=("src/a/core.py", "src/a/util.py", "docs/b/guide.md", "tests/c/test_core.py"),
        created_at=datetime(2024, 5, 1, 14, tzinfo=UTC),
    )
    config = RoutingConfig()
    result: AssignmentResult = benchmark.pedantic(
        calculate_assignment, args=(item, team, config), rounds=60, iterations=1, warmup_rounds=3
    )
    assert len(result.selected) == config.reviewers and result.fallback_used is None
    assert "dev0001" not in result.selected
    assert len(result.scores) + len(result.excluded) == len(team)
