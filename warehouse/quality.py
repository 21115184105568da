"""Data-quality suites as code, validated with Great Expectations.

Each warehouse table has a small typed :class:`TableSpec` (key, not-null columns, accepted
values, bounds, column orderings, the column that dates a row). :func:`expectation_suite`
turns a spec into a GX suite for the columns a table actually has, and
:func:`validate_table` reads the table, validates it and returns a typed
:class:`QualityResult` whose messages name the expectation, the column and up to five
offending keys.

Suites are registered for every ``raw`` table, every ``core`` table of
:data:`warehouse.db.CORE_KEYS` and ``features.run_features``; :func:`register_suite` adds
suites for later tables. Two rules apply to every table without being declared: a column
named ``*_rate`` (or ``*_rate_<window>``, e.g. ``fail_rate_5``) lies in [0, 1], and one named
``*_count`` (or ``*_count_<window>``) is never negative.

Great Expectations is imported on first use (it takes seconds to import), and one ephemeral
context serves the whole process.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from string import Template
from typing import Any

import duckdb

from actions.common.conclusions import RUN_CONCLUSIONS
from pipelines.sources.streams import RAW_TABLES
from warehouse.db import CORE_KEYS

MAX_OFFENDING_KEYS = 5
"""Offending keys reported per failed expectation."""

_PARTIAL_ROWS = 20
"""Rows GX samples per failed expectation; duplicates share keys, so more than five are read."""


class Severity(StrEnum):
    """What a failed expectation does: ``error`` fails the table, ``warn`` only reports."""

    ERROR = "error"
    WARN = "warn"


@dataclass(frozen=True)
class AcceptedValues:
    """A column whose non-null values all belong to a set (lower-case enum values).

    Attributes:
        column: column name.
        values: the accepted values.
        severity: whether a value outside the set fails the table or only warns.
    """

    column: str
    values: frozenset[str]
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class Bounds:
    """A numeric column within ``[min_value, max_value]`` (either end open when ``None``).

    Attributes:
        column: column name.
        min_value: smallest accepted value.
        max_value: largest accepted value.
    """

    column: str
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class Ordered:
    """Two columns where ``later >= earlier`` whenever both are set (timestamps).

    Attributes:
        later: the column that must not be smaller.
        earlier: the column that must not be larger.
    """

    later: str
    earlier: str


@dataclass(frozen=True)
class TableSpec:
    """The quality rules of one warehouse table.

    Attributes:
        schema: schema name (``raw``, ``core``, ``features``, ...).
        table: table name.
        key: columns identifying a row: together unique, each not null.
        not_null: further columns that must never be null.
        accepted: enum-like columns with their accepted values.
        lower_case: enum-like columns without a closed set whose values must be lower-case
            identifiers (``pull_request``, ``head_ref_force_pushed``).
        bounds: numeric ranges.
        ordered: column pairs that must be ordered.
        time_column: the column that dates a row (it must exist). Whether the table is fresh is
            not a property of its rows (``pipelines.defs.freshness`` checks its materialisations).
    """

    schema: str
    table: str
    key: tuple[str, ...]
    not_null: tuple[str, ...] = ()
    accepted: tuple[AcceptedValues, ...] = ()
    lower_case: tuple[str, ...] = ()
    bounds: tuple[Bounds, ...] = ()
    ordered: tuple[Ordered, ...] = ()
    time_column: str | None = None

    @property
    def name(self) -> str:
        """``schema.table``."""
        return f"{self.schema}.{self.table}"

    def describe(self) -> str:
        """What the suite checks, in one paragraph (for check descriptions in the UI)."""
        parts = [f"({', '.join(self.key)}) unique and not null"]
        if self.not_null:
            parts.append(f"not null: {', '.join(self.not_null)}")
        parts += [
            f"{a.column} in {{{', '.join(sorted(a.values))}}}"
            + (" (warning)" if a.severity is Severity.WARN else "")
            for a in self.accepted
        ]
        parts += [f"{c} lower-case" for c in self.lower_case]
        parts += [
            f"{b.column} within [{_num(b.min_value, '-inf')}, {_num(b.max_value, 'inf')}]"
            for b in self.bounds
        ]
        parts += [f"{o.later} >= {o.earlier}" for o in self.ordered]
        parts.append("*_rate[_N] within [0, 1], *_count[_N] >= 0")
        parts.append("no timestamp in the future")
        parts.append("row count not down by more than the allowed drop since the previous materialisation")
        return f"{self.name}: " + "; ".join(parts) + "."

    def columns(self) -> list[str]:
        """Every column the spec names, in first-mention order."""
        names = [*self.key, *self.not_null, *(a.column for a in self.accepted), *self.lower_case]
        names += [b.column for b in self.bounds]
        names += [c for o in self.ordered for c in (o.later, o.earlier)]
        names += [self.time_column] if self.time_column else []
        return list(dict.fromkeys(names))


PATTERN_BOUNDS: tuple[tuple[re.Pattern[str], float | None, float | None], ...] = (
    (re.compile(r"(^|_)rate(_\d+)?$"), 0.0, 1.0),
    (re.compile(r"(^|_)count(_\d+)?$"), 0.0, None),
)
"""Bounds applied to every column whose name matches: (name pattern, min, max)."""

FUTURE_SKEW = timedelta(hours=1)
"""How far past the reference time a timestamp may lie (clocks of GitHub and of this host differ)."""

LOWER_CASE_PATTERN = r"^[a-z][a-z0-9_]*$"
"""What a normalised enum value looks like."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation on one table.

    Attributes:
        expectation: the GX expectation type (``expect_column_values_to_be_in_set``, ...).
        column: the column (or ``a, b`` for several) it applies to; empty for table-level ones.
        success: whether it held.
        severity: what a failure means.
        message: one line saying what failed where, with offending keys.
        unexpected_count: rows that broke it (0 for aggregate expectations).
        offending_keys: up to five keys of offending rows, ``{column: value}``.
        sample_values: up to five distinct offending values, as text.
        observed: the observed value of an aggregate expectation (row count, maximum), as text.
    """

    expectation: str
    column: str
    success: bool
    severity: Severity
    message: str
    unexpected_count: int = 0
    offending_keys: tuple[Mapping[str, object], ...] = ()
    sample_values: tuple[str, ...] = ()
    observed: str | None = None


@dataclass(frozen=True)
class QualityResult:
    """The validation of one table.

    Attributes:
        table: ``schema.table``.
        row_count: rows in the table now.
        previous_row_count: rows at the previous materialisation, when known.
        outcomes: one outcome per expectation.
        seconds: time spent reading and validating.
    """

    table: str
    row_count: int
    previous_row_count: int | None
    outcomes: tuple[ExpectationOutcome, ...]
    seconds: float = 0.0

    @property
    def failures(self) -> list[ExpectationOutcome]:
        """Failed expectations of severity ``error``."""
        return [o for o in self.outcomes if not o.success and o.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failed expectations of severity ``warn``."""
        return [o for o in self.outcomes if not o.success and o.severity is Severity.WARN]

    @property
    def success(self) -> bool:
        """True when no ``error`` expectation failed (warnings do not fail a table)."""
        return not self.failures

    def summary(self) -> str:
        """One line per failed expectation, or a line saying everything held."""
        failed = self.failures + self.warnings
        if not failed:
            return f"{self.table}: all {len(self.outcomes)} expectations hold ({self.row_count} rows)"
        return "\n".join(f"[{o.severity}] {o.message}" for o in failed)

    def markdown(self) -> str:
        """Failed expectations with their offending rows, as a markdown table."""
        lines = [
            "| severity | expectation | column | unexpected | offending keys | sample values |",
            "|---|---|---|---|---|---|",
        ]
        for o in self.failures + self.warnings:
            keys = "<br>".join(_key_text(k) for k in o.offending_keys)
            values = ", ".join(o.sample_values) or (o.observed or "")
            cells = [str(o.severity), o.expectation, o.column, str(o.unexpected_count), keys, values]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
        return "\n".join(lines)


