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
      dependency-update: {duration_hours: 2}
      cleanup: {duration_hours: 1, enabled: false}
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    """One kind of maintenance work and how long it takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration_hours: float = Field(default=2.0, gt=0, le=24)
    enabled: bool = True


def _default_tasks() -> dict[TaskKind, TaskConfig]:
    return {
        "dependency-update": TaskConfig(duration_hours=2.0),
        "cleanup": TaskConfig(duration_hours=1.0),
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
