"""What the dashboard shows, as typed functions over a read-only warehouse connection.

No Streamlit here: every function takes a DuckDB connection (to the reader copy, see
:mod:`warehouse.reader`, or a snapshot in its layout, see :mod:`dashboards.snapshot`) and the
sidebar's :class:`Filters`, runs one SQL file of
``warehouse/sql/dashboard`` with bound parameters, and returns a Polars frame. The pages only
lay these out. The notebooks use the same functions.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
import polars as pl

from actions.common.conclusions import FAILED_CONCLUSIONS
from actions.maintenance.windows import HOURS_PER_WEEK
from actions.sla.config import SlaConfig
from actions.sla.engine import WorkflowRun, check_sla_compliance
from dashboards.sla_config import target_hours
from dashboards.snapshot import ATTACHED
from warehouse.db import sql

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

FAILURE_CLASS_ORDER = ("transient", "dependency", "permanent", "no usable log", "logs not read")
"""Classes of failed attempts as the CI page shows them (the last two: no excerpt to classify)."""

NO_DATA = "No data yet — run `make demo` (or `repopilot run`) to build the warehouse."


@dataclass(frozen=True)
class Filters:
    """The sidebar's selection: repositories (empty = all) and a half-open UTC time range."""

    repos: tuple[str, ...] = ()
    start: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    end: datetime = datetime(9999, 1, 1, tzinfo=UTC)

    @classmethod
    def from_dates(cls, repos: tuple[str, ...], first: date, last: date) -> Filters:
        """From inclusive calendar dates (UTC): ``first`` 00:00 to the end of ``last``."""
        start = datetime.combine(first, time(), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
        return cls(tuple(sorted(repos)), start, end)

    def params(self, **extra: Any) -> dict[str, Any]:
        """The bound parameters of the dashboard SQL."""
        return {"repos": list(self.repos), "start": self.start, "end": self.end, **extra}


@dataclass(frozen=True)
class Source:
    """Where the warehouse's history came from."""

    repos: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    synthetic: bool = False
    synthetic_repos: tuple[str, ...] = field(default_factory=tuple)


def _frame(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    text = sql(f"dashboard/{name}")
    # DuckDB refuses parameters a statement does not use; the filters offer a fixed superset
    used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", text)}
    cursor = conn.cursor()  # one cursor per query: Streamlit serves sessions from several threads
    try:
        # Times and weeks in UTC whatever the caller's connection (a notebook's follows the local zone)
        cursor.execute("SET TimeZone = 'UTC'")
        # a cursor starts in its instance's default database, not the one its connection USEs
        if cursor.execute(sql("dashboard/attached"), {"name": ATTACHED}).fetchall():
            cursor.execute(f"USE {ATTACHED}")
        frame: pl.DataFrame = cursor.sql(text, params=used).pl()
    finally:
        cursor.close()
    return frame


def tables(conn: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The tables and views present (``schema.name``)."""
    return frozenset(_frame(conn, "tables")["name"].to_list())


def source(conn: duckdb.DuckDBPyConnection) -> Source:
    """The sources of the history (``slim.sources``) and whether any of it is synthetic."""
    if "slim.sources" not in tables(conn):
        return Source()
    rows = _frame(conn, "sources")
    synthetic = rows.filter(pl.col("synthetic"))
    return Source(
        repos=tuple(rows["repo"].to_list()),
        labels=tuple(sorted(set(rows["source"].to_list()))),
        synthetic=synthetic.height > 0,
        synthetic_repos=tuple(synthetic["repo"].to_list()),
    )


def repositories(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Every repository in the warehouse."""
    return [str(r) for r in _frame(conn, "repositories")["repo"].to_list()]


def time_span(conn: duckdb.DuckDBPyConnection) -> tuple[datetime, datetime] | None:
    """First and last workflow-run creation time, or ``None`` without runs."""
    row = _frame(conn, "span").row(0)
    if row[0] is None or row[1] is None:
        return None
    return row[0].astimezone(UTC), row[1].astimezone(UTC)


def ci_weekly(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Weekly runs, successes and failures per repository, with ``success_rate``.

    Completed runs created in the filter's range, each counted once by its latest attempt;
    ``reruns`` counts the runs that were re-run.
    """
    frame = _frame(conn, "ci_weekly", filters.params())
    return frame.with_columns(
        (pl.col("successes") / (pl.col("successes") + pl.col("failures"))).alias("success_rate")
    )


def success_rate(weekly: pl.DataFrame) -> float | None:
    """Successes over decided runs (success or failure; cancelled runs are left out)."""
    successes = int(weekly["successes"].sum()) if weekly.height else 0
    decided = successes + (int(weekly["failures"].sum()) if weekly.height else 0)
    return None if decided == 0 else successes / decided


def org_weekly(weekly: pl.DataFrame) -> pl.DataFrame:
    """The weekly success rate over every selected repository."""
    return (
        weekly.group_by("week")
        .agg(pl.col("runs").sum(), pl.col("successes").sum(), pl.col("failures").sum())
        .with_columns(
            (pl.col("successes") / (pl.col("successes") + pl.col("failures"))).alias("success_rate")
        )
        .sort("week")
    )


def ci_conclusions(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Completed attempts that did not succeed, by repository, workflow and conclusion."""
    return _frame(conn, "ci_conclusions", filters.params())


def workflow_names(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``name``: ``workflow · repo`` (the repository without its owner)."""
    return frame.with_columns(
        (pl.col("workflow") + " · " + pl.col("repo").str.split("/").list.last()).alias("name")
    )


def by_workflow(frame: pl.DataFrame, value: str, *, top: int) -> pl.DataFrame:
    """``frame``'s rows of its ``top`` workflows by summed ``value``, named ``workflow · repo``.

    Workflows of different repositories often share a name (``CI``): they stay apart.
    """
    named = workflow_names(frame)
    totals = named.group_by("name").agg(pl.col(value).sum()).sort(value, "name", descending=[True, False])
    return named.filter(pl.col("name").is_in(totals.head(top)["name"].implode()))


def failed_steps(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Failed jobs by job name and failing step (top 25)."""
    return _frame(conn, "failed_steps", filters.params())


def flaky_workflows(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Workflows whose failures a plain re-run turned green, most such runs first."""
    return _frame(conn, "flaky_workflows", filters.params())


def slow_workflows(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Median and P90 minutes per workflow, slowest P90 first."""
    return _frame(conn, "slow_workflows", filters.params())


def run_features(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """``features.run_features`` rows of the runs in the filter."""
    return _frame(conn, "run_features", filters.params())


def review_load(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Open review requests, recent reviews and median first-review hours per person.

    The load columns are not narrowed by the time range (open requests now, reviews in the 30 days
    before the newest review); the median is pooled over the pull requests opened in the range.
    """
    return _frame(conn, "review_load", filters.params())


def first_reviews(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Hours to the first human review of each pull request opened in the filter."""
    return _frame(conn, "first_reviews", filters.params())


def path_expertise(conn: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 60) -> pl.DataFrame:
    """The strongest (repository, person, path prefix) expertise weights, ``path`` named ``prefix · repo``."""
    frame = _frame(conn, "path_expertise", filters.params(limit=limit))
    return frame.with_columns(
        (pl.col("path_prefix") + " · " + pl.col("repo").str.split("/").list.last()).alias("path")
    )


def latest_pull_files(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The most recently opened pull request that changed files: repo, number, opening time, files."""
    return _frame(conn, "latest_pull_files")


def activity(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Mean impact score and activity per hour of week (UTC), with ``day`` names."""
    frame = _frame(conn, "activity", filters.params())
    return frame.with_columns(
        pl.col("day_of_week").replace_strict(dict(enumerate(DAY_NAMES)), return_dtype=pl.String).alias("day")
    )


def quiet_windows(
    activity_frame: pl.DataFrame, now: datetime, *, hours: int = 2, count: int = 3
) -> pl.DataFrame:
    """The next occurrences of the quietest ``hours``-long windows of the week, after ``now``.

    Windows are ranked by their summed impact score (wrapping around Sunday night) and may
    not overlap; each is given at its next start after ``now`` (UTC).
    """
    if activity_frame.height == 0:
        return pl.DataFrame(
            schema={"starts_at": pl.Datetime("us", "UTC"), "hours": pl.Int64, "impact": pl.Float64}
        )
    impact = [0.0] * HOURS_PER_WEEK
    for hour, score in zip(activity_frame["hour_of_week"], activity_frame["impact_score"], strict=True):
        impact[int(hour)] = float(score or 0.0)
    window = [sum(impact[(h + k) % HOURS_PER_WEEK] for k in range(hours)) for h in range(HOURS_PER_WEEK)]
    now = now.astimezone(UTC)
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(), tzinfo=UTC)
    current = int((now - monday).total_seconds() // 3600)
    chosen: list[int] = []
    # quietest first; among equally quiet windows, the soonest
    for start in sorted(range(HOURS_PER_WEEK), key=lambda h: (window[h], (h - current - 1) % HOURS_PER_WEEK)):
        if all(min((start - c) % HOURS_PER_WEEK, (c - start) % HOURS_PER_WEEK) >= hours for c in chosen):
            chosen.append(start)
        if len(chosen) == count:
            break
    rows = []
    for start in chosen:
        at = monday + timedelta(hours=start)
        if at <= now:
            at += timedelta(days=7)
        rows.append({"starts_at": at, "hours": hours, "impact": window[start]})
    return pl.DataFrame(rows).sort("starts_at")


def sla_clock_rows(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """SLA clocks of the issues and pull requests opened in the filter, not yet judged."""
    return _frame(conn, "sla_clocks", filters.params())


def sla_clocks(
    conn: duckdb.DuckDBPyConnection, filters: Filters, config: SlaConfig | None = None
) -> pl.DataFrame:
    """SLA clocks judged against ``config``'s targets (the defaults when None); see :func:`judge_sla`."""
    return judge_sla(sla_clock_rows(conn, filters), config or SlaConfig())


def judge_sla(clocks: pl.DataFrame, config: SlaConfig) -> pl.DataFrame:
    """SLA clocks with their targets and whether each response / resolution is breached.

    Targets are ``config``'s per priority; an item without a priority is held to
    ``config.default_priority``. ``response_breached`` is true when the first response came
    after the target, or the response clock is still open past it; likewise
    ``resolution_breached``. Open clocks not yet past their target are not breaches (``None``
    for clocks that cannot be judged yet).
    """
    frame = clocks.with_columns(pl.col("priority").fill_null(config.default_priority))
    frame = frame.join(target_hours(config), on="priority", how="left")
    return frame.with_columns(
        pl.when(pl.col("time_to_first_response_hours").is_not_null())
        .then(pl.col("time_to_first_response_hours") > pl.col("response_target_hours"))
        .when(pl.col("response_clock_open"))
        .then(pl.col("response_open_hours") > pl.col("response_target_hours"))
        .otherwise(None)
        .alias("response_breached"),
        pl.when(pl.col("time_to_resolution_hours").is_not_null())
        .then(pl.col("time_to_resolution_hours") > pl.col("resolution_target_hours"))
        .when(pl.col("resolution_clock_open"))
        .then(pl.col("resolution_open_hours") > pl.col("resolution_target_hours"))
        .otherwise(None)
        .alias("resolution_breached"),
    )


def sla_compliance(clocks: pl.DataFrame, kind: str = "response") -> float | None:
    """Share of judged clocks of ``kind`` (``response`` or ``resolution``) within target."""
    judged = clocks[f"{kind}_breached"].drop_nulls() if clocks.height else pl.Series([], dtype=pl.Boolean)
    return None if judged.len() == 0 else 1.0 - int(judged.cast(pl.Int64).sum()) / judged.len()


def compliance_by_priority(clocks: pl.DataFrame, config: SlaConfig) -> pl.DataFrame:
    """Per priority and clock (response, resolution): compliance, judged clocks, median and target hours."""
    rows = []
    targets = target_hours(config)
    for priority, response_target, resolution_target in targets.iter_rows():
        chosen = clocks.filter(pl.col("priority") == priority) if clocks.height else clocks
        for kind, target, hours in (
            ("response", response_target, "time_to_first_response_hours"),
            ("resolution", resolution_target, "time_to_resolution_hours"),
        ):
            judged = (
                chosen[f"{kind}_breached"].drop_nulls() if chosen.height else pl.Series([], dtype=pl.Boolean)
            )
            median = chosen[hours].drop_nulls().median() if chosen.height else None
            rows.append(
                {
                    "priority": priority,
                    "clock": kind,
                    "judged": judged.len(),
                    "compliance": None if judged.len() == 0 else 1.0 - judged.cast(pl.Float64).mean(),  # type: ignore[operator]
                    "median_hours": None if median is None else float(median),  # type: ignore[arg-type]
                    "target_hours": float(target),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "priority": pl.String,
            "clock": pl.String,
            "judged": pl.Int64,
            "compliance": pl.Float64,
            "median_hours": pl.Float64,
            "target_hours": pl.Float64,
        },
    )


def ci_health_runs(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Completed workflow runs in the filter: repository, workflow, completion time and conclusion."""
    return _frame(conn, "ci_health_runs", filters.params())


def weekly_ci_health(runs: pl.DataFrame, config: SlaConfig) -> pl.DataFrame:
    """CI success rate and availability per week, judged by the SLA action's own engine.

    Each week is one call of :func:`actions.sla.engine.check_sla_compliance` with a one-week
    window, so the figures are the ones the SLA action would report for that week. A call is
    given only what can change its answer: the decided runs (success or a failure) of its week
    and the week before (the trend's window), and, per workflow, the last decided run before
    them, which carries whether the workflow was down when they began. Handing every call the
    whole history gives the same figures, at a cost that grows with weeks × runs.
    """
    schema = {"week": pl.Date, "measure": pl.String, "value": pl.Float64, "target": pl.Float64}
    if runs.height == 0:
        return pl.DataFrame(schema=schema)
    decided = [
        WorkflowRun(str(r["repo"]), str(r["workflow"]), r["completed_at"].astimezone(UTC), r["conclusion"])
        for r in runs.iter_rows(named=True)
        if r["conclusion"] == "success" or r["conclusion"] in FAILED_CONCLUSIONS
    ]
    if not decided:
        return pl.DataFrame(schema=schema)
    streams: dict[tuple[str, str], list[WorkflowRun]] = {}
    for run in sorted(decided, key=lambda r: r.completed_at):  # stable: ties keep the query's order
        streams.setdefault((run.repo, run.workflow), []).append(run)
    times = {key: [run.completed_at for run in stream] for key, stream in streams.items()}
    weekly = config.model_copy(update={"window_hours": 7 * 24.0})
    first = min(run.completed_at for run in decided)
    last = max(run.completed_at for run in decided)
    week = datetime.combine(first.date() - timedelta(days=first.weekday()), time(), tzinfo=UTC)
    rows = []
    while week <= last:
        end = week + timedelta(days=7)
        since = end - timedelta(days=14)
        window: list[WorkflowRun] = []
        for key, stream in streams.items():
            low, high = bisect_left(times[key], since), bisect_left(times[key], end)
            window.extend(stream[max(low - 1, 0) : high])
        report = check_sla_compliance([], window, weekly, end)
        for measure, target in (
            ("success rate", config.success_rate_target),
            ("availability", config.availability_target),
        ):
            value = report[measure.replace(" ", "_")]["value"]
            if value is not None:
                rows.append(
                    {"week": week.date(), "measure": measure, "value": float(value), "target": target}
                )
        week = end
    return pl.DataFrame(rows, schema=schema)


def failure_classes(conn: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Failed attempts in the filter with their class, confidence and reason lines, newest first."""
    return _frame(conn, "failure_classes", filters.params())


def failure_classes_weekly(classes: pl.DataFrame) -> pl.DataFrame:
    """Failed attempts per week of creation and class."""
    if classes.height == 0:
        return pl.DataFrame(schema={"week": pl.Date, "failure_class": pl.String, "failures": pl.UInt32})
    week = pl.col("created_at").dt.truncate("1w").dt.date().alias("week")
    return (
        classes.group_by(week, "failure_class").agg(pl.len().alias("failures")).sort("week", "failure_class")
    )


def failure_classes_by_workflow(classes: pl.DataFrame, top: int = 15) -> pl.DataFrame:
    """Failed attempts per workflow (``workflow · repo``) and class, the ``top`` most failing workflows."""
    schema = {"workflow": pl.String, "failure_class": pl.String, "failures": pl.UInt32}
    if classes.height == 0:
        return pl.DataFrame(schema=schema)
    named = classes.with_columns(
        (pl.col("workflow") + " · " + pl.col("repo").str.split("/").list.last()).alias("workflow")
    )
    worst = named.group_by("workflow").len().sort("len", "workflow", descending=[True, False]).head(top)
    return (
        named.filter(pl.col("workflow").is_in(worst["workflow"].implode()))
        .group_by("workflow", "failure_class")
        .agg(pl.len().alias("failures"))
        .sort("workflow", "failure_class")
    )


def weekly_breaches(clocks: pl.DataFrame) -> pl.DataFrame:
    """Breached response and resolution clocks per week of opening."""
    if clocks.height == 0:
        return pl.DataFrame(schema={"week": pl.Date, "kind": pl.String, "breaches": pl.UInt32})
    week = pl.col("created_at").dt.truncate("1w").dt.date().alias("week")
    parts = [
        clocks.filter(pl.col(f"{kind}_breached").fill_null(False))
        .group_by(week)
        .agg(pl.len().alias("breaches"))
        .with_columns(pl.lit(kind).alias("kind"))
        for kind in ("response", "resolution")
    ]
    return pl.concat(parts).select("week", "kind", "breaches").sort("week", "kind")


def open_clocks(clocks: pl.DataFrame) -> pl.DataFrame:
    """Issues and pull requests with an open response or resolution clock, oldest first.

    ``past_target`` is true when either clock is breached: one definition for every page.
    """
    if clocks.height == 0:
        return clocks.with_columns(pl.lit(False).alias("past_target"))
    return (
        clocks.filter(pl.col("response_clock_open") | pl.col("resolution_clock_open"))
        .with_columns(
            pl.when(pl.col("response_clock_open"))
            .then(pl.lit("awaiting response"))
            .otherwise(pl.lit("awaiting resolution"))
            .alias("waiting_for"),
            pl.max_horizontal("response_open_hours", "resolution_open_hours").alias("open_hours"),
            (
                pl.col("response_breached").fill_null(False) | pl.col("resolution_breached").fill_null(False)
            ).alias("past_target"),
        )
        .sort("open_hours", descending=True)
    )


def post_mortems(
    conn: duckdb.DuckDBPyConnection, filters: Filters, incident_label: str = SlaConfig().incident_label
) -> pl.DataFrame:
    """Post-mortems the SLA action posted on its incident issues, newest first.

    They come from GitHub through the pipeline: comments carrying the action's marker (the reader
    copy keeps only those, ``slim.sla_comments``) that open with a post-mortem heading, on
    issues labelled ``incident_label``.
    """
    return _frame(conn, "post_mortems", filters.params(incident_label=incident_label))