_CI_STATUSES = frozenset({"completed", "in_progress", "queued", "waiting", "pending", "requested"})
_REVIEW_STATES = frozenset({"approved", "changes_requested", "commented", "dismissed", "pending"})
_OPEN_CLOSED = frozenset({"open", "closed"})
_STATE_REASONS = frozenset({"completed", "not_planned", "reopened", "duplicate"})
_AUTHOR_ASSOCIATIONS = frozenset(
    {
        "collaborator",
        "contributor",
        "first_timer",
        "first_time_contributor",
        "mannequin",
        "member",
        "none",
        "owner",
    }
)
_FILE_STATUSES = frozenset({"added", "removed", "modified", "renamed", "copied", "changed", "unchanged"})
_COMMIT_STATES = frozenset({"error", "failure", "pending", "success"})


def _non_negative(*columns: str) -> tuple[Bounds, ...]:
    return tuple(Bounds(c, min_value=0) for c in columns)


def _raw_spec(table: str) -> TableSpec:
    return TableSpec(
        "raw", table, key=("repo", "key"), not_null=("data", "fetched_at"), time_column="fetched_at"
    )


def _core_specs() -> list[TableSpec]:
    def core(table: str, **rules: Any) -> TableSpec:
        return TableSpec("core", table, key=CORE_KEYS[table], **rules)

    conclusion = AcceptedValues("conclusion", RUN_CONCLUSIONS)
    association = AcceptedValues("author_association", _AUTHOR_ASSOCIATIONS)
    return [
        core(
            "pull_requests",
            not_null=("number", "state", "created_at"),
            accepted=(AcceptedValues("state", _OPEN_CLOSED), association),
            bounds=(Bounds("number", min_value=1), *_non_negative("additions", "deletions", "changed_files")),
            ordered=(
                Ordered("updated_at", "created_at"),
                Ordered("closed_at", "created_at"),
                Ordered("merged_at", "created_at"),
            ),
            time_column="updated_at",
        ),
        core(
            "reviews",
            not_null=("pull_number", "state"),
            accepted=(AcceptedValues("state", _REVIEW_STATES), association),
            time_column="submitted_at",
        ),
        core(
            "pr_files",
            accepted=(AcceptedValues("status", _FILE_STATUSES),),
            bounds=_non_negative("additions", "deletions", "changes"),
        ),
        core(
            "issues",
            not_null=("number", "state", "created_at"),
            accepted=(
                AcceptedValues("state", _OPEN_CLOSED),
                AcceptedValues("state_reason", _STATE_REASONS),
                association,
            ),
            bounds=(Bounds("number", min_value=1),),
            ordered=(Ordered("updated_at", "created_at"), Ordered("closed_at", "created_at")),
            time_column="updated_at",
        ),
        core(
            "comments",
            not_null=("created_at",),
            accepted=(AcceptedValues("kind", frozenset({"issue", "review"})), association),
            bounds=_non_negative("body_length"),
            ordered=(Ordered("updated_at", "created_at"),),
            time_column="updated_at",
        ),
        core(
            "issue_events",
            not_null=("event", "created_at"),
            lower_case=("event",),
            time_column="created_at",
        ),
        core(
            "ci_runs",
            not_null=("status", "created_at", "updated_at"),
            accepted=(AcceptedValues("status", _CI_STATUSES), conclusion),
            lower_case=("event",),
            bounds=(
                Bounds("run_attempt", min_value=1),
                Bounds("run_number", min_value=1),
                *_non_negative("duration_seconds"),
            ),
            ordered=(Ordered("updated_at", "created_at"),),
            time_column="updated_at",
        ),
        core(
            "ci_jobs",
            not_null=("run_id", "run_attempt", "status"),
            accepted=(AcceptedValues("status", _CI_STATUSES), conclusion),
            bounds=(Bounds("run_attempt", min_value=1), *_non_negative("duration_seconds")),
            ordered=(Ordered("completed_at", "started_at"),),
            time_column="started_at",
        ),
        core(
            "check_runs",
            not_null=("status",),
            accepted=(AcceptedValues("status", _CI_STATUSES), conclusion),
            ordered=(Ordered("completed_at", "started_at"),),
            time_column="started_at",
        ),
        core(
            "commit_statuses",
            not_null=("state",),
            accepted=(AcceptedValues("state", _COMMIT_STATES),),
            ordered=(Ordered("updated_at", "created_at"),),
            time_column="updated_at",
        ),
        core(
            "people",
            not_null=("is_bot",),
            bounds=(Bounds("appearances", min_value=1), Bounds("repositories", min_value=1)),
            ordered=(Ordered("last_seen_at", "first_seen_at"),),
            time_column="last_seen_at",
        ),
        core(
            "run_changes",
            bounds=_non_negative(
                "lines_added",
                "lines_deleted",
                "files_changed",
                "src_churn",
                "test_churn",
                "doc_churn",
                "tests_added",
                "test_density",
                "team_size",
                "log_tests_failed",
                "log_tests_run",
            ),
        ),
    ]


