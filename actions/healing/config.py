"""The self-healing configuration, ``.github/self-healing.yml``, validated with pydantic.

Every key has a default; an unknown key is an error naming it. Example::

    max_retries: 2            # re-runs of one run that repopilot may request
    backoff_seconds: 60       # first wait; doubles with every retry
    max_backoff_seconds: 900
    jitter: 0.2               # ± share of the wait, so retries of many runs do not align
    dependency_wait_seconds: 600
    min_success_rate: 0.3     # skip retries that rarely succeed (re-run history, priors)
    min_history: 5            # re-runs needed before the history overrides the prior
    retry_categories: [transient, dependency]
    persistent_after: 2       # a transient failure seen on 2 earlier commits is permanent
    persistence_window_days: 90
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from actions.common.freshness import ExportsAgeConfig

GITHUB_MAX_ATTEMPTS = 50
"""GitHub refuses a re-run once a run has 50 attempts."""

GITHUB_MAX_AGE_DAYS = 30
"""GitHub refuses to re-run a run older than 30 days."""

Category = Literal["transient", "dependency", "permanent"]


class SelfHealingConfig(BaseModel):
    """``.github/self-healing.yml``: which failures to re-run, how often and how patiently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_seconds: float = Field(default=60.0, ge=0, le=3600)
    max_backoff_seconds: float = Field(default=900.0, ge=0, le=6 * 3600)
    jitter: float = Field(default=0.2, ge=0, lt=1)
    dependency_wait_seconds: float = Field(default=600.0, ge=0, le=6 * 3600)
    min_success_rate: float = Field(default=0.3, ge=0, le=1)
    min_history: int = Field(default=5, ge=1)
    retry_categories: tuple[Category, ...] = ("transient", "dependency")
    exempt_workflows: tuple[str, ...] = ()
    persistent_after: int | None = Field(default=2, ge=0, le=100)
    """A failure classified transient whose signature already failed on at least this many earlier
    commits of the repository (other than the run's own, within ``persistence_window_days``; several
    runs of one commit count once) is persistent:
    treated as permanent and not re-run (a re-run will not fix what keeps failing). 0 or null turns
    it off. Dependency failures are never changed: they recur by nature until upstream clears."""
    persistence_window_days: int = Field(default=90, ge=1, le=365)
    """How far back earlier commits count for ``persistent_after`` (the exports hold 90 days)."""
    exports: ExportsAgeConfig = Field(default_factory=ExportsAgeConfig)
    """Older exports (re-run priors, signatures, classifier) are still used, with a warning: a re-run is
    cheap, capped by ``max_retries`` and changes no code."""

    @model_validator(mode="after")
    def _consistent(self) -> SelfHealingConfig:
        if "permanent" in self.retry_categories:
            raise ValueError("retry_categories: permanent failures are never retried")
        if self.max_backoff_seconds < self.backoff_seconds:
            raise ValueError("max_backoff_seconds must be at least backoff_seconds")
        return self
