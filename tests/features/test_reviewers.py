"""Reviewer features: hand-computed values, the as-of rule, and the sample organisation's signals."""

from __future__ import annotations

import functools
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.features.reviewers import (
    AUTHOR_HISTORY_SCHEMA,
    EXPERTISE_SCHEMA,
    REVIEWER_SCHEMA,
    author_history,
    expertise_score,
    path_expertise,
    path_prefix,
    reviewer_features,
)
from pipelines.sources.base import RecordingSource
from pipelines.sources.ingest import land_repository
from pipelines.sources.recording import Recording
from pipelines.sources.sample import generate_sample_org
from pipelines.sources.snapshot import read_devlake_snapshot
from tests.conftest import require_shared
from warehouse.db import build_core, connect
from warehouse.frames import read_relation
from warehouse.landing import LandingZone
from warehouse.loader import load_landed

CORE = ("pull_requests", "reviews", "pr_files", "comments", "issues", "issue_events", "ci_runs")
UTC_TIME = pl.Datetime("us", "UTC")


# --------------------------------------------------------------------------------------------
# Warehouses shared by the feature tests (built once per session)


def _to_utc(frame: pl.DataFrame) -> pl.DataFrame:
    """DuckDB hands out 'Etc/UTC'; the tests compare with 'UTC' instants."""
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone("UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def _build_core(recording: Recording, kind: str) -> dict[str, pl.DataFrame]:
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        source = RecordingSource(recording, kind)
        zone = LandingZone(tmp / "landing")
        for repo in source.repositories():
            land_repository(source, repo, zone)
        with connect(tmp / "w.duckdb") as conn:
            load_landed(conn, zone)
            build_core(conn)
        with connect(tmp / "w.duckdb", read_only=True) as conn:
            return {name: _to_utc(read_relation(conn, f"core.{name}")) for name in CORE}


@functools.cache
def sample_core() -> dict[str, pl.DataFrame]:
    """The core tables of the sample organisation (synthetic), as UTC frames."""
    return _build_core(generate_sample_org(), "sample")


@functools.cache
def _devlake_core(path: str) -> dict[str, pl.DataFrame]:
    return _build_core(read_devlake_snapshot(Path(path)), "snapshot")


def devlake_core() -> dict[str, pl.DataFrame]:
    """The core tables of the DevLake recording of panjf2000/ants; skips when it is absent."""
    return _devlake_core(str(require_shared("github-api/devlake-ants")))


# --------------------------------------------------------------------------------------------
# Hand-built history

REPO = "o/r"
AS_OF = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


PR_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "number": pl.Int32,
    "author": pl.String,
    "author_is_bot": pl.Boolean,
    "created_at": UTC_TIME,
    "updated_at": UTC_TIME,
    "closed_at": UTC_TIME,
    "merged_at": UTC_TIME,
    "requested_reviewers": pl.List(pl.String),
}
REVIEW_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "pull_number": pl.Int64,
    "reviewer": pl.String,
    "reviewer_is_bot": pl.Boolean,
    "state": pl.String,
    "submitted_at": UTC_TIME,
}
FILE_SCHEMA: dict[str, Any] = {"repo": pl.String, "pull_number": pl.Int32, "filename": pl.String}
COMMENT_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "kind": pl.String,
    "issue_number": pl.Int64,
    "author": pl.String,
    "author_is_bot": pl.Boolean,
    "created_at": UTC_TIME,
}


REQUEST_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "issue_number": pl.Int64,
    "event": pl.String,
    "requested_reviewer": pl.String,
    "created_at": UTC_TIME,
}


