"""The dashboard reads while another process writes the warehouse: no lock errors, no blocked writer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import data
from dashboards.snapshot import SnapshotError, file_version, prune, take_snapshot

WRITER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb

    path, ready, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    conn = duckdb.connect(path)  # the one write connection, held for the whole run
    conn.execute("CREATE TABLE IF NOT EXISTS raw.dashboard_probe (i INTEGER, payload VARCHAR)")
    conn.execute("CHECKPOINT")  # readers see the state as of the last checkpoint: start with the table
    open(ready, "w").close()
    i = 0
    while not os.path.exists(stop) and i < 5000:
        started = time.monotonic()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO raw.dashboard_probe SELECT ?, repeat('x', 2000) FROM range(200)", [i])
        conn.execute("COMMIT")
        conn.execute("CHECKPOINT")  # rewrite the main file each round: the copies race real checkpoints
        print(json.dumps({"round": i, "seconds": time.monotonic() - started, "at": time.time()}), flush=True)
        i += 1
        time.sleep(0.1)
    conn.close()
    """
)


def _start_writer(path: Path, ready: Path, stop: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(ready), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(ready: Path, writer: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert writer.poll() is None, writer.communicate()
        assert time.monotonic() < deadline, "the writer did not start"
        time.sleep(0.05)


@pytest.fixture
def busy_home(demo_home: Path, home: Path) -> Path:
    shutil.copyfile(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(demo_home / "models", home / "models")
    return home


def test_a_direct_read_only_connection_is_refused_while_a_writer_holds_the_file(busy_home: Path) -> None:
    """Why the dashboard reads snapshots: DuckDB's lock refuses a second process outright."""
    ready, stop = busy_home / "ready", busy_home / "stop"
    writer = _start_writer(busy_home / "warehouse.duckdb", ready, stop)
    try:
        _wait(ready, writer)
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(busy_home / "warehouse.duckdb"), read_only=True)
    finally:
        stop.touch()
        writer.communicate(timeout=120)
    assert writer.returncode == 0


def test_the_app_reads_snapshots_while_another_process_writes(
    busy_home: Path, tmp_path: Path, app: Callable[[Path, str], AppTest]
) -> None:
    source = busy_home / "warehouse.duckdb"
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    writer = _start_writer(source, ready, stop)
    seen: list[int] = []
    reads: list[float] = []
    renders = refused = 0
    try:
        _wait(ready, writer)
        # Read until the app has rendered three times and the snapshots saw the table grow.
        while (renders < 3 or len(set(seen)) < 5) and len(seen) + refused < 500:
            assert writer.poll() is None, writer.communicate()
            try:
                snapshot = take_snapshot(source, tmp_path / "snapshots", attempts=3)
            except SnapshotError:
                refused += 1  # the file changed under every copy: the app keeps its last snapshot then
                continue
            with duckdb.connect(str(snapshot.path), read_only=True) as conn:
                rows = conn.execute("SELECT count(*) FROM raw.dashboard_probe").fetchall()[0][0]
                assert data.ci_weekly(conn, data.Filters()).height > 0
            seen.append(int(rows))
            reads.append(time.time())
            if renders < 3:  # the whole app too, on the live home, while the writer runs
                at = app(busy_home, "overview")
                assert not at.exception, [e.value for e in at.exception]
                assert [t.value for t in at.title] == ["Organisation overview"]
                renders += 1
        stop.touch()
        out, err = writer.communicate(timeout=120)
    finally:
        stop.touch()
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
    assert writer.returncode == 0, err  # the writer never met a lock error
    commits = [json.loads(line) for line in out.splitlines()]
    rounds = len(commits)
    assert [c["round"] for c in commits] == list(range(rounds))  # every write went through, in order
    # The snapshots caught the table growing, never shrinking, and only ever whole transactions.
    assert len(set(seen)) >= 5, (seen, refused)
    assert seen == sorted(seen)
    assert all(n % 200 == 0 for n in seen)
    # The writer kept committing while the reader read: it was never held up by the reads.
    assert sum(reads[0] < c["at"] < reads[-1] for c in commits) >= 5
    # Once the writer is done, the next snapshot is the final state.
    final = take_snapshot(source, tmp_path / "snapshots")
    with duckdb.connect(str(final.path), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM raw.dashboard_probe").fetchall()[0][0] == rounds * 200
    assert final.version == file_version(source)


def test_a_file_that_keeps_changing_is_not_copied_torn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version that changes during the copy is retried, and reported when it never settles."""
    from dashboards import snapshot as module

    source = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(source)) as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS x")
    real_copy = shutil.copyfile
    calls = {"n": 0}

    def copy_then_touch(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> object:
        result = real_copy(src, dst)
        calls["n"] += 1
        os.utime(source, ns=(time.time_ns(), time.time_ns() + calls["n"]))  # a writer checkpointed
        return result

    monkeypatch.setattr(module.shutil, "copyfile", copy_then_touch)
    with pytest.raises(module.SnapshotError, match="kept changing"):
        take_snapshot(source, tmp_path / "snapshots", attempts=3, pause=0.0)
    assert calls["n"] == 3
    assert list((tmp_path / "snapshots").iterdir()) == []  # no partial copy left behind
    monkeypatch.setattr(module.shutil, "copyfile", real_copy)
    snapshot = take_snapshot(source, tmp_path / "snapshots")
    with duckdb.connect(str(snapshot.path), read_only=True) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_pruning_keeps_the_snapshots_of_other_warehouses(tmp_path: Path) -> None:
    directory = tmp_path / "snapshots"
    sources = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        source = tmp_path / name / "warehouse.duckdb"
        with duckdb.connect(str(source)) as conn:
            conn.execute("CREATE TABLE t AS SELECT 1 AS x")
        sources.append(source)
    first = take_snapshot(sources[0], directory)
    other = take_snapshot(sources[1], directory)
    prune(other)
    assert first.path.exists() and other.path.exists()

    with duckdb.connect(str(sources[0])) as conn:
        conn.execute("INSERT INTO t VALUES (2)")
    newer = take_snapshot(sources[0], directory)
    prune(newer)
    assert newer.path.exists() and not first.path.exists() and other.path.exists()
