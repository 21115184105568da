"""Maintenance windows: the design's ``predict_optimal_time``, learned from activity by hour of week.

A repository's activity is a set of signals (active users, workflow runs, pull request merges,
issue activity: the terms of ``features.activity_by_hour``), each counted in the 168 hours of the
week (UTC, Monday 00:00 is hour 0). The raw counts of one repository are a poor guide to next
week: most hours hold a handful of events, and the argmin of raw counts picks an hour that was
empty by chance. :func:`expected_profile` therefore estimates each hour's share of a future
week's events by shrinking the repository's own shares toward a smooth prior:

* the repository's day-type profile (weekdays pooled, weekend days pooled, each smoothed over
  neighbouring hours of the day), and, when an organisation-wide template is given
  (:func:`pooled_profile`), that template shifted to the repository's own time of day (the circular
  shift of maximum likelihood, so a team in another time zone gets its own night);
* the mixture is smoothed once more across neighbouring hours of the week, which also absorbs the
  one-hour moves of daylight saving time.

Signals are combined into the design's impact score (each term divided by its maximum, weighted
0.4 / 0.3 / 0.2 / 0.1), a window's expected impact is the mean impact of the hours it covers, and
:func:`predict_optimal_time` ranks the concrete windows of the coming days under the configuration
(preferred days and hours in the configured time zone, avoided dates, public holidays, lead
time). The benchmark (``repopilot benchmark windows``) chooses its windows through the same
function, so the figures it reports are those of this code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actions.maintenance.config import WEEKDAYS, HolidayConfig, MaintenanceConfig

HOURS_PER_WEEK = 168

IMPACT_WEIGHTS: dict[str, float] = {
    "active_users": 0.4,
    "workflow_runs": 0.3,
    "pr_merges": 0.2,
    "issue_activity": 0.1,
}
"""The design's weights of the normalised terms (the same as ``pipelines.features.activity``)."""