def _travis_spec() -> TableSpec:
    return TableSpec(
        "raw",
        "travis_builds",
        key=("gh_project_name", "tr_build_id"),
        not_null=("tr_status", "gh_build_started_at"),
        bounds=_non_negative("tr_duration"),
        time_column="fetched_at",
    )


_SUITES: dict[str, TableSpec] = {}
_SUITES_LOCK = threading.Lock()


def register_suite(spec: TableSpec, *, replace: bool = False) -> TableSpec:
    """Register the quality rules of a table (feature tables add theirs this way).

    Args:
        spec: the table's rules.
        replace: allow replacing an already registered suite of the same table.

    Returns:
        The registered spec.

    Raises:
        ValueError: when the table already has a suite and ``replace`` is false.
    """
    with _SUITES_LOCK:
        if spec.name in _SUITES and not replace and _SUITES[spec.name] != spec:
            raise ValueError(f"a quality suite for {spec.name} is already registered")
        _SUITES[spec.name] = spec
    return spec


def suite_spec(schema: str, table: str) -> TableSpec:
    """The registered rules of ``schema.table``.

    Raises:
        KeyError: when no suite is registered for the table.
    """
    try:
        return _SUITES[f"{schema}.{table}"]
    except KeyError:
        raise KeyError(f"no quality suite registered for {schema}.{table}") from None


