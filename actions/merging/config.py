"""Configuration of auto-merge and revert automation: the model of ``.github/auto-merge.yml``.

Every key has a default, so an absent or empty file gives a working, conservative configuration
(one approval, every check green, no risk score means no merge). Unknown keys are rejected, so a
misspelt key is an error rather than a setting silently ignored.

Example ``.github/auto-merge.yml``::

    required_approvals: 2
    required_checks: [build, test]
    merge_method: squash
    coverage: {minimum: 80}
    risk: {max_probability: 0.3, on_missing: block, status_creators: ["github-actions[bot]"]}
    blocking_labels: [do-not-merge, wip]
    revert: {daily_cap: 2, opt_out_label: no-auto-revert}
    exports: {max_age_hours: 48}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from actions.common.freshness import ExportsAgeConfig
from actions.common.risk_status import RISK_CONTEXT

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
MergeMethod = Literal["merge", "squash", "rebase"]

MERGE_MARKER = "Auto-merged-by: repopilot"
"""Trailer of every merge commit repopilot makes: how revert automation recognises its merges."""
REVERT_MARKER = "Reverted-by: repopilot"
"""Trailer of every revert commit repopilot makes: a revert is never reverted."""


class CoverageGate(BaseModel):
    """The coverage check: a threshold on the coverage a status or check run reports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    minimum: float | None = Field(
        default=None, ge=0.0, le=100.0, description="percent; unset: no coverage threshold"
    )
    sources: tuple[Name, ...] = Field(
        default=("codecov/project", "coverage"),
        min_length=1,
        description="status contexts or check-run names (matched as substrings) that report coverage",
    )


class RiskGate(BaseModel):
    """The failure risk of the head commit's runs as an extra gate.

    The risk comes from the exported ``scores.json`` or, for a commit pushed after the last export,
    from the ``repopilot/risk`` commit status the predict action posts. Anything holding
    ``statuses: write`` on the repository can post a status of any context, so a status counts only
    when its creator is one of ``status_creators``. The default, ``github-actions[bot]``, is every
    workflow of the repository using its ``GITHUB_TOKEN`` with ``statuses: write`` (a fork's
    ``pull_request`` workflow gets a read-only token): it is as trustworthy as the workflows anyone with
    write access can change.
    A GitHub App's bot login narrows it to the app; an empty list ignores the statuses.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_probability: float = Field(default=0.5, ge=0.0, le=1.0, description="highest failure risk merged")
    on_missing: Literal["block", "allow"] = Field(
        default="block", description="what a head commit without any score does (fail closed)"
    )
    status_context: Name = Field(
        default=RISK_CONTEXT, description="context of the live prediction status the predict action posts"
    )
    status_creators: tuple[Name, ...] = Field(
        default=("github-actions[bot]",),
        description="logins whose live prediction statuses are believed; empty: statuses are not used",
    )


class RevertConfig(BaseModel):
    """Revert automation: a revert pull request when the default branch fails after an auto-merge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    daily_cap: int = Field(
        default=2, ge=0, le=50, description="revert pull requests repopilot opens per UTC day (0: none)"
    )
    opt_out_label: Name = Field(
        default="no-auto-revert", description="a merged pull request with this label is never reverted"
    )
    label: Name = Field(default="repopilot:revert", description="label of the revert pull requests")
    draft: bool = Field(default=False, description="open the revert pull requests as drafts")


class AutoMergeConfig(BaseModel):
    """Settings of the auto-merge action (``.github/auto-merge.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    required_approvals: int = Field(default=1, ge=0, le=20)
    required_checks: tuple[Name, ...] = Field(
        default=(), description="check or status names that must pass; empty: every reported check"
    )
    ignored_checks: tuple[Name, ...] = Field(
        default=("auto-merge",), description="checks never waited for (the auto-merge job's own)"
    )
    require_up_to_date: bool = True
    merge_queue: bool | None = Field(
        default=None,
        description=(
            "whether the base branch uses a merge queue (pull requests are enqueued, not merged); "
            "unset: as GitHub reports; a value that contradicts GitHub blocks"
        ),
    )
    coverage: CoverageGate = Field(default_factory=CoverageGate)
    risk: RiskGate = Field(default_factory=RiskGate)
    exempt_labels: tuple[Name, ...] = ("no-auto-merge", "skip-auto-merge")
    blocking_labels: tuple[Name, ...] = ("do-not-merge", "wip", "hold", "blocked")
    require_label: Name | None = Field(default=None, description="only pull requests with this label")
    merge_method: MergeMethod = "squash"
    delete_branch: bool = True
    notify: bool = Field(default=True, description="comment on the pull request when it is merged")
    merged_label: Name | None = "repopilot:auto-merged"
    revert: RevertConfig = Field(default_factory=RevertConfig)
    exports: ExportsAgeConfig = Field(
        default_factory=ExportsAgeConfig,
        description="older exports are stale: nothing is merged (decision exports_stale, exit 3)",
    )

    @field_validator("exempt_labels", "blocking_labels")
    @classmethod
    def _lower(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        # GitHub compares label names without regard to case.
        return tuple(dict.fromkeys(value.lower() for value in values))