FIXED_WINDOW_START = 5 * 24 + 2
"""The design's fixed window starts on Saturday at 02:00 UTC (hour of week 122)."""

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class WindowParams:
    """Hyperparameters of :func:`expected_profile`.

    The defaults are those ``repopilot benchmark windows`` selects on its tuning repositories
    (a fixed half of the repositories, by hash of the name); the other half is reported as unseen.
    """

    prior_weight: float = 0.9
    """Share of the smooth prior in the estimate; the rest is the repository's own hour-of-week
    shares, so a slot that is quiet every week on one particular day is still found."""
    template_weight: float = 0.7
    """Share of the aligned organisation template in the prior when a template is given."""
    day_type_bandwidth: float = 2.0
    """Gaussian bandwidth (hours) of the day-type profile's smoothing over the hour of day."""
    smoothing_bandwidth: float = 1.0
    """Gaussian bandwidth (hours) of the final smoothing over the hour of week."""
    max_shift_hours: int = 12
    """Largest shift (either way) when aligning the template to the repository."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.prior_weight <= 1.0 or not 0.0 <= self.template_weight <= 1.0:
            raise ValueError("prior_weight and template_weight must be between 0 and 1")
        if self.day_type_bandwidth < 0 or self.smoothing_bandwidth < 0:
            raise ValueError("bandwidths must not be negative")
        if not 0 <= self.max_shift_hours <= 84:
            raise ValueError("max_shift_hours must be between 0 and 84")


DEFAULT_PARAMS = WindowParams()


@dataclass(frozen=True)
class WeeklyActivity:
    """Events of one repository in each hour of the week, summed over ``weeks_observed`` weeks."""

    signals: Mapping[str, Vector]
    weeks_observed: float = field(default=1.0)

    def __post_init__(self) -> None:
        if not self.signals:
            raise ValueError("activity needs at least one signal")
        if not math.isfinite(self.weeks_observed) or self.weeks_observed <= 0:
            raise ValueError("weeks_observed must be a positive number")
        for name, values in self.signals.items():
            if values.shape != (HOURS_PER_WEEK,):
                raise ValueError(f"signal {name!r} needs {HOURS_PER_WEEK} values, one per hour of the week")
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise ValueError(f"signal {name!r} must hold finite, non-negative counts")

    @classmethod
    def from_counts(
        cls, counts: Mapping[str, Sequence[float]], weeks_observed: float = 1.0
    ) -> WeeklyActivity:
        """Activity from total counts per hour of week."""
        return cls(
            {name: np.asarray(values, dtype=np.float64) for name, values in counts.items()}, weeks_observed
        )

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, Any]], signals: Iterable[str] = IMPACT_WEIGHTS
    ) -> WeeklyActivity:
        """Activity from one repository's rows of ``features.activity_by_hour`` (rates per week).

        Each row holds ``hour_of_week``, ``weeks_observed`` and the average of every signal in that
        hour; the averages are turned back into counts so that sparse hours are weighed as such.
        """
        names = list(signals)
        counts = {name: np.zeros(HOURS_PER_WEEK) for name in names}
        weeks = np.zeros(HOURS_PER_WEEK)
        seen: set[int] = set()
        for row in rows:
            hour = int(row["hour_of_week"])
            if not 0 <= hour < HOURS_PER_WEEK or hour in seen:
                raise ValueError(f"hour_of_week {hour} is out of range or repeated")
            seen.add(hour)
            weeks[hour] = float(row["weeks_observed"])
            for name in names:
                counts[name][hour] = float(row[name]) * weeks[hour]
        if len(seen) != HOURS_PER_WEEK:
            raise ValueError(
                f"activity needs {HOURS_PER_WEEK} rows, one per hour of the week, not {len(seen)}"
            )
        return cls(counts, max(float(weeks.max()), 1.0))


def activity_from_export(entry: Mapping[str, Any], signals: Iterable[str] = IMPACT_WEIGHTS) -> WeeklyActivity:
    """A repository's activity from its entry in the ``activity`` export (168 rates per signal).

    The rates are averages over ``weeks_observed`` weeks; they are turned back into counts so
    that a repository observed for a few weeks is shrunk harder than one observed for years.
    """
    weeks = float(entry["weeks_observed"])
    if weeks <= 0:
        raise ValueError("the repository has no observed week of activity")
    return WeeklyActivity.from_counts(
        {name: [float(value) * weeks for value in entry[name]] for name in signals}, weeks
    )


def organisation_template(repositories: Mapping[str, Mapping[str, Any]]) -> Vector | None:
    """The pooled profile of every repository of the ``activity`` export with some activity.

    Each repository contributes the sum of its signals' counts; None when no repository has any.
    """
    profiles = []
    for entry in repositories.values():
        if float(entry.get("weeks_observed", 0)) <= 0:
            continue
        counts = activity_from_export(entry)
        profiles.append(np.sum(list(counts.signals.values()), axis=0))
    profiles = [p for p in profiles if float(p.sum()) > 0]
    return pooled_profile(profiles) if profiles else None


def _smooth(values: Vector, bandwidth: float, period: int) -> Vector:
    """Circular Gaussian smoothing over the last axis, whose length is a multiple of ``period``."""
    if bandwidth <= 0:
        return values
    reach = math.ceil(3 * bandwidth)
    offsets = np.arange(-reach, reach + 1)
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2)
    kernel /= kernel.sum()
    shaped = values.reshape(-1, period)
    # Column j of the gathered block holds the values `offset` hours before each hour.
    gathered = shaped[:, (np.arange(period)[:, None] - offsets[None, :]) % period]
    return np.asarray(gathered @ kernel, dtype=np.float64).reshape(values.shape)


def _normalised(values: Vector) -> Vector:
    total = float(values.sum())
    if total <= 0:
        return np.full(values.shape, 1.0 / values.size)
    return values / total


def day_type_profile(counts: Vector, bandwidth: float) -> Vector:
    """Shares of the week's events when weekdays are pooled and weekend days are pooled (UTC)."""
    days = counts.reshape(7, 24)
    weekday = _smooth(days[:5].mean(axis=0), bandwidth, 24)
    weekend = _smooth(days[5:].mean(axis=0), bandwidth, 24)
    return _normalised(np.concatenate([np.tile(weekday, 5), np.tile(weekend, 2)]))


