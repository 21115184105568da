"""The landing zone and the loader: atomic batches, states, idempotent monotonic upserts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.sources.base import Batch
from warehouse.db import connect
from warehouse.landing import LandingZone
from warehouse.loader import load_landed

REPO = "octo/repo"


def _pr(pr_id: int, updated: str, title: str = "t") -> dict[str, object]:
    return {"id": pr_id, "number": pr_id, "updated_at": updated, "title": title}


def _land(zone: LandingZone, *prs: dict[str, object], state: dict[str, object] | None = None) -> None:
    batch = Batch(state=state)
    for pr in prs:
        batch.add("pull_requests", pr)
    zone.land(REPO, "pull_requests", batch, source="test", synthetic=False)


def _titles(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = conn.execute("SELECT key, data->>'$.title' FROM raw.pull_requests ORDER BY key").fetchall()
    return {str(k): str(t) for k, t in rows}


def test_state_resumes_from_pending_then_committed(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    assert zone.state(REPO, "pull_requests") == {}
    _land(zone, _pr(1, "2024-01-01T00:00:00Z"), state=None)
    assert zone.state(REPO, "pull_requests") == {}
    _land(zone, _pr(2, "2024-01-02T00:00:00Z"), state={"cursor": "2024-01-02T00:00:00+00:00"})
    assert zone.state(REPO, "pull_requests") == {"cursor": "2024-01-02T00:00:00+00:00"}
    with connect(tmp_path / "w.duckdb") as conn:
        report = load_landed(conn, zone)
        assert report.batches == 2 and report.rows() == 2 and report.states_advanced == 1
        committed = conn.execute("SELECT state->>'$.cursor', batch_seq FROM raw.sync_state").fetchone()
    assert committed == ("2024-01-02T00:00:00+00:00", 2)
    assert zone.pending() == []
    assert zone.state(REPO, "pull_requests") == {"cursor": "2024-01-02T00:00:00+00:00"}
    assert zone.next_seq(REPO, "pull_requests") == 3


def test_upsert_keeps_the_newest_version_even_when_an_old_batch_is_replayed(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    with connect(tmp_path / "w.duckdb") as conn:
        _land(
            zone, _pr(1, "2024-01-02T00:00:00Z", "new"), _pr(1, "2024-01-01T00:00:00Z", "old-in-same-batch")
        )
        load_landed(conn, zone)
        assert _titles(conn) == {"1": "new"}
        _land(zone, _pr(1, "2024-01-01T00:00:00Z", "old"))
        load_landed(conn, zone)
        assert _titles(conn) == {"1": "new"}
        _land(zone, _pr(1, "2024-01-03T00:00:00Z", "newer"), _pr(2, "2024-01-03T00:00:00Z", "second"))
        load_landed(conn, zone)
        assert _titles(conn) == {"1": "newer", "2": "second"}


def test_a_failing_load_leaves_warehouse_and_landing_zone_untouched(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    with connect(tmp_path / "w.duckdb") as conn:
        _land(zone, _pr(1, "2024-01-01T00:00:00Z", "kept"), state={"cursor": "a"})
        load_landed(conn, zone)
        _land(zone, _pr(1, "2024-01-05T00:00:00Z", "must-not-land"), state={"cursor": "b"})
        broken = zone.pending()[-1].path
        broken.write_text(
            '{"repo": "octo/repo", "rows": {"pull_requests": [{"key": "1"}]}}', encoding="utf-8"
        )
        with pytest.raises(KeyError):
            load_landed(conn, zone)
        assert _titles(conn) == {"1": "kept"}
        row = conn.execute("SELECT state->>'$.cursor' FROM raw.sync_state").fetchone()
        assert row == ("a",)
    assert [p.path for p in zone.pending()] == [broken]


def test_temporary_files_of_a_killed_writer_are_ignored_and_cleared(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    _land(zone, _pr(1, "2024-01-01T00:00:00Z"))
    partial = tmp_path / "landing" / "octo__repo" / "pull_requests" / ".000000000002.json.tmp"
    partial.write_text('{"truncated', encoding="utf-8")
    assert len(zone.pending()) == 1
    with connect(tmp_path / "w.duckdb") as conn:
        report = load_landed(conn, zone)
    assert report.temporary_files_removed == 1 and report.batches == 1
    assert not partial.exists()


def test_a_stream_cannot_land_rows_of_another_streams_table(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    batch = Batch()
    batch.add("jobs", {"id": 1})
    with pytest.raises(ValueError, match="cannot fill raw tables"):
        zone.land(REPO, "pull_requests", batch, source="test", synthetic=False)


def test_loading_nothing_is_a_no_op(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as conn:
        report = load_landed(conn, LandingZone(tmp_path / "missing"))
    assert report.batches == 0 and report.rows() == 0