def frames() -> dict[str, pl.DataFrame]:
    prs = pl.DataFrame(
        [
            # number, author, bot, created, updated, closed, requested
            (
                REPO,
                1,
                "alice",
                False,
                t("2024-02-01 09:00"),
                t("2024-02-02 10:00"),
                t("2024-02-02 10:00"),
                None,
                [],
            ),
            (REPO, 2, "bob", False, t("2024-02-20 10:00"), t("2024-02-25 00:00"), None, None, ["carol"]),
            # Its requested reviewers were fetched after as_of (updated then): not trusted.
            (
                REPO,
                3,
                "dependabot[bot]",
                True,
                t("2024-02-25 05:00"),
                t("2024-03-02 00:00"),
                None,
                None,
                ["alice"],
            ),
            (REPO, 4, "carol", False, t("2024-03-05 00:00"), t("2024-03-05 00:00"), None, None, ["bob"]),
            (
                REPO,
                5,
                "carol",
                False,
                t("2024-01-10 10:00"),
                t("2024-01-11 00:00"),
                t("2024-01-11 00:00"),
                None,
                [],
            ),
        ],
        schema=PR_SCHEMA,
        orient="row",
    )
    reviews = pl.DataFrame(
        [
            (REPO, 1, "bob", False, "approved", t("2024-02-01 13:00")),
            (REPO, 1, "alice", False, "commented", t("2024-02-01 14:00")),  # the author answering
            (REPO, 2, "alice", False, "changes_requested", t("2024-02-20 16:00")),
            (REPO, 3, "alice", False, "approved", t("2024-02-25 07:00")),
            (REPO, 2, "renovate[bot]", True, "approved", t("2024-02-21 00:00")),
            (REPO, 2, "alice", False, "approved", t("2024-03-02 00:00")),  # after as_of
        ],
        schema=REVIEW_SCHEMA,
        orient="row",
    )
    files = pl.DataFrame(
        [
            (REPO, 1, "src/api/a.py"),
            (REPO, 1, "src/api/b.py"),
            (REPO, 1, "docs/x.md"),
            (REPO, 2, "src/api/c.py"),
            (REPO, 3, "go.mod"),
            (REPO, 4, "src/db/z.py"),
            (REPO, 5, "src/db/q.py"),
        ],
        schema=FILE_SCHEMA,
        orient="row",
    )
    comments = pl.DataFrame(
        [
            (REPO, "review", 1, "bob", False, t("2024-02-01 11:00")),  # before his review
            (REPO, "issue", 2, "dave", False, t("2024-02-21 12:30")),
            (REPO, "issue", 10, "erin", False, t("2024-02-22 10:00")),  # on an issue, not a PR
            (REPO, "issue", 1, "codecov[bot]", True, t("2024-02-01 09:05")),
            (REPO, "issue", 4, "erin", False, t("2024-03-05 01:00")),  # after as_of
        ],
        schema=COMMENT_SCHEMA,
        orient="row",
    )
    requests = pl.DataFrame(
        [
            (REPO, 1, "review_requested", "bob", t("2024-02-01 09:30")),  # #1 is closed
            (REPO, 2, "review_requested", "carol", t("2024-02-20 10:05")),
            (REPO, 2, "review_requested", "dave", t("2024-02-28 00:00")),
            (REPO, 3, "review_requested", "alice", t("2024-02-25 05:10")),
            (REPO, 3, "review_requested", "bob", t("2024-02-26 00:00")),
            (REPO, 3, "review_request_removed", "bob", t("2024-02-27 00:00")),
            (REPO, 3, "review_requested", "carol", t("2024-03-02 00:00")),  # after as_of
        ],
        schema=REQUEST_SCHEMA,
        orient="row",
    )
    return {
        "pull_requests": prs,
        "reviews": reviews,
        "pr_files": files,
        "comments": comments,
        "issue_events": requests,
    }


def decay(weight: float, at: datetime) -> float:
    return weight * 0.5 ** ((AS_OF - at) / timedelta(days=90))


ALICE_API = decay(1.0, t("2024-02-01 09:00")) + decay(0.5, t("2024-02-20 16:00"))
ALICE_DOCS = decay(1.0, t("2024-02-01 09:00"))
ALICE_GOMOD = decay(0.5, t("2024-02-25 07:00"))
BOB_API = decay(1.0, t("2024-02-20 10:00")) + decay(0.5, t("2024-02-01 13:00"))
BOB_DOCS = decay(0.5, t("2024-02-01 13:00"))
CAROL_DB = decay(1.0, t("2024-01-10 10:00"))


