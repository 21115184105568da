"""TravisTorrent builds mapped into core.ci_runs, run changes and the run input frame."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.features.schemas import RUN_INPUT_SCHEMA
from tests.conftest import require_shared
from warehouse.db import build_core, connect, create_feature_inputs
from warehouse.travistorrent import TravisTorrentError, load_travistorrent


@pytest.fixture(scope="module")
def builds() -> Path:
    return require_shared("travistorrent/builds.parquet")


def test_statuses_are_mapped_and_errored_is_kept_apart(builds: Path, tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as conn:
        assert load_travistorrent(conn, builds) == 216_973
        build_core(conn)
        mapped = dict(
            ((c, t), n)
            for c, t, n in conn.execute(
                "SELECT conclusion, travis_status, count(*) FROM core.ci_runs GROUP BY ALL"
            ).fetchall()
        )
        source = duckdb.sql(
            f"SELECT tr_status, count(*) FROM read_parquet('{builds}') GROUP BY ALL"
        ).fetchall()
        keys = conn.execute("SELECT count(DISTINCT (repo, id)) FROM core.ci_runs").fetchone()
        projects = conn.execute("SELECT count(DISTINCT repo) FROM core.ci_runs").fetchone()
    expected = {
        "passed": ("success", "passed"),
        "failed": ("failure", "failed"),
        "errored": ("failure", "errored"),
        "canceled": ("cancelled", "canceled"),
    }
    assert mapped == {expected[status]: n for status, n in source}
    assert keys == (216_973,)
    assert projects is not None and projects[0] > 100


def test_run_inputs_follow_the_contract_and_never_carry_logs_as_labels(builds: Path, tmp_path: Path) -> None:
    subset = tmp_path / "subset.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{builds}') LIMIT 3000) TO '{subset}' (FORMAT parquet)")
    with connect(tmp_path / "w.duckdb") as conn:
        load_travistorrent(conn, subset)
        build_core(conn)
        create_feature_inputs(conn)
        frame = conn.sql("SELECT * FROM features.run_inputs").pl()
    assert frame.columns == list(RUN_INPUT_SCHEMA)
    assert frame.height == 3000
    assert frame["failed"].null_count() == frame.filter(frame["conclusion"] == "cancelled").height
    finished = frame.drop_nulls("duration_seconds")
    assert (finished["finished_at"] >= finished["created_at"]).all()


def test_a_bad_table_is_refused_and_the_warehouse_kept(builds: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    duckdb.execute(
        f"COPY (SELECT tr_build_id, tr_status FROM read_parquet('{builds}') LIMIT 5) "
        f"TO '{bad}' (FORMAT parquet)"
    )
    with connect(tmp_path / "w.duckdb") as conn:
        subset = tmp_path / "ok.parquet"
        duckdb.execute(
            f"COPY (SELECT * FROM read_parquet('{builds}') LIMIT 10) TO '{subset}' (FORMAT parquet)"
        )
        load_travistorrent(conn, subset)
        with pytest.raises(TravisTorrentError, match="missing gh_project_name"):
            load_travistorrent(conn, bad)
        with pytest.raises(TravisTorrentError, match="does not exist"):
            load_travistorrent(conn, tmp_path / "nope.parquet")
        (tmp_path / "junk.parquet").write_text("not parquet", encoding="utf-8")
        with pytest.raises(TravisTorrentError, match="cannot read"):
            load_travistorrent(conn, tmp_path / "junk.parquet")
        row = conn.execute("SELECT count(*) FROM raw.travis_builds").fetchone()
    assert row == (10,)