def registered_suites() -> list[TableSpec]:
    """Every registered spec, in registration order."""
    return list(_SUITES.values())


for _table in RAW_TABLES:
    register_suite(_raw_spec(_table))
register_suite(_travis_spec())
for _spec in _core_specs():
    register_suite(_spec)
for _table, _key in CORE_KEYS.items():
    if f"core.{_table}" not in _SUITES:  # a new core table is at least checked on its key
        register_suite(TableSpec("core", _table, key=_key))
register_suite(
    TableSpec(
        "features",
        "run_features",
        key=("id", "run_attempt", "repo"),
        # what the splits and the time order rest on
        not_null=("created_at", "attempt_group"),
        bounds=(
            Bounds("hour", min_value=0, max_value=23),
            Bounds("day_of_week", min_value=1, max_value=7),  # ISO: 1 = Monday
            *(Bounds(c, min_value=0, max_value=1) for c in ("is_pr", "by_core_member", "prev_failed")),
            *(Bounds(c, min_value=0, max_value=1) for c in ("src_share", "test_share", "doc_share")),
            Bounds("coverage", min_value=0, max_value=100),
            *_non_negative(
                "duration_seconds", "prev_duration", "fail_streak", "lines_added", "lines_deleted"
            ),
        ),
    )
)
register_suite(
    TableSpec(
        "features",
        "reviewer_stats",
        key=("repo", "candidate"),
        not_null=("as_of",),
        bounds=(
            Bounds("open_workload", min_value=0),
            Bounds("median_first_response_hours", min_value=0),
            Bounds("events_last_14d", min_value=0),
            Bounds("in_usual_hours_share", min_value=0, max_value=1),
            Bounds("reviews_done", min_value=0),
        ),
    )
)
register_suite(
    TableSpec(
        "features",
        "path_expertise_weights",
        key=("repo", "candidate", "path_prefix"),
        bounds=(Bounds("weight", min_value=0),),
    )
)
register_suite(
    TableSpec(
        "features",
        "activity_by_hour",
        key=("repo", "hour_of_week"),
        bounds=(
            Bounds("hour_of_week", min_value=0, max_value=167),
            Bounds("hour_of_day", min_value=0, max_value=23),
            Bounds("active_users", min_value=0),
            Bounds("workflow_runs", min_value=0),
            Bounds("pr_merges", min_value=0),
            Bounds("issue_activity", min_value=0),
            Bounds("impact_score", min_value=0, max_value=1),
        ),
    )
)
register_suite(
    TableSpec(
        "features",
        "failure_classes",
        key=("repo", "run_id", "run_attempt"),
        not_null=("created_at", "conclusion"),
        accepted=(AcceptedValues("failure_class", frozenset({"transient", "dependency", "permanent"})),),
        bounds=(Bounds("confidence", min_value=0, max_value=1),),
    )
)
register_suite(
    TableSpec(
        "features",
        "sla_clock_states",
        key=("repo", "number"),
        not_null=("as_of", "created_at"),
        accepted=(AcceptedValues("priority", frozenset({"P0", "P1", "P2", "P3"})),),
        bounds=(
            Bounds("time_to_first_response_hours", min_value=0),
            Bounds("time_to_resolution_hours", min_value=0),
            Bounds("response_open_hours", min_value=0),
            Bounds("resolution_open_hours", min_value=0),
        ),
        ordered=(Ordered("first_response_at", "created_at"), Ordered("resolved_at", "created_at")),
    )
)


