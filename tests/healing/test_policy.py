"""The self-healing retry decision: GitHub's limits, the classes, priors, and no retry storm."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from actions.healing.config import GITHUB_MAX_ATTEMPTS, SelfHealingConfig
from actions.healing.policy import RetryPrior, RunState, backoff, decide_retry

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
CONFIG = SelfHealingConfig()


def failed(attempt: int = 1, *, age: timedelta = timedelta(hours=1), status: str = "completed") -> RunState:
    return RunState(
        status=status, conclusion="failure", run_attempt=attempt, created_at=NOW - age, workflow="CI"
    )


def test_transient_failures_are_retried_with_growing_waits() -> None:
    rng = random.Random(1)
    first = decide_retry(failed(1), "transient", CONFIG, now=NOW, rng=rng)
    second = decide_retry(failed(2), "transient", CONFIG, now=NOW, rng=rng)
    assert (first.decision, first.retry_number, second.decision, second.retry_number) == (
        "retry",
        1,
        "retry",
        2,
    )
    assert 48 <= first.delay_seconds <= 72 and 96 <= second.delay_seconds <= 144
    assert decide_retry(failed(3), "transient", CONFIG, now=NOW).decision == "skip"


@pytest.mark.parametrize(
    ("run", "category", "reason"),
    [
        (failed(status="in_progress"), "transient", "still going"),
        (failed(age=timedelta(days=31)), "transient", "younger than 30 days"),
        (failed(GITHUB_MAX_ATTEMPTS), "transient", "at most 50 attempts"),
        (failed(), "permanent", "not retried"),
        (RunState("completed", "success", 1, NOW, "CI"), "transient", "did not fail"),
    ],
)
def test_refusals(run: RunState, category: str, reason: str) -> None:
    decision = decide_retry(run, category, CONFIG, now=NOW)
    assert decision.decision == "skip" and reason in decision.reason


def test_dependencies_wait_until_cleared() -> None:
    assert decide_retry(failed(), "dependency", CONFIG, now=NOW).decision == "wait"
    assert decide_retry(failed(), "dependency", CONFIG, now=NOW, dependency_cleared=True).decision == "retry"


def test_priors_skip_retries_that_rarely_succeed() -> None:
    poor = RetryPrior(reruns=20, successes=2, source="warehouse")
    decision = decide_retry(failed(), "transient", CONFIG, now=NOW, prior=poor)
    assert decision.decision == "skip" and "10%" in decision.reason
    thin = RetryPrior(reruns=2, successes=0, source="warehouse")  # too little history to judge
    assert decide_retry(failed(), "transient", CONFIG, now=NOW, prior=thin).decision == "retry"


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValidationError, match="max_retries"):
        SelfHealingConfig.model_validate({"max_retries": 99})
    with pytest.raises(ValidationError, match="never retried"):
        SelfHealingConfig.model_validate({"retry_categories": ["permanent"]})
    with pytest.raises(ValidationError, match="retries"):
        SelfHealingConfig.model_validate({"retries": 1})


@settings(max_examples=200, deadline=None)
@given(
    categories=st.lists(st.sampled_from(["transient", "dependency", "permanent"]), min_size=1, max_size=80),
    max_retries=st.integers(0, 10),
    cleared=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_no_retry_storm(categories: list[str], max_retries: int, cleared: bool, seed: int) -> None:
    """However often the action fires on a run's failures, the run gets at most max_retries re-runs."""
    config = SelfHealingConfig(max_retries=max_retries)
    rng = random.Random(seed)
    attempt, reruns, clock = 1, 0, NOW - timedelta(hours=1)
    for category in categories:
        decision = decide_retry(
            failed(attempt, age=NOW - clock), category, config, now=NOW, dependency_cleared=cleared, rng=rng
        )
        if decision.decision == "retry":
            assert decision.delay_seconds <= config.max_backoff_seconds * (1 + config.jitter)
            reruns += 1
            attempt += 1  # GitHub counts the re-run; the failure comes back
    assert reruns <= max_retries < GITHUB_MAX_ATTEMPTS


def test_backoff_is_capped() -> None:
    config = SelfHealingConfig(backoff_seconds=100, max_backoff_seconds=300, jitter=0.0)
    assert [backoff(config, n, random.Random(0)) for n in (1, 2, 3, 4)] == [100, 200, 300, 300]
