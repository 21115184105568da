"""Streamlit glue shared by the pages: the read copy, the sidebar filters, headers, caching.

The pages read the pipeline's reader copy (``reader.duckdb``) in place, or, for a warehouse
without one, a private snapshot (:mod:`dashboards.snapshot`). Everything cached is keyed on the
file read and its version, so a new pipeline run shows up on the next rerun and never in the
middle of one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from actions.sla.config import SlaConfig
from dashboards import data
from dashboards.models import ServedModel, load_model, read_report
from dashboards.sla_config import ENV_VAR, SlaSettings, config_path, load_sla_settings
from dashboards.snapshot import (
    WAREHOUSE_FILE,
    FileVersion,
    Snapshot,
    SnapshotError,
    UnreadableWarehouseError,
    connect_read_only,
    default_directory,
    file_version,
    home_directory,
    open_reader,
    prune,
    take_slim_snapshot,
)
from warehouse.reader import READER_FILE

CONTEXT_KEY = "repopilot_context"
TIME_RANGE_KEY = "time_range"
TIME_SPAN_KEY = "time_range_span"
"""Session keys: the sidebar's time range, and the warehouse span it was last fitted to."""
SLA_CONFIG_KEY = "sla_config_path"
"""Session key of the SLA page's setting: the ``sla.yml`` (or checkout) to read targets from."""

BUSY = (
    "A pipeline run is writing the warehouse and no consistent copy could be taken yet; reload in a moment."
)
REBUILD = "Rebuild it with `repopilot run` (or `make demo`)."
NO_READER = (
    f"No reader copy (`{READER_FILE}`) yet: reading a private copy of the whole warehouse, taken "
    "whenever it changes. `repopilot run` (or `make demo`) writes the reader copy."
)


@dataclass(frozen=True)
class Warehouse:
    """The file being read, and whether it is older than the warehouse (a copy failed, and why).

    Attributes:
        snapshot: the file read: the reader copy in place, or a private snapshot.
        stale: a newer warehouse exists that could not be copied yet.
        problem: why the current warehouse file cannot be read (the last readable copy is shown).
        reader: whether ``snapshot`` is the pipeline's reader copy.
        reader_problem: why the reader copy was passed over for a snapshot of the warehouse.
    """

    snapshot: Snapshot
    stale: bool = False
    problem: str | None = None
    reader: bool = False
    reader_problem: str | None = None

    @property
    def key(self) -> str:
        """Cache key of everything read from this file: its path and version (a reader copy is replaced)."""
        version = self.snapshot.version
        return f"{self.snapshot.path}#{version.mtime_ns}-{version.size}"

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The shared read-only connection (use a cursor per query)."""
        return _connection(self.key)


@dataclass(frozen=True)
class Context:
    """What every page needs: the data directory, the warehouse (if any), filters and source."""

    home: Path
    warehouse: Warehouse | None
    filters: data.Filters
    source: data.Source
    tables: frozenset[str]
    busy: bool = False
    problem: str | None = None


@st.cache_resource(show_spinner=False)
def _snapshot_directory() -> Path:
    return default_directory()


@st.cache_resource(show_spinner=False)
def _last_good() -> dict[str, Snapshot]:
    return {}


@st.cache_resource(show_spinner=False)
def _unreadable() -> dict[str, tuple[FileVersion, str]]:
    return {}


@st.cache_resource(show_spinner=False, max_entries=4)
def _snapshot(source: str, mtime_ns: int, size: int) -> Snapshot:
    del mtime_ns, size  # only part of the cache key: a new version of the file is a new snapshot
    directory = _snapshot_directory()
    snapshot = take_slim_snapshot(Path(source), directory)
    prune(snapshot)
    return snapshot


@st.cache_resource(show_spinner=False, max_entries=4)
def _reader(path: str, mtime_ns: int, size: int) -> Snapshot:
    del mtime_ns, size  # only part of the cache key: the pipeline replaces the file whole
    return open_reader(Path(path))


@st.cache_resource(show_spinner=False, max_entries=2)
def _connection(key: str) -> duckdb.DuckDBPyConnection:
    # the version after '#' only tells a replaced reader copy apart
    return connect_read_only(Path(key.rpartition("#")[0]))


def open_warehouse(home: Path) -> Warehouse | None:
    """The reader copy of ``home`` if it is readable, else a snapshot of its warehouse.

    A snapshot is the previous one while a copy fails; ``None`` when there is neither file.

    Raises:
        UnreadableWarehouseError: when no file can be opened and no earlier snapshot of it exists.
    """
    reader = home / READER_FILE
    version = file_version(reader)
    reader_problem = None
    if version is not None:
        try:
            return Warehouse(_reader(str(reader), version.mtime_ns, version.size), reader=True)
        except FileNotFoundError:
            pass  # removed since the stat: read the warehouse
        except SnapshotError as exc:  # corrupt, or another version's layout: the warehouse still serves
            reader_problem = str(exc)
    found = _open_snapshot(home)
    if reader_problem is None:
        return found
    if found is None:
        raise UnreadableWarehouseError(reader_problem)
    return Warehouse(found.snapshot, found.stale, found.problem, reader_problem=reader_problem)


def _open_snapshot(home: Path) -> Warehouse | None:
    """A snapshot of ``home``'s warehouse; the previous one while a copy fails; ``None`` if absent."""
    source = home / WAREHOUSE_FILE
    version = file_version(source)
    last = _last_good()
    if version is None:
        return None
    known = _unreadable().get(str(source))
    try:
        if known is not None and known[0] == version:  # judged already: do not retry on every rerun
            raise UnreadableWarehouseError(known[1])
        snapshot = _snapshot(str(source), version.mtime_ns, version.size)
        if not snapshot.path.exists():  # removed behind the cache's back (a temporary-file cleaner)
            _snapshot.clear()
            snapshot = _snapshot(str(source), version.mtime_ns, version.size)
    except UnreadableWarehouseError as exc:
        _unreadable()[str(source)] = (version, str(exc))
        previous = last.get(str(source))
        if previous is None:
            raise
        return Warehouse(previous, stale=True, problem=str(exc))
    except (SnapshotError, FileNotFoundError):
        previous = last.get(str(source))
        return None if previous is None else Warehouse(previous, stale=True)
    last[str(source)] = snapshot
    return Warehouse(snapshot)