@dataclass(frozen=True)
class _Rule:
    """One expectation of a suite, with what is needed to explain its failure."""

    expectation: Any
    columns: tuple[str, ...]
    severity: Severity
    explain: str
    """What went wrong, a ``string.Template`` over ``$count``, ``$samples`` and ``$observed``."""
    nullness_only: bool = False
    """The expectation looks at whether values are null, never at the values themselves."""

    @property
    def column(self) -> str:
        """The column label shown in messages (``a, b`` for several)."""
        return ", ".join(self.columns)


@dataclass
class _Plan:
    rules: list[_Rule] = field(default_factory=list)

    def add(
        self,
        expectation: Any,
        columns: tuple[str, ...],
        explain: str,
        severity: Severity = Severity.ERROR,
        *,
        nullness_only: bool = False,
    ) -> None:
        self.rules.append(_Rule(expectation, columns, severity, explain, nullness_only))

    def projection(self, columns: Sequence[str]) -> str:
        """The SELECT list reading what the rules need, in table order.

        Columns only checked for nulls are read as a flag (true or null), so a large JSON
        payload such as ``raw.*.data`` is never copied into the DataFrame.
        """
        values = {c for r in self.rules if not r.nullness_only for c in r.columns}
        nullness = {c for r in self.rules if r.nullness_only for c in r.columns} - values
        items = [f'"{c}"' if c in values else f'("{c}" IS NOT NULL OR NULL) AS "{c}"' for c in columns]
        return ", ".join(item for c, item in zip(columns, items, strict=True) if c in values | nullness)


