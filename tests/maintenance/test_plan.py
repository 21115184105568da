"""The action's per-period plan: the same window whichever hour asks, and why the clock is outside it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from actions.maintenance.config import MaintenanceConfig
from actions.maintenance.plan import period_bounds, plan_window
from actions.maintenance.windows import HOURS_PER_WEEK, IMPACT_WEIGHTS, WeeklyActivity

MONDAY = datetime(2024, 6, 3, tzinfo=UTC)


def _activity(quiet_start: int = 30, quiet_hours: int = 6) -> WeeklyActivity:
    counts = np.full(HOURS_PER_WEEK, 50.0)
    counts[quiet_start : quiet_start + quiet_hours] = 0.0  # quiet every week from this hour of week
    return WeeklyActivity({name: counts.copy() for name in IMPACT_WEIGHTS}, 20.0)


def test_periods_start_on_mondays_and_tile_time() -> None:
    start, end = period_bounds(datetime(2024, 6, 6, 13, 45, tzinfo=UTC), 7)
    assert start == MONDAY and end == MONDAY + timedelta(days=7)
    start, end = period_bounds(MONDAY, 7)
    assert start == MONDAY
    two = period_bounds(datetime(2024, 6, 12, tzinfo=UTC), 14)
    assert two[0].weekday() == 0 and two[0] <= datetime(2024, 6, 12, tzinfo=UTC) < two[1]


def test_every_hour_of_the_period_sees_the_same_window() -> None:
    activity, config = _activity(), MaintenanceConfig()
    windows = {
        plan_window(activity, config, "dependency-update", MONDAY + timedelta(hours=h)).window["start"]  # type: ignore[index]
        for h in range(0, 7 * 24, 5)
    }
    assert len(windows) == 1
    start = datetime.fromisoformat(windows.pop())
    assert MONDAY + timedelta(hours=30) <= start <= MONDAY + timedelta(hours=34)  # inside the quiet gap


def test_inside_outside_and_over() -> None:
    activity, config = _activity(), MaintenanceConfig()
    window = plan_window(activity, config, "dependency-update", MONDAY).window
    assert window is not None
    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    assert end - start == timedelta(hours=2)  # the task's duration, not the window length
    before = plan_window(activity, config, "dependency-update", start - timedelta(hours=3))
    assert before.timing == "outside-window" and "in 3.0 hours" in before.reason
    inside = plan_window(activity, config, "dependency-update", start + timedelta(minutes=90))
    assert inside.inside and "inside" in inside.reason
    over = plan_window(activity, config, "dependency-update", end)
    assert over.timing == "outside-window" and "is over" in over.reason
    assert over.next_window is not None and over.next_window["start"] == (
        start + timedelta(days=7)
    ).isoformat(timespec="minutes")


def test_a_window_running_into_the_next_period_still_counts() -> None:
    # quiet only on Sunday 23:00 to Monday 03:00 UTC: the window starts in one period, ends in the next
    activity = _activity(quiet_start=HOURS_PER_WEEK - 1, quiet_hours=1)
    counts = activity.signals["active_users"].copy()
    counts[:3] = 0.0
    activity = WeeklyActivity({name: counts.copy() for name in IMPACT_WEIGHTS}, 20.0)
    config = MaintenanceConfig(window_hours=3, tasks={"dependency-update": {"duration_hours": 3}})
    before = plan_window(activity, config, "dependency-update", datetime(2024, 6, 9, 22, tzinfo=UTC))
    assert before.window is not None and before.window["start"] == "2024-06-09T23:00+00:00"
    assert before.timing == "outside-window" and "in 1.0 hours" in before.reason
    after = plan_window(activity, config, "dependency-update", datetime(2024, 6, 10, 1, 30, tzinfo=UTC))
    assert after.inside and after.window == before.window and after.period_start == MONDAY


def test_holidays_and_avoided_dates_explain_the_day() -> None:
    activity = _activity(quiet_start=3 * 24 + 1, quiet_hours=6)  # Thursday 01:00-07:00 UTC
    plain = plan_window(
        activity, MaintenanceConfig(), "dependency-update", datetime(2024, 11, 25, tzinfo=UTC)
    )
    assert plain.window is not None and plain.window["start"].startswith("2024-11-28")  # Thanksgiving
    thanksgiving = datetime.fromisoformat(plain.window["start"]) + timedelta(minutes=30)
    assert plan_window(activity, MaintenanceConfig(), "dependency-update", thanksgiving).inside
    us = MaintenanceConfig(holidays={"country": "US"})
    holiday = plan_window(activity, us, "dependency-update", thanksgiving)
    assert (
        holiday.timing == "holiday" and "Thanksgiving" in holiday.reason and "next window" in holiday.reason
    )
    assert not holiday.window["start"].startswith("2024-11-28")  # type: ignore[index]
    avoided = MaintenanceConfig(avoided_dates=[date(2024, 11, 28)])
    plan = plan_window(activity, avoided, "dependency-update", thanksgiving)
    assert plan.timing == "avoided-date" and "2024-11-28" in plan.reason


def test_no_window_when_everything_is_excluded() -> None:
    week = [MONDAY.date() + timedelta(days=d) for d in range(-1, 8)]
    config = MaintenanceConfig(avoided_dates=week)
    plan = plan_window(_activity(), config, "dependency-update", MONDAY + timedelta(hours=40))
    assert plan.timing == "avoided-date" and plan.window is None
    assert plan.next_window is not None and plan.next_window["start"].startswith("2024-06-11")
    assert "the next window is Tue 2024-06-11" in plan.reason


def test_naive_now_and_unknown_task_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_window(_activity(), MaintenanceConfig(), "dependency-update", datetime(2024, 6, 3))
    config = MaintenanceConfig(tasks={"cleanup": {}})
    with pytest.raises(ValueError, match="not configured"):
        plan_window(_activity(), config, "dependency-update", MONDAY)