def align_template(counts: Vector, template: Vector, max_shift: int) -> tuple[Vector, int]:
    """The circular shift of ``template`` under which ``counts`` are most likely, and that shift."""
    log_template = np.log(_normalised(template) + 1e-6)
    shifts = np.arange(-max_shift, max_shift + 1)
    # Row k is the template rolled by shifts[k] hours, as np.roll would give it.
    rolled = log_template[(np.arange(HOURS_PER_WEEK)[None, :] - shifts[:, None]) % HOURS_PER_WEEK]
    likelihood = rolled @ counts
    # Ties (no events at all) keep the template where it is.
    best = int(shifts[np.argmax(likelihood)]) if counts.sum() > 0 else 0
    return _normalised(np.roll(template, best)), best


def pooled_profile(profiles: Sequence[Vector], iterations: int = 5, bandwidth: float = 1.0) -> Vector:
    """An organisation-wide template: repositories' shares of activity, aligned and averaged.

    Repositories of one organisation may work in different time zones, so each is shifted to the
    common template before averaging (a few rounds of alignment, starting from the plain mean).

    Args:
        profiles: counts per hour of week of each repository (repositories without events are skipped).
        iterations: rounds of alignment.
        bandwidth: smoothing of the template over the hour of week.

    Returns:
        168 shares summing to 1.
    """
    shares = [_normalised(np.asarray(p, dtype=np.float64)) for p in profiles if float(np.sum(p)) > 0]
    if not shares:
        raise ValueError("a pooled profile needs at least one repository with activity")
    matrix = np.stack(shares)
    template = _smooth(matrix.mean(axis=0), bandwidth, HOURS_PER_WEEK)
    for _ in range(iterations):
        shifts = [align_template(row, template, 12)[1] for row in matrix]
        aligned = np.stack([np.roll(row, -shift) for row, shift in zip(matrix, shifts, strict=True)])
        template = _smooth(aligned.mean(axis=0), bandwidth, HOURS_PER_WEEK)
    return _normalised(template)


def expected_profile(
    counts: Vector, params: WindowParams = DEFAULT_PARAMS, template: Vector | None = None
) -> tuple[Vector, int | None]:
    """Expected share of a future week's events in each hour of the week (sums to 1).

    Args:
        counts: events in each hour of the week over the observed weeks.
        params: the estimator's hyperparameters.
        template: an organisation-wide profile (:func:`pooled_profile`) to shrink toward, if any.

    Returns:
        The shares, and the shift (hours) applied to the template (None without a template).
    """
    prior = day_type_profile(counts, params.day_type_bandwidth)
    shift: int | None = None
    if template is not None:
        aligned, shift = align_template(counts, template, params.max_shift_hours)
        prior = params.template_weight * aligned + (1 - params.template_weight) * prior
    estimate = params.prior_weight * prior + (1 - params.prior_weight) * _normalised(counts)
    return _normalised(_smooth(estimate, params.smoothing_bandwidth, HOURS_PER_WEEK)), shift


