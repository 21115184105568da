"""How old the exports are, and what an action does when they are older than it allows.

The age is the action's current time minus the manifest's ``generated_at`` (when the pipeline made
the exports). It is never taken from a file's modification time: a download cache writes files
whenever it likes, so only the manifest, checked against the exports branch
(:func:`~actions.common.exports.open_exports`), says when the scores, priors and thresholds were made.

Each action that reads exports has an ``exports:`` section in its configuration file
(:class:`ExportsAgeConfig`); the predict action, which has no file, takes ``--max-exports-age-hours``.
What a stale export means is the action's choice: auto-merge refuses to merge (decision
``exports_stale``, exit 3); the advisory actions go on and say so in the step summary and a
``::warning::`` annotation. A ``generated_at`` later than the real clock (beyond :data:`CLOCK_SKEW`)
cannot be an honest export and is refused as damage by every action.

Fresh exports can still be built from old data: a pipeline that keeps exporting after ingestion
stopped. The manifest's ``source.data_as_of`` is the newest event (pull request, review, comment,
issue, CI run) in the warehouse the exports were built from, so ``generated_at - data_as_of`` is how
far the data lagged the export. Past ``exports.max_data_age_hours`` every action warns (step
summary, ``::warning::``, ``exports_age`` in its result) and goes on, auto-merge included: that lag
cannot tell a stopped ingestion from an organisation with nothing new (a holiday, a quiet small
organisation), and auto-merge needs no refusal to stay safe, since it reads a score only for a head
the exports hold, which old data does not. The pipeline's own freshness checks say which it is.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from actions.common.errors import ExportError

if TYPE_CHECKING:  # the configuration models import this module; they stay free of PyGithub
    from actions.common.exports import Exports

DEFAULT_MAX_AGE_HOURS = 48.0
"""Two daily pipeline runs: one missed or failed run is tolerated, a second is not."""
MAX_AGE_LIMIT_HOURS = 24.0 * 90
"""The longest age a configuration may allow: the exports hold 90 days of history."""
DEFAULT_MAX_DATA_AGE_HOURS = 168.0
"""A week without a single event anywhere in the organisation: past a weekend and a public holiday."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future ``generated_at`` may be before it is damage (runner clocks drift a little)."""


