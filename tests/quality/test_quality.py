"""Data-quality suites: they hold on real and sample data, and fail loudly on corrupted tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, DagsterInstance, asset, materialize

from pipelines import definitions
from pipelines.defs.ingestion import core_tables, raw_tables, raw_travis_builds
from pipelines.defs.quality import QUALITY_CHECK, quality_checks
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from pipelines.sources.base import RecordingSource
from pipelines.sources.ingest import land_repository
from pipelines.sources.recording import Recording
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from pipelines.sources.snapshot import read_devlake_snapshot
from pipelines.sources.streams import RAW_TABLES
from tests.conftest import require_shared
from warehouse.db import CORE_KEYS, build_core, connect
from warehouse.landing import LandingZone
from warehouse.loader import load_landed
from warehouse.quality import (
    QualityResult,
    TableSpec,
    register_suite,
    suite_spec,
    validate_all,
    validate_table,
)

EVERY_TABLE = {f"raw.{t}" for t in RAW_TABLES} | {f"core.{t}" for t in CORE_KEYS}


def _land(recording: Recording, home: Path) -> LandingZone:
    source = RecordingSource(recording, "test")
    zone = LandingZone(home / "landing")
    for repo in source.repositories():
        land_repository(source, repo, zone)
    return zone


def _build(recording: Recording, home: Path) -> Path:
    zone = _land(recording, home)
    path = home / "warehouse.duckdb"
    with connect(path) as conn:
        load_landed(conn, zone)
        build_core(conn)
    return path


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(generate_sample_org(), tmp_path_factory.mktemp("sample"))


@pytest.fixture
def conn(sample_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The sample warehouse inside a transaction that is rolled back: corrupt freely."""
    with connect(sample_db) as connection:
        connection.execute("BEGIN TRANSACTION")
        yield connection
        connection.execute("ROLLBACK")


def _failed(result: QualityResult) -> list[tuple[str, str]]:
    return [(o.expectation, o.column) for o in result.failures]


# ---------------------------------------------------------------------------------------------
# Real and sample data pass


def test_every_suite_passes_on_the_sample_organisation(sample_db: Path) -> None:
    with connect(sample_db, read_only=True) as conn:
        results = validate_all(conn)
    assert set(results) >= EVERY_TABLE
    assert {name: r.summary() for name, r in results.items() if r.failures or r.warnings} == {}
    ci_runs = results["core.ci_runs"]
    assert ci_runs.row_count > 1000
    checked = {(o.expectation, o.column) for o in ci_runs.outcomes}
    assert {
        ("expect_compound_columns_to_be_unique", "repo, id, run_attempt"),
        ("expect_column_values_to_be_in_set", "conclusion"),
        ("expect_column_values_to_be_in_set", "status"),
        ("expect_column_values_to_be_between", "duration_seconds"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "updated_at, created_at"),
        ("expect_column_values_to_match_regex", "event"),
    } <= checked


def test_devlake_edge_cases_arrive_normalised(tmp_path: Path) -> None:
    db = _build(read_devlake_snapshot(require_shared("github-api/devlake-ants")), tmp_path)
    with connect(db, read_only=True) as conn:
        raw = {
            value
            for (value,) in conn.execute(
                "SELECT data->>'$.conclusion' FROM raw.jobs "
                "UNION SELECT data->>'$.status' FROM raw.workflow_runs "
                "UNION SELECT data->>'$.state' FROM raw.reviews"
            ).fetchall()
        }
        results = validate_all(conn)
    assert {"", "SUCCESS", "TIMED_OUT", "CHANGES_REQUESTED"} <= raw  # the recording's edge cases
    assert set(results) >= EVERY_TABLE
    assert {name: r.summary() for name, r in results.items() if r.failures} == {}
    for table in ("core.ci_runs", "core.ci_jobs"):
        conclusion = next(o for o in results[table].outcomes if o.column == "conclusion")
        assert conclusion.success, conclusion.message
    # DevLake stores conclusions in `status` on its edge rows; core maps them to "completed".
    assert {name: r.summary() for name, r in results.items() if r.warnings} == {}
    status = next(o for o in results["core.ci_runs"].outcomes if o.column == "status")
    assert status.success, status.message


# ---------------------------------------------------------------------------------------------
# Corruption is caught, named and located

