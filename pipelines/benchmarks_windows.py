"""``repopilot benchmark windows``: learned maintenance windows against the design's fixed one.

Events are the pull requests of the ``pullreqs`` table: each one opened (``created_at``), merged
(``merged_at``) and closed (``closed_at``); naive timestamps are UTC. For every repository with at
least ``min_events`` events, its last ``holdout_weeks`` weeks (up to its last event) are held out,
a weekly window of ``window_hours`` is chosen from the activity before them, and the disruption
of a window is the share of the held-out events that fall inside it (any week, same hour of week).

Repositories are split once by a hash of their name: the tuning half selects the estimator's
hyperparameters (on its last six eight-week periods, each predicted from the weeks before it, to
lower the noise of the choice), and the other half is reported as unseen. The chosen windows of the
reported figures come from :func:`actions.maintenance.windows.predict_optimal_time`, the function
the maintenance action calls; the raw argmin of counts and a simple smoothing are reported beside
them for comparison.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from actions.maintenance.config import MaintenanceConfig
from actions.maintenance.windows import (
    FIXED_WINDOW_START,
    HOURS_PER_WEEK,
    Vector,
    WeeklyActivity,
    WindowParams,
    hour_of_week,
    impact_by_hour,
    pooled_profile,
    predict_optimal_time,
    weekly_window_impacts,
)

_EPOCH_HOUR_OF_WEEK = 72
"""1970-01-01 was a Thursday: epoch hour 0 is hour 72 of the week (Monday 00:00 is 0)."""
_WEIGHTS = {"events": 1.0}
TUNING_ORIGINS = 6
"""Eight-week periods, counted back from each tuning repository's last event, used for tuning."""

# The prior weight stays below 1 by design: the repository's own hour-of-week shares must keep
# some weight, or a slot that is quiet only on one particular weekday could never be chosen.
PARAM_GRID: dict[str, tuple[float, ...]] = {
    "prior_weight": (0.8, 0.9),
    "template_weight": (0.0, 0.3, 0.7),
    "day_type_bandwidth": (1.0, 2.0),
    "smoothing_bandwidth": (1.0, 2.0),
}


def is_tuning_repository(repo: str) -> bool:
    """The fixed, deterministic tuning half: the first byte of the name's SHA-256 is even."""
    return hashlib.sha256(repo.encode("utf-8")).digest()[0] % 2 == 0


