"""predict_optimal_time on synthetic activity: the quiet window, constraints, time zones, shapes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from actions.maintenance.config import MaintenanceConfig
from actions.maintenance.windows import (
    FIXED_WINDOW_START,
    HOURS_PER_WEEK,
    IMPACT_WEIGHTS,
    WeeklyActivity,
    WindowParams,
    activity_from_export,
    align_template,
    expected_profile,
    hour_of_week,
    impact_by_hour,
    organisation_template,
    pooled_profile,
    predict_optimal_time,
    weekly_window_impacts,
)

MONDAY = datetime(2024, 6, 3, 0, 0, tzinfo=UTC)  # a Monday, so hour of week k is MONDAY + k hours


def office_hours(offset: int = 0, weeks: int = 20, seed: int = 0) -> np.ndarray:
    """Counts of a team working 08:00-18:00 on weekdays (UTC + offset), a little on weekends."""
    rng = np.random.default_rng(seed)
    rate = np.full(HOURS_PER_WEEK, 0.2)
    for day in range(7):
        for hour in range(8, 18):
            rate[(day * 24 + hour - offset) % HOURS_PER_WEEK] = 6.0 if day < 5 else 1.0
    return rng.poisson(rate * weeks).astype(float)


def activity(counts: np.ndarray, weeks: float = 20.0) -> WeeklyActivity:
    return WeeklyActivity({name: counts.copy() for name in IMPACT_WEIGHTS}, weeks)


def local(result: dict[str, Any], key: str = "start_local") -> datetime:
    return datetime.fromisoformat(result["recommended_window"][key])


def test_quiet_gap_in_busy_week_is_found() -> None:
    counts = np.full(HOURS_PER_WEEK, 50.0)
    counts[30:36] = 0.0  # Tuesday 06:00-12:00 UTC is empty every week
    result = predict_optimal_time(activity(counts), MaintenanceConfig(), MONDAY)
    start = hour_of_week(datetime.fromisoformat(result["recommended_window"]["start"]))
    assert 30 <= start <= 33  # the whole 3-hour window lies inside the gap
    assert all(result["expected_impact"] < alt["expected_impact"] for alt in result["alternatives"])
    assert result["reasoning"][0].startswith("Tuesday 2024-06-04")


def test_office_team_gets_a_night_or_weekend_window() -> None:
    result = predict_optimal_time(activity(office_hours()), MaintenanceConfig(), MONDAY)
    start = hour_of_week(datetime.fromisoformat(result["recommended_window"]["start"]))
    day, hour = divmod(start, 24)
    assert day >= 5 or hour + 3 <= 8 or hour >= 18
    assert result["expected_impact"] < 0.1


def test_team_in_another_time_zone_is_scheduled_in_its_own_night() -> None:
    # The same team 9 hours east: its working day is 23:00-09:00 UTC.
    counts = office_hours(offset=9)
    template = pooled_profile([office_hours(seed=s) for s in range(5)])
    result = predict_optimal_time(activity(counts), MaintenanceConfig(), MONDAY, template=template)
    assert result["estimator"]["template_shift_hours"] == -9
    start = hour_of_week(datetime.fromisoformat(result["recommended_window"]["start"]))
    busy = counts.reshape(7, 24)[:5].mean(axis=0) > counts.mean()
    assert not any(busy[(start + k) % 24] for k in range(3)) or start // 24 >= 5


def test_alternatives_ranked_and_not_overlapping() -> None:
    config = MaintenanceConfig(alternatives=4)
    result = predict_optimal_time(activity(office_hours()), config, MONDAY)
    windows = [result["recommended_window"], *result["alternatives"]]
    assert len(result["alternatives"]) == 4
    assert [a["rank"] for a in result["alternatives"]] == [1, 2, 3, 4]
    impacts = [w["expected_impact"] for w in windows]
    assert impacts == sorted(impacts)
    spans = sorted((datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])) for w in windows)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


def test_preferred_days_and_hours_in_local_time() -> None:
    config = MaintenanceConfig(
        time_zone="America/New_York", preferred_days=["wednesday"], preferred_hours=[12, 13, 14, 15]
    )
    result = predict_optimal_time(activity(office_hours()), config, MONDAY)
    start, end = local(result), local(result, "end_local")
    assert start.strftime("%A") == "Wednesday"
    assert start.hour >= 12 and end.hour <= 16 and (end - start) == timedelta(hours=3)
    assert start.utcoffset() == timedelta(hours=-4)  # EDT in June
    assert any("preferred days wednesday and hours 12:00–16:00" in line for line in result["reasoning"])


def test_unsatisfiable_preferences_are_relaxed_and_said() -> None:
    config = MaintenanceConfig(preferred_hours=[3, 4], window_hours=3)
    result = predict_optimal_time(activity(office_hours()), config, MONDAY)
    assert result["recommended_window"] is not None
    assert any("were relaxed" in line for line in result["reasoning"])


def test_holidays_and_avoided_dates_are_never_touched() -> None:
    # Quiet only on Christmas Day and the 27th: both must be refused.
    counts = np.full(HOURS_PER_WEEK, 30.0)
    now = datetime(2023, 12, 25, 0, 0, tzinfo=UTC)  # a Monday
    counts[0:24] = 0.0  # Monday (Christmas Day)
    counts[48:72] = 1.0  # Wednesday (the 27th)
    config = MaintenanceConfig(
        time_zone="Europe/Berlin",
        holidays={"country": "DE", "subdivision": "BY"},
        avoided_dates=[date(2023, 12, 27)],
        min_lead_hours=0,
    )
    result = predict_optimal_time(activity(counts), config, now)
    dates = {local(result).date(), local(result, "end_local").date()}
    for window in [result["recommended_window"], *result["alternatives"]]:
        touched = {datetime.fromisoformat(window[k]).date() for k in ("start_local", "end_local")}
        assert not touched & {date(2023, 12, 25), date(2023, 12, 26), date(2023, 12, 27)}
    assert not dates & {date(2023, 12, 25), date(2023, 12, 26), date(2023, 12, 27)}
    names = {h["date"]: h["name"] for h in result["excluded"]["holidays"]}
    assert "2023-12-25" in names and "2023-12-26" in names
    assert result["excluded"]["avoided_dates"] == ["2023-12-27"]
    assert any("public holidays (DE-BY)" in line for line in result["reasoning"])
    assert any("avoided dates were skipped: 2023-12-27" in line for line in result["reasoning"])
    # Without the exclusions the quiet Monday would have been chosen.
    free = predict_optimal_time(activity(counts), MaintenanceConfig(time_zone="Europe/Berlin"), now)
    assert local(free).date() in {date(2023, 12, 25), date(2023, 12, 26)}


def test_every_window_excluded_gives_no_window() -> None:
    now = datetime(2024, 6, 3, tzinfo=UTC)
    config = MaintenanceConfig(
        horizon_days=1, min_lead_hours=0, avoided_dates=[date(2024, 6, 3), date(2024, 6, 4)]
    )
    result = predict_optimal_time(activity(office_hours()), config, now)
    assert result["recommended_window"] is None and result["alternatives"] == []
    assert "No window" in result["reasoning"][0]


def test_dst_change_keeps_utc_scoring_and_local_labels() -> None:
    # Europe/Berlin leaves summer time on 2024-10-27 at 03:00 local (01:00 UTC).
    now = datetime(2024, 10, 26, 12, 0, tzinfo=UTC)
    counts = np.full(HOURS_PER_WEEK, 20.0)
    counts[6 * 24 : 6 * 24 + 4] = 0.0  # Sunday 00:00-04:00 UTC
    config = MaintenanceConfig(time_zone="Europe/Berlin", min_lead_hours=0)
    result = predict_optimal_time(activity(counts), config, now)
    window = result["recommended_window"]
    start_utc = datetime.fromisoformat(window["start"])
    assert start_utc.utcoffset() == timedelta(0) and start_utc.weekday() == 6 and start_utc.hour <= 1
    start, end = local(result), local(result, "end_local")
    assert end - start == timedelta(hours=3)  # three real hours, whatever the wall clock says
    assert start.utcoffset() != end.utcoffset() or start.hour >= 3


def test_fractional_duration_and_task_duration() -> None:
    config = MaintenanceConfig(tasks={"cleanup": {"duration_hours": 1.5}})
    duration = config.duration_for("cleanup")
    result = predict_optimal_time(activity(office_hours()), config, MONDAY, duration)
    window = result["recommended_window"]
    span = datetime.fromisoformat(window["end"]) - datetime.fromisoformat(window["start"])
    assert span == timedelta(hours=1, minutes=30) and window["duration_hours"] == 1.5


def test_lead_time_and_horizon_respected() -> None:
    now = datetime(2024, 6, 3, 10, 17, tzinfo=UTC)
    config = MaintenanceConfig(min_lead_hours=5, horizon_days=2, alternatives=10)
    result = predict_optimal_time(activity(office_hours()), config, now)
    for window in [result["recommended_window"], *result["alternatives"]]:
        start = datetime.fromisoformat(window["start"])
        assert now + timedelta(hours=5) <= start < now + timedelta(hours=5, days=2)
        assert start.minute == 0


def test_reasoning_mentions_fixed_window_and_history() -> None:
    result = predict_optimal_time(activity(office_hours(), weeks=2), MaintenanceConfig(), MONDAY)
    text = " ".join(result["reasoning"])
    assert "fixed window (Saturday 02:00 UTC)" in text
    assert "Fewer than four weeks" in text


def test_no_activity_still_schedules() -> None:
    result = predict_optimal_time(activity(np.zeros(HOURS_PER_WEEK)), MaintenanceConfig(), MONDAY)
    assert result["recommended_window"] is not None
    assert result["expected_impact"] == 0.0


def test_naive_now_and_bad_duration_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        predict_optimal_time(activity(office_hours()), MaintenanceConfig(), datetime(2024, 6, 3))
    with pytest.raises(ValueError, match="duration_hours"):
        predict_optimal_time(activity(office_hours()), MaintenanceConfig(), MONDAY, 0)


def test_activity_validation() -> None:
    with pytest.raises(ValueError, match="168 values"):
        WeeklyActivity.from_counts({"active_users": [1.0] * 10})
    with pytest.raises(ValueError, match="non-negative"):
        WeeklyActivity.from_counts({"active_users": [-1.0] * HOURS_PER_WEEK})
    with pytest.raises(ValueError, match="at least one signal"):
        WeeklyActivity({})
    with pytest.raises(ValueError, match="no impact weight"):
        impact_by_hour(WeeklyActivity.from_counts({"stars": [1.0] * HOURS_PER_WEEK}))
    with pytest.raises(ValueError, match="between 0 and 1"):
        WindowParams(prior_weight=1.5)


def test_from_rows_turns_rates_back_into_counts() -> None:
    rows = [
        {
            "hour_of_week": h,
            "weeks_observed": 4 if h < 100 else 3,
            "active_users": 0.5,
            "workflow_runs": 1.0,
            "pr_merges": 0.0,
            "issue_activity": 0.25,
        }
        for h in range(HOURS_PER_WEEK)
    ]
    built = WeeklyActivity.from_rows(rows)
    assert built.weeks_observed == 4
    assert built.signals["active_users"][0] == 2.0 and built.signals["active_users"][150] == 1.5
    with pytest.raises(ValueError, match="168 rows"):
        WeeklyActivity.from_rows(rows[:-1])


def test_impact_is_the_design_weighted_score() -> None:
    counts = office_hours()
    only_users = WeeklyActivity({"active_users": counts}, 20)
    impact, _ = impact_by_hour(only_users)
    assert impact.max() == pytest.approx(0.4)  # one term, normalised by its maximum, weight 0.4
    full, _ = impact_by_hour(activity(counts))
    assert full.max() == pytest.approx(1.0) and full.min() >= 0


def test_expected_profile_shrinks_toward_smooth_prior() -> None:
    counts = office_hours()
    spiky = counts.copy()
    spiky[FIXED_WINDOW_START] += 40  # one freak burst on a Saturday night
    own, _ = expected_profile(spiky, WindowParams(prior_weight=0.0, smoothing_bandwidth=0))
    shrunk, _ = expected_profile(spiky, WindowParams(prior_weight=1.0))
    assert own.sum() == pytest.approx(1.0) and shrunk.sum() == pytest.approx(1.0)
    assert shrunk[FIXED_WINDOW_START] < own[FIXED_WINDOW_START] / 2


def test_align_and_pool_recover_shifts() -> None:
    base = office_hours(seed=1)
    for shift in (-7, 0, 5):
        _, found = align_template(np.roll(base, shift), base, 12)
        assert found == shift
    template = pooled_profile([office_hours(offset=o, seed=i) for i, o in enumerate((0, 3, -5))])
    assert template.sum() == pytest.approx(1.0) and template.shape == (HOURS_PER_WEEK,)
    with pytest.raises(ValueError, match="at least one repository"):
        pooled_profile([np.zeros(HOURS_PER_WEEK)])


def test_weekly_window_impacts_are_window_means() -> None:
    impact = np.arange(HOURS_PER_WEEK, dtype=float)
    means = weekly_window_impacts(impact, 3)
    assert means[0] == pytest.approx(1.0) and means[167] == pytest.approx((167 + 0 + 1) / 3)
    partial = weekly_window_impacts(impact, 1.5)
    assert partial[10] == pytest.approx((10 + 0.5 * 11) / 1.5)


def test_local_labels_use_the_configured_zone() -> None:
    config = MaintenanceConfig(time_zone="Asia/Kolkata")
    result = predict_optimal_time(activity(office_hours()), config, MONDAY)
    start_local = local(result)
    assert start_local.utcoffset() == timedelta(hours=5, minutes=30)
    assert start_local == datetime.fromisoformat(result["recommended_window"]["start"]).astimezone(
        ZoneInfo("Asia/Kolkata")
    )


def test_activity_and_template_from_the_export_layout() -> None:
    def entry(offset: int, weeks: int) -> dict[str, Any]:
        rates = (office_hours(offset=offset, seed=abs(offset)) / 20).tolist()
        return {"weeks_observed": weeks, **{name: rates for name in IMPACT_WEIGHTS}, "impact_score": rates}

    export = {"o/a": entry(0, 10), "o/b": entry(3, 30), "o/empty": {**entry(0, 0), "weeks_observed": 0}}
    built = activity_from_export(export["o/b"])
    assert built.weeks_observed == 30
    assert built.signals["pr_merges"].sum() == pytest.approx(sum(export["o/b"]["pr_merges"]) * 30)
    template = organisation_template(export)
    assert template is not None and template.sum() == pytest.approx(1.0)
    result = predict_optimal_time(built, MaintenanceConfig(), MONDAY, template=template)
    assert result["estimator"]["template_shift_hours"] is not None
    assert organisation_template({"o/empty": export["o/empty"]}) is None
    with pytest.raises(ValueError, match="no observed week"):
        activity_from_export(export["o/empty"])
