"""Configuration of routing: the model of ``.github/routing.yml``.

Every key has a default, so an absent file (or an empty one) gives a working configuration. Unknown
keys are rejected, so that a misspelt key is an error rather than a silently ignored setting. The
defaults of the weights and of ``author_history_share`` were chosen on the tuning half of the shared
review data only (see ``pipelines.benchmarks_routing``; coordinate search over the weights and the share
on its teams, merge-time protocol), never on the teams the benchmark reports as held out. That data
shows no open reviews, so the small workload weight is a prior rather than a fitted value.

Example ``.github/routing.yml``::

    weights: {expertise: 0.8, workload: 0.1, response_time: 0.03, availability: 0.05, performance: 0.02}
    reviewers: 2
    max_open_reviews: 8
    exempt_labels: [no-auto-assign]
    excluded_users: [release-bot]
    fallback: [round_robin, random]
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from actions.common.freshness import ExportsAgeConfig

FACTORS = ("expertise", "workload", "response_time", "availability", "performance")
"""Names of the score's factors, in the order they are reported."""

Login = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=39)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Fallback = Literal["round_robin", "random"]


class Weights(BaseModel):
    """Weight of each factor in the score; they need not sum to one (they are normalised)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expertise: float = Field(default=0.87, ge=0.0, description="knowledge of the paths and of the author")
    workload: float = Field(default=0.05, ge=0.0, description="room below the cap of open reviews")
    response_time: float = Field(default=0.03, ge=0.0, description="speed of past first responses")
    availability: float = Field(default=0.05, ge=0.0, description="recent activity, usual hours")
    performance: float = Field(default=0.03, ge=0.0, description="reviews completed recently")

    @model_validator(mode="after")
    def _some_weight(self) -> Weights:
        if self.total() <= 0.0:
            raise ValueError("at least one weight must be positive")
        return self

    def total(self) -> float:
        """Sum of the weights."""
        return self.expertise + self.workload + self.response_time + self.availability + self.performance

    def normalised(self) -> tuple[float, ...]:
        """The weights in the order of :data:`FACTORS`, scaled to sum to one."""
        total = self.total()
        return tuple(getattr(self, name) / total for name in FACTORS)


class RoutingConfig(BaseModel):
    """Settings of the routing action (``.github/routing.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: Weights = Field(default_factory=Weights)
    author_history_share: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description="share of the expertise factor that comes from reviewing this author's earlier work "
        "(the rest comes from the changed paths)",
    )
    reviewers: int = Field(default=2, ge=1, le=15, description="reviewers requested on a pull request")
    assignees: int = Field(default=1, ge=1, le=10, description="assignees set on an issue")
    max_open_reviews: int = Field(
        default=10, ge=1, le=1000, description="workload cap: people with this many open reviews are skipped"
    )
    response_time_reference_hours: float = Field(
        default=24.0, gt=0.0, description="a median first response this slow scores one half"
    )
    exempt_labels: tuple[Label, ...] = Field(
        default=("no-auto-assign", "skip-routing"),
        description="items with one of these labels are left alone",
    )
    excluded_users: tuple[Login, ...] = Field(default=(), description="logins never selected")
    exclude_bots: bool = Field(default=True, description="never select bot accounts")
    fallback: tuple[Fallback, ...] = Field(
        default=("round_robin", "random"),
        description="what to do when scoring selects nobody: round robin (needs its state), then random",
    )
    seed: int = Field(default=0, description="seed of the random fallback and of tie-breaking")
    exports: ExportsAgeConfig = Field(
        default_factory=ExportsAgeConfig, description="older exports are routed from, with a warning"
    )

    @field_validator("exempt_labels", "excluded_users")
    @classmethod
    def _lower(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        # GitHub compares logins and label names without regard to case.
        return tuple(dict.fromkeys(value.lower() for value in values))

    @field_validator("fallback")
    @classmethod
    def _distinct(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(values)) != len(values):
            raise ValueError("each fallback strategy may appear once")
        return values
