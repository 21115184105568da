"""Altair charts of the dashboard's frames (no Streamlit, so the notebooks can draw them too)."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from actions.prediction.explain import RISK_LEVELS
from dashboards.data import DAY_NAMES, FAILURE_CLASS_ORDER

RISK_COLOURS = ["#2e7d32", "#f9a825", "#ef6c00", "#c62828"]


def success_trend(weekly: pl.DataFrame, overall: pl.DataFrame | None = None) -> alt.LayerChart | alt.Chart:
    """Weekly CI success rate, one line per repository, with the overall rate in bold when given."""
    y = alt.Y("success_rate:Q", title="success rate", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False))
    tooltip = ["week:T", alt.Tooltip("success_rate:Q", format=".1%"), "runs:Q"]
    chart: alt.Chart = (
        alt.Chart(weekly)
        .mark_line(point=True, opacity=0.6)
        .encode(
            x=alt.X("week:T", title="week"),
            y=y,
            color=alt.Color("repo:N", title="repository"),
            tooltip=tooltip,
        )
    )
    if overall is None:
        return chart
    total: alt.Chart = (
        alt.Chart(overall).mark_line(color="black", strokeWidth=3).encode(x="week:T", y=y, tooltip=tooltip)
    )
    return alt.LayerChart(layer=[chart, total])


HISTOGRAM_BINS = 20
"""Bins of the risk histogram (width 0.05), counted here so the browser gets a few rows, not every run."""


def risk_histogram(scores: pl.DataFrame) -> alt.Chart:
    """Distribution of predicted failure probability, coloured by risk level (runs per 0.05 bin)."""
    width = 1.0 / HISTOGRAM_BINS
    binned = (
        scores.select(
            (pl.col("probability") * HISTOGRAM_BINS).floor().clip(0, HISTOGRAM_BINS - 1).alias("bin"),
            pl.col("risk_level").cast(pl.String),
        )
        .group_by("bin", "risk_level")
        .agg(pl.len().alias("runs"))
        .select(
            (pl.col("bin") * width).alias("low"),
            ((pl.col("bin") + 1) * width).alias("high"),
            "risk_level",
            "runs",
        )
        .sort("low", "risk_level")
    )
    chart: alt.Chart = (
        alt.Chart(binned)
        .mark_bar()
        .encode(
            x=alt.X("low:Q", title="predicted failure probability", scale=alt.Scale(domain=[0, 1])),
            x2="high:Q",
            y=alt.Y("runs:Q", title="runs", stack=True),
            color=alt.Color(
                "risk_level:N",
                title="risk level",
                scale=alt.Scale(domain=list(RISK_LEVELS), range=RISK_COLOURS),
            ),
            tooltip=[
                alt.Tooltip("low:Q", format=".2f", title="from"),
                alt.Tooltip("high:Q", format=".2f", title="to"),
                "risk_level:N",
                "runs:Q",
            ],
        )
    )
    return chart


def open_clocks_by_priority(open_clocks: pl.DataFrame, priorities: list[str]) -> alt.Chart:
    """Open SLA clocks per priority, within or past target (counted here, a few rows to the browser)."""
    counts = (
        open_clocks.with_columns(
            pl.when(pl.col("past_target"))
            .then(pl.lit("past target"))
            .otherwise(pl.lit("within target"))
            .alias("status")
        )
        .group_by("priority", "status")
        .agg(pl.len().alias("open"))
        .sort("priority", "status")
    )
    chart: alt.Chart = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("priority:N", sort=priorities),
            y=alt.Y("open:Q", title="open"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=["within target", "past target"], range=["#90a4ae", "#c62828"]),
            ),
            tooltip=["priority:N", "status:N", "open:Q"],
        )
    )
    return chart


def reliability(curve: list[dict[str, Any]]) -> alt.LayerChart:
    """Reliability curve: mean predicted probability against the observed failure rate per bin."""
    frame = pl.DataFrame(curve)
    diagonal = (
        alt.Chart(pl.DataFrame({"p": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="p:Q", y="p:Q")
    )
    points = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("predicted:Q", title="mean predicted probability", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("observed:Q", title="observed failure rate", scale=alt.Scale(domain=[0, 1])),
            tooltip=["low:Q", "high:Q", "count:Q", "predicted:Q", "observed:Q"],
        )
    )
    sizes = (
        alt.Chart(frame)
        .mark_circle()
        .encode(x="predicted:Q", y="observed:Q", size=alt.Size("count:Q", title="runs"))
    )
    return alt.LayerChart(layer=[diagonal, points, sizes])


def stacked_bars(frame: pl.DataFrame, category: str, value: str, colour: str, *, title: str) -> alt.Chart:
    """Horizontal bars of ``value`` per ``category``, stacked by ``colour``, largest first."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort="-x", title=None),
            x=alt.X(f"sum({value}):Q", title=title),
            color=alt.Color(f"{colour}:N"),
            tooltip=[f"{category}:N", f"{colour}:N", f"{value}:Q"],
        )
    )
    return chart


def range_bars(frame: pl.DataFrame, category: str, low: str, high: str, *, title: str) -> alt.LayerChart:
    """A bar from ``low`` to ``high`` per category with a tick at ``low`` (median to P90, say)."""
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{category}:N", sort=alt.EncodingSortField(high, order="descending"), title=None)
    )
    bars = base.mark_bar(opacity=0.5).encode(x=alt.X(f"{low}:Q", title=title), x2=f"{high}:Q")
    ticks = base.mark_tick(thickness=3, color="black").encode(
        x=f"{low}:Q", tooltip=[f"{category}:N", f"{low}:Q", f"{high}:Q"]
    )
    return alt.LayerChart(layer=[bars, ticks])


