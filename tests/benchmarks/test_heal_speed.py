"""Speed of one self-healing decision in process: excerpt, classification, retry decision (pytest-benchmark).

The figure is what pytest-benchmark prints (the issue asks for classification under 50 ms per failure);
the test only checks that the decision is a real one, never the time.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pytest_benchmark.fixture import BenchmarkFixture

from actions.heal import Settings, heal_run
from actions.healing.config import SelfHealingConfig
from actions.healing.logs import JobLog
from actions.healing.priors import PriorTable

NOW = datetime(2026, 11, 1, tzinfo=UTC)


class _Run:
    """A failed run with a 3,000-line job log ending in a network failure."""

    def __init__(self) -> None:
        rng = random.Random(3)
        noise = [
            f"2026-10-31T10:{i // 60 % 60:02d}:{i % 60:02d}.0000000Z step {rng.random():.6f} ok"
            for i in range(3_000)
        ]
        failure = [
            "npm ERR! code ECONNRESET",
            "npm ERR! network request to https://registry.npmjs.org/react failed, reason: socket hang up",
            "##[error]Process completed with exit code 1.",
        ]
        self.jobs = [JobLog("build", tuple(noise + failure)), JobLog("lint", tuple(noise[:200]))]

    def run(self, run_id: int) -> dict[str, object]:
        return {
            "id": run_id,
            "name": "CI",
            "status": "completed",
            "conclusion": "failure",
            "run_attempt": 1,
            "created_at": (NOW - timedelta(hours=1)).isoformat(),
            "updated_at": (NOW - timedelta(minutes=30)).isoformat(),
        }

    def logs(self, run_id: int, attempt: int) -> list[JobLog]:
        return self.jobs

    def rerun_failed_jobs(self, run_id: int) -> None:
        raise AssertionError("dry run")


def test_one_heal_decision(benchmark: BenchmarkFixture) -> None:
    gateway = _Run()
    settings = Settings(SelfHealingConfig(), PriorTable(), None, NOW, True, 0.0)
    result = benchmark.pedantic(
        heal_run, args=(gateway, "o/r", 1, settings), rounds=30, iterations=1, warmup_rounds=2
    )
    assert (result["category"], result["decision"], result["action"]) == ("transient", "retry", "would_rerun")
    assert any("socket hang up" in line for line in result["matched_lines"])
