"""Whether to re-run a failed workflow run, and when: the self-healing decision.

The decision never depends on anything the action could be fooled into repeating: the number
of re-runs repopilot may request for one run is bounded by ``max_retries`` counted from the
run's own attempt number (which GitHub increments on every re-run, whoever asked), so however
often the action is triggered, a run gets at most ``max_retries`` re-runs; GitHub's own limits
(no re-run while the run is still going, at most 50 attempts, not after 30 days) are checked
before anything else. Waits grow exponentially with the attempt, with jitter so that many
runs failing together do not retry together.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from actions.common.conclusions import HEALABLE_CONCLUSIONS
from actions.healing.config import GITHUB_MAX_AGE_DAYS, GITHUB_MAX_ATTEMPTS, SelfHealingConfig

Decision = Literal["retry", "wait", "skip"]
SIGNATURE_SCOPE = "signature"
"""The ``failure_class`` of a prior that counts the re-runs of one failure signature."""


@dataclass(frozen=True)
class RunState:
    """What the decision needs to know about the run.

    Attributes:
        status: the run's status (``completed``, ``in_progress``, ``queued``, ...).
        conclusion: its conclusion when completed.
        run_attempt: its current attempt number (1 before any re-run).
        created_at: when the run (its first attempt) was created.
        workflow: the workflow's name.
    """

    status: str
    conclusion: str | None
    run_attempt: int
    created_at: datetime
    workflow: str | None = None


@dataclass(frozen=True)
class RetryPrior:
    """How often re-running a failure of this kind of run succeeded.

    Attributes:
        reruns: failed attempts that were re-run.
        successes: of those, re-runs that passed.
        source: where the numbers come from (``warehouse``, ``gha-reruns``, ``none``).
        smoothed_rate: the rate shrunk towards a prior (the ``rerun_priors`` export's ``rate``),
            used instead of ``successes / reruns`` when given.
        failure_class: the class of failure the numbers are for (``any``: every failure;
            ``signature``: this very failure, by its signature).
    """

    reruns: int = 0
    successes: int = 0
    source: str = "none"
    smoothed_rate: float | None = None
    failure_class: str = "any"

    @property
    def rate(self) -> float | None:
        """The success rate (smoothed when known), or None without history."""
        if self.smoothed_rate is not None:
            return self.smoothed_rate
        return self.successes / self.reruns if self.reruns else None


@dataclass(frozen=True)
class RetryDecision:
    """The decision and why.

    Attributes:
        decision: ``retry`` (re-run failed jobs after ``delay_seconds``), ``wait`` (a dependency
            failure: look again after ``delay_seconds``), or ``skip``.
        delay_seconds: how long to wait first.
        retry_number: which of the allowed re-runs this would be (1-based; 0 when skipping).
        reason: one sentence.
    """

    decision: Decision
    delay_seconds: float
    retry_number: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


def _what(prior: RetryPrior) -> str:
    if prior.failure_class == "any":
        return "this workflow"
    if prior.failure_class == SIGNATURE_SCOPE:
        return "this same failure"
    return f"{prior.failure_class} failures of this workflow"


def backoff(config: SelfHealingConfig, retry_number: int, rng: random.Random) -> float:
    """The wait before re-run ``retry_number``: exponential, capped, with ± jitter."""
    base = min(config.backoff_seconds * 2.0 ** max(retry_number - 1, 0), config.max_backoff_seconds)
    return float(max(0.0, base * (1.0 + rng.uniform(-config.jitter, config.jitter))))


def decide_retry(
    run: RunState,
    category: str,
    config: SelfHealingConfig,
    *,
    now: datetime,
    prior: RetryPrior | None = None,
    dependency_cleared: bool = False,
    rng: random.Random | None = None,
) -> RetryDecision:
    """Decide what to do about one failed run, given how its failure was classified.

    Args:
        run: the run.
        category: the failure class (``transient``, ``dependency`` or ``permanent``).
        config: the self-healing configuration.
        now: the current time (UTC).
        prior: re-run history of this kind of run; a success rate below ``min_success_rate``
            over at least ``min_history`` re-runs skips the retry.
        dependency_cleared: for a dependency failure, whether the dependency is reachable again.
        rng: source of jitter (seeded in tests).
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    retries_done = max(run.run_attempt - 1, 0)
    if not config.enabled:
        return RetryDecision("skip", 0.0, 0, "self-healing is disabled in the configuration")
    if run.workflow is not None and run.workflow in config.exempt_workflows:
        return RetryDecision("skip", 0.0, 0, f"workflow {run.workflow!r} is exempt")
    if run.status != "completed":
        return RetryDecision("skip", 0.0, 0, "the run is still going: GitHub re-runs only finished runs")
    if run.conclusion not in HEALABLE_CONCLUSIONS:
        return RetryDecision("skip", 0.0, 0, f"the run did not fail (conclusion {run.conclusion!r})")
    if run.run_attempt >= GITHUB_MAX_ATTEMPTS:
        return RetryDecision("skip", 0.0, 0, f"GitHub allows at most {GITHUB_MAX_ATTEMPTS} attempts")
    if now - run.created_at > timedelta(days=GITHUB_MAX_AGE_DAYS):
        return RetryDecision(
            "skip", 0.0, 0, f"GitHub re-runs only runs younger than {GITHUB_MAX_AGE_DAYS} days"
        )
    if category == "permanent" or category not in config.retry_categories:
        return RetryDecision("skip", 0.0, 0, f"a {category} failure is not retried")
    if retries_done >= config.max_retries:
        return RetryDecision(
            "skip", 0.0, 0, f"already re-run {retries_done} times (max_retries {config.max_retries})"
        )
    rate = prior.rate if prior is not None else None
    if (
        prior is not None
        and rate is not None
        and prior.reruns >= config.min_history
        and rate < config.min_success_rate
    ):
        return RetryDecision(
            "skip",
            0.0,
            0,
            f"re-runs of {_what(prior)} succeed {rate:.0%} of the time ({prior.successes}/{prior.reruns}, "
            f"{prior.source}), below min_success_rate {config.min_success_rate:.0%}",
        )
    number = retries_done + 1
    if category == "dependency" and not dependency_cleared:
        delay = config.dependency_wait_seconds * (1.0 + rng.uniform(0.0, config.jitter))
        return RetryDecision("wait", delay, number, "a dependency is unavailable: wait for it, then re-run")
    delay = backoff(config, number, rng)
    return RetryDecision(
        "retry", delay, number, f"{category} failure: re-run the failed jobs (retry {number})"
    )