CORRUPTIONS: list[tuple[str, str, str, str, str]] = [
    # (table, SQL with $key predicate, failing expectation, column, what the message shows)
    (
        "ci_runs",
        "UPDATE core.ci_runs SET conclusion = 'FAILURE' WHERE {key}",
        "expect_column_values_to_be_in_set",
        "conclusion",
        "'FAILURE'",
    ),
    (
        "ci_runs",
        "INSERT INTO core.ci_runs SELECT * FROM core.ci_runs WHERE {key}",
        "expect_compound_columns_to_be_unique",
        "repo, id, run_attempt",
        "share their key",
    ),
    (
        "ci_runs",
        "UPDATE core.ci_runs SET updated_at = created_at - INTERVAL 1 HOUR WHERE {key}",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "updated_at, created_at",
        "updated_at is before created_at on 1 rows",
    ),
    (
        "ci_runs",
        "UPDATE core.ci_runs SET event = 'Push' WHERE {key}",
        "expect_column_values_to_match_regex",
        "event",
        "'Push'",
    ),
    (
        "ci_jobs",
        "UPDATE core.ci_jobs SET duration_seconds = -5 WHERE {key}",
        "expect_column_values_to_be_between",
        "duration_seconds",
        "outside [0, inf] (e.g. -5)",
    ),
    (
        "ci_jobs",
        "UPDATE core.ci_jobs SET completed_at = started_at - INTERVAL 1 HOUR WHERE {key}",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "completed_at, started_at",
        "completed_at is before started_at",
    ),
    (
        "reviews",
        "UPDATE core.reviews SET state = 'lgtm' WHERE {key}",
        "expect_column_values_to_be_in_set",
        "state",
        "'lgtm'",
    ),
    (
        "ci_runs",
        "UPDATE core.ci_runs SET run_started_at = TIMESTAMPTZ '2099-01-01 00:00:00+00' WHERE {key}",
        "expect_column_values_to_be_between",
        "run_started_at",
        "in the future (e.g. '2099-01-01",
    ),
    (
        "pull_requests",
        "UPDATE core.pull_requests SET merged_at = now() + INTERVAL 2 HOUR WHERE {key}",
        "expect_column_values_to_be_between",
        "merged_at",
        "in the future",
    ),
    (
        "pull_requests",
        "UPDATE core.pull_requests SET state = NULL WHERE {key}",
        "expect_column_values_to_not_be_null",
        "state",
        "1 null values",
    ),
]


@pytest.mark.parametrize(
    ("table", "corruption", "expectation", "column", "shown"),
    CORRUPTIONS,
    ids=[f"{c[0]}-{c[3]}-{c[2].removeprefix('expect_')}" for c in CORRUPTIONS],
)
def test_a_corrupted_table_fails_naming_expectation_column_and_keys(
    conn: duckdb.DuckDBPyConnection, table: str, corruption: str, expectation: str, column: str, shown: str
) -> None:
    key_columns = CORE_KEYS[table]
    where = "completed_at IS NOT NULL" if table == "ci_jobs" else "true"
    row = conn.execute(
        f"SELECT {', '.join(key_columns)} FROM core.{table} WHERE {where} ORDER BY ALL LIMIT 1"
    ).fetchone()
    assert row is not None
    key = dict(zip(key_columns, row, strict=True))
    predicate = " AND ".join(f"{c} = ${c}" for c in key_columns)
    conn.execute(corruption.format(key=predicate), key)

    result = validate_table(conn, "core", table)

    assert not result.success
    assert _failed(result) == [(expectation, column)]
    failure = result.failures[0]
    assert key in [dict(k) for k in failure.offending_keys]
    assert expectation in failure.message and f"core.{table}.{column}" in failure.message
    assert shown in failure.message
    assert ", ".join(f"{c}={v}" for c, v in key.items()) in failure.message
    assert expectation in result.markdown() and str(key[key_columns[-1]]) in result.markdown()