def _plan(
    spec: TableSpec,
    columns: Sequence[str],
    *,
    timestamps: Sequence[str] = (),
    previous_row_count: int | None,
    max_row_drop: float,
    now: datetime | None,
) -> _Plan:
    gxe = _gx().expectations
    present = set(columns)
    plan = _Plan()
    for column in spec.columns():
        if column not in present:
            plan.add(gxe.ExpectColumnToExist(column=column), (column,), "column is missing")

    def has(*names: str) -> bool:
        return all(n in present for n in names)

    key = [c for c in spec.key if c in present]
    if len(key) == len(spec.key):
        label = ", ".join(key)
        unique = (
            gxe.ExpectCompoundColumnsToBeUnique(column_list=key)
            if len(key) > 1
            else gxe.ExpectColumnValuesToBeUnique(column=key[0])
        )
        plan.add(unique, tuple(key), f"$count rows share their key ({label}) with another row")
    for column in dict.fromkeys([*key, *spec.not_null]):
        if has(column):
            plan.add(
                gxe.ExpectColumnValuesToNotBeNull(column=column),
                (column,),
                "$count null values",
                nullness_only=column not in key,
            )
    for accepted in spec.accepted:
        if has(accepted.column):
            allowed = sorted(accepted.values)
            plan.add(
                gxe.ExpectColumnValuesToBeInSet(column=accepted.column, value_set=allowed),
                (accepted.column,),
                f"$count values outside {{{', '.join(allowed)}}} (e.g. $samples)",
                accepted.severity,
            )
    for column in spec.lower_case:
        if has(column):
            plan.add(
                gxe.ExpectColumnValuesToMatchRegex(column=column, regex=LOWER_CASE_PATTERN),
                (column,),
                "$count values are not lower-case identifiers (e.g. $samples)",
            )
    declared = {b.column for b in spec.bounds}
    pattern_bounds = [
        Bounds(c, lo, hi)
        for c in columns
        if c not in declared
        for pattern, lo, hi in PATTERN_BOUNDS
        if pattern.search(c)
    ]
    for bounds in (*spec.bounds, *pattern_bounds):
        if has(bounds.column):
            span = f"[{_num(bounds.min_value, '-inf')}, {_num(bounds.max_value, 'inf')}]"
            plan.add(
                gxe.ExpectColumnValuesToBeBetween(
                    column=bounds.column, min_value=bounds.min_value, max_value=bounds.max_value
                ),
                (bounds.column,),
                f"$count values outside {span} (e.g. $samples)",
            )
    for order in spec.ordered:
        if has(order.later, order.earlier):
            plan.add(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=order.later,
                    column_B=order.earlier,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                ),
                (order.later, order.earlier),
                f"{order.later} is before {order.earlier} on $count rows",
            )
    # Every table holds history: a timestamp in the future is a parsing or clock error.
    latest = (now or datetime.now(UTC)) + FUTURE_SKEW
    for column in timestamps:
        if has(column):
            plan.add(
                gxe.ExpectColumnValuesToBeBetween(column=column, max_value=latest),
                (column,),
                f"$count values later than {latest.isoformat()}, in the future (e.g. $samples)",
            )
    if previous_row_count:
        floor = math.ceil(round(previous_row_count * (1 - max_row_drop), 9))
        plan.add(
            gxe.ExpectTableRowCountToBeBetween(min_value=floor),
            (),
            f"row count fell from {previous_row_count} to $observed (more than {max_row_drop:.0%} fewer)",
        )
    return plan


def expectation_suite(
    spec: TableSpec,
    columns: Sequence[str],
    *,
    previous_row_count: int | None = None,
    max_row_drop: float = 0.5,
    now: datetime | None = None,
    timestamps: Sequence[str] = (),
) -> Any:
    """Build the GX suite of ``spec`` for a table with ``columns``.

    Args:
        spec: the table's rules.
        columns: the columns the table has (pattern rules such as ``*_rate`` follow them).
        timestamps: the columns holding timestamps; none may lie after ``now`` (+ :data:`FUTURE_SKEW`).
        previous_row_count: as for :func:`validate_table`.
        max_row_drop: as for :func:`validate_table`.
        now: as for :func:`validate_table`.

    Returns:
        A ``great_expectations.ExpectationSuite``.
    """
    plan = _plan(
        spec,
        columns,
        timestamps=timestamps,
        previous_row_count=previous_row_count,
        max_row_drop=max_row_drop,
        now=now,
    )
    return _suite(spec, plan)