def week_heatmap(activity: pl.DataFrame, value: str = "impact_score") -> alt.Chart:
    """Hour-of-week heatmap (UTC): day rows, hour columns."""
    chart: alt.Chart = (
        alt.Chart(activity)
        .mark_rect()
        .encode(
            x=alt.X("hour_of_day:O", title="hour of day (UTC)"),
            y=alt.Y("day:N", sort=list(DAY_NAMES), title=None),
            color=alt.Color(f"{value}:Q", title=value.replace("_", " "), scale=alt.Scale(scheme="orangered")),
            tooltip=["day:N", "hour_of_day:O", alt.Tooltip(f"{value}:Q", format=".3f"), "active_users:Q"],
        )
        .properties(height=260)
    )
    return chart


def expertise_heatmap(expertise: pl.DataFrame) -> alt.Chart:
    """Who knows which paths: expertise weight per person and path prefix of a repository."""
    chart: alt.Chart = (
        alt.Chart(expertise)
        .mark_rect()
        .encode(
            x=alt.X("path:N", title="path · repository"),
            y=alt.Y("candidate:N", title=None),
            color=alt.Color("weight:Q", scale=alt.Scale(scheme="blues")),
            tooltip=["candidate:N", "repo:N", "path_prefix:N", alt.Tooltip("weight:Q", format=".2f")],
        )
    )
    return chart


def metric_bars(comparison: pl.DataFrame) -> alt.Chart:
    """The model's metrics beside the naive baselines, one panel per metric."""
    chart: alt.Chart = (
        alt.Chart(comparison)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=None),
            y=alt.Y("model:N", title=None),
            color=alt.Color("model:N", legend=None),
            row=alt.Row("metric:N", title=None),
            tooltip=["model:N", "metric:N", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(height=90)
    )
    return chart


def bars(frame: pl.DataFrame, category: str, value: str, *, title: str, fmt: str = ".3f") -> alt.Chart:
    """Horizontal bars of ``value`` per ``category``, largest first."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort="-x", title=None),
            x=alt.X(f"{value}:Q", title=title),
            tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=fmt)],
        )
    )
    return chart


FAILURE_CLASS_COLOURS = ["#f9a825", "#1565c0", "#c62828", "#90a4ae", "#cfd8dc"]


def _class_colour() -> alt.Color:
    return alt.Color(
        "failure_class:N",
        title="class",
        scale=alt.Scale(domain=list(FAILURE_CLASS_ORDER), range=FAILURE_CLASS_COLOURS),
    )


def failure_classes_over_time(weekly: pl.DataFrame) -> alt.Chart:
    """Failed attempts per week, stacked by class."""
    chart: alt.Chart = (
        alt.Chart(weekly)
        .mark_bar()
        .encode(
            x=alt.X("week:T", title="week"),
            y=alt.Y("failures:Q", title="failed attempts"),
            color=_class_colour(),
            tooltip=["week:T", "failure_class:N", "failures:Q"],
        )
    )
    return chart


def failure_classes_by_workflow(by_workflow: pl.DataFrame) -> alt.Chart:
    """Failed attempts per workflow, stacked by class, most failing first."""
    chart: alt.Chart = (
        alt.Chart(by_workflow)
        .mark_bar()
        .encode(
            y=alt.Y("workflow:N", title=None, sort="-x"),
            x=alt.X("sum(failures):Q", title="failed attempts"),
            color=_class_colour(),
            tooltip=["workflow:N", "failure_class:N", "failures:Q"],
        )
    )
    return chart


def clock_compliance(by_priority: pl.DataFrame) -> alt.Chart:
    """Share of response and resolution clocks within target, by priority."""
    chart: alt.Chart = (
        alt.Chart(by_priority)
        .mark_bar()
        .encode(
            x=alt.X("priority:N", title="priority"),
            xOffset="clock:N",
            y=alt.Y(
                "compliance:Q",
                title="within target",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("clock:N", title="clock"),
            tooltip=[
                "priority:N",
                "clock:N",
                alt.Tooltip("compliance:Q", format=".1%"),
                "judged:Q",
                alt.Tooltip("median_hours:Q", format=".1f", title="median hours"),
                alt.Tooltip("target_hours:Q", format=".1f", title="target hours"),
            ],
        )
    )
    return chart


def health_against_targets(health: pl.DataFrame) -> alt.LayerChart:
    """Weekly success rate and availability (lines) with their targets (dashed rules)."""
    colour = alt.Color("measure:N", title=None)
    lines = (
        alt.Chart(health)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="week"),
            y=alt.Y("value:Q", title="share", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
            color=colour,
            tooltip=[
                "week:T",
                "measure:N",
                alt.Tooltip("value:Q", format=".1%"),
                alt.Tooltip("target:Q", format=".0%"),
            ],
        )
    )
    targets = (
        alt.Chart(health.unique(["measure", "target"]))
        .mark_rule(strokeDash=[6, 4])
        .encode(y="target:Q", color=colour)
    )
    return alt.LayerChart(layer=[lines, targets])