def load_event_hours(path: Path, min_events: int) -> tuple[dict[str, np.ndarray[Any, Any]], int]:
    """Epoch hours of every event of each repository with at least ``min_events`` events.

    Returns:
        The events by repository (sorted), and the number of repositories in the table.
    """
    frame = pl.read_parquet(path, columns=["repo", "created_at", "merged_at", "closed_at"])
    events = pl.concat(
        [
            frame.select("repo", pl.col(column).alias("at"))
            for column in ("created_at", "merged_at", "closed_at")
        ]
    ).drop_nulls()
    at = pl.col("at")
    if events.schema["at"] == pl.Datetime("us"):
        at = at.dt.replace_time_zone("UTC")
    hours = events.select("repo", (at.dt.epoch("s") // 3600).alias("hour"))
    out: dict[str, np.ndarray[Any, Any]] = {}
    for (repo,), group in hours.group_by(["repo"]):
        if group.height >= min_events:
            out[str(repo)] = np.sort(group["hour"].to_numpy())
    return dict(sorted(out.items())), frame["repo"].n_unique()


def _week_counts(hours: np.ndarray[Any, Any]) -> Vector:
    return np.bincount((hours + _EPOCH_HOUR_OF_WEEK) % HOURS_PER_WEEK, minlength=HOURS_PER_WEEK).astype(
        np.float64
    )


@dataclass(frozen=True)
class Case:
    """One repository at one forecast origin: counts before the held-out weeks, and in them."""

    repo: str
    train: Vector
    held_out: Vector
    origin_hour: int
    weeks_observed: float


def make_cases(
    events: dict[str, np.ndarray[Any, Any]], holdout_weeks: int, origin: int = 0
) -> tuple[list[Case], int]:
    """Cases at the ``origin``-th held-out period back from each repository's last event.

    Returns:
        The cases with events on both sides, and how many repositories had none on one side.
    """
    cases: list[Case] = []
    skipped = 0
    span = holdout_weeks * HOURS_PER_WEEK
    for repo, hours in events.items():
        end = int(hours[-1]) + 1 - origin * span
        start = end - span
        train = hours[hours < start]
        held = hours[(hours >= start) & (hours < end)]
        if not train.size or not held.size:
            skipped += 1
            continue
        weeks = max((start - int(train[0])) / HOURS_PER_WEEK, 1.0)
        cases.append(Case(repo, _week_counts(train), _week_counts(held), start, weeks))
    return cases, skipped


def _window_sums(values: Vector, hours: int) -> Vector:
    return np.asarray(sum(np.roll(values, -k) for k in range(hours)), dtype=np.float64)


def raw_argmin(case: Case, hours: int) -> int:
    """The window with the fewest past events (ties: the earliest hour of the week)."""
    return int(np.argmin(_window_sums(case.train, hours)))


def simple_smoothing(case: Case, hours: int) -> int:
    """Half own counts, half the weekday or weekend mean of the hour, then a [1, 2, 1] smoothing."""
    days = case.train.reshape(7, 24)
    pooled = np.concatenate([np.tile(days[:5].mean(axis=0), 5), np.tile(days[5:].mean(axis=0), 2)])
    mixed = 0.5 * case.train + 0.5 * pooled
    smoothed = (np.roll(mixed, 1) + 2 * mixed + np.roll(mixed, -1)) / 4
    return int(np.argmin(_window_sums(smoothed, hours)))


def learned_fast(case: Case, hours: int, params: WindowParams, template: Vector | None) -> int:
    """The weekly start :func:`predict_optimal_time` ranks first, without building its result."""
    impact, _ = impact_by_hour(
        WeeklyActivity({"events": case.train}, case.weeks_observed), params, template, _WEIGHTS
    )
    return int(np.argmin(weekly_window_impacts(impact, hours)))


def learned(case: Case, hours: int, params: WindowParams, template: Vector | None) -> int:
    """The weekly start of the window the maintenance action would open (unconstrained config)."""
    config = MaintenanceConfig(window_hours=hours, min_lead_hours=0, horizon_days=7, alternatives=0)
    now = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=case.origin_hour)
    result = predict_optimal_time(
        WeeklyActivity({"events": case.train}, case.weeks_observed),
        config,
        now,
        float(hours),
        template=template,
        params=params,
        weights=_WEIGHTS,
    )
    window = result["recommended_window"]
    return hour_of_week(datetime.fromisoformat(window["start"]))


def _shares(case: Case, start: int, hours: int) -> float:
    inside = case.held_out[(start + np.arange(hours)) % HOURS_PER_WEEK].sum()
    return float(inside / case.held_out.sum())


def summarise(
    cases: list[Case], starts: list[int], hours: int, *, bootstrap: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Mean disruption of the chosen and of the fixed windows, their ratio and the share not worse."""
    if not cases:
        return {"repositories": 0}
    learned_share = np.array([_shares(c, s, hours) for c, s in zip(cases, starts, strict=True)])
    fixed_share = np.array([_shares(c, FIXED_WINDOW_START, hours) for c in cases])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(cases), size=(bootstrap, len(cases)))
    ratios = learned_share[draws].mean(axis=1) / np.maximum(fixed_share[draws].mean(axis=1), 1e-12)
    fixed_mean = float(fixed_share.mean())
    return {
        "learned_disruption_mean": round(float(learned_share.mean()), 6),
        "fixed_disruption_mean": round(fixed_mean, 6),
        "ratio": round(float(learned_share.mean()) / fixed_mean, 4) if fixed_mean > 0 else None,
        "ratio_ci95": [round(float(q), 4) for q in np.quantile(ratios, [0.025, 0.975])],
        "share_not_worse": round(float(np.mean(learned_share <= fixed_share)), 4),
        "share_zero_disruption": round(float(np.mean(learned_share == 0)), 4),
        "repositories": len(cases),
        "held_out_events": int(sum(c.held_out.sum() for c in cases)),
    }


def _tune(
    events: dict[str, np.ndarray[Any, Any]], holdout_weeks: int, hours: int
) -> tuple[WindowParams, list[dict[str, Any]]]:
    """The grid point with the lowest mean ratio over the tuning repositories' last periods."""
    origins = []
    for origin in range(TUNING_ORIGINS):
        cases, _ = make_cases(events, holdout_weeks, origin)
        origins.append((cases, pooled_profile([c.train for c in cases])))
    grid: list[dict[str, Any]] = []
    for prior, share, day_type, smoothing in itertools.product(*PARAM_GRID.values()):
        params = WindowParams(
            prior_weight=prior,
            template_weight=share,
            day_type_bandwidth=day_type,
            smoothing_bandwidth=smoothing,
        )
        ratios = []
        for cases, template in origins:
            starts = [learned_fast(c, hours, params, template) for c in cases]
            ratios.append(summarise(cases, starts, hours, bootstrap=1)["ratio"])
        grid.append(
            {"params": asdict(params), "ratios": ratios, "mean_ratio": round(float(np.mean(ratios)), 4)}
        )
    best = min(grid, key=lambda row: row["mean_ratio"])
    return WindowParams(**best["params"]), grid


def run_windows_benchmark(
    data: Path,
    json_path: Path | None = None,
    *,
    min_events: int = 300,
    holdout_weeks: int = 8,
    window_hours: int = 3,
    tune: bool = True,
    echo: bool = True,
) -> dict[str, Any]:
    """Choose weekly windows on the tuning and unseen repositories and compare with the fixed one.

    Args:
        data: a ``pullreqs``-layout parquet file.
        json_path: where to write the report.
        min_events: fewest events (opened, merged, closed) for a repository to count.
        holdout_weeks: weeks held out at the end of each repository's history.
        window_hours: length of the weekly window.
        tune: select the hyperparameters on the tuning repositories (else the action's defaults).
        echo: print the figures.

    Returns:
        The report: the unseen repositories' figures at the top level (``learned_disruption_mean``,
        ``fixed_disruption_mean``, ``ratio``, ``share_not_worse``, counts), ``unseen``, ``tuning``
        and ``all`` with every variant, the selected parameters, the grid and ``seconds``.
    """
    started = time.perf_counter()
    events, total = load_event_hours(data, min_events)
    if not events:
        raise ValueError(f"no repository in {data} has {min_events} events")
    tuning_events = {repo: hours for repo, hours in events.items() if is_tuning_repository(repo)}
    unseen_events = {repo: hours for repo, hours in events.items() if not is_tuning_repository(repo)}
    if tune and tuning_events:
        params, grid = _tune(tuning_events, holdout_weeks, window_hours)
    else:
        params, grid = WindowParams(), []

    tuning_cases, tuning_skipped = make_cases(tuning_events, holdout_weeks)
    unseen_cases, unseen_skipped = make_cases(unseen_events, holdout_weeks)
    # The organisation-wide prior comes from the tuning repositories' weeks before their held-out
    # period, so nothing of an unseen repository, nor of any held-out week, shapes it.
    template = pooled_profile([c.train for c in tuning_cases]) if tuning_cases else None

    variants: dict[str, Callable[[Case], int]] = {
        "learned": lambda c: learned(c, window_hours, params, template),
        "learned_without_template": lambda c: learned(c, window_hours, params, None),
        "raw_argmin": lambda c: raw_argmin(c, window_hours),
        "simple_smoothing": lambda c: simple_smoothing(c, window_hours),
    }

    def section(cases: list[Case]) -> dict[str, Any]:
        figures = {
            name: summarise(cases, [choose(c) for c in cases], window_hours)
            for name, choose in variants.items()
        }
        return {**figures["learned"], "variants": {k: v for k, v in figures.items() if k != "learned"}}

    unseen = section(unseen_cases)
    tuning = section(tuning_cases)
    overall = section(tuning_cases + unseen_cases)
    report: dict[str, Any] = {
        **{key: unseen.get(key) for key in ("learned_disruption_mean", "fixed_disruption_mean", "ratio")},
        "share_not_worse": unseen.get("share_not_worse"),
        "repositories_in_table": total,
        "repositories_with_min_events": len(events),
        "repositories_evaluated": {"unseen": len(unseen_cases), "tuning": len(tuning_cases)},
        "repositories_skipped_no_events_on_one_side": {"unseen": unseen_skipped, "tuning": tuning_skipped},
        "unseen": unseen,
        "tuning": tuning,
        "all": overall,
        "targets": {"ratio_at_most": 0.5, "share_not_worse_at_least": 0.9, "on": "unseen"},
        "protocol": {
            "events": "pull request opened (created_at), merged (merged_at), closed (closed_at); naive = UTC",
            "min_events": min_events,
            "holdout_weeks": holdout_weeks,
            "window_hours": window_hours,
            "fixed_window": "Saturday 02:00-05:00 UTC",
            "split": "tuning if the first byte of sha256(repo) is even, else unseen",
            "tuning_origins": TUNING_ORIGINS if tune else 0,
            "top_level": "the unseen repositories' figures",
        },
        "selected_params": asdict(params),
        "tuning_grid": grid,
        "seconds": 0.0,
    }
    report["seconds"] = round(time.perf_counter() - started, 2)
    if echo:
        _print(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _print(report: dict[str, Any]) -> None:
    evaluated = report["repositories_evaluated"]
    print(
        f"repositories: {report['repositories_with_min_events']} with enough events; evaluated "
        f"{evaluated['unseen']} unseen, {evaluated['tuning']} tuning"
    )
    print(f"selected: {report['selected_params']}")
    header = (
        f"{'':<10} {'variant':<26} {'learned':>9} {'fixed':>9} {'ratio':>7} {'95% CI':>15} {'not worse':>9}"
    )
    print(header)
    for name in ("unseen", "tuning"):
        section = report[name]
        rows = {"learned": section, **section["variants"]}
        for variant, row in rows.items():
            ci = row["ratio_ci95"]
            print(
                f"{name:<10} {variant:<26} {row['learned_disruption_mean']:>9.5f} "
                f"{row['fixed_disruption_mean']:>9.5f} {row['ratio']:>7.3f} "
                f"{f'[{ci[0]:.2f}, {ci[1]:.2f}]':>15} {row['share_not_worse']:>9.3f}"
            )
    print(f"seconds: {report['seconds']}")
