"""The maintenance configuration, ``.github/maintenance.yml``, validated with pydantic.

Every key has a default, so an empty file (or none) is a valid configuration; an unknown key
is an error naming it, so a typo never silently falls back to a default.

Example::

    time_zone: Europe/Berlin
    preferred_days: [saturday, sunday]
    preferred_hours: [0, 1, 2, 3, 4, 5, 6]
    avoided_dates: [2024-12-24, 2024-12-31]
    holidays: {country: DE, subdivision: BY}
    window_hours: 3
    min_lead_hours: 2
    horizon_days: 7
    alternatives: 3
    tasks:
      dependency-update:
        duration_hours: 2
        workflow: dependency-update.yml   # dispatched inside the window
        ref: main                         # default: the repository's default branch
        inputs: {mode: weekly}
      cleanup: {duration_hours: 1, start: issue, labels: [maintenance, cleanup]}

A task with a ``workflow`` is started by dispatching it (``start: workflow``); one without is
started by opening a maintenance issue (``start: issue``). The maintenance action
(``actions/maintain.py``) starts each enabled task once inside its window.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from actions.common.freshness import ExportsAgeConfig

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
"""Day names in ``datetime.weekday()`` order (Monday is 0)."""

TaskKind = Literal["dependency-update", "cleanup"]
StartKind = Literal["workflow", "issue"]

MAX_DISPATCH_INPUTS = 10
"""GitHub accepts at most this many inputs in a workflow dispatch."""

_WORKFLOW = re.compile(r"^(?:[0-9]{1,19}|[A-Za-z0-9._-]{1,200}\.ya?ml)$")
_REF = re.compile(r"^(?!/|.*(?:\.\.|//|@\{|\.lock$|/$))[A-Za-z0-9._/+-]{1,250}$")
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
_LABEL_MAX = 50


@cache
def _supported_countries() -> dict[str, list[str]]:
    return dict(holidays.list_supported_countries())


class HolidayConfig(BaseModel):
    """Whose public holidays to keep free of maintenance (none when ``country`` is not set)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code, e.g. DE or US")
    subdivision: str | None = Field(default=None, description="state or province code, e.g. BY or CA")

    @model_validator(mode="after")
    def _known(self) -> HolidayConfig:
        if self.country is None:
            if self.subdivision is not None:
                raise ValueError("holidays.subdivision needs holidays.country")
            return self
        countries = _supported_countries()
        if self.country not in countries:
            raise ValueError(f"holidays.country {self.country!r} is not a country the holidays library knows")
        if self.subdivision is not None and self.subdivision not in countries[self.country]:
            raise ValueError(
                f"holidays.subdivision {self.subdivision!r} is not a subdivision of {self.country}"
            )
        return self

    def calendar(self, years: range) -> holidays.HolidayBase | None:
        """The holiday calendar for ``years``, or None when no country is configured."""
        if self.country is None:
            return None
        return holidays.country_holidays(self.country, subdiv=self.subdivision, years=years)