def _suite(spec: TableSpec, plan: _Plan) -> Any:
    _batch_definition()
    gx = _gx()
    for index, rule in enumerate(plan.rules):
        rule.expectation.meta = {"rule": index}
    return gx.ExpectationSuite(name=spec.name, expectations=[r.expectation for r in plan.rules])


def table_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Columns of ``schema.table`` in table order (empty when the table does not exist)."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = $schema AND table_name = $table ORDER BY ordinal_position",
        {"schema": schema, "table": table},
    ).fetchall()
    return [str(row[0]) for row in rows]


def timestamp_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Columns of ``schema.table`` holding instants (``TIMESTAMPTZ``, as the warehouse stores times)."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = $schema AND table_name = $table "
        "AND data_type = 'TIMESTAMP WITH TIME ZONE' ORDER BY ordinal_position",
        {"schema": schema, "table": table},
    ).fetchall()
    return [str(row[0]) for row in rows]


def validate_table(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    *,
    previous_row_count: int | None = None,
    max_row_drop: float = 0.5,
    now: datetime | None = None,
) -> QualityResult:
    """Validate ``schema.table`` against its registered suite.

    Args:
        conn: an open warehouse connection (read-only is enough).
        schema: schema of the table.
        table: table name.
        previous_row_count: rows at the previous materialisation; the table fails when it
            lost more than ``max_row_drop`` of them. ``None`` (first run) skips the check.
        max_row_drop: largest accepted fractional drop of the row count.
        now: the reference time of the rule that no timestamp column holds a time after it
            (default: the current time).

    Returns:
        The typed result; ``success`` is false when an ``error`` expectation failed.

    Raises:
        KeyError: when no suite is registered for the table.
        ValueError: when ``max_row_drop`` is outside [0, 1].
    """
    if not 0 <= max_row_drop <= 1:
        raise ValueError(f"max_row_drop must be within [0, 1], not {max_row_drop}")
    spec = suite_spec(schema, table)
    started = time.perf_counter()
    columns = table_columns(conn, schema, table)
    if not columns:
        missing = ExpectationOutcome(
            "table_exists", "", False, Severity.ERROR, f"{spec.name}: the table does not exist"
        )
        return QualityResult(spec.name, 0, previous_row_count, (missing,), time.perf_counter() - started)
    plan = _plan(
        spec,
        columns,
        timestamps=timestamp_columns(conn, schema, table),
        previous_row_count=previous_row_count,
        max_row_drop=max_row_drop,
        now=now,
    )
    select = plan.projection(columns) or "1 AS _row"
    frame = conn.execute(f'SELECT {select} FROM "{schema}"."{table}"').df()  # noqa: S608 - registered names
    key = [c for c in spec.key if c in columns]
    outcomes = _run(spec, plan, frame, key)
    return QualityResult(spec.name, len(frame), previous_row_count, outcomes, time.perf_counter() - started)


def validate_all(
    conn: duckdb.DuckDBPyConnection,
    *,
    schemas: Iterable[str] | None = None,
    now: datetime | None = None,
) -> dict[str, QualityResult]:
    """Validate every registered table that exists in the warehouse.

    Args:
        conn: an open warehouse connection.
        schemas: only these schemas (default: all).
        now: reference time of the rule that no timestamp lies in the future.

    Returns:
        Results by ``schema.table``; tables that do not exist are left out.
    """
    wanted = set(schemas) if schemas is not None else None
    results: dict[str, QualityResult] = {}
    for spec in registered_suites():
        if wanted is not None and spec.schema not in wanted:
            continue
        if table_columns(conn, spec.schema, spec.table):
            results[spec.name] = validate_table(conn, spec.schema, spec.table, now=now)
    return results


def _run(spec: TableSpec, plan: _Plan, frame: Any, key: list[str]) -> tuple[ExpectationOutcome, ...]:
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": _PARTIAL_ROWS}
    if key:
        result_format["unexpected_index_column_names"] = key
    validation = batch.validate(_suite(spec, plan), result_format=result_format)
    by_rule = {int(r.expectation_config.meta["rule"]): r for r in validation.results}
    outcomes = []
    for index, rule in enumerate(plan.rules):
        gx_result = by_rule[index]
        outcomes.append(_outcome(spec, rule, gx_result, key))
    return tuple(outcomes)


