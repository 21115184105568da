"""Run features: hand-computed cases, a row-by-row reference, leakage and prefix properties."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.features.runs import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    FEATURE_DOCS,
    KEY_COLUMNS,
    LABEL_COLUMNS,
    build_run_features,
    feature_columns,
    naive_baselines,
)
from pipelines.features.schemas import RUN_INPUT_SCHEMA, conform, empty_runs
from pipelines.features.synthetic_runs import synthetic_run_inputs

T0 = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(
    id: int,
    created: float,
    finished: float | None,
    failed: bool | None,
    *,
    attempt: int = 1,
    repo: str = "o/r",
    workflow: str | None = "ci",
    branch: str | None = "main",
    actor: str | None = "alice",
    **extra: Any,
) -> dict[str, Any]:
    """One input row; times in minutes after T0; duration = finished - created."""
    return {
        "id": id,
        "run_attempt": attempt,
        "repo": repo,
        "workflow": workflow,
        "branch": branch,
        "event": "push",
        "head_sha": f"sha{id}",
        "actor": actor,
        "is_pr": False,
        "created_at": at(created),
        "finished_at": None if finished is None else at(finished),
        "conclusion": None if failed is None else ("failure" if failed else "success"),
        "failed": failed,
        "duration_seconds": None if finished is None else (finished - created) * 60.0,
        **extra,
    }


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return empty_runs()
    return conform(pl.DataFrame(rows, infer_schema_length=None), RUN_INPUT_SCHEMA)


def pick(features: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return features.select("id", "run_attempt", *columns).sort("id", "run_attempt")


def expected(rows: list[tuple[Any, ...]], columns: list[str], dtypes: dict[str, pl.DataType]) -> pl.DataFrame:
    schema = {"id": pl.Int64(), "run_attempt": pl.Int32(), **{c: dtypes[c] for c in columns}}
    return pl.DataFrame(rows, schema=schema, orient="row")


F64 = pl.Float64()
I64 = pl.Int64()

# ---------------------------------------------------------------------------------------------
# hand-built histories, hand-computed features
# ---------------------------------------------------------------------------------------------

# repo o/r, workflow ci, branch main unless said; minutes after T0
#   A id1 alice  created 0  finished 10 FAILED (600 s)
#   B id2 alice  created 5  finished 8  passed (180 s)   overlaps A, finishes first
#   C id3 (null) created 8  finished 20 passed (720 s)   triggered exactly when B finished
#   D id4 bob    created 10 finished 30 FAILED (1200 s)  triggered exactly when A finished
#   E id5 alice  created 10 finished 12 passed, workflow lint (tie with D)
#   F id4 bob    attempt 2 of D, created 35 finished 40 passed
HISTORY = [
    run(1, 0, 10, True),
    run(2, 5, 8, False),
    run(3, 8, 20, False, actor=None),
    run(4, 10, 30, True, actor="bob"),
    run(5, 10, 12, False, workflow="lint"),
    run(4, 35, 40, False, attempt=2, actor="bob"),
]


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    return build_run_features(frame(HISTORY))


def test_history_of_the_same_workflow_and_branch(history: pl.DataFrame) -> None:
    cols = [
        "prev_failed",
        "prev_duration",
        "completed_runs",
        "fail_streak",
        "fail_rate_5",
        "duration_median5",
        "since_prev_run",
        "since_prev_finish",
    ]
    want = expected(
        [
            # A: nothing before it
            (1, 1, None, None, 0, 0, None, None, None, None),
            # B: A triggered 5 min earlier but is still running
            (2, 1, None, None, 0, 0, None, None, 300.0, None),
            # C: B finished at C's trigger instant: it counts; A still running
            (3, 1, 0.0, 180.0, 1, 0, 0.0, 180.0, 180.0, 0.0),
            # D: A finished at D's trigger instant; known order B (8) then A (10)
            (4, 1, 1.0, 600.0, 2, 1, 0.5, 390.0, 120.0, 0.0),
            # D attempt 2 at 35: B, A, C (20), D (30) are known; pass, fail, pass, fail
            (4, 2, 1.0, 1200.0, 4, 1, 0.5, 660.0, 1500.0, 300.0),
            # E: workflow lint has no history
            (5, 1, None, None, 0, 0, None, None, None, None),
        ],
        cols,
        {c: I64 if c in ("completed_runs", "fail_streak") else F64 for c in cols},
    )
    assert_frame_equal(pick(history, cols), want)


def test_wider_groups_and_actors(history: pl.DataFrame) -> None:
    cols = [
        "workflow_fail_rate_5",
        "branch_fail_rate_5",
        "repo_fail_rate_50",
        "actor_success_rate",
        "actor_avg_duration",
        "actor_completed_runs",
    ]
    want = expected(
        [
            (1, 1, None, None, None, None, None, 0),
            (2, 1, None, None, None, None, None, 0),
            # C: unknown actor: no actor features at all, not zeros
            (3, 1, 0.0, 0.0, 0.0, None, None, None),
            # D (bob) at 10: B and A known (ci/main), bob has nothing finished
            (4, 1, 0.5, 0.5, 0.5, None, None, 0),
            # F (bob) at 35: ci = B A C D; main and repo also E (12) -> 2 of 5; bob: D failed
            (4, 2, 0.5, 0.4, 0.4, 0.0, 1200.0, 1),
            # E (alice, lint) at 10: lint has nothing; branch/repo see B and A; alice ran both
            (5, 1, None, 0.5, 0.5, 0.5, 390.0, 2),
        ],
        cols,
        {c: I64 if c == "actor_completed_runs" else F64 for c in cols},
    )
    assert_frame_equal(pick(history, cols), want)


def test_keys_labels_and_order(history: pl.DataFrame) -> None:
    assert history.columns[: len(KEY_COLUMNS) + len(LABEL_COLUMNS)] == KEY_COLUMNS + LABEL_COLUMNS
    assert history.columns[len(KEY_COLUMNS) + len(LABEL_COLUMNS) :] == [
        c for c in FEATURE_COLUMNS if c not in KEY_COLUMNS
    ]
    # input order is kept
    assert history.select("id", "run_attempt").rows() == [(r["id"], r["run_attempt"]) for r in HISTORY]
    assert history["attempt_group"].to_list() == [
        "o/r|ci|sha1",
        "o/r|ci|sha2",
        "o/r|ci|sha3",
        "o/r|ci|sha4",
        "o/r|lint|sha5",
        "o/r|ci|sha4",
    ]
    assert history["hour"].to_list() == [0, 0, 0, 0, 0, 0]
    assert history["day_of_week"].to_list() == [1] * 6
    assert history["failed"].to_list() == [r["failed"] for r in HISTORY]


def test_ties_do_not_see_each_other() -> None:
    # three runs triggered at the same instant; one of them finishes instantly
    runs = frame(
        [
            run(1, 0, 0, True),
            run(2, 0, 5, True),
            run(3, 0, 1, False),
            run(4, 0, 0, False, workflow="lint"),
            run(5, 5, 6, False),
        ]
    )
    got = pick(
        build_run_features(runs), ["prev_failed", "completed_runs", "branch_fail_rate_5", "since_prev_run"]
    )
    want = expected(
        [
            (1, 1, None, 0, None, None),
            (2, 1, None, 0, None, None),
            (3, 1, None, 0, None, None),
            (4, 1, None, 0, None, None),
            # at 5: runs 1 (0), 3 (1) and 2 (5, exactly now) of ci/main are known; the branch
            # (o/r, main) also has lint's run 4: 2 failures of 4
            (5, 1, 1.0, 3, 0.5, 300.0),
        ],
        ["prev_failed", "completed_runs", "branch_fail_rate_5", "since_prev_run"],
        {"prev_failed": F64, "completed_runs": I64, "branch_fail_rate_5": F64, "since_prev_run": F64},
    )
    assert_frame_equal(got, want)


def test_groups_are_separate_and_null_keys_group_together() -> None:
    runs = frame(
        [
            run(1, 0, 1, True, repo="a/x"),
            run(2, 0, 1, False, repo="b/y"),  # same workflow and branch names, other repo
            run(3, 0, 1, True, repo="a/x", branch=None),
            run(4, 5, 6, False, repo="a/x", branch=None),
            run(5, 5, 6, False, repo="a/x", branch="dev"),
            run(6, 5, 6, False, repo="b/y"),
            run(7, 5, 6, False, repo="a/x"),
        ]
    )
    cols = [
        "prev_failed",
        "completed_runs",
        "workflow_fail_rate_5",
        "actor_success_rate",
        "actor_completed_runs",
    ]
    got = pick(build_run_features(runs), cols)
    want = expected(
        [
            (1, 1, None, 0, None, None, 0),
            (2, 1, None, 0, None, None, 0),
            (3, 1, None, 0, None, None, 0),
            (4, 1, 1.0, 1, 1.0, 1 / 3, 3),  # null branch: run 3; workflow a/x ci: runs 1 and 3
            (5, 1, None, 0, 1.0, 1 / 3, 3),  # dev has no history
            (6, 1, 0.0, 1, 0.0, 1 / 3, 3),  # b/y main: run 2 only; alice's runs span repositories
            (7, 1, 1.0, 1, 1.0, 1 / 3, 3),
        ],
        cols,
        {c: I64 if "completed" in c else F64 for c in cols},
    )
    assert_frame_equal(got, want)


def test_unknown_outcomes_count_as_completed_only() -> None:
    runs = frame(
        [
            run(1, 0, 1, True),
            run(2, 2, 3, None, conclusion="cancelled"),  # finished, outcome unknown
            run(3, 4, 5, True),
            run(4, 6, None, None),  # still running: not completed
            run(5, 10, 11, False),
        ]
    )
    cols = ["prev_failed", "prev_duration", "completed_runs", "fail_streak", "fail_rate_5", "since_prev_run"]
    got = pick(build_run_features(runs), cols)
    want = expected(
        [
            (1, 1, None, None, 0, 0, None, None),
            (2, 1, 1.0, 60.0, 1, 1, 1.0, 120.0),
            (3, 1, 1.0, 60.0, 2, 1, 1.0, 120.0),  # the cancelled run neither breaks nor extends
            (4, 1, 1.0, 60.0, 3, 2, 1.0, 120.0),
            (5, 1, 1.0, 60.0, 3, 2, 1.0, 240.0),
        ],
        cols,
        {c: I64 if c in ("completed_runs", "fail_streak") else F64 for c in cols},
    )
    assert_frame_equal(got, want)


def test_rolling_windows_and_lagged_log_facts() -> None:
    outcomes = [True, True, False, False, False, False, False, True]
    runs = frame(
        [
            run(i + 1, 10 * i, 10 * i + 1 + i, f, log_tests_failed=float(f), log_tests_run=100.0 + i)
            for i, f in enumerate(outcomes)
        ]
    )
    cols = ["fail_rate_5", "fail_rate_20", "duration_median5", "prev_log_tests_failed", "prev_log_tests_run"]
    got = pick(build_run_features(runs), cols).filter(pl.col("id") == 8)
    # at run 8: runs 1..7 done; last 5 = runs 3..7 (no failure); durations 3..7 min
    want = expected([(8, 1, 0.0, 2 / 7, 300.0, 0.0, 106.0)], cols, dict.fromkeys(cols, F64))
    assert_frame_equal(got, want)


def test_windows_argument_changes_columns() -> None:
    got = build_run_features(frame(HISTORY), windows=(3,))
    assert "fail_rate_3" in got.columns
    assert "fail_rate_5" not in got.columns
    assert got.columns[8:] == [c for c in feature_columns((3,)) if c != "run_attempt"]
    with pytest.raises(ValueError, match="positive"):
        build_run_features(frame(HISTORY), windows=(0,))


def test_schema_is_enforced_and_empty_input_works() -> None:
    with pytest.raises(ValueError, match="failed is String"):
        build_run_features(frame(HISTORY).with_columns(pl.col("failed").cast(pl.String)))
    with pytest.raises(ValueError, match="coverage missing"):
        build_run_features(frame(HISTORY).drop("coverage"))
    empty = build_run_features(empty_runs())
    assert empty.height == 0
    assert empty.columns == build_run_features(frame(HISTORY)).columns


def test_feature_docs_and_columns() -> None:
    assert list(FEATURE_DOCS) == FEATURE_COLUMNS
    assert all(doc.strip() for doc in FEATURE_DOCS.values())
    leaks = {"failed", "conclusion", "duration_seconds", "finished_at", "log_tests_failed", "log_tests_run"}
    assert not leaks & set(FEATURE_COLUMNS)
    assert not {"id", "repo", "attempt_group", "created_at"} & set(FEATURE_COLUMNS)
    assert set(CATEGORICAL_FEATURES) <= set(FEATURE_COLUMNS)


def test_naive_baselines(history: pl.DataFrame) -> None:
    base = naive_baselines(history)
    assert base.columns == [
        "id",
        "run_attempt",
        "repo",
        "baseline_previous_outcome",
        "baseline_rolling_rate",
        "baseline_duration_median5",
    ]
    assert_frame_equal(
        base.select(pl.all().exclude("id", "run_attempt", "repo")),
        history.select(
            pl.col("prev_failed").alias("baseline_previous_outcome"),
            pl.col("workflow_fail_rate_20").alias("baseline_rolling_rate"),
            pl.col("duration_median5").alias("baseline_duration_median5"),
        ),
    )
    assert naive_baselines(history, window=5)["baseline_rolling_rate"].to_list() == (
        history["workflow_fail_rate_5"].to_list()
    )
    with pytest.raises(ValueError, match="no workflow_fail_rate_7"):
        naive_baselines(history, window=7)


# ---------------------------------------------------------------------------------------------
# a row-by-row reference implementation of the documented semantics
# ---------------------------------------------------------------------------------------------


def _rate(events: list[dict[str, Any]]) -> float | None:
    known = [e["failed"] for e in events if e["failed"] is not None]
    return sum(known) / len(known) if known else None


def reference(rows: list[dict[str, Any]], windows: tuple[int, ...] = (5, 20)) -> pl.DataFrame:
    one_us = timedelta(microseconds=1)
    done = [r for r in rows if r["finished_at"] is not None]
    for i, r in enumerate(rows):
        r["_row"] = i
    for e in done:
        e["_known"] = max(e["finished_at"], e["created_at"] + one_us)
    done.sort(key=lambda e: (e["_known"], e["created_at"], e["repo"], e["id"], e["run_attempt"], e["_row"]))
    out = []
    for r in rows:
        t = r["created_at"]
        known = [e for e in done if e["_known"] <= t]

        def same(e: dict[str, Any], keys: tuple[str, ...], r: dict[str, Any] = r) -> bool:
            return all(e[k] == r[k] for k in keys)

        hist = [e for e in known if same(e, ("repo", "workflow", "branch"))]
        labelled = [e["failed"] for e in hist if e["failed"] is not None]
        streak = 0
        for f in reversed(labelled):
            if not f:
                break
            streak += 1
        durations = [e["duration_seconds"] for e in hist[-5:] if e["duration_seconds"] is not None]
        earlier = [
            x["created_at"] for x in rows if same(x, ("repo", "workflow", "branch")) and x["created_at"] < t
        ]
        feats: dict[str, Any] = {
            "id": r["id"],
            "run_attempt": r["run_attempt"],
            "prev_failed": float(labelled[-1]) if labelled else None,
            "prev_duration": hist[-1]["duration_seconds"] if hist else None,
            "prev_log_tests_failed": hist[-1]["log_tests_failed"] if hist else None,
            "prev_log_tests_run": hist[-1]["log_tests_run"] if hist else None,
            "since_prev_run": (t - max(earlier)).total_seconds() if earlier else None,
            "since_prev_finish": (t - hist[-1]["_known"]).total_seconds() if hist else None,
            "fail_streak": streak,
            "completed_runs": len(hist),
            "duration_median5": statistics.median(durations) if durations else None,
        }
        for n in windows:
            feats[f"fail_rate_{n}"] = _rate(hist[-n:])
        for name, keys in (("workflow", ("repo", "workflow")), ("branch", ("repo", "branch"))):
            group = [e for e in known if same(e, keys)]
            for n in windows:
                feats[f"{name}_fail_rate_{n}"] = _rate(group[-n:])
        mine = [e for e in known if e["actor"] is not None and e["actor"] == r["actor"]]
        actor_known = r["actor"] is not None
        total = _rate(mine)
        feats["actor_success_rate"] = None if total is None else 1.0 - total
        for n in windows:
            rate = _rate(mine[-n:])
            feats[f"actor_success_rate_{n}"] = None if rate is None else 1.0 - rate
        durs = [e["duration_seconds"] for e in mine if e["duration_seconds"] is not None]
        feats["actor_avg_duration"] = sum(durs) / len(durs) if durs else None
        feats["actor_completed_runs"] = len(mine) if actor_known else None
        in_repo = [e for e in known if same(e, ("repo",))]
        feats["repo_fail_rate_50"] = _rate(in_repo[-50:])
        for n in (5, 20):
            repo_durations = [
                e["duration_seconds"] for e in in_repo[-n:] if e["duration_seconds"] is not None
            ]
            feats[f"repo_duration_median{n}"] = statistics.median(repo_durations) if repo_durations else None
        repo_labels = [e["failed"] for e in in_repo if e["failed"] is not None]
        feats["repo_prev_failed"] = float(repo_labels[-1]) if repo_labels else None
        feats["since_repo_prev_finish"] = (t - in_repo[-1]["_known"]).total_seconds() if in_repo else None
        feats["runs_in_flight"] = len(earlier) - len(hist)
        feats["repo_runs_in_flight"] = sum(
            1 for x in rows if x["repo"] == r["repo"] and x["created_at"] < t
        ) - len(in_repo)
        built = [e for e in in_repo if r["head_sha"] is not None and e["head_sha"] == r["head_sha"]]
        built_labels = [e["failed"] for e in built if e["failed"] is not None]
        feats["commit_prev_failed"] = float(built_labels[-1]) if built_labels else None
        feats["commit_failures"] = None if r["head_sha"] is None else sum(1 for e in built if e["failed"])
        feats["commit_completed_runs"] = None if r["head_sha"] is None else len(built)
        out.append(feats)
    return pl.DataFrame(out, schema=HISTORY_SCHEMA, orient="row")


HISTORY_FEATURES = [
    c
    for c in FEATURE_COLUMNS
    if c.startswith(
        (
            "prev_",
            "since_",
            "fail_",
            "completed",
            "duration_",
            "workflow_fail",
            "branch_",
            "actor_",
            "runs_in_flight",
            "commit_",
        )
    )
    or c.startswith("repo_")
]
COUNT_FEATURES = (
    "fail_streak",
    "completed_runs",
    "actor_completed_runs",
    "runs_in_flight",
    "repo_runs_in_flight",
    "commit_failures",
    "commit_completed_runs",
)
HISTORY_SCHEMA = {
    "id": pl.Int64(),
    "run_attempt": pl.Int32(),
    **{c: I64 if c in COUNT_FEATURES else F64 for c in HISTORY_FEATURES},
}


# ---------------------------------------------------------------------------------------------
# random small histories
# ---------------------------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn, max_rows: int = 24) -> list[dict[str, Any]]:
    n = draw(st.integers(0, max_rows))
    rows = []
    for i in range(n):
        created = draw(st.integers(0, 40))  # coarse minutes: ties are common
        state = draw(st.sampled_from(["done", "done", "done", "running", "skewed"]))
        if state == "running":
            finished = None
        elif state == "skewed":  # a clock skew: finished before it was created
            finished = created - draw(st.integers(1, 3))
        else:
            finished = created + draw(st.integers(0, 15))
        failed = None if finished is None else draw(st.sampled_from([True, False, False, None]))
        rows.append(
            run(
                i + 1,
                created,
                finished,
                failed,
                attempt=draw(st.integers(1, 2)),
                repo=draw(st.sampled_from(["a/x", "b/y"])),
                workflow=draw(st.sampled_from(["ci", "lint", None])),
                branch=draw(st.sampled_from(["main", "dev", None])),
                actor=draw(st.sampled_from(["u1", "u2", None])),
                head_sha=draw(st.sampled_from(["s1", "s2", None])),
                log_tests_failed=draw(st.sampled_from([None, 0.0, 2.0])),
                log_tests_run=draw(st.sampled_from([None, 10.0, 12.0])),
                lines_added=draw(st.sampled_from([None, 0, 5, 40])),
                lines_deleted=draw(st.sampled_from([None, 0, 3])),
            )
        )
    return rows


@settings(max_examples=60, deadline=None)
@given(rows=histories())
def test_matches_the_row_by_row_reference(rows: list[dict[str, Any]]) -> None:
    got = build_run_features(frame(rows)).select("id", "run_attempt", *HISTORY_FEATURES)
    assert_frame_equal(got, reference(rows), check_dtypes=False)


@settings(max_examples=60, deadline=None)
@given(rows=histories(), cut=st.integers(0, 45))
def test_appending_later_runs_never_changes_earlier_rows(rows: list[dict[str, Any]], cut: int) -> None:
    runs = frame(rows)
    before = runs.filter(pl.col("created_at") < at(cut))
    full = build_run_features(runs).filter(pl.col("created_at") < at(cut)).sort("id", "run_attempt")
    assert_frame_equal(build_run_features(before).sort("id", "run_attempt"), full)


@settings(max_examples=30, deadline=None)
@given(rows=histories(max_rows=16), data=st.data())
def test_a_rows_own_labels_never_feed_its_features(rows: list[dict[str, Any]], data: st.DataObject) -> None:
    if not rows:
        return
    runs = frame(rows)
    i = data.draw(st.integers(0, len(rows) - 1))
    target = pl.int_range(pl.len()) == i
    perturbed = runs.with_columns(
        failed=pl.when(target).then(pl.col("failed").not_().fill_null(True)).otherwise(pl.col("failed")),
        conclusion=pl.when(target).then(pl.lit("timed_out")).otherwise(pl.col("conclusion")),
        duration_seconds=pl.when(target).then(9e9).otherwise(pl.col("duration_seconds")),
        finished_at=pl.when(target)
        .then(pl.col("created_at") - timedelta(minutes=1))
        .otherwise(pl.col("finished_at")),
        log_tests_failed=pl.when(target).then(7777.0).otherwise(pl.col("log_tests_failed")),
        log_tests_run=pl.when(target).then(8888.0).otherwise(pl.col("log_tests_run")),
    )
    feature_cols = [c for c in FEATURE_COLUMNS if c != "run_attempt"]
    a = build_run_features(runs).select(feature_cols).slice(i, 1)
    b = build_run_features(perturbed).select(feature_cols).slice(i, 1)
    assert_frame_equal(a, b)


def test_labels_never_leak_on_synthetic_runs() -> None:
    runs = synthetic_run_inputs(3_000, repos=5, seed=3)
    features = build_run_features(runs)
    feature_cols = [c for c in FEATURE_COLUMNS if c != "run_attempt"]
    for i in range(0, 3_000, 150):
        target = pl.int_range(pl.len()) == i
        perturbed = runs.with_columns(
            failed=pl.when(target).then(pl.col("failed").not_()).otherwise(pl.col("failed")),
            duration_seconds=pl.when(target).then(0.0).otherwise(pl.col("duration_seconds")),
            finished_at=pl.when(target).then(pl.col("created_at")).otherwise(pl.col("finished_at")),
            log_tests_failed=pl.when(target).then(-1.0).otherwise(pl.col("log_tests_failed")),
        )
        assert_frame_equal(
            build_run_features(perturbed).select(feature_cols).slice(i, 1),
            features.select(feature_cols).slice(i, 1),
        )


def test_synthetic_inputs_conform_and_look_like_ci() -> None:
    runs = synthetic_run_inputs(10_000)
    assert runs.height == 10_000
    assert runs.schema == pl.Schema(RUN_INPUT_SCHEMA)
    assert_frame_equal(runs, conform(runs, RUN_INPUT_SCHEMA))
    rate = runs["failed"].mean()
    assert isinstance(rate, float)
    assert 0.05 <= rate <= 0.40
    assert runs.select(pl.struct("id", "run_attempt").is_unique().all()).item()
    assert runs["repo"].n_unique() > 50
    assert (runs["run_attempt"] == 2).sum() > 0
    assert (
        runs.filter(pl.col("finished_at").is_not_null())
        .select((pl.col("finished_at") >= pl.col("created_at")).all())
        .item()
    )
    assert runs["created_at"].is_duplicated().any()  # fan-out of one trigger to several workflows
    assert_frame_equal(runs, synthetic_run_inputs(10_000))  # deterministic
    assert synthetic_run_inputs(0).height == 0
    assert synthetic_run_inputs(7, repos=1).height == 7


def test_failures_cluster_in_synthetic_runs() -> None:
    features = build_run_features(synthetic_run_inputs(20_000, seed=1))
    by_prev = features.group_by("prev_failed").agg(pl.col("failed").mean()).sort("prev_failed")
    after_pass, after_fail = by_prev.drop_nulls("prev_failed")["failed"].to_list()
    assert after_fail > after_pass + 0.1


@pytest.mark.slow
def test_benchmark_small() -> None:
    from pipelines.features.benchmark import benchmark_run_features

    figures = benchmark_run_features(50_000)
    assert figures["rows"] == 50_000
    assert figures["seconds"] > 0
    assert figures["peak_rss_mib"] >= figures["loaded_rss_mib"] > 0