class TaskConfig(BaseModel):
    """One kind of maintenance work, how long it takes and how the maintenance action starts it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration_hours: float = Field(default=2.0, gt=0, le=24)
    enabled: bool = True
    start: StartKind | None = Field(
        default=None, description="workflow (dispatch `workflow`) or issue; default: workflow when one is set"
    )
    workflow: str | None = Field(default=None, description="workflow file name (e.g. deps.yml) or numeric id")
    ref: str | None = Field(default=None, description="branch or tag to run on; default: the default branch")
    inputs: dict[str, str | bool | int] = Field(
        default_factory=dict, description="workflow_dispatch inputs", max_length=MAX_DISPATCH_INPUTS
    )
    labels: tuple[str, ...] = Field(
        default=("maintenance",), max_length=10, description="labels of the issue"
    )

    @field_validator("workflow")
    @classmethod
    def _workflow(cls, value: str | None) -> str | None:
        if value is not None and not _WORKFLOW.match(value):
            raise ValueError(
                "workflow must be a file name ending in .yml or .yaml (no folders) or a numeric id"
            )
        return value

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str | None) -> str | None:
        if value is not None and not _REF.match(value.removeprefix("refs/heads/").removeprefix("refs/tags/")):
            raise ValueError("ref must be a branch or tag name")
        return value

    @field_validator("inputs")
    @classmethod
    def _inputs(cls, value: dict[str, str | bool | int]) -> dict[str, str | bool | int]:
        bad = [name for name in value if not _INPUT_NAME.match(name)]
        if bad:
            raise ValueError(f"input names must be identifiers (letters, digits, _ and -), not {bad}")
        if any(isinstance(v, str) and len(v) > 1000 for v in value.values()):
            raise ValueError("input values must be at most 1000 characters")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not label.strip() or len(label) > _LABEL_MAX or "," in label for label in value):
            raise ValueError(f"labels must be non-empty, without commas, at most {_LABEL_MAX} characters")
        return tuple(dict.fromkeys(label.strip() for label in value))

    @model_validator(mode="after")
    def _start(self) -> Self:
        if self.start == "workflow" and self.workflow is None:
            raise ValueError("start: workflow needs the workflow to dispatch (workflow: FILE.yml)")
        if self.start == "issue" and (self.workflow is not None or self.inputs or self.ref is not None):
            raise ValueError("start: issue takes no workflow, ref or inputs")
        return self

    @property
    def start_kind(self) -> StartKind:
        """How the action starts the work: dispatching the workflow, or opening an issue."""
        if self.start is not None:
            return self.start
        return "workflow" if self.workflow is not None else "issue"


def _default_tasks() -> dict[TaskKind, TaskConfig]:
    # cleanup is off by default so that an unconfigured repository gets one maintenance issue a week
    return {
        "dependency-update": TaskConfig(duration_hours=2.0),
        "cleanup": TaskConfig(duration_hours=1.0, enabled=False),
    }


class MaintenanceConfig(BaseModel):
    """``.github/maintenance.yml``: when maintenance may run and what it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = Field(default="UTC", description="IANA time zone of the hours, days and dates below")
    preferred_days: tuple[Weekday, ...] = Field(default=WEEKDAYS, min_length=1)
    preferred_hours: tuple[int, ...] = Field(
        default=tuple(range(24)),
        min_length=1,
        description="local hours (0-23) a window may cover; every hour it touches must be listed",
    )
    avoided_dates: tuple[date, ...] = ()
    holidays: HolidayConfig = HolidayConfig()
    window_hours: float = Field(default=3.0, gt=0, le=24, description="length of a window")
    min_lead_hours: float = Field(default=1.0, ge=0, le=24 * 14, description="earliest start after now")
    horizon_days: int = Field(default=7, ge=1, le=28, description="how far ahead windows are searched")
    alternatives: int = Field(default=3, ge=0, le=20, description="how many other windows to list")
    tasks: dict[TaskKind, TaskConfig] = Field(default_factory=_default_tasks)
    exports: ExportsAgeConfig = Field(
        default_factory=ExportsAgeConfig,
        description="older activity is still planned from, with a warning (weekly patterns change slowly)",
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from exc
        return value

    @field_validator("preferred_hours")
    @classmethod
    def _hours(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [hour for hour in value if not 0 <= hour <= 23]
        if bad:
            raise ValueError(f"hours must be between 0 and 23, not {bad}")
        return tuple(sorted(set(value)))

    @field_validator("preferred_days")
    @classmethod
    def _days(cls, value: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        return tuple(day for day in WEEKDAYS if day in value)

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.time_zone)

    def duration_for(self, task: TaskKind | None) -> float:
        """Hours a window must last for ``task`` (the window length when no task is given)."""
        if task is None:
            return self.window_hours
        if task not in self.tasks:
            raise ValueError(f"task {task!r} is not configured under tasks")
        return self.tasks[task].duration_hours