def _outcome(spec: TableSpec, rule: _Rule, gx_result: Any, key: list[str]) -> ExpectationOutcome:
    expectation = str(gx_result.expectation_config.type)
    details: Mapping[str, Any] = gx_result.result or {}
    count = int(details.get("unexpected_count") or 0)
    observed = _text(details["observed_value"]) if "observed_value" in details else None
    keys = _offending_keys(details.get("partial_unexpected_index_list") or [], key)
    samples = tuple(dict.fromkeys(_text(v) for v in details.get("partial_unexpected_list") or []))[
        :MAX_OFFENDING_KEYS
    ]
    success = bool(gx_result.success)
    where = f"{spec.name}.{rule.column}" if rule.column else spec.name
    if success:
        message = f"{where}: {expectation} holds"
    else:
        error = (gx_result.exception_info or {}).get("exception_message")
        problem = (
            f"could not be evaluated: {error}"
            if error
            else Template(rule.explain).safe_substitute(
                count=count, samples=", ".join(samples), observed=observed or ""
            )
        )
        message = f"{where}: {expectation} failed: {problem}"
        if keys:
            message += f"; offending keys: {'; '.join(_key_text(k) for k in keys)}"
    return ExpectationOutcome(
        expectation=expectation,
        column=rule.column,
        success=success,
        severity=rule.severity,
        message=message,
        unexpected_count=count,
        offending_keys=keys,
        sample_values=samples,
        observed=observed,
    )


def _offending_keys(rows: Iterable[Mapping[str, Any]], key: list[str]) -> tuple[Mapping[str, object], ...]:
    seen: dict[tuple[object, ...], Mapping[str, object]] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        values = {c: _plain(row.get(c)) for c in key}
        seen.setdefault(tuple(values.values()), values)
        if len(seen) == MAX_OFFENDING_KEYS:
            break
    return tuple(seen.values())


def _plain(value: Any) -> object:
    """A JSON-friendly Python value for numpy/pandas scalars (missing values become None)."""
    if value is None or _is_missing(value):
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, str | int | float | bool) else str(value)


def _is_missing(value: Any) -> bool:
    """NaN, NaT and pandas' NA, without importing pandas (it has no type stubs here)."""
    if isinstance(value, list | tuple | dict):
        return False
    try:
        return bool(value != value)
    except TypeError:  # pandas.NA has no truth value
        return True


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    plain = _plain(value)
    return "null" if plain is None else repr(plain) if isinstance(plain, str) else str(plain)


def _num(value: float | None, open_end: str) -> str:
    if value is None:
        return open_end
    return str(int(value)) if float(value).is_integer() else str(value)


def _key_text(key: Mapping[str, object]) -> str:
    return ", ".join(f"{c}={v}" for c, v in key.items())


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_GX_LOCK = threading.Lock()
_GX_STATE: dict[str, Any] = {}


def _gx() -> Any:
    """The ``great_expectations`` module, imported on first use."""
    module = _GX_STATE.get("module")
    if module is None:
        import great_expectations

        module = _GX_STATE.setdefault("module", great_expectations)
    return module


def _batch_definition() -> Any:
    """The process-wide batch definition of an in-memory DataFrame (ephemeral GX context)."""
    with _GX_LOCK:
        batch_definition = _GX_STATE.get("batch_definition")
        if batch_definition is None:
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            config = DataContextConfig(
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
                store_backend_defaults=InMemoryStoreBackendDefaults(),
            )
            context = _gx().get_context(mode="ephemeral", project_config=config)
            asset = context.data_sources.add_pandas("warehouse").add_dataframe_asset("table")
            batch_definition = asset.add_batch_definition_whole_dataframe("whole_table")
            _GX_STATE["context"] = context
            _GX_STATE["batch_definition"] = batch_definition
        return batch_definition