def test_path_prefix() -> None:
    assert path_prefix("src/api/v2/routes.py") == "src/api/"
    assert path_prefix("src/main.py") == "src/"
    assert path_prefix("docs/intro.md") == "docs/"
    assert path_prefix("go.mod") == "go.mod"
    assert path_prefix("a/b/c.py", depth=1) == "a/"


def test_path_expertise_hand_computed() -> None:
    f = frames()
    got = path_expertise(f["pull_requests"], f["reviews"], f["pr_files"], as_of=AS_OF)
    expected = pl.DataFrame(
        [
            (REPO, "alice", "src/api/", ALICE_API),
            (REPO, "alice", "docs/", ALICE_DOCS),
            (REPO, "alice", "go.mod", ALICE_GOMOD),
            (REPO, "bob", "src/api/", BOB_API),
            (REPO, "bob", "docs/", BOB_DOCS),
            (REPO, "carol", "src/db/", CAROL_DB),
        ],
        schema=EXPERTISE_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected)
    # A shorter half-life forgets faster.
    short = path_expertise(f["pull_requests"], f["reviews"], f["pr_files"], as_of=AS_OF, half_life_days=10)
    assert short["weight"].sum() < got["weight"].sum()


def test_reviewer_features_hand_computed() -> None:
    f = frames()
    got = reviewer_features(f["pull_requests"], f["reviews"], f["pr_files"], f["comments"], as_of=AS_OF)

    def paths(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
        return [{"path_prefix": p, "weight": w} for p, w in pairs]

    expected = pl.DataFrame(
        [
            {
                "candidate": "alice",
                "expertise_paths": paths(
                    ("src/api/", ALICE_API), ("docs/", ALICE_DOCS), ("go.mod", ALICE_GOMOD)
                ),
                "open_workload": 2,  # reviewed #2 and #3, both open
                "median_first_response_hours": 4.0,  # #2 after 6 h, #3 after 2 h
                "events_last_14d": 2,
                "usual_hours": [7, 9, 14, 16],  # one event each: 80% of 4 needs all four
                "in_usual_hours_share": 1.0,
                "in_usual_hours_now": False,
                "approval_rate": 0.5,
                "changes_requested_rate": 0.5,
                "reviews_done": 2,  # her comment on her own #1 is no review
                "last_active_at": t("2024-02-25 07:00"),
            },
            {
                "candidate": "bob",
                "expertise_paths": paths(("src/api/", BOB_API), ("docs/", BOB_DOCS)),
                "open_workload": 0,
                "median_first_response_hours": 2.0,  # his review comment came before his review
                "events_last_14d": 1,
                "usual_hours": [10, 11, 13],
                "in_usual_hours_share": 1.0,
                "in_usual_hours_now": False,
                "approval_rate": 1.0,
                "changes_requested_rate": 0.0,
                "reviews_done": 1,
                "last_active_at": t("2024-02-20 10:00"),
            },
            {
                "candidate": "carol",
                "expertise_paths": paths(("src/db/", CAROL_DB)),
                "open_workload": 1,  # requested on #2, whose list is as of before as_of
                "median_first_response_hours": None,
                "events_last_14d": 0,
                "usual_hours": [10],
                "in_usual_hours_share": None,
                "in_usual_hours_now": False,
                "approval_rate": None,
                "changes_requested_rate": None,
                "reviews_done": 0,
                "last_active_at": t("2024-01-10 10:00"),
            },
            {
                "candidate": "dave",
                "expertise_paths": [],
                "open_workload": 0,
                "median_first_response_hours": None,
                "events_last_14d": 1,
                "usual_hours": [12],
                "in_usual_hours_share": 1.0,
                "in_usual_hours_now": True,  # as_of is at 12:00
                "approval_rate": None,
                "changes_requested_rate": None,
                "reviews_done": 0,
                "last_active_at": t("2024-02-21 12:30"),
            },
        ]
    ).with_columns(as_of=pl.lit(AS_OF), repo=pl.lit(REPO))
    expected = expected.select(REVIEWER_SCHEMA.keys()).cast(REVIEWER_SCHEMA)
    assert_frame_equal(got, expected)


def test_pending_requests_replayed_from_events() -> None:
    f = frames()
    by_list = features(f, AS_OF).select("candidate", "open_workload")
    by_events = features(f, AS_OF, requests=True).select("candidate", "open_workload")
    # dave's request on #2 came after #2's list was fetched; bob's on #3 was withdrawn.
    assert by_list.rows() == [("alice", 2), ("bob", 0), ("carol", 1), ("dave", 0)]
    assert by_events.rows() == [("alice", 2), ("bob", 0), ("carol", 1), ("dave", 1)]
    # Without the requested_reviewer column the events say nothing about requests.
    blind = {**f, "issue_events": f["issue_events"].drop("requested_reviewer")}
    assert_frame_equal(features(blind, AS_OF, requests=True), features(f, AS_OF))


def test_expertise_score_sums_matching_prefixes() -> None:
    f = frames()
    expertise = path_expertise(f["pull_requests"], f["reviews"], f["pr_files"], as_of=AS_OF)
    got = expertise_score(expertise, REPO, ["src/api/new.py", "docs/x.md", "README.md", "go.mod.bak"])
    expected = pl.DataFrame(
        {
            "candidate": ["alice", "bob"],
            "score": [ALICE_API + ALICE_DOCS, BOB_API + BOB_DOCS],
            "matched_paths": [2, 2],
        },
        schema={"candidate": pl.String, "score": pl.Float64, "matched_paths": pl.Int64},
    )
    assert_frame_equal(got, expected)
    # Broad knowledge counts: a prefix 'src/' holds 'src/api/...'; a root file matches only itself.
    broad = pl.DataFrame(
        [(REPO, "zoe", "src/", 0.25), (REPO, "yan", "go.mod", 1.0), ("o/other", "xi", "src/api/", 9.0)],
        schema=EXPERTISE_SCHEMA,
        orient="row",
    )
    scored = expertise_score(broad, REPO, ["src/api/x.py", "src/api/y.py", "go.mod"])
    assert scored.rows() == [("yan", 1.0, 1), ("zoe", 0.5, 2)]
    assert expertise_score(broad, REPO, []).is_empty()


def test_rejects_naive_as_of_and_bad_half_life() -> None:
    f = frames()
    args = (f["pull_requests"], f["reviews"], f["pr_files"], f["comments"])
    with pytest.raises(ValueError, match="timezone"):
        reviewer_features(*args, as_of=datetime(2024, 3, 1))
    with pytest.raises(ValueError, match="half_life"):
        reviewer_features(*args, as_of=AS_OF, half_life_days=0)
    with pytest.raises(ValueError, match="lacks the columns"):
        reviewer_features(f["pull_requests"].drop("requested_reviewers"), *args[1:], as_of=AS_OF)


def test_empty_inputs() -> None:
    f = {name: frame.clear() for name, frame in frames().items()}
    got = reviewer_features(f["pull_requests"], f["reviews"], f["pr_files"], f["comments"], as_of=AS_OF)
    assert got.is_empty() and got.schema == REVIEWER_SCHEMA


# --------------------------------------------------------------------------------------------
# The as-of rule


def truncate(f: dict[str, pl.DataFrame], cut: datetime) -> dict[str, pl.DataFrame]:
    """What the tables could say at ``cut``: later rows dropped, later timestamps unknown.

    A pull request updated at or after ``cut`` may have had other reviewers requested then, so its
    list is replaced by an empty one: features as of ``cut`` must not depend on it.
    """
    prs = f["pull_requests"].filter(pl.col("created_at") < cut)
    prs = prs.with_columns(
        *(
            pl.when(pl.col(c) < cut).then(pl.col(c)).alias(c)
            for c in ("closed_at", "merged_at", "updated_at")
        ),
        requested_reviewers=pl.when(pl.col("updated_at") < cut)
        .then(pl.col("requested_reviewers"))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
    )
    return {
        "pull_requests": prs,
        "reviews": f["reviews"].filter(pl.col("submitted_at") < cut),
        "pr_files": f["pr_files"].join(
            prs.select(
                "repo", pl.col("number").alias("pull_number").cast(f["pr_files"]["pull_number"].dtype)
            ),
            on=["repo", "pull_number"],
            how="semi",
        ),
        "comments": f["comments"].filter(pl.col("created_at") < cut),
        "issue_events": f["issue_events"].filter(pl.col("created_at") < cut),
    }


def features(f: dict[str, pl.DataFrame], as_of: datetime, *, requests: bool = False) -> pl.DataFrame:
    """Reviewer features; with ``requests``, pending review requests replayed from the events."""
    events = f["issue_events"] if requests else None
    return reviewer_features(
        f["pull_requests"], f["reviews"], f["pr_files"], f["comments"], as_of=as_of, issue_events=events
    )


PEOPLE = ("ana", "ben", "cy", "dependabot[bot]")
FILES = ("src/api/a.py", "src/db/b.py", "src/main.py", "docs/c.md", "go.mod")
BASE = datetime(2024, 1, 1, tzinfo=UTC)
minutes = st.integers(0, 30 * 24 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def histories(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    prs: list[tuple[Any, ...]] = []
    reviews: list[tuple[Any, ...]] = []
    files: list[tuple[Any, ...]] = []
    comments: list[tuple[Any, ...]] = []
    requests: list[tuple[Any, ...]] = []
    for number in range(1, draw(st.integers(1, 6)) + 1):
        author = draw(st.sampled_from(PEOPLE))
        created = BASE + draw(minutes)
        closed = draw(st.none() | minutes.map(lambda d, c=created: c + d))
        updated = created + draw(minutes)
        requested = draw(st.lists(st.sampled_from(PEOPLE[:3]), max_size=2, unique=True))
        prs.append(
            (REPO, number, author, author.endswith("[bot]"), created, updated, closed, closed, requested)
        )
        files += [
            (REPO, number, name) for name in draw(st.lists(st.sampled_from(FILES), max_size=3, unique=True))
        ]
        for _ in range(draw(st.integers(0, 3))):
            who = draw(st.sampled_from(PEOPLE))
            state = draw(st.sampled_from(("approved", "changes_requested", "commented")))
            reviews.append((REPO, number, who, who.endswith("[bot]"), state, created + draw(minutes)))
        for _ in range(draw(st.integers(0, 2))):
            who = draw(st.sampled_from(PEOPLE))
            kind = draw(st.sampled_from(("issue", "review")))
            comments.append((REPO, kind, number, who, who.endswith("[bot]"), created + draw(minutes)))
        for _ in range(draw(st.integers(0, 3))):
            event = draw(st.sampled_from(("review_requested", "review_request_removed")))
            requests.append((REPO, number, event, draw(st.sampled_from(PEOPLE[:3])), created + draw(minutes)))
    for _ in range(draw(st.integers(0, 2))):
        who = draw(st.sampled_from(PEOPLE))
        comments.append((REPO, "issue", 99, who, who.endswith("[bot]"), BASE + draw(minutes)))
    return {
        "pull_requests": pl.DataFrame(prs, schema=PR_SCHEMA, orient="row"),
        "reviews": pl.DataFrame(reviews, schema=REVIEW_SCHEMA, orient="row"),
        "pr_files": pl.DataFrame(files, schema=FILE_SCHEMA, orient="row"),
        "comments": pl.DataFrame(comments, schema=COMMENT_SCHEMA, orient="row"),
        "issue_events": pl.DataFrame(requests, schema=REQUEST_SCHEMA, orient="row"),
    }


def moments(history: dict[str, pl.DataFrame]) -> list[datetime]:
    """Every instant in the history: the cuts where an off-by-one would show."""
    times = {BASE}
    for frame in history.values():
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime):
                times |= set(frame[name].drop_nulls())
    return sorted(times)


SHIFTS = st.sampled_from((timedelta(0), timedelta(minutes=1), timedelta(hours=6)))


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_as_of_ignores_everything_after_it(history: dict[str, pl.DataFrame], data: st.DataObject) -> None:
    # Cuts at, just after and between the history's own instants find what random instants miss.
    cut = data.draw(st.sampled_from(moments(history))) + data.draw(SHIFTS)
    assert_frame_equal(features(history, cut), features(truncate(history, cut), cut))
    assert_frame_equal(
        features(history, cut, requests=True), features(truncate(history, cut), cut, requests=True)
    )


def test_as_of_on_the_sample_organisation() -> None:
    f = sample_core()
    cut = datetime(2026, 9, 20, 15, 30, tzinfo=UTC)
    full = features(f, cut)
    assert_frame_equal(full, features(truncate(f, cut), cut))
    assert full["last_active_at"].max() < cut
    # Later history does change the features: the cut is not vacuous.
    assert not full.equals(features(f, cut + timedelta(days=7)))


# --------------------------------------------------------------------------------------------
# Signals of the sample organisation (synthetic)

SAMPLE_AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


def test_sample_candidates_are_humans() -> None:
    f = sample_core()
    got = features(f, SAMPLE_AS_OF)
    bots = set(f["pull_requests"].filter(pl.col("author_is_bot"))["author"]) | set(
        f["reviews"].filter(pl.col("reviewer_is_bot"))["reviewer"]
    )
    assert bots and not bots & set(got["candidate"])
    assert not got["candidate"].str.ends_with("[bot]").any()
    assert got.height >= 40 and got["reviews_done"].sum() > 300
    # Reviewers answer within hours to days, and their rates are shares.
    assert 1 < got["median_first_response_hours"].median() < 72
    assert got["approval_rate"].drop_nulls().is_between(0, 1).all()


def test_sample_authors_get_expertise_where_they_author() -> None:
    """Whoever authored at least three pull requests in an area ranks in the top of its experts."""
    f = sample_core()
    prs = f["pull_requests"].filter(~pl.col("author_is_bot") & (pl.col("created_at") < SAMPLE_AS_OF))
    authored = (
        prs.join(
            f["pr_files"].with_columns(pl.col("pull_number").cast(pl.Int32)),
            left_on=["repo", "number"],
            right_on=["repo", "pull_number"],
        )
        .with_columns(path_prefix=pl.col("filename").map_elements(path_prefix, return_dtype=pl.String))
        .group_by("repo", pl.col("author").alias("candidate"), "path_prefix")
        .agg(pl.col("number").n_unique().alias("prs"))
        .filter((pl.col("prs") >= 3) & ~pl.col("path_prefix").is_in(["tests/", "docs/"]))
    )
    expertise = path_expertise(f["pull_requests"], f["reviews"], f["pr_files"], as_of=SAMPLE_AS_OF)
    ranked = expertise.with_columns(
        percentile=(pl.col("weight").rank(method="min", descending=True) - 1).over("repo", "path_prefix")
        / pl.len().over("repo", "path_prefix")
    )
    joined = authored.join(ranked, on=["repo", "candidate", "path_prefix"], how="left")
    assert joined.height >= 30
    assert joined["weight"].null_count() == 0  # everyone has expertise where they authored
    # Areas have ~8 experts (authors and reviewers); at random the mean percentile would be ~0.44.
    assert (joined["percentile"] < 0.5).mean() >= 0.8
    assert joined["percentile"].mean() <= 0.3


def test_sample_expertise_predicts_who_reviews_next() -> None:
    """Expertise as of a date ranks the actual reviewers of the next pull requests high."""
    f = sample_core()
    expertise = path_expertise(f["pull_requests"], f["reviews"], f["pr_files"], as_of=SAMPLE_AS_OF)
    later = f["pull_requests"].filter(
        ~pl.col("author_is_bot")
        & pl.col("created_at").is_between(SAMPLE_AS_OF, SAMPLE_AS_OF + timedelta(days=14))
    )
    reviewers = f["reviews"].filter(~pl.col("reviewer_is_bot"))
    hits = trials = 0
    chance = 0.0
    for pr in later.iter_rows(named=True):
        key = (pl.col("repo") == pr["repo"]) & (pl.col("pull_number") == pr["number"])
        actual = set(reviewers.filter(key)["reviewer"]) - {pr["author"]}
        pool = set(expertise.filter(pl.col("repo") == pr["repo"])["candidate"]) - {pr["author"]}
        actual &= pool
        if not actual or len(pool) < 3:
            continue
        scores = expertise_score(expertise, pr["repo"], f["pr_files"].filter(key)["filename"].to_list())
        top = set(scores.filter(pl.col("candidate") != pr["author"])["candidate"].head(3))
        trials += 1
        hits += bool(actual & top)
        chance += 1 - math.comb(len(pool) - len(actual), 3) / math.comb(len(pool), 3)
    assert trials >= 30
    assert hits / trials >= 0.6
    assert hits / trials >= 1.5 * chance / trials


@pytest.mark.shared_data
def test_devlake_ants_reviewer_features() -> None:
    f = devlake_core()
    as_of = datetime(2030, 1, 1, tzinfo=UTC)
    got = features(f, as_of)
    assert not got.is_empty() and not got["candidate"].str.ends_with("[bot]").any()
    # The recording has no pull request files: no expertise, but everything else.
    assert got["expertise_paths"].list.len().sum() == 0
    owner = got.filter(pl.col("candidate") == "panjf2000").row(0, named=True)
    assert owner["reviews_done"] >= 5 and owner["median_first_response_hours"] is not None
    assert_frame_equal(
        features(f, datetime(2020, 1, 1, tzinfo=UTC)), features(truncate(f, t("2020-01-01")), t("2020-01-01"))
    )


def test_author_history_hand_computed() -> None:
    as_of = datetime(2024, 3, 1, tzinfo=UTC)
    day = timedelta(days=1)
    prs = pl.DataFrame(
        {
            "repo": ["o/r"] * 3,
            "number": [1, 2, 3],
            "author": ["Bob", "alice", "bob"],
            "author_is_bot": [False, False, False],
            "created_at": [as_of - 20 * day, as_of - 15 * day, as_of + day],  # #3 is not yet known
            "updated_at": [as_of - 20 * day, as_of - 15 * day, as_of + day],
            "closed_at": [None, None, None],
            "requested_reviewers": [[], [], []],
        },
        schema_overrides={"closed_at": pl.Datetime("us", "UTC")},
    )
    reviews = pl.DataFrame(
        {
            "repo": ["o/r"] * 6,
            "pull_number": [1, 1, 1, 2, 1, 3],
            "reviewer": ["alice", "dependabot[bot]", "carol", "alice", "Bob", "alice"],
            "reviewer_is_bot": [False, True, False, False, False, False],
            "state": ["APPROVED", "APPROVED", "CHANGES_REQUESTED", "APPROVED", "APPROVED", "APPROVED"],
            "submitted_at": [
                as_of - 10 * day,
                as_of - 10 * day,
                as_of - 9 * day,
                as_of - 4 * day,
                as_of - 3 * day,
                as_of + 2 * day,
            ],
        }
    )  # alice approving her own #2 and bob his own #1 count for nothing; #3 is after as_of
    comments = pl.DataFrame(
        {
            "repo": ["o/r", "o/r"],
            "kind": ["issue", "review"],
            "issue_number": [1, 1],
            "author": ["carol", "bob"],
            "author_is_bot": [False, False],
            "created_at": [as_of - 5 * day, as_of - 5 * day],
        }
    )
    got = author_history(prs, reviews, comments, as_of=as_of)

    def long(days: float) -> float:
        return 2.0 ** (-days / 365.0)

    expected = pl.DataFrame(
        [
            {
                "repo": "o/r",
                "candidate": "alice",
                "author_history": [{"author": "bob", "weight": 2.0 ** (-10 / 30) + 0.3 * long(10)}],
            },
            {
                "repo": "o/r",
                "candidate": "bob",
                "author_history": [{"author": "alice", "weight": 0.5 * long(10)}],
            },
            {
                "repo": "o/r",
                "candidate": "carol",
                "author_history": [{"author": "bob", "weight": 0.25 * long(5)}],
            },
        ],
        schema=AUTHOR_HISTORY_SCHEMA,
    )
    assert_frame_equal(got, expected)