def test_offending_keys_are_capped_at_five(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("UPDATE core.ci_runs SET conclusion = upper(conclusion)")
    result = validate_table(conn, "core", "ci_runs")
    (failure,) = result.failures
    assert failure.unexpected_count > 1000
    assert len(failure.offending_keys) == 5
    assert len(set(failure.sample_values)) == len(failure.sample_values) <= 5


def _add_spec_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """Give a hand-made table the other columns its suite names, with values that pass."""
    present = {r[0] for r in conn.execute(f"DESCRIBE {schema}.{table}").fetchall()}
    for column in suite_spec(schema, table).columns():
        if column in present:
            continue
        kind = {"created_at": "TIMESTAMPTZ DEFAULT TIMESTAMPTZ '2026-01-01 00:00:00+00'"}.get(column)
        kind = kind or ("VARCHAR DEFAULT 'g'" if column == "attempt_group" else "DOUBLE DEFAULT 1")
        conn.execute(f"ALTER TABLE {schema}.{table} ADD COLUMN {column} {kind}")


def test_feature_tables_check_rates_counts_and_their_key(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "CREATE OR REPLACE TABLE features.run_features AS SELECT * FROM (VALUES "
        "(1, 1, 'a/b', 0.5, 2), (2, 1, 'a/b', 1.5, 0), (2, 1, 'a/b', 0.0, -1)"
        ") AS t(id, run_attempt, repo, fail_rate_5, review_count)"
    )
    _add_spec_columns(conn, "features", "run_features")
    result = validate_table(conn, "features", "run_features")
    assert sorted(_failed(result)) == [
        ("expect_column_values_to_be_between", "fail_rate_5"),
        ("expect_column_values_to_be_between", "review_count"),
        ("expect_compound_columns_to_be_unique", "id, run_attempt, repo"),
    ]
    rate = next(o for o in result.failures if o.column == "fail_rate_5")
    assert rate.offending_keys == ({"id": 2, "run_attempt": 1, "repo": "a/b"},)
    assert "outside [0, 1]" in rate.message


@pytest.mark.parametrize(
    ("corruption", "column", "shown"),
    [
        ("hour = 24", "hour", "outside [0, 23] (e.g. 24"),
        ("day_of_week = 0", "day_of_week", "outside [1, 7]"),
        ("is_pr = 2", "is_pr", "outside [0, 1]"),
        ("duration_seconds = -3", "duration_seconds", "outside [0, inf]"),
        ("coverage = 140", "coverage", "outside [0, 100]"),
        ("attempt_group = NULL", "attempt_group", "1 null values"),
        ("created_at = TIMESTAMPTZ '2099-01-01 00:00:00+00'", "created_at", "in the future"),
    ],
)
def test_run_features_out_of_range_or_missing_values_fail(
    conn: duckdb.DuckDBPyConnection, corruption: str, column: str, shown: str
) -> None:
    """The table the failure model trains on: values it cannot hold fail it, naming the row."""
    conn.execute(
        "CREATE OR REPLACE TABLE features.run_features AS SELECT * FROM (VALUES "
        "(1, 1, 'a/b', 5, 1, 0, 30.0::DOUBLE, 80.0::DOUBLE), (2, 1, 'a/b', 23, 7, 1, 0.0, 0.0)"
        ") AS t(id, run_attempt, repo, hour, day_of_week, is_pr, duration_seconds, coverage)"
    )
    _add_spec_columns(conn, "features", "run_features")
    assert validate_table(conn, "features", "run_features").success
    conn.execute(f"UPDATE features.run_features SET {corruption} WHERE id = 2")
    result = validate_table(conn, "features", "run_features")
    assert [o.column for o in result.failures] == [column]
    assert shown in result.failures[0].message
    assert result.failures[0].offending_keys == ({"id": 2, "run_attempt": 1, "repo": "a/b"},)


def test_a_missing_table_fails_and_validate_all_skips_it(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("DROP TABLE IF EXISTS features.run_features")
    result = validate_table(conn, "features", "run_features")
    assert not result.success and result.failures[0].expectation == "table_exists"
    assert "features.run_features" not in validate_all(conn, schemas=["features"])
    with pytest.raises(KeyError, match="no quality suite"):
        validate_table(conn, "core", "no_such_table")


def test_a_missing_column_fails_the_suite(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("ALTER TABLE core.reviews DROP COLUMN state")
    result = validate_table(conn, "core", "reviews")
    assert _failed(result) == [("expect_column_to_exist", "state")]


def test_register_suite_for_later_tables(conn: duckdb.DuckDBPyConnection) -> None:
    spec = TableSpec("features", "quality_test_sla", key=("repo", "number"), not_null=("opened_at",))
    assert register_suite(spec) is spec
    assert register_suite(spec) is spec  # the same spec again is harmless
    with pytest.raises(ValueError, match="already registered"):
        register_suite(TableSpec("features", "quality_test_sla", key=("repo",)))
    assert suite_spec("features", "quality_test_sla") == spec
    conn.execute(
        "CREATE TABLE features.quality_test_sla AS "
        "SELECT * FROM (VALUES ('a/b', 1, NULL::TIMESTAMPTZ)) AS t(repo, number, opened_at)"
    )
    result = validate_table(conn, "features", "quality_test_sla")
    assert _failed(result) == [("expect_column_values_to_not_be_null", "opened_at")]
    assert result.failures[0].offending_keys == ({"repo": "a/b", "number": 1},)


# ---------------------------------------------------------------------------------------------
# Row counts


def test_row_count_drop_is_detected(conn: duckdb.DuckDBPyConnection) -> None:
    rows = validate_table(conn, "core", "ci_runs").row_count
    assert validate_table(conn, "core", "ci_runs", previous_row_count=None).success  # first run
    assert validate_table(conn, "core", "ci_runs", previous_row_count=rows).success
    assert validate_table(conn, "core", "ci_runs", previous_row_count=2 * rows).success  # exactly half

    dropped = validate_table(conn, "core", "ci_runs", previous_row_count=2 * rows + 2)
    assert _failed(dropped) == [("expect_table_row_count_to_be_between", "")]
    assert (
        f"row count fell from {2 * rows + 2} to {rows} (more than 50% fewer)" in dropped.failures[0].message
    )

    conn.execute("DELETE FROM core.ci_runs WHERE id % 10 < 7")
    assert not validate_table(conn, "core", "ci_runs", previous_row_count=rows).success
    assert validate_table(conn, "core", "ci_runs", previous_row_count=rows, max_row_drop=0.9).success
    with pytest.raises(ValueError, match="max_row_drop"):
        validate_table(conn, "core", "ci_runs", max_row_drop=1.5)


# ---------------------------------------------------------------------------------------------
# Dagster: blocking checks


def test_every_raw_and_core_asset_has_a_blocking_quality_check() -> None:
    graph = definitions.defs.resolve_asset_graph()
    expected = {AssetCheckKey(AssetKey(f"raw_{t}"), QUALITY_CHECK) for t in RAW_TABLES}
    expected |= {AssetCheckKey(AssetKey(f"core_{t}"), QUALITY_CHECK) for t in CORE_KEYS}
    assert expected <= set(graph.asset_check_keys)
    assert all(graph.get(key).blocking for key in expected)


def _check(result: Any, asset_name: str) -> Any:
    return next(
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == AssetKey(asset_name) and e.check_name == QUALITY_CHECK
    )


def test_a_failed_blocking_check_stops_downstream_assets(tmp_path: Path) -> None:
    small = SampleOrgSpec(
        repositories=1, pull_requests_per_repo=15, runs_per_repo=40, issues_per_repo=5, with_logs=False
    )
    warehouse = WarehouseResource(home=str(tmp_path))
    _land(generate_sample_org(small), tmp_path)

    @asset(deps=[AssetKey("core_ci_runs")])
    def downstream_of_ci_runs() -> None:
        """Stands for a feature table built from core.ci_runs."""

    assets = [raw_tables, raw_travis_builds, core_tables, downstream_of_ci_runs, *quality_checks()]
    resources = {"warehouse": warehouse, "history": HistorySourceResource(source="sample")}
    instance = DagsterInstance.ephemeral()

    def run() -> Any:
        return materialize(assets, instance=instance, resources=resources, raise_on_error=False)

    def downstream_run() -> str | None:
        event = instance.get_latest_materialization_event(AssetKey("downstream_of_ci_runs"))
        return event.run_id if event else None

    first = run()
    assert first.success
    assert downstream_run() == first.run_id
    assert _check(first, "core_ci_runs").passed
    assert "previous_row_count" not in _check(first, "core_ci_runs").metadata
    rows = _check(first, "core_ci_runs").metadata["row_count"].value

    # Bad upstream data: core is rebuilt from raw, so corrupt a raw run between materialisations.
    with duckdb.connect(str(warehouse.database_path)) as db:
        db.execute(
            'UPDATE raw.workflow_runs SET data = json_merge_patch(data, \'{"conclusion": "BOGUS"}\') '
            "WHERE key = (SELECT min(key) FROM raw.workflow_runs)"
        )
    second = run()
    assert not second.success
    failed = _check(second, "core_ci_runs")
    assert not failed.passed and failed.severity == AssetCheckSeverity.ERROR
    assert failed.metadata["previous_row_count"].value == rows
    messages = failed.metadata["failed_expectations"].value
    assert len(messages) == 1 and "conclusion" in messages[0] and "'bogus'" in messages[0]
    assert "expect_column_values_to_be_in_set" in failed.metadata["offending_rows"].value
    assert _check(second, "raw_workflow_runs").passed
    assert downstream_run() == first.run_id  # not materialised by the failed run

    # A vanished history: most raw runs deleted. The raw check compares the row count with the
    # previous materialisation and blocks the core rebuild itself.
    with duckdb.connect(str(warehouse.database_path)) as db:
        db.execute("DELETE FROM raw.workflow_runs WHERE key <> (SELECT min(key) FROM raw.workflow_runs)")
    third = run()
    assert not third.success
    shrunk = _check(third, "raw_workflow_runs")
    assert not shrunk.passed and shrunk.metadata["previous_row_count"].value == rows
    (message,) = shrunk.metadata["failed_expectations"].value
    assert f"row count fell from {rows} to 1" in message
    assert not [e for e in third.get_asset_check_evaluations() if e.asset_key == AssetKey("core_ci_runs")]
    assert AssetKey("core_ci_runs") not in {e.asset_key for e in third.get_asset_materialization_events()}
    assert downstream_run() == first.run_id
