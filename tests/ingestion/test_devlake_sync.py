"""The DevLake recording of panjf2000/ants, synced through PyGithub and the API double."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from pipelines.sources.base import RecordingSource
from pipelines.sources.double import GitHubDouble
from pipelines.sources.ingest import land_repository
from pipelines.sources.recording import Recording
from tests.ingestion.sync import core_snapshot, raw_snapshot, sync
from warehouse.db import build_core, connect
from warehouse.landing import LandingZone
from warehouse.loader import load_landed

ANTS = "panjf2000/ants"


def _distinct_ids(rows: list[dict[str, object]]) -> set[int]:
    return {int(str(r["id"])) for r in rows}


def test_core_tables_hold_exactly_the_distinct_recorded_objects(
    devlake_double: GitHubDouble, devlake_recording: Recording, devlake_dir: Path, home: Path
) -> None:
    counts = sync(devlake_double, home)
    rec = devlake_recording
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:

        def ids(sql: str) -> set[int]:
            return {int(r[0]) for r in conn.execute(sql).fetchall()}

        assert ids(f"SELECT id FROM core.pull_requests WHERE repo = '{ANTS}'") == _distinct_ids(
            rec.pull_requests[ANTS]
        )
        assert ids(f"SELECT id FROM core.issues WHERE repo = '{ANTS}'") == _distinct_ids(rec.issues[ANTS])
        assert ids("SELECT id FROM core.comments WHERE kind = 'issue'") == _distinct_ids(
            rec.issue_comments[ANTS]
        )
        assert ids("SELECT id FROM core.comments WHERE kind = 'review'") == _distinct_ids(
            rec.review_comments[ANTS]
        )
        assert ids("SELECT id FROM core.issue_events") == _distinct_ids(rec.issue_events[ANTS])
        assert ids("SELECT DISTINCT id FROM core.ci_runs") == _distinct_ids(rec.workflow_runs[ANTS])
        # Reviews are reachable through their pull request; the recording's two test/repo reviews
        # belong to a pull request it does not hold (#1), so the API cannot reach them.
        numbers = {(repo, int(p["number"])) for repo, prs in rec.pull_requests.items() for p in prs}
        recorded_reviews = {
            int(r["id"]) for key, reviews in rec.reviews.items() if key in numbers for r in reviews
        }
        assert len(recorded_reviews) == 30
        assert ids("SELECT id FROM core.reviews") == recorded_reviews
        # Likewise the 35 recorded jobs belong to runs the recording's run list does not hold.
        run_ids = {int(r["id"]) for r in rec.workflow_runs[ANTS]}
        reachable_jobs = {int(j["id"]) for key, jobs in rec.jobs.items() if key[1] in run_ids for j in jobs}
        assert ids("SELECT id FROM core.ci_jobs") == reachable_jobs

    # Counts of distinct objects in the recording (rows repeat: 50 PR rows hold 49 PRs).
    assert counts["pull_requests"] == 49 + 2  # 49 distinct of 50 ants rows, plus test/repo's 2
    assert counts["issues"] == 41
    assert counts["issue_events"] == 49
    assert counts["ci_runs"] == 35
    assert counts["reviews"] == 30


def test_edge_case_rows_are_normalised_not_dropped(devlake_double: GitHubDouble, home: Path) -> None:
    sync(devlake_double, home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        conclusions = dict(
            conn.execute(
                "SELECT coalesce(conclusion, '<null>'), count(*) FROM core.ci_runs GROUP BY 1"
            ).fetchall()
        )
        statuses = {r[0] for r in conn.execute("SELECT status FROM core.ci_runs").fetchall()}
        bots = conn.execute("SELECT author FROM core.pull_requests WHERE author_is_bot").fetchall()
        bot_reviews = conn.execute("SELECT reviewer FROM core.reviews WHERE reviewer_is_bot").fetchall()
    assert all(c == c.lower() for c in conclusions)
    assert conclusions["success"] == 18  # 16 lower-case + 'SUCCESS' upper-case twice in the recording
    assert conclusions["<null>"] >= 6  # in-progress runs and DevLake's empty-string conclusions
    assert {"queued", "waiting", "pending", "requested"} <= statuses
    assert ("renovate[bot]",) in bots
    assert bot_reviews == []  # the only bot review is one of the orphans above


def test_resync_without_changes_costs_one_304_per_stream_at_most(
    devlake_double: GitHubDouble, home: Path
) -> None:
    sync(devlake_double, home)
    before = raw_snapshot(home / "warehouse.duckdb")
    budget = devlake_double.rate_remaining
    devlake_double.reset_log()
    sync(devlake_double, home)
    requests = devlake_double.requests
    assert requests, "the re-sync asked nothing at all"
    assert {r.status for r in requests} == {304}
    assert max(Counter(r.path for r in requests).values()) == 1
    assert len(requests) <= 8 * len(devlake_double.recording.repos)
    assert devlake_double.rate_remaining == budget
    assert raw_snapshot(home / "warehouse.duckdb") == before


def test_changes_are_picked_up_incrementally(devlake_double: GitHubDouble, home: Path) -> None:
    sync(devlake_double, home)
    pr = max(devlake_double.recording.pull_requests[ANTS], key=lambda p: p["number"])
    devlake_double.touch_pull_request(ANTS, pr["number"], updated_at="2030-01-01T00:00:00Z")
    devlake_double.reset_log()
    sync(devlake_double, home)
    pulls = [r for r in devlake_double.requests if r.path.endswith("/pulls")]
    assert [r.status for r in pulls if ANTS in r.path] == [200]
    assert any(r.path.endswith("/graphql") for r in devlake_double.requests)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        row = conn.execute(
            "SELECT updated_at FROM core.pull_requests WHERE repo = $repo AND number = $n",
            {"repo": ANTS, "n": pr["number"]},
        ).fetchone()
    assert row is not None and row[0].year == 2030


def test_api_sync_equals_a_direct_read_of_the_recording(
    devlake_double: GitHubDouble, devlake_recording: Recording, home: Path, tmp_path: Path
) -> None:
    """PyGithub through the double (REST + GraphQL) and the snapshot reader agree row for row."""
    sync(devlake_double, home)
    direct_home = tmp_path / "direct"
    zone = LandingZone(direct_home / "landing")
    source = RecordingSource(devlake_recording, "snapshot")
    for repo in source.repositories():
        land_repository(source, repo, zone)
    with connect(direct_home / "warehouse.duckdb") as conn:
        load_landed(conn, zone)
        build_core(conn)
    via_api = core_snapshot(home / "warehouse.duckdb")
    direct = core_snapshot(direct_home / "warehouse.duckdb")
    assert sum(len(rows) for rows in via_api.values()) > 300
    orphan_reviews = {(r[0],) for r in direct["reviews"]} - {(r[0],) for r in via_api["reviews"]}
    assert orphan_reviews == {(5001,), (5002,)}
    direct["reviews"] = [r for r in direct["reviews"] if (r[0],) not in orphan_reviews]
    assert len(direct["ci_jobs"]) == 35 and via_api["ci_jobs"] == []  # jobs of unrecorded runs
    direct["ci_jobs"] = []
    # People seen only through the orphan reviews are only in the direct read.
    assert {r[0] for r in direct.pop("people")} - {r[0] for r in via_api.pop("people")} == {"human-reviewer"}
    assert via_api == direct
