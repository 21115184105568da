"""The self-healing retry decision: GitHub's limits, the classes, priors, and no retry storm."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from actions.heal import RerunRefusedError, Settings, heal_run
from actions.healing.config import GITHUB_MAX_ATTEMPTS, SelfHealingConfig
from actions.healing.logs import JobLog
from actions.healing.policy import RetryPrior, RunState, backoff, decide_retry
from actions.healing.priors import PriorTable

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


# --- the action across repeated triggers ----------------------------------------------------------

LOGS = {
    "network": "##[error]Error: connect ETIMEDOUT 104.16.3.35:443\n"
    "##[error]Process completed with exit code 1.",
    "registry": "npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/left-pad-ng - "
    "'left-pad-ng@9.9.9' is not in this registry.\n##[error]Process completed with exit code 1.",
    "assertion": "FAILED tests/test_core.py::test_total - AssertionError: assert 3 == 4\n"
    "##[error]Process completed with exit code 1.",
}


class FakeGitHub:
    """One run as GitHub keeps it: re-runs queue a new attempt; refusals as GitHub's (403)."""

    def __init__(self, created: datetime) -> None:
        self.created = created
        self.attempt = 1
        self.status = "completed"
        self.finished = created + timedelta(minutes=5)
        self.log = LOGS["network"]
        self.clock = created
        self.reruns: list[datetime] = []
        self.refused: list[str] = []

    def run(self, run_id: int) -> dict[str, object]:
        return {
            "id": run_id,
            "name": "CI",
            "status": self.status,
            "conclusion": "failure" if self.status == "completed" else None,
            "run_attempt": self.attempt,
            "created_at": self.created.isoformat(),
            "updated_at": self.finished.isoformat(),
        }

    def logs(self, run_id: int, attempt: int) -> list[JobLog]:
        assert attempt == self.attempt and self.status == "completed"
        return [JobLog("build", tuple(self.log.splitlines()))]

    def rerun_failed_jobs(self, run_id: int) -> None:
        if self.status != "completed":
            self.refused.append("running")
            raise RerunRefusedError(403, "This workflow is already running")
        if self.attempt >= GITHUB_MAX_ATTEMPTS or self.clock - self.created > timedelta(days=30):
            self.refused.append("limit")
            raise RerunRefusedError(403, "This workflow run cannot be retried")
        self.reruns.append(self.clock)
        self.attempt += 1
        self.status = "queued"

    def complete(self, log: str, at: datetime) -> None:
        if self.status != "completed":
            self.status, self.finished, self.log = "completed", at, log


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["trigger", "trigger", "complete"]),
            st.sampled_from(sorted(LOGS)),
            st.integers(0, 7200),
        ),
        min_size=1,
        max_size=60,
    ),
    max_retries=st.integers(0, 10),
    max_sleep=st.sampled_from([0.0, 120.0, 900.0]),
)
def test_no_retry_storm_across_repeated_triggers(
    steps: list[tuple[str, str, int]], max_retries: int, max_sleep: float
) -> None:
    """However the action is triggered (events repeated, sweeps, re-runs failing again), a run is
    re-run at most max_retries times, never while it runs, never before its backoff is due."""
    config = SelfHealingConfig(max_retries=max_retries)
    github = FakeGitHub(NOW - timedelta(days=2))
    github.clock = github.finished
    minimum_wait = config.backoff_seconds * (1 - config.jitter)
    for kind, log, seconds in steps:
        github.clock += timedelta(seconds=seconds)
        if kind == "complete":
            github.complete(LOGS[log], github.clock)
            continue
        settings_ = Settings(config, PriorTable(), None, github.clock, False, max_sleep)
        finished_before = github.finished
        slept: list[float] = []
        before = len(github.reruns)
        result = heal_run(github, "o/r", 1, settings_, sleep=slept.append)
        if len(github.reruns) > before:
            assert result["action"] == "rerun_requested"
            # the re-run happens after the wait: the clock at the call plus what the job slept
            waited = (github.clock - finished_before).total_seconds() + sum(slept)
            assert waited >= minimum_wait - 1e-6 and sum(slept) <= max_sleep
    assert len(github.reruns) <= max_retries < GITHUB_MAX_ATTEMPTS
    assert github.refused == []  # the action checks first; GitHub never has to refuse


def test_repeated_triggers_rerun_each_failure_once_up_to_max_retries() -> None:
    """The storm test's world is not vacuous: a failing transient run is re-run, once per failure."""
    config = SelfHealingConfig(max_retries=2)
    github = FakeGitHub(NOW - timedelta(days=2))
    github.clock = github.finished + timedelta(hours=1)
    for _ in range(4):
        for _ in range(3):  # the same event delivered three times
            heal_run(github, "o/r", 1, Settings(config, PriorTable(), None, github.clock, False, 0.0))
        github.clock += timedelta(hours=1)
        github.complete(LOGS["network"], github.clock)
        github.clock += timedelta(hours=1)
    assert len(github.reruns) == 2 and github.attempt == 3 and github.refused == []
    final = heal_run(github, "o/r", 1, Settings(config, PriorTable(), None, github.clock, False, 0.0))
    assert final["action"] == "none" and "already re-run 2 times" in final["reason"]