@st.cache_data(show_spinner=False, max_entries=256)
def _query(name: str, key: str, filters: data.Filters) -> pl.DataFrame:
    function: Callable[[duckdb.DuckDBPyConnection, data.Filters], pl.DataFrame] = getattr(data, name)
    return function(_connection(key), filters)


def query(
    ctx: Context, function: Callable[[duckdb.DuckDBPyConnection, data.Filters], pl.DataFrame]
) -> pl.DataFrame:
    """``function(conn, filters)`` from :mod:`dashboards.data`, cached per snapshot and filters."""
    if ctx.warehouse is None:
        raise RuntimeError("no warehouse")
    return _query(function.__name__, ctx.warehouse.key, ctx.filters)


def section(
    ctx: Context,
    table: str,
    function: Callable[[duckdb.DuckDBPyConnection, data.Filters], pl.DataFrame],
    *,
    missing: str,
    empty: str,
) -> pl.DataFrame | None:
    """The rows of a page section built from an optional ``table``, or None after saying why there are none.

    A section's table may not be built yet (``missing`` says how to build it), or the filters may
    leave nothing (``empty``); the rest of the page still draws.
    """
    if table not in ctx.tables:
        st.info(missing)
        return None
    frame = query(ctx, function)
    if frame.height == 0:
        st.info(empty)
        return None
    return frame


@st.cache_resource(show_spinner=False, max_entries=4)
def _model(folder: str, mtime_ns: int) -> ServedModel | None:
    del mtime_ns  # cache key only: a promotion replaces the folder
    return load_model(Path(folder).parent.parent)


def served_model(home: Path) -> ServedModel | None:
    """The promoted model, reloaded when a promotion replaces it."""
    report = home / "models" / "current" / "report.json"
    version = file_version(report)
    return None if version is None else _model(str(home / "models" / "current"), version.mtime_ns)


@st.cache_data(show_spinner=False, max_entries=64)
def _scores(key: str, filters: data.Filters, folder: str, model_mtime: int) -> pl.DataFrame:
    model = _model(folder, model_mtime)
    return pl.DataFrame() if model is None else model.score(data.run_features(_connection(key), filters))