def impact_by_hour(
    activity: WeeklyActivity,
    params: WindowParams = DEFAULT_PARAMS,
    template: Vector | None = None,
    weights: Mapping[str, float] = IMPACT_WEIGHTS,
) -> tuple[Vector, int | None]:
    """The design's impact score of each hour of the week, from the expected profile of each signal.

    Each signal's expected rate is divided by its maximum over the week and weighted; a signal
    with no events contributes 0 (as in ``features.activity_by_hour``).

    Returns:
        168 scores in [0, 1], and the template shift of the most heavily weighted active signal.
    """
    unknown = sorted(set(activity.signals) - set(weights))
    if unknown:
        raise ValueError(f"no impact weight for signal(s) {unknown}")
    impact = np.zeros(HOURS_PER_WEEK)
    shift: int | None = None
    for name, weight in sorted(weights.items(), key=lambda item: -item[1]):
        counts = activity.signals.get(name)
        if counts is None or counts.sum() <= 0:
            continue
        profile, signal_shift = expected_profile(counts, params, template)
        shift = signal_shift if shift is None else shift
        impact += weight * profile / profile.max()
    return impact, shift


def hour_of_week(moment: datetime) -> int:
    """Hour of the week (UTC, Monday 00:00 is 0) of an aware datetime."""
    utc = moment.astimezone(UTC)
    return utc.weekday() * 24 + utc.hour


def _hour_weights(duration_hours: float) -> Vector:
    """How much of each hour a window of this length covers (the last hour may be partial)."""
    whole = math.ceil(duration_hours)
    weights = np.ones(whole)
    weights[-1] = duration_hours - (whole - 1)
    return weights


def weekly_window_impacts(impact: Vector, duration_hours: float) -> Vector:
    """Mean impact per hour of the window starting at each of the 168 hours of the week."""
    weights = _hour_weights(duration_hours)
    total = np.zeros(HOURS_PER_WEEK)
    for offset, weight in enumerate(weights):
        total += weight * np.roll(impact, -offset)
    return total / duration_hours


@lru_cache(maxsize=32)
def _holiday_names(holidays: HolidayConfig, first_year: int, last_year: int) -> dict[date, str]:
    calendar = holidays.calendar(range(first_year, last_year + 1))
    return {} if calendar is None else {day: str(name) for day, name in calendar.items()}


@dataclass
class _Candidate:
    start: datetime
    end: datetime
    impact: float
    local_dates: set[date]
    local_hours: set[int]
    start_day: str


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _describe(candidate: _Candidate, config: MaintenanceConfig, rank: int | None = None) -> dict[str, Any]:
    zone = config.zone
    out: dict[str, Any] = {
        "start": _iso(candidate.start.astimezone(UTC)),
        "end": _iso(candidate.end.astimezone(UTC)),
        "start_local": _iso(candidate.start.astimezone(zone)),
        "end_local": _iso(candidate.end.astimezone(zone)),
        "time_zone": config.time_zone,
        "day": candidate.start_day,
        "expected_impact": round(candidate.impact, 4),
    }
    if rank is not None:
        out = {"rank": rank, **out}
    return out


def _label(candidate: _Candidate, config: MaintenanceConfig) -> str:
    local_start = candidate.start.astimezone(config.zone)
    local_end = candidate.end.astimezone(config.zone)
    utc_start = candidate.start.astimezone(UTC)
    utc_end = candidate.end.astimezone(UTC)
    return (
        f"{local_start:%A %Y-%m-%d %H:%M}–{local_end:%H:%M} {config.time_zone} "
        f"({utc_start:%a %H:%M}–{utc_end:%H:%M} UTC)"
    )


def _hour_ranges(hours: Sequence[int]) -> str:
    ranges: list[str] = []
    start = previous = hours[0]
    for hour in [*hours[1:], None]:
        if hour is not None and hour == previous + 1:
            previous = hour
            continue
        ranges.append(f"{start:02d}:00–{previous + 1:02d}:00")
        if hour is not None:
            start = previous = hour
    return ", ".join(ranges)


