"""The dashboard audited from the reader's side: every figure recomputed independently with DuckDB.

Each test reads a figure off a rendered page (AppTest) or a data function and recomputes it from
the warehouse with its own query, so a wrong denominator, a filter that drops or adds rows, or a
definition that differs between pages shows as a mismatch.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from actions.sla.config import SlaConfig
from dashboards import data
from tests.dashboard.conftest import PAGES

FAILED = ("failure", "timed_out", "startup_failure")

LATEST_RUNS = """
    SELECT created_at, conclusion, run_attempt
    FROM core.ci_runs AS r
    WHERE status = 'completed' AND created_at >= ? AND created_at < ?
        AND run_attempt = (
            SELECT max(x.run_attempt) FROM core.ci_runs AS x WHERE x.repo = r.repo AND x.id = r.id
        )
"""


def _caption_counts(at: AppTest) -> tuple[int, int, int]:
    text = " ".join(c.value for c in at.caption)
    found = re.search(r"([\d,]+) completed runs, ([\d,]+) failed, ([\d,]+) re-runs", text)
    assert found is not None, text
    runs, failed, reruns = (int(g.replace(",", "")) for g in found.groups())
    return runs, failed, reruns


def _latest_runs(home: Path, start: datetime, end: datetime) -> pl.DataFrame:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.sql(LATEST_RUNS, params=[start, end]).pl()


def _expected_counts(runs: pl.DataFrame) -> tuple[int, int, int]:
    return (
        runs.height,
        runs.filter(pl.col("conclusion").is_in(FAILED)).height,
        runs.filter(pl.col("run_attempt") > 1).height,
    )


def _render(app: Callable[[Path, str], AppTest], home: Path, page: str) -> AppTest:
    """The page rendered, having raised nothing."""
    at = app(home, page)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _one(home: Path, query: str) -> tuple[Any, ...]:
    """The first row of ``query`` on ``home``'s warehouse, read in UTC."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        row: tuple[Any, ...] = conn.execute(query).fetchall()[0]
        return row


