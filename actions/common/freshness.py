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


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}"


@dataclass(frozen=True)
class ExportsAge:
    """The age of a set of exports as one action judged it.

    Attributes:
        generated_at: the manifest's ``generated_at`` (aware, UTC).
        now: the action's current time (``--now`` in a replay).
        max_age_hours: the configured limit.
        origin: where the exports came from.
        setting: where the limit is set, as the reason names it.
    """

    generated_at: datetime
    now: datetime
    max_age_hours: float
    origin: str
    setting: str = "exports.max_age_hours"

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
        }

    def warning(self, consequence: str) -> str:
        """A step-summary block for stale exports (empty when they are fresh), also annotated in the log.

        Args:
            consequence: what the action did about it, e.g. "Nothing was merged."
        """
        if not self.stale:
            return ""
        print(f"::warning::stale exports: {self.reason()}. {consequence}", file=sys.stderr)
        return (
            "> [!WARNING]\n"
            f"> **Stale exports.** {self.reason()[0].upper()}{self.reason()[1:]}. {consequence} "
            "Check the pipeline's schedule and its last run (the publish asset writes the exports)."
        )


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
) -> ExportsAge:
    """The age of ``exports`` at ``now``.

    Args:
        exports: verified exports (their ``generated_at`` was parsed when they were read).
        max_age_hours: the limit.
        now: the action's current time (default: ``clock``).
        clock: the real current time (default: the system's); exports from after it are refused.
        setting: where ``max_age_hours`` is set (the reasons name it).

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
    return ExportsAge(made, now or clock, max_age_hours, exports.origin, setting)