def predict_optimal_time(
    activity: WeeklyActivity,
    config: MaintenanceConfig,
    now: datetime,
    duration_hours: float | None = None,
    *,
    template: Vector | None = None,
    params: WindowParams = DEFAULT_PARAMS,
    weights: Mapping[str, float] = IMPACT_WEIGHTS,
) -> dict[str, Any]:
    """The quietest maintenance window of the coming days, with alternatives and the reasoning.

    Windows start on whole UTC hours from ``now`` plus the configured lead time, within the
    configured horizon. Windows that touch an avoided date or a public holiday (local dates) are
    never chosen; windows outside the preferred days (of their start) and hours (every local
    hour they touch) are chosen only when no window satisfies the preferences, and the reasoning
    says so.

    Args:
        activity: the repository's activity by hour of week.
        config: the maintenance configuration.
        now: the current time (timezone-aware).
        duration_hours: the window's length (default: the configured ``window_hours``).
        template: an organisation-wide profile to shrink toward (see :func:`pooled_profile`).
        params: the estimator's hyperparameters.
        weights: impact weights of the signals.

    Returns:
        ``recommended_window`` (``start``/``end`` in UTC and ``start_local``/``end_local`` in the
        configured zone, ISO 8601; None when every window is excluded), ``expected_impact`` (mean
        impact score per hour, 0 quiet to 1 busiest), ``alternatives`` (non-overlapping, ranked by
        impact), ``reasoning`` (sentences), ``excluded`` (holidays and avoided dates met, windows
        outside the preferences) and ``estimator`` (how the profile was estimated).

    Raises:
        ValueError: for a naive ``now``, a bad duration or malformed activity.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    duration = config.window_hours if duration_hours is None else float(duration_hours)
    if not 0 < duration <= 24:
        raise ValueError("duration_hours must be more than 0 and at most 24")
    impact, shift = impact_by_hour(activity, params, template, weights)
    window_impacts = weekly_window_impacts(impact, duration)
    zone = config.zone

    earliest = now.astimezone(UTC) + timedelta(hours=config.min_lead_hours)
    first = earliest.replace(minute=0, second=0, microsecond=0)
    if first < earliest:
        first += timedelta(hours=1)
    horizon = earliest + timedelta(days=config.horizon_days)
    steps = [timedelta(hours=float(k)) for k in range(math.ceil(duration))] + [
        timedelta(hours=duration) - timedelta(seconds=1)
    ]
    local_first = (first.astimezone(zone) - timedelta(days=1)).year
    holiday_names = _holiday_names(config.holidays, local_first, (horizon + timedelta(days=2)).year)
    avoided = set(config.avoided_dates)

    allowed: list[_Candidate] = []
    outside: list[_Candidate] = []
    holidays_met: dict[date, str] = {}
    avoided_met: set[date] = set()
    start = first
    while start < horizon:
        local_points = [(start + step).astimezone(zone) for step in steps]
        candidate = _Candidate(
            start=start,
            end=start + timedelta(hours=duration),
            impact=float(window_impacts[hour_of_week(start)]),
            local_dates={point.date() for point in local_points},
            local_hours={point.hour for point in local_points},
            start_day=WEEKDAYS[local_points[0].weekday()],
        )
        start += timedelta(hours=1)
        hit_holidays = {day: holiday_names[day] for day in candidate.local_dates if day in holiday_names}
        hit_avoided = candidate.local_dates & avoided
        if hit_holidays or hit_avoided:
            holidays_met.update(hit_holidays)
            avoided_met |= hit_avoided
            continue
        preferred = candidate.start_day in config.preferred_days and candidate.local_hours <= set(
            config.preferred_hours
        )
        (allowed if preferred else outside).append(candidate)

    relaxed = not allowed and bool(outside)
    pool = sorted(allowed or outside, key=lambda c: (c.impact, c.start))
    chosen: list[_Candidate] = []
    for candidate in pool:
        if all(candidate.end <= other.start or candidate.start >= other.end for other in chosen):
            chosen.append(candidate)
        if len(chosen) > config.alternatives:
            break

    reasoning: list[str] = []
    signals = sorted(name for name, counts in activity.signals.items() if counts.sum() > 0)
    estimator = {
        "weeks_observed": activity.weeks_observed,
        "signals": signals,
        "template_shift_hours": shift,
        "params": asdict(params),
    }
    excluded = {
        "holidays": [{"date": day.isoformat(), "name": name} for day, name in sorted(holidays_met.items())],
        "avoided_dates": sorted(day.isoformat() for day in avoided_met),
        "outside_preferences": len(outside) if allowed else 0,
    }
    if not chosen:
        reasoning.append(
            f"No window of {duration:g} hours between {_iso(earliest)} and {_iso(horizon)} UTC avoids the "
            "holidays and avoided dates; widen the horizon or shorten the task."
        )
        return {
            "recommended_window": None,
            "expected_impact": None,
            "alternatives": [],
            "reasoning": reasoning,
            "excluded": excluded,
            "estimator": estimator,
        }

    best, others = chosen[0], chosen[1:]
    considered = allowed or outside
    median = float(np.median([c.impact for c in considered]))
    reasoning.append(
        f"{_label(best, config)} has the lowest expected impact ({best.impact:.3f} on a scale where the "
        f"week's busiest hour is 1) of {len(considered)} candidate windows of {duration:g} hours in the next "
        f"{config.horizon_days} days (median {median:.3f})."
    )
    basis = "the day-type profile (weekdays and weekend days pooled)"
    if template is not None:
        basis += f" and the organisation's pooled profile shifted by {shift:+d} hours to this repository"
    reasoning.append(
        f"Expected activity comes from {activity.weeks_observed:g} weeks of "
        f"{', '.join(signals) or 'no recorded activity'}, smoothed toward {basis}."
    )
    if activity.weeks_observed < 4:
        reasoning.append(
            "Fewer than four weeks of history were observed, so the estimate leans on the prior."
        )
    fixed = float(window_impacts[FIXED_WINDOW_START])
    reasoning.append(
        f"The design's fixed window (Saturday 02:00 UTC) would have expected impact {fixed:.3f}."
    )
    if holidays_met:
        names = "; ".join(f"{day.isoformat()} {name}" for day, name in sorted(holidays_met.items()))
        where = "-".join(part for part in (config.holidays.country, config.holidays.subdivision) if part)
        reasoning.append(f"Windows touching public holidays ({where}) were skipped: {names}.")
    if avoided_met:
        reasoning.append(
            "Windows touching avoided dates were skipped: "
            f"{', '.join(day.isoformat() for day in sorted(avoided_met))}."
        )
    restricted_days = len(config.preferred_days) < len(WEEKDAYS)
    restricted_hours = len(config.preferred_hours) < 24
    if restricted_days or restricted_hours:
        wanted = []
        if restricted_days:
            wanted.append("days " + ", ".join(config.preferred_days))
        if restricted_hours:
            wanted.append("hours " + _hour_ranges(config.preferred_hours))
        if relaxed:
            reasoning.append(
                f"No window fits the preferred {' and '.join(wanted)} ({config.time_zone}); the preferences "
                "were relaxed."
            )
        else:
            reasoning.append(
                f"Only windows within the preferred {' and '.join(wanted)} ({config.time_zone}) were "
                f"considered; {len(outside)} windows outside them were not."
            )
    if others:
        reasoning.append(
            "Alternatives, not overlapping the chosen window: "
            + "; ".join(f"{_label(c, config)} ({c.impact:.3f})" for c in others)
            + "."
        )
    return {
        "recommended_window": {**_describe(best, config), "duration_hours": duration},
        "expected_impact": round(best.impact, 4),
        "alternatives": [_describe(c, config, rank) for rank, c in enumerate(others, start=1)],
        "reasoning": reasoning,
        "excluded": excluded,
        "estimator": estimator,
    }