def scores(ctx: Context) -> pl.DataFrame | None:
    """Failure probability and risk level of every run in the filter (``None`` without a model)."""
    folder = ctx.home / "models" / "current"
    version = file_version(folder / "report.json")
    if ctx.warehouse is None or version is None or "features.run_features" not in ctx.tables:
        return None
    if _model(str(folder), version.mtime_ns) is None:
        return None
    return _scores(ctx.warehouse.key, ctx.filters, str(folder), version.mtime_ns)


@st.cache_data(show_spinner=False, max_entries=16)
def _sla_settings(value: str, env_value: str, mtime_ns: int | None) -> SlaSettings:
    del mtime_ns  # cache key only: an edited file is read again
    return load_sla_settings(value, {ENV_VAR: env_value} if env_value else {})


def sla_settings() -> SlaSettings:
    """The SLA configuration in force: the page's setting, else ``REPOPILOT_SLA_CONFIG``, else defaults.

    Cached per setting and file version, so an edited file takes effect on the next rerun.
    """
    value = str(st.session_state.get(SLA_CONFIG_KEY) or "")
    env_value = os.environ.get(ENV_VAR, "")
    path = config_path(value) or config_path(env_value)
    version = None if path is None else file_version(path)
    return _sla_settings(value, env_value, None if version is None else version.mtime_ns)


def sla_clocks(ctx: Context, config: SlaConfig) -> pl.DataFrame:
    """The SLA clocks of the filter judged against ``config`` (the query is cached, judging is cheap)."""
    return data.judge_sla(query(ctx, data.sla_clock_rows), config)


@st.cache_data(show_spinner=False, max_entries=32)
def _ci_health(key: str, filters: data.Filters, config: SlaConfig) -> pl.DataFrame:
    return data.weekly_ci_health(data.ci_health_runs(_connection(key), filters), config)


def ci_health(ctx: Context, config: SlaConfig) -> pl.DataFrame:
    """Weekly CI success rate and availability against ``config``'s targets."""
    if ctx.warehouse is None:
        raise RuntimeError("no warehouse")
    return _ci_health(ctx.warehouse.key, ctx.filters, config)


@st.cache_data(show_spinner=False, max_entries=16)
def _post_mortems(key: str, filters: data.Filters, incident_label: str) -> pl.DataFrame:
    return data.post_mortems(_connection(key), filters, incident_label)


def post_mortems(ctx: Context, config: SlaConfig) -> pl.DataFrame:
    """The SLA action's post-mortems in the filter, from issues with ``config``'s incident label."""
    if ctx.warehouse is None:
        raise RuntimeError("no warehouse")
    return _post_mortems(ctx.warehouse.key, ctx.filters, config.incident_label)


def report(ctx: Context) -> dict[str, Any] | None:
    """The promoted model's report (``None`` before the first promotion)."""
    return read_report(ctx.home)


@st.cache_data(show_spinner=False, max_entries=16)
def _meta(key: str) -> tuple[data.Source, frozenset[str], list[str], tuple[datetime, datetime] | None]:
    conn = _connection(key)
    present = data.tables(conn)
    if "core.ci_runs" not in present:
        return data.source(conn), present, [], None
    return data.source(conn), present, data.repositories(conn), data.time_span(conn)


def sidebar() -> Context:
    """Draw the sidebar (source, repository and time filters) and return the page context."""
    home = home_directory()
    problem = None
    try:
        warehouse = open_warehouse(home)
    except UnreadableWarehouseError as exc:
        warehouse, problem = None, str(exc)
    st.sidebar.caption(f"Data directory: `{home}`")
    if warehouse is None:
        busy = file_version(home / WAREHOUSE_FILE) is not None  # there, but no consistent copy yet
        ctx = Context(home, None, data.Filters(), data.Source(), frozenset(), busy, problem)
        st.session_state[CONTEXT_KEY] = ctx
        return ctx
    source, present, repos, span = _meta(warehouse.key)
    if source.synthetic:
        st.sidebar.warning("**Synthetic data**: the built-in sample organisation, not a real one.")
    chosen = st.sidebar.multiselect("Repositories", repos, placeholder="All repositories", key="repos")
    filters = data.Filters(repos=tuple(sorted(chosen)))
    if span is not None:
        first, last = span[0].date(), span[1].date()
        _follow_span(first, last)
        picked = st.sidebar.date_input(
            "Time range (UTC)", min_value=first, max_value=last, key=TIME_RANGE_KEY
        )
        dates = list(picked) if isinstance(picked, tuple | list) else [picked]
        if dates:
            filters = data.Filters.from_dates(filters.repos, dates[0], dates[-1])
    modified = warehouse.snapshot.modified_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if warehouse.problem is not None:
        st.sidebar.error(f"The current warehouse file cannot be read: {warehouse.problem}. {REBUILD}")
    if warehouse.reader_problem is not None:
        st.sidebar.warning(f"The reader copy was passed over: {warehouse.reader_problem}. {REBUILD}")
    elif not warehouse.reader:
        st.sidebar.caption(NO_READER)
    newest = "" if span is None else f"; newest run {utc_minute(span[1])} UTC"
    written = "Reader copy written" if warehouse.reader else "Warehouse written"
    st.sidebar.caption(
        f"{written} {modified}{newest}"
        + (
            " (the last readable version)"
            if warehouse.problem is not None
            else " (a newer version is being written)"
            if warehouse.stale
            else ""
        )
    )
    ctx = Context(home, warehouse, filters, source, present)
    st.session_state[CONTEXT_KEY] = ctx
    return ctx


