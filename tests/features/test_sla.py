"""SLA clocks: priorities, hand-computed clocks, the as-of rule, and the recorded histories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.features.sla import SLA_SCHEMA, label_priority, sla_clocks
from tests.features.test_reviewers import devlake_core, sample_core

UTC_TIME = pl.Datetime("us", "UTC")
REPO = "o/r"
AS_OF = datetime(2024, 3, 10, tzinfo=UTC)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


ISSUE_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "number": pl.Int32,
    "author": pl.String,
    "author_is_bot": pl.Boolean,
    "labels": pl.List(pl.String),
    "created_at": UTC_TIME,
    "closed_at": UTC_TIME,
    "is_pull_request": pl.Boolean,
}
COMMENT_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "kind": pl.String,
    "issue_number": pl.Int64,
    "author": pl.String,
    "author_is_bot": pl.Boolean,
    "created_at": UTC_TIME,
}
EVENT_SCHEMA: dict[str, Any] = {
    "id": pl.Int64,
    "repo": pl.String,
    "issue_number": pl.Int64,
    "event": pl.String,
    "actor": pl.String,
    "actor_is_bot": pl.Boolean,
    "label": pl.String,
    "created_at": UTC_TIME,
}
REVIEW_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "pull_number": pl.Int64,
    "reviewer": pl.String,
    "reviewer_is_bot": pl.Boolean,
    "submitted_at": UTC_TIME,
}


@pytest.mark.parametrize(
    ("label", "priority"),
    [
        ("P0", "P0"),
        ("p3", "P3"),
        ("priority/P1", "P1"),
        ("Priority: P2", "P2"),
        ("priority-0", "P0"),
        ("priority: high", "P1"),
        ("Priority: Critical", "P0"),
        ("high-priority", "P1"),
        ("low priority", "P3"),
        ("priority/medium", "P2"),
        ("critical", "P0"),
        ("Urgent", "P0"),
        ("sev1", "P0"),
        ("SEV-0", "P0"),
        ("sev2", "P1"),
        ("severity: 3", "P2"),
        ("Sev4", "P3"),
        ("severity/minor", "P3"),
        ("bug", None),
        ("high", None),
        ("P4", None),
        ("area/p1-api", None),
        ("needs-triage", None),
    ],
)
def test_label_priority(label: str, priority: str | None) -> None:
    assert label_priority(label) == priority


def hand_built() -> dict[str, pl.DataFrame]:
    issues = [
        # number, author, labels now, created, closed, is_pr
        (1, "alice", ["bug", "P1"], t("2024-03-01 10:00"), t("2024-03-02 10:00"), False),
        (2, "bob", ["priority: critical"], t("2024-03-05 00:00"), None, False),  # labels without history
        (3, "carol", [], t("2024-03-06 00:00"), t("2024-03-12 00:00"), True),
        (4, "dave", ["P3"], t("2024-03-08 00:00"), None, False),
        (5, "erin", ["P0", "P2"], t("2024-03-01 00:00"), t("2024-03-12 00:00"), False),
        (6, "frank", [], t("2024-03-11 00:00"), None, False),  # created after as_of
        (7, "frank", [], t("2024-03-03 00:00"), t("2024-03-04 00:00"), False),  # no close event
        (8, "alice", [], t("2024-03-07 00:00"), None, True),
    ]
    comments = [
        (1, "issue", "codecov[bot]", True, t("2024-03-01 10:05")),
        (1, "issue", "alice", False, t("2024-03-01 10:10")),  # the author
        (1, "issue", "carol", False, t("2024-03-01 12:00")),
        (3, "review", "alice", False, t("2024-03-06 03:00")),
        (4, "issue", "erin", False, t("2024-03-09 00:00")),
        (5, "issue", "erin", False, t("2024-03-11 00:00")),  # the author, and after as_of
        (2, "issue", "dave", False, t("2024-03-10 00:00")),  # exactly at as_of: not yet
    ]
    events = [
        (1, "labeled", "alice", "bug", t("2024-03-01 10:00")),
        (1, "labeled", "bob", "P1", t("2024-03-01 11:00")),
        (1, "closed", "alice", None, t("2024-03-02 10:00")),
        (3, "labeled", "alice", "sev2", t("2024-03-06 01:00")),  # on a pull request: no response
        (3, "unlabeled", "alice", "sev2", t("2024-03-11 00:00")),
        (4, "closed", "dave", None, t("2024-03-08 12:00")),
        (4, "reopened", "dave", None, t("2024-03-09 06:00")),
        (4, "labeled", "erin", "P3", t("2024-03-11 00:00")),
        (5, "closed", "erin", None, t("2024-03-02 00:00")),
        (5, "reopened", "erin", None, t("2024-03-11 00:00")),
        (5, "closed", "erin", None, t("2024-03-12 00:00")),
        (7, "assigned", "grace", None, t("2024-03-03 02:00")),
        (2, "labeled", "github-actions[bot]", "needs-triage", t("2024-03-05 00:01")),
    ]
    return {
        "issues": pl.DataFrame(
            [(REPO, n, who, False, *rest) for n, who, *rest in issues], schema=ISSUE_SCHEMA, orient="row"
        ),
        "comments": pl.DataFrame(
            [(REPO, kind, n, who, bot, at) for n, kind, who, bot, at in comments],
            schema=COMMENT_SCHEMA,
            orient="row",
        ),
        "issue_events": pl.DataFrame(
            [
                (i, REPO, n, event, who, who.endswith("[bot]"), label, at)
                for i, (n, event, who, label, at) in enumerate(events)
            ],
            schema=EVENT_SCHEMA,
            orient="row",
        ),
        "reviews": pl.DataFrame(
            [
                (REPO, 8, "bob", False, t("2024-03-07 05:00")),
                (REPO, 8, "sonar[bot]", True, t("2024-03-07 01:00")),
            ],
            schema=REVIEW_SCHEMA,
            orient="row",
        ),
    }


def row(
    number: int,
    is_pr: bool,
    author: str,
    created: str,
    priority: str | None,
    response: tuple[str, str] | None,
    resolved: str | None,
) -> dict[str, Any]:
    created_at = t(created)
    first_at, responder = (t(response[0]), response[1]) if response else (None, None)
    resolved_at = t(resolved) if resolved else None

    def hours(at: datetime | None) -> float | None:
        return None if at is None else (at - created_at) / timedelta(hours=1)

    response_open = first_at is None and resolved_at is None
    return {
        "as_of": AS_OF,
        "repo": REPO,
        "number": number,
        "is_pull_request": is_pr,
        "author": author,
        "author_is_bot": False,
        "created_at": created_at,
        "priority": priority,
        "first_response_at": first_at,
        "first_responder": responder,
        "time_to_first_response_hours": hours(first_at),
        "resolved_at": resolved_at,
        "time_to_resolution_hours": hours(resolved_at),
        "response_clock_open": response_open,
        "response_open_hours": hours(AS_OF) if response_open else None,
        "resolution_clock_open": resolved_at is None,
        "resolution_open_hours": hours(AS_OF) if resolved_at is None else None,
    }


def test_hand_computed_clocks() -> None:
    f = hand_built()
    got = sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=AS_OF, reviews=f["reviews"])
    expected = pl.DataFrame(
        [
            # bob's labelling is the first response; carol's comment comes later.
            row(1, False, "alice", "2024-03-01 10:00", "P1", ("2024-03-01 11:00", "bob"), "2024-03-02 10:00"),
            # A label with no history counts from creation; the bot's label is no response.
            row(2, False, "bob", "2024-03-05 00:00", "P0", None, None),
            # 'sev2' was on the pull request at as_of (removed after); closed after as_of: open.
            row(3, True, "carol", "2024-03-06 00:00", "P1", ("2024-03-06 03:00", "alice"), None),
            # 'P3' came after as_of; closed then reopened before as_of: open.
            row(4, False, "dave", "2024-03-08 00:00", None, ("2024-03-09 00:00", "erin"), None),
            # Closed at as_of by its event, although closed_at is a later close; the most urgent label.
            row(5, False, "erin", "2024-03-01 00:00", "P0", None, "2024-03-02 00:00"),
            # No close event: closed_at decides; an assignment is a response on an issue.
            row(
                7, False, "frank", "2024-03-03 00:00", None, ("2024-03-03 02:00", "grace"), "2024-03-04 00:00"
            ),
            # An approval without comment answers a pull request (reviews given); bots' do not.
            row(8, True, "alice", "2024-03-07 00:00", None, ("2024-03-07 05:00", "bob"), None),
        ],
        schema=SLA_SCHEMA,
        orient="row",
    )
    assert_frame_equal(got, expected)
    # Without reviews, #8 has no response and its clock runs.
    without = sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=AS_OF)
    eight = without.filter(pl.col("number") == 8).row(0, named=True)
    assert eight["first_response_at"] is None and eight["response_clock_open"]
    assert eight["response_open_hours"] == 72.0
    assert_frame_equal(without.filter(pl.col("number") != 8), got.filter(pl.col("number") != 8))


def test_custom_priority_labels_replace_the_defaults() -> None:
    f = hand_built()
    got = sla_clocks(
        f["issues"],
        f["comments"],
        f["issue_events"],
        as_of=AS_OF,
        priority_labels={" BUG ": "P2", "p1": "P3"},
    )
    assert dict(zip(got["number"], got["priority"], strict=True)) == {
        1: "P2",  # 'bug' → P2 beats 'P1' → P3
        2: None,
        3: None,
        4: None,
        5: None,
        7: None,
        8: None,
    }
    with pytest.raises(ValueError, match="priorities are"):
        sla_clocks(
            f["issues"], f["comments"], f["issue_events"], as_of=AS_OF, priority_labels={"x": "urgent"}
        )
    with pytest.raises(ValueError, match="timezone"):
        sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=datetime(2024, 3, 10))


def test_empty_inputs() -> None:
    f = {name: frame.clear() for name, frame in hand_built().items()}
    got = sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=AS_OF, reviews=f["reviews"])
    assert got.is_empty() and got.schema == SLA_SCHEMA


# --------------------------------------------------------------------------------------------
# The as-of rule: a recording taken at T gives the same clocks as the full history read at T


BASE = datetime(2024, 1, 1, tzinfo=UTC)
PEOPLE = ("ana", "ben", "cy", "dependabot[bot]")
LABELS = ("P0", "P2", "bug", "priority: high", "sev3")
offsets = st.integers(1, 20 * 24 * 60).map(lambda m: timedelta(minutes=m))


@dataclass
class Item:
    """The true history of one issue or pull request."""

    number: int
    author: str
    is_pr: bool
    created: datetime
    static_labels: list[str]  # on it from creation on, never changed, with no event
    label_changes: dict[str, tuple[bool, list[datetime]]] = field(
        default_factory=dict
    )  # initially on, toggles
    closes: list[datetime] = field(default_factory=list)  # close, reopen, close, ... toggles
    close_events: bool = True
    comments: list[tuple[str, str, datetime]] = field(default_factory=list)  # kind, author, at
    events: list[tuple[str, str, datetime]] = field(default_factory=list)  # event, actor, at


@st.composite
def items(draw: st.DrawFn, number: int) -> Item:
    created = BASE + draw(offsets)
    item = Item(
        number=number,
        author=draw(st.sampled_from(PEOPLE)),
        is_pr=draw(st.booleans()),
        created=created,
        static_labels=draw(st.lists(st.sampled_from(LABELS), max_size=2, unique=True)),
    )
    later = offsets.map(lambda d: created + d)
    for label in draw(st.lists(st.sampled_from(LABELS), max_size=2, unique=True)):
        if label not in item.static_labels:
            item.label_changes[label] = (
                draw(st.booleans()),
                sorted(draw(st.lists(later, max_size=3, unique=True))),
            )
    item.close_events = draw(st.booleans())
    # Without close events, only closed_at is known, and it keeps the last close only.
    item.closes = sorted(draw(st.lists(later, max_size=3 if item.close_events else 1, unique=True)))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(("issue", "review")))
        item.comments.append((kind, draw(st.sampled_from(PEOPLE)), draw(later)))
    for _ in range(draw(st.integers(0, 2))):
        item.events.append(
            (draw(st.sampled_from(("assigned", "mentioned"))), draw(st.sampled_from(PEOPLE)), draw(later))
        )
    return item


def recording(history: list[Item], at: datetime) -> dict[str, pl.DataFrame]:
    """What a recording taken at ``at`` holds: objects and events before it, states as of it."""
    issues, comments, events = [], [], []
    for item in history:
        if item.created >= at:
            continue
        labels = list(item.static_labels)
        for label, (initially, toggles) in item.label_changes.items():
            seen = [when for when in toggles if when < at]
            if initially != (len(seen) % 2 == 1):
                labels.append(label)
            on = initially
            for when in seen:
                on = not on
                events.append((item.number, "labeled" if on else "unlabeled", "ben", label, when))
        seen_closes = [when for when in item.closes if when < at]
        closed_at = seen_closes[-1] if len(seen_closes) % 2 == 1 else None
        if item.close_events:
            for index, when in enumerate(seen_closes):
                events.append((item.number, "closed" if index % 2 == 0 else "reopened", "cy", None, when))
        events += [(item.number, event, who, None, when) for event, who, when in item.events if when < at]
        comments += [(item.number, kind, who, when) for kind, who, when in item.comments if when < at]
        issues.append(
            (
                REPO,
                item.number,
                item.author,
                item.author.endswith("[bot]"),
                labels,
                item.created,
                closed_at,
                item.is_pr,
            )
        )
    return {
        "issues": pl.DataFrame(issues, schema=ISSUE_SCHEMA, orient="row"),
        "comments": pl.DataFrame(
            [(REPO, kind, n, who, who.endswith("[bot]"), when) for n, kind, who, when in comments],
            schema=COMMENT_SCHEMA,
            orient="row",
        ),
        "issue_events": pl.DataFrame(
            [
                (i, REPO, n, event, who, who.endswith("[bot]"), label, when)
                for i, (n, event, who, label, when) in enumerate(sorted(events, key=lambda e: e[4]))
            ],
            schema=EVENT_SCHEMA,
            orient="row",
        ),
    }


@st.composite
def histories(draw: st.DrawFn) -> list[Item]:
    return [draw(items(number)) for number in range(1, draw(st.integers(1, 5)) + 1)]


def clocks(f: dict[str, pl.DataFrame], as_of: datetime) -> pl.DataFrame:
    return sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=as_of)


def moments(history: list[Item]) -> list[datetime]:
    """Every instant something happens in the history: the cuts where an off-by-one would show."""
    times = {BASE}
    for item in history:
        times |= {item.created, *item.closes, *(when for _, _, when in item.comments)}
        times |= {when for _, _, when in item.events}
        times |= {when for _, toggles in item.label_changes.values() for when in toggles}
    return sorted(times)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_as_of_equals_a_recording_taken_then(history: list[Item], data: st.DataObject) -> None:
    # Cuts at, just after and between the history's own instants find what random instants miss.
    cut = data.draw(st.sampled_from(moments(history))) + data.draw(
        st.sampled_from((timedelta(0), timedelta(minutes=1), timedelta(hours=6)))
    )
    end = BASE + timedelta(days=400)
    assert_frame_equal(clocks(recording(history, end), cut), clocks(recording(history, cut), cut))


# --------------------------------------------------------------------------------------------
# The sample organisation (synthetic) and the DevLake recording


def test_sample_priorities_and_first_responses() -> None:
    f = sample_core()
    end = datetime(2026, 11, 1, tzinfo=UTC)
    got = sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=end, reviews=f["reviews"])
    assert got.height == f["issues"].height
    issues = got.filter(~pl.col("is_pull_request"))
    medians = dict(
        issues.group_by("priority").agg(pl.col("time_to_first_response_hours").median()).iter_rows()
    )
    # The generator answers P0 in minutes (paging) and P3 in about a day.
    assert medians["P0"] < 1 < medians["P3"]
    assert medians["P0"] * 10 < medians["P3"]
    assert issues["priority"].null_count() <= 2  # every triaged issue has a priority label
    # Responders are humans other than the author.
    responders = got.filter(pl.col("first_responder").is_not_null())
    assert not responders["first_responder"].str.ends_with("[bot]").any()
    assert (responders["first_responder"] != responders["author"]).all()
    bots = set(f["issue_events"].filter(pl.col("actor_is_bot"))["actor"]) | set(
        f["comments"].filter(pl.col("author_is_bot"))["author"]
    )
    assert bots and not bots & set(responders["first_responder"])


def test_sample_earlier_clocks_agree_with_later_ones() -> None:
    """Read at a cut, a response that came before the cut is already known; one after is not."""
    f = sample_core()
    cut = datetime(2026, 9, 1, tzinfo=UTC)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    before = sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=cut)
    after = sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=end).join(
        before.select("repo", "number"), on=["repo", "number"], how="semi"
    )
    assert before.height == after.height > 300
    answered = pl.col("first_response_at") < cut
    assert_frame_equal(
        before.filter(pl.col("first_response_at").is_not_null()).select(
            "repo", "number", "first_response_at"
        ),
        after.filter(answered).select("repo", "number", "first_response_at"),
    )
    waiting = before.join(
        after.filter(~answered | pl.col("first_response_at").is_null()), on=["repo", "number"], how="semi"
    )
    assert waiting["response_clock_open"].sum() + waiting["resolved_at"].is_not_null().sum() == waiting.height
    assert (before["resolved_at"].drop_nulls() < cut).all()


@pytest.mark.shared_data
def test_devlake_ants_clocks() -> None:
    f = devlake_core()
    as_of = datetime(2030, 1, 1, tzinfo=UTC)
    got = sla_clocks(f["issues"], f["comments"], f["issue_events"], as_of=as_of, reviews=f["reviews"])
    assert got.height == 41  # 26 issues and 15 pull requests (their issue twins)
    assert got["is_pull_request"].sum() == 15
    assert got["resolved_at"].null_count() == 0  # all closed in the recording
    # codecov[bot] commented first on several pull requests; the first response is the human after it.
    assert "codecov[bot]" in set(f["comments"]["author"])
    assert not got["first_responder"].drop_nulls().str.ends_with("[bot]").any()
    four = got.filter(pl.col("number") == 4).row(0, named=True)
    assert four["first_responder"] == "panjf2000"
    assert four["first_response_at"] == t("2018-07-25 10:49:44")
    # Read in 2019, the later issues do not exist yet and the earlier ones are as they were.
    early = sla_clocks(
        f["issues"], f["comments"], f["issue_events"], as_of=t("2019-01-01"), reviews=f["reviews"]
    )
    assert 0 < early.height < 41
    assert (early["created_at"] < t("2019-01-01")).all()
