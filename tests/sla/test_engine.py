"""check_sla_compliance: hand-computed compliance, breaches, success rate, availability, trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.sla.config import SlaConfig
from actions.sla.engine import SlaItem, WorkflowRun, check_sla_compliance

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
CONFIG = SlaConfig(
    targets={
        "P0": {"response_hours": 1, "resolution_hours": 8},
        "P1": {"response_hours": 4, "resolution_hours": 24},
        "P2": {"response_hours": 8, "resolution_hours": 48},
        "P3": {"response_hours": 24, "resolution_hours": 96},
    },
    window_hours=24,
)


def ago(hours: float) -> str:
    return (NOW - timedelta(hours=hours)).isoformat()


def item(
    number: int, created: float, response: float | None, resolved: float | None, labels: list[str]
) -> dict:
    return {
        "repo": "o/r",
        "number": number,
        "created_at": ago(created),
        "first_response_at": None if response is None else ago(response),
        "closed_at": None if resolved is None else ago(resolved),
        "labels": [{"name": name} for name in labels],
        "title": f"item {number}",
    }


ITEMS = [
    item(1, 10, 9.5, 5, ["P0"]),  # response 0.5 h met; resolved after 5 h, met
    item(2, 5, None, None, ["P0"]),  # no response after 5 h: response breached, resolution pending
    item(3, 30, 29, None, ["priority/p1"]),  # response stopped before the window: skipped; open 30 h > 24
    item(4, 2, None, None, ["bug"]),  # P3, pending on both clocks
    item(5, 100, 99, 98, ["P1"]),  # finished long before the window: not part of it
    {**item(6, 3, 1, None, ["P2"]), "is_pull_request": True},  # a PR answered after 2 h: met
    item(7, -1, None, None, ["P0"]),  # created after now: invisible
]


def run(number: int, hours: float, conclusion: str | None, workflow: str = "ci") -> dict:
    return {
        "id": number,
        "repo": "o/r",
        "workflow": workflow,
        "updated_at": ago(hours),
        "conclusion": conclusion,
    }


RUNS = [
    run(1, 40, "failure"),  # previous window: down 40 h -> 30 h ago
    run(2, 30, "success"),
    run(3, 20, "SUCCESS"),  # upper case, as in the DevLake recording
    run(4, 12, "failure"),  # down 12 h -> 6 h ago
    run(5, 6, "success"),
    run(6, 3, "cancelled"),  # says nothing about health
    run(7, 2, "timed_out", workflow="nightly"),  # nightly down from 2 h ago to now
]


def test_compliance_breaches_and_ci_health() -> None:
    report = check_sla_compliance(ITEMS, RUNS, CONFIG, NOW)
    p0 = report["compliance"]["by_priority"]["P0"]
    assert (p0["response"]["met"], p0["response"]["breached"], p0["response"]["pending"]) == (1, 1, 0)
    assert (p0["resolution"]["met"], p0["resolution"]["pending"]) == (1, 1)
    assert p0["response"]["rate"] == 0.5
    p1 = report["compliance"]["by_priority"]["P1"]
    assert p1["response"] == {"met": 0, "breached": 0, "pending": 0, "rate": None, "target_hours": 4}
    assert p1["resolution"]["breached"] == 1
    assert report["compliance"]["by_priority"]["P3"]["response"]["pending"] == 1
    assert report["compliance"]["by_priority"]["P2"]["response"]["met"] == 1
    assert report["compliance"]["overall"]["combined"] == pytest.approx(3 / 5)

    first, second = report["breaches"]
    assert (first["number"], first["priority"], first["clock"]) == (2, "P0", "response")
    assert first["elapsed_hours"] == 5 and first["over_by_hours"] == 4 and first["open"] is True
    assert (second["number"], second["clock"], second["target_hours"]) == (3, "resolution", 24)

    success = report["success_rate"]
    assert (success["succeeded"], success["failed"]) == (2, 2)
    assert success["value"] == 0.5 and success["met"] is False
    # ci down 12 h..6 h ago, nightly down for the last 2 h: 8 of 24 hours down.
    assert report["availability"]["value"] == pytest.approx(1 - 8 / 24, abs=1e-4)
    assert report["compliant"] is False


def test_trend_against_previous_window() -> None:
    report = check_sla_compliance(ITEMS, RUNS, CONFIG, NOW)
    trend = report["trend"]
    assert trend["success_rate"]["previous"] == 0.5 and trend["success_rate"]["direction"] == "stable"
    # Previous window (48 h..24 h ago): ci down 40 h..30 h ago = 10 of 24 hours.
    assert trend["availability"]["previous"] == pytest.approx(1 - 10 / 24, abs=1e-4)
    assert trend["availability"]["direction"] == "improving"
    assert trend["compliance"]["previous"] == 1.0 and trend["compliance"]["direction"] == "worsening"


def test_closing_without_a_response_stops_the_response_clock() -> None:
    items = [
        item(1, 10, None, 9.5, ["P0"]),  # closed after 0.5 h with no comment: answered in time
        item(2, 10, None, 7, ["P0"]),  # closed after 3 h with no comment: the wait was 3 h, not forever
    ]
    report = check_sla_compliance(items, [], CONFIG, NOW)
    response = report["compliance"]["by_priority"]["P0"]["response"]
    assert (response["met"], response["breached"], response["pending"]) == (1, 1, 0)
    (breach,) = [b for b in report["breaches"] if b["clock"] == "response"]
    assert (breach["number"], breach["elapsed_hours"], breach["open"]) == (2, 3, False)


def test_all_green() -> None:
    items = [item(1, 3, 2.5, 1, ["P1"])]
    runs = [run(1, 5, "success"), run(2, 1, "success")]
    report = check_sla_compliance(items, runs, CONFIG, NOW)
    assert report["compliant"] is True and report["breaches"] == []
    assert report["availability"]["value"] == 1.0 and report["success_rate"]["value"] == 1.0


def test_breach_records_are_capped_most_urgent_first_and_the_counts_stay_exact() -> None:
    # Open since the hours given, no response: each breaches its response clock (and its
    # resolution clock once past that target too).
    ages = {"P0": [30, 2, 5], "P1": [6, 70, 10], "P3": [100, 30]}
    items = [
        {**item(10 * (1 + list(ages).index(prio)) + n, hours, None, None, [prio]), "repo": f"o/r{n % 2}"}
        for prio, hours_list in ages.items()
        for n, hours in enumerate(hours_list)
    ]
    full = check_sla_compliance(items, [], CONFIG, NOW)
    capped = check_sla_compliance(items, [], CONFIG.model_copy(update={"max_breaches_listed": 4}), NOW)

    # P0: 3 response + 1 resolution (30 h > 8 h); P1: 3 response + 1 resolution (70 h > 24 h);
    # P3: 2 response + 1 resolution (100 h > 96 h).
    assert full["breach_count"] == capped["breach_count"] == len(full["breaches"]) == 11
    assert (full["breaches_truncated"], capped["breaches_truncated"]) == (False, True)
    assert len(capped["breaches"]) == 4 and capped["breaches"] == full["breaches"][:4]
    assert capped["compliance"] == full["compliance"] and capped["compliant"] is False
    order = [(b["priority"], b["clock"], b["number"]) for b in capped["breaches"]]
    # Most urgent first: P0 before all else, then the most overdue (over 29 h, 22 h, 4 h, 1 h).
    assert order == [
        ("P0", "response", 10),
        ("P0", "resolution", 10),
        ("P0", "response", 12),
        ("P0", "response", 11),
    ]
    keys = [(b["priority"], -b["over_by_hours"]) for b in full["breaches"]]
    assert keys == sorted(keys)


def test_ties_at_the_cap_are_broken_by_repo_and_number() -> None:
    same = [
        {**item(n, 5, None, None, ["P0"]), "repo": repo} for n, repo in ((3, "o/b"), (2, "o/b"), (9, "o/a"))
    ]
    report = check_sla_compliance(same, [], CONFIG.model_copy(update={"max_breaches_listed": 2}), NOW)
    assert [(b["repo"], b["number"]) for b in report["breaches"]] == [("o/a", 9), ("o/b", 2)]
    assert report["breach_count"] == 3 and report["breaches_truncated"] is True


def test_no_runs_means_unknown_not_failing() -> None:
    report = check_sla_compliance([], [], CONFIG, NOW)
    assert report["success_rate"]["value"] is None and report["success_rate"]["met"] is None
    assert report["availability"]["value"] is None
    assert report["compliant"] is True


def test_typed_inputs_accepted() -> None:
    typed = SlaItem("o/r", 1, NOW - timedelta(hours=3), priority="P0")
    runs = [WorkflowRun("o/r", "ci", NOW - timedelta(hours=1), "failure")]
    report = check_sla_compliance([typed], runs, CONFIG, NOW)
    assert report["breaches"][0]["priority"] == "P0"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"repo": "o/r", "number": 1}, "item o/r#1: created_at is required"),
        (
            {"repo": "o/r", "number": 2, "created_at": "yesterday"},
            "item o/r#2: created_at is not an ISO 8601",
        ),
        ({"repo": "o/r", "number": 3, "created_at": "2024-06-01T00:00:00"}, "must carry a time zone"),
        ({"number": 4, "created_at": "2024-06-01T00:00:00Z"}, "missing field 'repo'"),
        (
            {"repo": "o/r", "number": 5, "created_at": "2024-06-01T00:00:00Z", "priority": "P9"},
            "priority 'P9'",
        ),
    ],
)
def test_malformed_items_rejected_with_clear_messages(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_sla_compliance([raw], [], CONFIG, NOW)


def test_malformed_run_and_naive_now() -> None:
    with pytest.raises(ValueError, match="run 9: missing field 'repo'"):
        check_sla_compliance([], [{"id": 9, "created_at": "2024-06-01T00:00:00Z"}], CONFIG, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        check_sla_compliance([], [], CONFIG, datetime(2024, 6, 1))


def _reference(items: list[SlaItem], start: datetime, end: datetime) -> dict[tuple[str, str], list[int]]:
    """Per-item loop of the documented rules, to check the array version against."""
    out: dict[tuple[str, str], list[int]] = {}
    for it in items:
        if it.created_at >= end:
            continue
        assert it.priority is not None
        target = CONFIG.targets[it.priority]
        for clock, stop, hours in (
            ("response", it.first_response_at or it.resolved_at, target.response_hours),
            ("resolution", it.resolved_at, target.resolution_hours),
        ):
            if stop is not None and stop < start:
                continue
            tally = out.setdefault((it.priority, clock), [0, 0, 0])
            done = stop is not None and stop < end
            elapsed = ((stop if done and stop is not None else end) - it.created_at).total_seconds() / 3600
            tally[0 if done and elapsed <= hours else 1 if elapsed > hours else 2] += 1
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-200, 60),
            st.none() | st.integers(0, 120),
            st.none() | st.integers(0, 240),
            st.sampled_from(["P0", "P1", "P2", "P3"]),
        ),
        max_size=40,
    )
)
def test_counts_match_a_per_item_reference(rows: list[tuple[int, int | None, int | None, str]]) -> None:
    items = [
        SlaItem(
            "o/r",
            n,
            NOW - timedelta(hours=age),
            None if resp is None else NOW - timedelta(hours=age) + timedelta(hours=resp),
            None if reso is None else NOW - timedelta(hours=age) + timedelta(hours=reso),
            priority=prio,  # type: ignore[arg-type]
        )
        for n, (age, resp, reso, prio) in enumerate(rows)
    ]
    report = check_sla_compliance(items, [], CONFIG, NOW)
    expected = _reference(items, NOW - timedelta(hours=24), NOW)
    for (priority, clock), (met, breached, pending) in expected.items():
        got = report["compliance"]["by_priority"][priority][clock]
        assert (got["met"], got["breached"], got["pending"]) == (met, breached, pending)
    total_breached = sum(v[1] for v in expected.values())
    assert report["breach_count"] == len(report["breaches"]) == total_breached
    assert report["breaches_truncated"] is False and report["compliant"] is (total_breached == 0)
