"""Revert runs of different commits (or of one commit) deciding at the same moment, against the double.

:func:`~tests.actions.revert_helpers.race` holds every ``revertPullRequest`` at the double until
every run has counted today's reverts, so each sees the cap not yet reached and opens one; the
re-count after opening must close the extra ones, and say why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from actions.common.report import run_cli
from actions.merging.config import RevertConfig
from actions.merging.revert import ExistingRevert, OpenedToday, recount
from actions.revert import main
from pipelines.sources.double import GitHubDouble
from tests.actions.revert_helpers import failed_run, fresh_pull, merge_pull, race
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"


def _pull(double: GitHubDouble, number: int) -> dict[str, Any]:
    return next(p for p in double.recording.pull_requests[REPO] if p["number"] == number)


def _comments(double: GitHubDouble, number: int) -> list[str]:
    return [
        str(c["body"])
        for c in double.recording.issue_comments.get(REPO, [])
        if str(c["issue_url"]).endswith(f"/issues/{number}")
    ]


def _args(run_id: int, config: Path) -> list[str]:
    return ["--repo", REPO, "--run-id", str(run_id), "--config", str(config)]


def _order(double: GitHubDouble, number: int) -> tuple[str, int]:
    return str(_pull(double, number)["created_at"]), number


@pytest.mark.parametrize(("cap", "runs"), [(1, 2), (2, 4)])
def test_runs_of_different_commits_racing_leave_exactly_the_cap_open(
    sample_double: GitHubDouble, action_env: dict[str, Path], tmp_path: Path, cap: int, runs: int
) -> None:
    config = tmp_path / "auto-merge.yml"
    config.write_text(f"revert: {{daily_cap: {cap}}}\n")
    merged = [fresh_pull(sample_double, REPO) for _ in range(runs)]
    run_ids = [failed_run(sample_double, REPO, merge_pull(sample_double, REPO, n)) for n in merged]
    sample_double.reset_log()
    results = race(sample_double, main, [_args(r, config) for r in run_ids])
    # the race did happen: every run counted no revert today, and every run opened one
    assert [r["reverts_today"] for r in results] == [0] * runs
    assert len(sample_double.writes.reverts) == runs
    opened = sorted((r[2] for r in sample_double.writes.reverts), key=lambda n: _order(sample_double, n))
    still_open = [n for n in opened if _pull(sample_double, n)["state"] == "open"]
    assert still_open == opened[:cap]  # exactly the first cap (by creation time, then number) survive
    decisions = sorted(r["decision"] for r in results)
    assert decisions == ["revert"] * cap + ["revert_withdrawn"] * (runs - cap)
    listed = ", ".join(f"#{n}" for n in opened[:cap])
    for result in results:
        number = result["revert_pull_request"]["number"]
        reverted = result["pull_request"]
        if result["decision"] == "revert":
            assert result["reverted"] and result["recount"]["kept"] and number in still_open
            assert any(f"#{number} reverts it" in c for c in _comments(sample_double, reverted))
            continue
        assert not result["reverted"] and result["revert_pull_request"]["state"] == "closed"
        assert result["recount"] == {
            "kept": False,
            "cause": "daily_cap",
            "position": opened.index(number) + 1,
            "reverts_today": runs,
            "earlier": opened[: opened.index(number)],
            "detail": f"the daily cap of {cap} repopilot reverts was reached by reverts opened "
            f"at the same moment ({listed})",
        }
        assert result["reason"] == f"recount: {result['recount']['detail']}"
        assert f"closed #{number}" in result["actions"] and f"commented on #{number}" in result["actions"]
        (comment,) = _comments(sample_double, number)
        assert f"the daily cap of {cap} repopilot reverts was reached" in comment and listed in comment
        assert FAKE_TOKEN not in comment
        # the reverted pull request is not told a revert is coming
        assert not any("reverts it" in c for c in _comments(sample_double, reverted))
        assert _pull(sample_double, number)["closed_at"] is not None
    # one PATCH per withdrawn revert, and every run read the pull request list twice; a withdrawn
    # revert closes and comments on itself instead of reading and commenting on the reverted pull
    # request, so every run makes 13 requests (the token check, 11 before the re-count; --config saves
    # the config read)
    assert len(sample_double.requests) == 13 * runs
    assert sample_double.count(method="PATCH") == runs - cap
    assert sum(r.method == "GET" and r.path.endswith(f"{REPO}/pulls") for r in sample_double.requests) == (
        2 * runs
    )
    outputs = action_env["output"].read_text()
    assert outputs.count("\nrevert_withdrawn\n") == runs - cap
    summary = action_env["summary"].read_text()
    assert summary.count(", then closed it") == runs - cap and "Recount after opening: " in summary
    audit = [json.loads(line) for line in action_env["audit.jsonl"].read_text().splitlines()]
    assert sorted(a["decision"] for a in audit) == decisions
    assert all(a["details"]["recount"]["kept"] == (a["decision"] == "revert") for a in audit)
    # a later run, with no race, sees the cap reached (a withdrawn revert was opened today too)
    late = fresh_pull(sample_double, REPO)
    after = race(
        sample_double,
        main,
        [_args(failed_run(sample_double, REPO, merge_pull(sample_double, REPO, late)), config)],
    )
    assert after[0]["decision"] == "skipped" and after[0]["reverts_today"] == runs


def test_runs_of_one_commit_racing_keep_the_earliest_revert(
    sample_double: GitHubDouble, action_env: dict[str, Path], tmp_path: Path
) -> None:
    config = tmp_path / "auto-merge.yml"
    config.write_text("revert: {daily_cap: 5}\n")
    number = fresh_pull(sample_double, REPO)
    sha = merge_pull(sample_double, REPO, number)
    # two workflows fail on the one commit
    runs = [
        failed_run(sample_double, REPO, sha),
        failed_run(sample_double, REPO, sha, jobs=(("docs", "failure"),)),
    ]
    results = race(sample_double, main, [_args(r, config) for r in runs])
    first, second = sorted(
        (r[2] for r in sample_double.writes.reverts), key=lambda n: _order(sample_double, n)
    )
    assert [r[1] for r in sample_double.writes.reverts] == [number, number]
    assert (
        _pull(sample_double, first)["state"] == "open" and _pull(sample_double, second)["state"] == "closed"
    )
    withdrawn = next(r for r in results if r["decision"] == "revert_withdrawn")
    kept = next(r for r in results if r["decision"] == "revert")
    assert kept["revert_pull_request"]["number"] == first and kept["recount"]["kept"]
    assert withdrawn["revert_pull_request"]["number"] == second
    detail = f"#{first}, opened at the same moment, already reverts #{number}"
    assert withdrawn["recount"]["cause"] == "duplicate" and withdrawn["reason"] == f"recount: {detail}"
    assert detail in _comments(sample_double, second)[0]
    # the reverted pull request is told once, about the revert that stays
    told = [c for c in _comments(sample_double, number) if "reverts it" in c]
    assert len(told) == 1 and f"#{first} reverts it" in told[0]
    assert "then closed it" in action_env["summary"].read_text()


def test_a_revert_github_will_not_close_fails_the_run_and_says_what_to_do(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "auto-merge.yml"
    config.write_text("revert: {daily_cap: 1}\n")
    run_ids = [
        failed_run(sample_double, REPO, merge_pull(sample_double, REPO, fresh_pull(sample_double, REPO)))
        for _ in range(2)
    ]
    # the action's only request to a /pulls/{number} path is the PATCH closing its revert
    sample_double.inject("500", path_contains="/pulls/")
    results = race(sample_double, lambda argv: run_cli(main, argv), [_args(r, config) for r in run_ids])
    assert sorted(str(r.get("decision") or r.get("exit_code")) for r in results) == ["2", "revert"]
    opened = sorted((r[2] for r in sample_double.writes.reverts), key=lambda n: _order(sample_double, n))
    error = capsys.readouterr().err
    assert f"GitHub answered HTTP 500 closing revert #{opened[1]}" in error and "close it by hand" in error
    assert sample_double.pending_faults == 0 and FAKE_TOKEN not in error


# --- the re-count itself (pure) ----------------------------------------------------------------

NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _today(*items: tuple[int, int, int | None]) -> tuple[OpenedToday, ...]:
    """``(number, seconds after noon, the pull request it reverts)`` triples."""
    return tuple(
        OpenedToday(number=n, created_at=NOON + timedelta(seconds=s), reverts=r) for n, s, r in items
    )


def test_the_recount_orders_by_creation_time_then_number() -> None:
    config = RevertConfig(daily_cap=2)
    # #40 was created a second earlier than #30 (numbers need not follow time); #50 ties with #30
    today = _today((30, 1, 1), (40, 0, 2), (50, 1, 3))
    assert [recount(n, n // 10, (), today, config)["kept"] for n in (30, 40, 50)] == [True, True, False]
    assert recount(50, 5, (), today, config)["earlier"] == [40, 30]
    # a revert the re-read does not list yet (a lagging listing) comes last
    missing = recount(60, 6, (), _today((30, 1, 1)), config)
    assert missing["kept"] and missing["position"] == 2 and missing["reverts_today"] == 2
    assert not recount(60, 6, (), today, config)["kept"]


def _revert(number: int, seconds: int, state: str = "open", reverts: int = 7) -> ExistingRevert:
    at = NOON + timedelta(seconds=seconds)
    return ExistingRevert(number=number, reverts=reverts, state=state, by_repopilot=True, created_at=at)


def test_the_recount_keeps_the_earliest_revert_of_a_pull_request_in_any_state() -> None:
    config = RevertConfig(daily_cap=5)
    today = _today((30, 0, 7), (31, 0, 7))
    assert recount(31, 7, (_revert(30, 0), _revert(31, 0)), today, config)["cause"] == "duplicate"
    assert recount(30, 7, (_revert(30, 0), _revert(31, 0)), today, config)["kept"]
    # an earlier revert already closed counts too (as for the first check): the order never changes
    assert recount(31, 7, (_revert(30, 0, "closed"), _revert(31, 0)), today, config)["cause"] == "duplicate"
    # ours missing from the re-read: any other revert of the pull request comes first
    assert recount(31, 7, (_revert(30, 0),), today, config)["cause"] == "duplicate"


def test_a_withdrawn_duplicate_takes_no_place_under_the_cap() -> None:
    # #30 and #31 revert #7 (#31 is withdrawn as a duplicate); #32 reverts #8: second of two allowed
    config = RevertConfig(daily_cap=2)
    today = _today((30, 0, 7), (31, 0, 7), (32, 0, 8))
    reverts = (_revert(30, 0), _revert(31, 0), _revert(32, 0, reverts=8))
    kept = recount(32, 8, reverts, today, config)
    assert kept["kept"] and kept["position"] == 2 and kept["earlier"] == [30] and kept["reverts_today"] == 2
    assert not recount(32, 8, reverts, today, RevertConfig(daily_cap=1))["kept"]