def _follow_span(first: date, last: date) -> None:
    """Keep the time range on the warehouse's span as new runs arrive.

    A keyed date input keeps its value when its bounds change, so a range picked on yesterday's
    warehouse would silently leave out today's runs. An end (start) that sat on the old span's
    edge moves with the edge; a range the reader narrowed stays, clipped to the new span.
    """
    old = st.session_state.get(TIME_SPAN_KEY)
    current = st.session_state.get(TIME_RANGE_KEY)
    if old == (first, last) and current is not None:
        return
    dates = list(current) if isinstance(current, tuple | list) else []
    if old is None or len(dates) != 2:
        start, end = first, last
    else:
        start = first if dates[0] == old[0] else min(max(dates[0], first), last)
        end = last if dates[1] == old[1] else min(max(dates[1], start), last)
    st.session_state[TIME_RANGE_KEY] = (start, end)
    st.session_state[TIME_SPAN_KEY] = (first, last)


def context() -> Context:
    """The context the sidebar stored for this run."""
    ctx = st.session_state.get(CONTEXT_KEY)
    return ctx if isinstance(ctx, Context) else sidebar()


def header(title: str, ctx: Context, *, needs: tuple[str, ...] = ()) -> bool:
    """Title, the synthetic-data notice, and whether the tables the page ``needs`` are there.

    When the warehouse or a needed table is missing, says so (with how to build it) and
    returns False; the page then draws nothing else.
    """
    st.title(title)
    if ctx.warehouse is None:
        if ctx.problem is not None:
            st.error(f"The warehouse cannot be read: {ctx.problem}. {REBUILD}")
        else:
            st.info(BUSY if ctx.busy else data.NO_DATA)
        return False
    if ctx.source.synthetic:
        st.warning(
            "Synthetic sample data (source: "
            + ", ".join(ctx.source.labels)
            + "). Figures here show how repopilot works, not how any real organisation performs."
        )
    missing = [t for t in needs if t not in ctx.tables]
    if missing:
        st.info(f"No data yet for this page (missing: {', '.join(missing)}) — run `make demo` to build it.")
        return False
    return True


READ_ERRORS = (duckdb.Error, pl.exceptions.ColumnNotFoundError)
"""What reading a warehouse that lacks a table or column the dashboard needs raises."""


def cannot_read(exc: Exception) -> None:
    """Say that the warehouse lacks what the page reads (an older schema), without a traceback."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    st.error(
        "This page cannot be drawn from this warehouse: it lacks a table or column the page reads "
        f"(`{detail}`). It was probably built by an older version of repopilot. {REBUILD}"
    )


def utc_minute(value: object) -> str:
    """A time as ``YYYY-MM-DD HH:MM`` in UTC, or an em dash when it is not one."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "—"


def percent(value: float | None) -> str:
    """A share as a percentage, or an em dash when unknown."""
    return "—" if value is None else f"{value:.1%}"


def hours(value: float | None) -> str:
    """Hours, days for long spans, or an em dash."""
    if value is None:
        return "—"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def last_days(frame: pl.DataFrame, column: str, days: int) -> pl.DataFrame:
    """The rows of the last ``days`` days before the newest ``column`` value."""
    return frame.filter(pl.col(column) > pl.col(column).max() - pl.duration(days=days))