def _copy(demo_home: Path, home: Path) -> Path:
    shutil.copyfile(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    return home


def _copied_overview(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> tuple[AppTest, tuple[int, int, int]]:
    """The overview of a copy of the demo warehouse in ``home``, and its caption's counts."""
    _copy(demo_home, home)
    at = _render(app, home, "overview")
    return at, _caption_counts(at)


def test_overview_counts_each_run_once_by_its_latest_attempt(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    at = _render(app, demo_home, "overview")
    runs = _latest_runs(demo_home, datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    assert runs.filter(pl.col("run_attempt") > 1).height > 0  # the demo has re-runs to tell apart
    assert _caption_counts(at) == _expected_counts(runs)

    # The headline rate: successes over decided runs of the last four UTC weeks with runs, pooled.
    weekly = runs.with_columns(pl.col("created_at").dt.truncate("1w").alias("week"))
    recent = weekly.filter(pl.col("week").is_in(weekly["week"].unique().sort().tail(4).implode()))
    decided = recent.filter(pl.col("conclusion").is_in(("success", *FAILED)))
    rate = decided.filter(pl.col("conclusion") == "success").height / decided.height
    metric = next(m for m in at.metric if m.label == "CI success rate (last 4 weeks)")
    assert metric.value == f"{rate:.1%}"


def test_overview_counts_only_the_days_of_the_time_range(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    at = app(demo_home, "overview")
    first, last = at.date_input(key="time_range").value
    wednesday = first + timedelta(days=(2 - first.weekday()) % 7 + 7)
    thursday = wednesday + timedelta(days=1)
    assert thursday < last
    at.date_input(key="time_range").set_value((wednesday, thursday)).run()
    assert not at.exception, [e.value for e in at.exception]
    start = datetime.combine(wednesday, datetime.min.time(), tzinfo=UTC)
    runs = _latest_runs(demo_home, start, start + timedelta(days=2))
    assert runs.height > 0
    assert _caption_counts(at) == _expected_counts(runs)  # not the whole week around the two days


def test_the_time_range_follows_a_warehouse_that_grows(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    at, before = _copied_overview(app, demo_home, home)
    _, last = at.date_input(key="time_range").value
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute(
            """INSERT INTO core.ci_runs BY NAME
               SELECT * REPLACE (id + 10_000_000_000 AS id, created_at + INTERVAL 3 DAY AS created_at)
               FROM core.ci_runs WHERE status = 'completed' AND is_latest_attempt AND run_attempt = 1
               ORDER BY created_at DESC LIMIT 1"""
        )
    at.run()  # the same reader's next rerun, on the new version of the warehouse
    assert not at.exception, [e.value for e in at.exception]
    assert at.date_input(key="time_range").value[1] == last + timedelta(days=3)
    assert _caption_counts(at)[0] == before[0] + 1

    # A range the reader narrowed stays as it was.
    first, newest = at.date_input(key="time_range").value
    narrowed = (first + timedelta(days=7), first + timedelta(days=14))
    at.date_input(key="time_range").set_value(narrowed).run()
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute(
            "UPDATE core.ci_runs SET created_at = created_at + INTERVAL 1 DAY WHERE id > 10_000_000_000"
        )
    at.run()
    assert at.date_input(key="time_range").value == narrowed
    assert at.date_input(key="time_range").max == newest + timedelta(days=1)


def _pooled_first_review_medians(home: Path) -> dict[str, float]:
    query = """
        WITH firsts AS (
            SELECT repo, reviewer, pull_number, min(submitted_at) AS first_at
            FROM core.reviews WHERE NOT reviewer_is_bot GROUP BY ALL
        )
        SELECT f.reviewer, median(epoch(f.first_at) - epoch(p.created_at)) / 3600.0
        FROM firsts AS f JOIN core.pull_requests AS p ON p.repo = f.repo AND p.number = f.pull_number
        GROUP BY ALL
    """
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return {str(login): float(hours) for login, hours in conn.execute(query).fetchall()}


def test_routing_median_first_review_is_each_persons_own_median(demo_home: Path) -> None:
    expected = _pooled_first_review_medians(demo_home)
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        shown = data.review_load(conn, data.Filters()).drop_nulls("median_first_review_hours")
        several = conn.execute(
            "SELECT count(*) FROM (SELECT login FROM marts.review_load "
            "WHERE median_first_review_hours IS NOT NULL GROUP BY login HAVING count(*) > 2)"
        ).fetchall()[0][0]
    assert several > 0  # people who review in three or more repositories: a median of medians differs
    got = dict(zip(shown["login"], shown["median_first_review_hours"], strict=True))
    assert got.keys() == expected.keys()
    assert all(got[login] == pytest.approx(hours, abs=1e-9) for login, hours in expected.items())


def test_path_expertise_keeps_each_repositorys_paths_apart(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    (shared,) = _one(
        demo_home,
        "SELECT count(*) FROM (SELECT candidate, path_prefix FROM features.path_expertise_weights "
        "GROUP BY ALL HAVING count(DISTINCT repo) > 1)",
    )
    assert shared > 0  # people with expertise in tests/ (say) of several repositories
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        weights = conn.sql(
            "SELECT candidate, round(weight, 9) AS w FROM features.path_expertise_weights"
        ).pl()
    at = _render(app, demo_home, "routing")
    (chart,) = [c for c in at.get("vega_lite_chart") if '"candidate"' in c.proto.spec]
    cells = pl.concat(
        [pl.from_arrow(pa.ipc.open_stream(d.data.data).read_all()) for d in chart.proto.datasets]
    )
    assert isinstance(cells, pl.DataFrame) and cells.height > 0
    shown = cells.select("candidate", pl.col("weight").round(9).alias("w"))
    assert shown.join(weights, on=["candidate", "w"], how="anti").is_empty()  # no cell sums repositories


def _breached(hours: float | None, open_: bool, open_hours: float | None, target: float) -> bool:
    if hours is not None:
        return hours > target
    return bool(open_) and open_hours is not None and open_hours > target


def test_overview_and_sla_page_agree_on_open_clocks_past_target(
    app: Callable[[Path, str], AppTest], demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPOPILOT_SLA_CONFIG", raising=False)
    config = SlaConfig()
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            """SELECT coalesce(priority, ?), time_to_first_response_hours, response_clock_open,
                      response_open_hours, time_to_resolution_hours, resolution_clock_open,
                      resolution_open_hours
               FROM features.sla_clock_states
               WHERE NOT author_is_bot AND (response_clock_open OR resolution_clock_open)""",
            [config.default_priority],
        ).fetchall()
    either = resolution_only = 0
    for priority, ttfr, r_open, r_hours, ttr, s_open, s_hours in rows:
        target = config.targets[priority]
        response = _breached(ttfr, r_open, r_hours, target.response_hours)
        resolution = _breached(ttr, s_open, s_hours, target.resolution_hours)
        either += response or resolution
        resolution_only += resolution
    assert either > resolution_only  # open clocks past their response target alone exist in the demo

    at = app(demo_home, "overview")
    metric = next(m for m in at.metric if m.label == "Open SLA clocks")
    assert metric.value == f"{len(rows):,}"
    assert metric.delta == f"{either} past target"


def test_data_functions_answer_in_utc_wherever_the_reader_is(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(demo_home / "warehouse.duckdb")
    with duckdb.connect(path, read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        expected = conn.sql(
            """SELECT CAST(date_trunc('week', created_at) AS DATE) AS week,
                      coalesce(failure_class, CASE WHEN log_status IS NULL THEN 'logs not read'
                                                   ELSE 'no usable log' END) AS failure_class,
                      count(*)::UINTEGER AS failures
               FROM features.failure_classes GROUP BY ALL ORDER BY week, failure_class"""
        ).pl()
        monday_early = conn.execute(
            "SELECT count(*) FROM features.failure_classes "
            "WHERE dayofweek(created_at) = 1 AND hour(created_at) < 8"
        ).fetchall()[0][0]
    assert monday_early > 0  # failures still on Sunday in California: a local week would move them
    monkeypatch.setenv("TZ", "America/Los_Angeles")  # a notebook opened there: DuckDB follows the local zone
    time.tzset()
    try:
        with duckdb.connect(path, read_only=True) as conn:
            classes = data.failure_classes(conn, data.Filters())
            weekly = data.failure_classes_weekly(classes)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert weekly.equals(expected), weekly.join(expected, on=["week", "failure_class"], how="anti")
    assert classes["created_at"].dtype == pl.Datetime("us", "UTC")


# Failure states: every page says what is wrong, never a traceback.


def _messages(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.error, *at.info, *at.warning, *at.sidebar.error])


@pytest.mark.parametrize("page", list(PAGES))
def test_a_corrupt_warehouse_is_named_as_such_on_every_page(
    app: Callable[[Path, str], AppTest], home: Path, page: str
) -> None:
    (home / "warehouse.duckdb").write_bytes(b"\x00garbage, not DuckDB\x00" * 4096)  # holds still: not a write
    at = app(home, page)
    assert not at.exception, [e.value for e in at.exception]
    if page == "model":
        return  # the model card reads the model's own files, not the warehouse
    text = _messages(at)
    assert "cannot be read" in text and "repopilot run" in text, text
    assert "writing the warehouse" not in text


def test_a_warehouse_that_turns_corrupt_keeps_the_last_good_copy_and_says_why(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    at, before = _copied_overview(app, demo_home, home)
    (home / "warehouse.duckdb").write_bytes(b"\x00garbage\x00" * 4096)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _caption_counts(at) == before
    assert any("cannot be read" in e.value for e in at.sidebar.error)
    assert any("last readable version" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", list(PAGES))
def test_a_warehouse_of_an_older_schema_says_to_rebuild_on_every_page(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path, page: str
) -> None:
    _copy(demo_home, home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute("DROP TABLE raw.sources")  # built before the sources table existed
    at = app(home, page)
    assert not at.exception, [e.value for e in at.exception]
    assert any("older version of repopilot" in e.value for e in at.error), _messages(at)


def test_a_missing_column_on_one_page_leaves_the_others_drawing(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    _copy(demo_home, home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute("ALTER TABLE features.sla_clock_states DROP COLUMN author_is_bot")
    at = _render(app, home, "sla")
    assert any("author_is_bot" in e.value and "older version" in e.value for e in at.error)
    at = app(home, "ci")
    assert not at.exception and not at.error
    assert len(at.get("vega_lite_chart")) >= 4


@pytest.mark.parametrize("page", list(PAGES))
def test_an_empty_warehouse_says_there_is_no_data_yet(
    app: Callable[[Path, str], AppTest], home: Path, page: str
) -> None:
    from warehouse.db import build_core, build_marts, connect, ensure_schema

    with connect(home / "warehouse.duckdb") as conn:  # the schema of a first run that fetched nothing
        ensure_schema(conn)
        build_core(conn)
        build_marts(conn)
    at = app(home, page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    if page != "model":
        assert "make demo" in _messages(at) or "No " in _messages(at), _messages(at)


def test_sla_page_says_when_its_clocks_were_read(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    (as_of,) = _one(demo_home, "SELECT max(as_of) FROM features.sla_clock_states")
    at = app(demo_home, "sla")
    assert any(f"Clocks as of {as_of:%Y-%m-%d %H:%M} UTC" in c.value for c in at.caption)


def test_high_risk_runs_still_running_are_those_without_a_conclusion(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    from dashboards.models import load_model

    _copy(demo_home, home)
    shutil.copytree(demo_home / "models", home / "models")
    model = load_model(home)
    assert model is not None
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        scores = model.score(data.run_features(conn, data.Filters()))
        newest = scores["created_at"].max()
        week = scores.filter(pl.col("created_at") > newest - timedelta(days=7))  # type: ignore[operator]
        high = week.filter(pl.col("risk_level").cast(pl.String).is_in(["HIGH", "CRITICAL"]))
        # Someone cancelled one of them: it has no failure label, yet it is not running.
        run_id, attempt = high.filter(pl.col("failed")).select("id", "run_attempt").row(0)
        for table in ("core.ci_runs", "features.run_features"):
            conn.execute(
                f"UPDATE {table} SET conclusion = 'cancelled' WHERE id = ? AND run_attempt = ?",
                [run_id, attempt],
            )
        conn.execute(
            "UPDATE features.run_features SET failed = NULL WHERE id = ? AND run_attempt = ?",
            [run_id, attempt],
        )
        status = conn.sql("SELECT id, run_attempt, status FROM core.ci_runs").pl()
    running = high.join(status, on=["id", "run_attempt"]).filter(pl.col("status") != "completed").height
    at = app(home, "overview")
    metric = next(m for m in at.metric if m.label == "High-risk runs (last 7 days)")
    assert metric.value == f"{high.height:,} of {week.height:,}"
    assert metric.delta == f"{running} still running"


def test_the_sidebar_tells_the_data_end_apart_from_the_file_time(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    (newest,) = _one(demo_home, "SELECT max(created_at) FROM core.ci_runs")
    at = app(demo_home, "overview")
    assert any(f"newest run {newest:%Y-%m-%d %H:%M} UTC" in c.value for c in at.sidebar.caption)


def test_the_risk_caption_lists_levels_from_low_to_critical(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    at = app(demo_home, "ci")
    caption = next(c.value for c in at.caption if c.value.startswith("Every run in the selection"))
    levels = re.findall(r"(LOW|MEDIUM|HIGH|CRITICAL): ", caption)
    order = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    assert len(levels) >= 2 and levels == sorted(levels, key=order.index)


# Scale: what a page sends to the browser and what it computes must not grow with the history.


def _chart_rows(at: AppTest, field: str) -> list[int]:
    """Rows of the data of each chart whose spec names ``field``."""
    found = []
    for chart in at.get("vega_lite_chart"):
        if f'"{field}"' not in chart.proto.spec:
            continue
        datasets = [d.data.data for d in chart.proto.datasets]
        if chart.proto.HasField("data"):
            datasets.append(chart.proto.data.data)
        found.append(sum(pa.ipc.open_stream(b).read_all().num_rows for b in datasets if b))
    return found


def test_charts_send_counts_not_every_run_or_clock(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    at = _render(app, demo_home, "ci")
    (scored,) = _one(demo_home, "SELECT count(*) FROM features.run_features")
    (histogram,) = _chart_rows(at, "risk_level")
    assert 0 < histogram <= 20 * 4 < scored  # 0.05-wide bins × risk levels, not one row per run
    at = _render(app, demo_home, "sla")
    (open_chart,) = _chart_rows(at, "status")
    assert 0 < open_chart <= 4 * 2  # priorities × within / past target
    open_total = next(m for m in at.metric if m.label == "Open clocks").value
    assert int(open_total.replace(",", "")) > 8


def test_weekly_ci_health_gives_each_week_only_the_runs_that_matter(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.sla.engine import WorkflowRun, check_sla_compliance

    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        runs = data.ci_health_runs(conn, data.Filters())
    config = SlaConfig()
    # What the SLA action reports week by week when handed the whole history, call by call.
    parsed = [
        WorkflowRun(r["repo"], r["workflow"], r["completed_at"].astimezone(UTC), r["conclusion"])
        for r in runs.iter_rows(named=True)
    ]
    weekly = config.model_copy(update={"window_hours": 168.0})
    first = min(r.completed_at for r in parsed)
    week = datetime.combine(first.date() - timedelta(days=first.weekday()), datetime.min.time(), tzinfo=UTC)
    expected = []
    while week <= max(r.completed_at for r in parsed):
        report = check_sla_compliance([], parsed, weekly, week + timedelta(days=7))
        for measure in ("success rate", "availability"):
            value = report[measure.replace(" ", "_")]["value"]
            if value is not None:
                expected.append((week.date(), measure, value))
        week += timedelta(days=7)

    sizes: list[int] = []

    def engine(items: object, given: list[WorkflowRun], cfg: SlaConfig, now: datetime) -> dict[str, object]:
        sizes.append(len(given))
        return check_sla_compliance([], given, cfg, now)

    monkeypatch.setattr(data, "check_sla_compliance", engine)
    health = data.weekly_ci_health(runs, config)
    assert sorted(health.select("week", "measure", "value").rows()) == sorted(expected)
    streams = runs.select("repo", "workflow").unique().height
    busiest_week = runs.group_by_dynamic("completed_at", every="1w").agg(pl.len())["len"].max()
    assert max(sizes) <= 2 * busiest_week + streams < len(parsed)  # not the whole history every week


def test_ci_page_counts_unsuccessful_attempts_as_attempts(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    total, cancelled = _one(
        demo_home,
        "SELECT count(*), count(*) FILTER (conclusion = 'cancelled') FROM core.ci_runs "
        "WHERE status = 'completed' AND conclusion IS DISTINCT FROM 'success'",
    )
    at = _render(app, demo_home, "ci")
    text = " ".join(c.value for c in at.caption)
    assert (
        f"{total:,} completed attempts did not succeed ({cancelled:,} cancelled, which are not failures)"
        in text
    )
