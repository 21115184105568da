"""The maintenance action's plan: one window per period, stable while the hourly runs go by.

:func:`~actions.maintenance.windows.predict_optimal_time` searches the days ahead of the moment it
is asked, so asking it every hour would move the window ahead of the clock and the clock would never
be inside it. The action therefore plans per period instead: time is cut into periods of
``horizon_days`` days from a Monday 00:00 UTC (weekly by default), and each period's window is the
one ``predict_optimal_time`` chooses when asked at the period's start (with no lead time, so every
window starting in the period is a candidate). Asked at any moment of the period, the plan is the
same; a window that starts near the end of a period and runs into the next one still counts there.

:func:`plan_window` says whether ``now`` is inside the window and, when it is not, why not (a public
holiday or an avoided date today, no window left, or simply another time) and when the next one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from actions.maintenance.config import MaintenanceConfig, TaskKind
from actions.maintenance.windows import DEFAULT_PARAMS, Vector, WeeklyActivity, predict_optimal_time

PERIOD_ORIGIN = datetime(1970, 1, 5, tzinfo=UTC)
"""A Monday 00:00 UTC: periods start at whole multiples of their length from it."""

Timing = Literal["inside", "outside-window", "holiday", "avoided-date", "no-window"]


@dataclass(frozen=True)
class Plan:
    """Where ``now`` stands against a task's maintenance window.

    Attributes:
        task: the task planned.
        now: the moment asked about (UTC).
        timing: ``inside`` the window, or why not: ``holiday`` / ``avoided-date`` (today, local
            date), ``no-window`` (every window of the period is excluded) or ``outside-window``.
        reason: one sentence saying so.
        period_start: start of the period whose window is reported.
        period_end: its end.
        result: ``predict_optimal_time``'s result for that period (window, impact, alternatives,
            reasoning, excluded, estimator).
        next_window: the window to come when ``now`` is not inside one (None if none is found in
            this period or the next).
    """

    task: TaskKind
    now: datetime
    timing: Timing
    reason: str
    period_start: datetime
    period_end: datetime
    result: dict[str, Any]
    next_window: dict[str, Any] | None

    @property
    def window(self) -> dict[str, Any] | None:
        """The period's recommended window (None when every window is excluded)."""
        window: dict[str, Any] | None = self.result["recommended_window"]
        return window

    @property
    def inside(self) -> bool:
        """Whether ``now`` is inside the window."""
        return self.timing == "inside"


def period_bounds(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The period of ``days`` days (from :data:`PERIOD_ORIGIN`) that holds ``now``."""
    length = timedelta(days=days)
    start = PERIOD_ORIGIN + ((now.astimezone(UTC) - PERIOD_ORIGIN) // length) * length
    return start, start + length


def _bounds(window: dict[str, Any] | None) -> tuple[datetime, datetime] | None:
    if window is None:
        return None
    return datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])


def _today_blocked(config: MaintenanceConfig, today: date) -> tuple[Timing, str] | None:
    if today in config.avoided_dates:
        return "avoided-date", f"today ({today.isoformat()}, {config.time_zone}) is an avoided date"
    calendar = config.holidays.calendar(range(today.year, today.year + 1))
    if calendar is not None and today in calendar:
        where = "-".join(part for part in (config.holidays.country, config.holidays.subdivision) if part)
        return "holiday", f"today ({today.isoformat()}) is a public holiday in {where}: {calendar[today]}"
    return None


def _short(moment: datetime, config: MaintenanceConfig) -> str:
    local = moment.astimezone(config.zone)
    return f"{local:%a %Y-%m-%d %H:%M} {config.time_zone}"


def plan_window(
    activity: WeeklyActivity,
    config: MaintenanceConfig,
    task: TaskKind,
    now: datetime,
    *,
    template: Vector | None = None,
) -> Plan:
    """The task's window for the period holding ``now`` and whether ``now`` is inside it.

    Raises:
        ValueError: for a naive ``now`` or a task that is not configured.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    duration = config.duration_for(task)
    planning = config.model_copy(update={"min_lead_hours": 0.0})
    length = timedelta(days=config.horizon_days)
    start, end = period_bounds(now, config.horizon_days)

    def period(offset: int) -> dict[str, Any]:
        return predict_optimal_time(
            activity, planning, start + offset * length, duration, template=template, params=DEFAULT_PARAMS
        )

    current = period(0)
    # a window planned late in the previous period may still be running
    previous = period(-1)
    for offset, result in ((-1, previous), (0, current)):
        bounds = _bounds(result["recommended_window"])
        if bounds is not None and bounds[0] <= now < bounds[1]:
            return Plan(
                task=task,
                now=now,
                timing="inside",
                reason=f"now ({_short(now, config)}) is inside the {task} window "
                f"({_short(bounds[0], config)} to {_short(bounds[1], config)})",
                period_start=start + offset * length,
                period_end=end + offset * length,
                result=result,
                next_window=None,
            )

    bounds = _bounds(current["recommended_window"])
    upcoming = current["recommended_window"] if bounds is not None and bounds[0] > now else None
    if upcoming is None:
        upcoming = period(1)["recommended_window"]
    blocked = _today_blocked(config, now.astimezone(config.zone).date())
    if blocked is not None:
        timing, reason = blocked
    elif bounds is None:
        timing, reason = "no-window", f"no {task} window fits this period ({current['reasoning'][0]})"
    elif bounds[1] <= now:
        timing = "outside-window"
        span = f"{_short(bounds[0], config)} to {_short(bounds[1], config)}"
        reason = f"this period's {task} window ({span}) is over"
    else:
        timing = "outside-window"
        hours = (bounds[0] - now).total_seconds() / 3600
        reason = f"the {task} window starts at {_short(bounds[0], config)}, in {hours:.1f} hours"
    if timing != "outside-window" or upcoming is not current["recommended_window"]:
        nxt = _bounds(upcoming)
        reason += "; the next window is " + (
            "not found in the next period"
            if nxt is None
            else f"{_short(nxt[0], config)} to {_short(nxt[1], config)}"
        )
    return Plan(
        task=task,
        now=now,
        timing=timing,
        reason=reason,
        period_start=start,
        period_end=end,
        result=current,
        next_window=upcoming,
    )