class ExportsAgeConfig(BaseModel):
    """The ``exports:`` section of an action's configuration: how old its exports may be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_age_hours: float = Field(
        default=DEFAULT_MAX_AGE_HOURS,
        gt=0,
        le=MAX_AGE_LIMIT_HOURS,
        description="exports generated longer ago than this are stale",
    )
    max_data_age_hours: float | None = Field(
        default=DEFAULT_MAX_DATA_AGE_HOURS,
        gt=0,
        le=MAX_AGE_LIMIT_HOURS,
        description="warn when the newest event in the exports is older than this when they were generated "
        "(null: never)",
    )


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}"


def _warn(title: str, reason: str, advice: str) -> str:
    """A ``::warning::`` annotation of ``reason`` and the step-summary block of ``title``, reason, advice."""
    print(f"::warning::{title}: {reason}", file=sys.stderr)
    return f"> [!WARNING]\n> **{title[0].upper()}{title[1:]}.** {reason[0].upper()}{reason[1:]} {advice}"


@dataclass(frozen=True)
class ExportsAge:
    """The age of a set of exports as one action judged it.

    Attributes:
        generated_at: the manifest's ``generated_at`` (aware, UTC).
        now: the action's current time (``--now`` in a replay).
        max_age_hours: the configured limit.
        origin: where the exports came from.
        setting: where the limit is set, as the reason names it.
        data_as_of: the manifest's ``source.data_as_of`` (None: an empty warehouse).
        max_data_age_hours: how far ``data_as_of`` may lag ``generated_at`` (None: not judged).
        data_setting: where that limit is set, as the warning names it.
    """

    generated_at: datetime
    now: datetime
    max_age_hours: float
    origin: str
    setting: str = "exports.max_age_hours"
    data_as_of: datetime | None = None
    max_data_age_hours: float | None = None
    data_setting: str = "exports.max_data_age_hours"

    @property
    def age(self) -> timedelta:
        """``now`` minus ``generated_at`` (negative only in a replay of a moment before the exports)."""
        return self.now - self.generated_at

    @property
    def age_hours(self) -> float:
        """The age in hours, to 0.01."""
        return round(self.age.total_seconds() / 3600, 2)

    @property
    def stale(self) -> bool:
        """Whether the exports are older than allowed."""
        return self.age > timedelta(hours=self.max_age_hours)

    @property
    def data_age(self) -> timedelta | None:
        """``generated_at`` minus ``data_as_of``: how old the newest event was when the exports were made."""
        return None if self.data_as_of is None else self.generated_at - self.data_as_of

    @property
    def data_stale(self) -> bool:
        """Whether the exports were built from data older than allowed."""
        age = self.data_age
        return (
            age is not None
            and self.max_data_age_hours is not None
            and age > timedelta(hours=self.max_data_age_hours)
        )

    def data_reason(self) -> str:
        """One line saying how old the data in the exports was when they were generated."""
        age = self.data_age
        if self.data_as_of is None or age is None:
            return f"the exports at {self.origin} hold no events (source.data_as_of is null)"
        newest = self.data_as_of.isoformat().replace("+00:00", "Z")
        limit = "no limit" if self.max_data_age_hours is None else f"{self.max_data_age_hours:g} h"
        state = "older than" if self.data_stale else "within"
        return (
            f"the newest event in the exports at {self.origin} is from {newest}, {_hours(age)} h before "
            f"they were generated, {state} the {limit} allowed ({self.data_setting})"
        )

    def reason(self) -> str:
        """One line saying how old the exports are and against which limit."""
        made = self.generated_at.isoformat().replace("+00:00", "Z")
        state = "older than" if self.stale else "within"
        return (
            f"the exports at {self.origin} were generated at {made}, {_hours(self.age)} h ago, "
            f"{state} the {self.max_age_hours:g} h allowed ({self.setting})"
        )

    def record(self) -> dict[str, Any]:
        """The age for a result JSON or an audit record."""
        return {
            "generated_at": self.generated_at.isoformat().replace("+00:00", "Z"),
            "age_hours": self.age_hours,
            "max_age_hours": self.max_age_hours,
            "stale": self.stale,
            "data_as_of": None
            if self.data_as_of is None
            else self.data_as_of.isoformat().replace("+00:00", "Z"),
            "data_age_hours": None
            if (age := self.data_age) is None
            else round(age.total_seconds() / 3600, 2),
            "max_data_age_hours": self.max_data_age_hours,
            "data_stale": self.data_stale,
        }

    def warning(self, consequence: str) -> str:
        """Step-summary blocks for stale exports and for old data (empty when neither), also annotated.

        Args:
            consequence: what the action did about stale exports, e.g. "Nothing was merged."
        """
        blocks = []
        if self.stale:
            blocks.append(
                _warn(
                    "stale exports",
                    f"{self.reason()}. {consequence}",
                    "Check the pipeline's schedule and its last run (the publish asset writes the exports).",
                )
            )
        if self.data_stale:
            blocks.append(
                _warn(
                    "old data in the exports",
                    f"{self.data_reason()}.",
                    "Either the organisation had no activity since, or ingestion stopped while the pipeline "
                    "kept exporting: check the pipeline's freshness checks on the `landed_*` assets. This "
                    "action went on with them.",
                )
            )
        return "\n\n".join(blocks)


def age_outputs(age: ExportsAge | None) -> dict[str, str]:
    """The step outputs every action that reads exports sets (empty age when it was given none)."""
    return {
        "exports-age-hours": "" if age is None else f"{age.age_hours:.2f}",
        "exports-stale": "true" if age is not None and age.stale else "false",
    }


def exports_age(
    exports: Exports,
    max_age_hours: float,
    *,
    now: datetime | None = None,
    clock: datetime | None = None,
    setting: str = "exports.max_age_hours",
    max_data_age_hours: float | None = DEFAULT_MAX_DATA_AGE_HOURS,
    data_setting: str = "exports.max_data_age_hours",
) -> ExportsAge:
    """The age of ``exports`` at ``now``.

    Args:
        exports: verified exports (their ``generated_at`` was parsed when they were read).
        max_age_hours: the limit.
        now: the action's current time (default: ``clock``).
        clock: the real current time (default: the system's); exports from after it are refused.
        setting: where ``max_age_hours`` is set (the reasons name it).
        max_data_age_hours: how far ``source.data_as_of`` may lag ``generated_at`` (None: not judged).
        data_setting: where ``max_data_age_hours`` is set.

    Raises:
        ExportError: when ``generated_at`` is later than the real clock by more than :data:`CLOCK_SKEW`.
    """
    clock = clock or datetime.now(UTC)
    made = exports.generated_at
    if made > clock + CLOCK_SKEW:
        stamp = made.isoformat().replace("+00:00", "Z")
        raise ExportError(
            f"exports at {exports.origin} claim to be generated at {stamp}, "
            f"{_hours(made - clock)} h in the future: a damaged manifest or a wrong clock where they were "
            "made (refused; re-run the exports)"
        )
    return ExportsAge(
        made,
        now or clock,
        max_age_hours,
        exports.origin,
        setting,
        exports.data_as_of,
        max_data_age_hours,
        data_setting,
    )
