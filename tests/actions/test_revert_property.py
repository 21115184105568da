"""A property of revert automation over sequences of failing runs and kinds of pull requests (the double).

Whatever happens (auto-merged and hand-merged pull requests, opted-out ones, reverts merged by
repopilot that fail in turn, re-runs, several workflows failing on one commit, passing re-runs, and
runs of several commits, or of one commit twice, racing: all counting before any opens a revert),
the action never reverts a revert, never leaves more reverts of a day open (or merged) than the cap,
and never leaves two reverts of one pull request; a revert it withdraws after a race is one the cap
or an earlier revert of the same pull request made extra. GitHub's state (the double's) is the judge.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.merging.config import MERGE_MARKER
from actions.revert import main
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from tests.actions.revert_helpers import client, failed_run, fresh_pull, merge_pull, race
from tests.conftest import FAKE_TOKEN

REPO = "acme/app"
KINDS = ("auto", "auto", "human", "opted_out", "revert_trailer", "revert_branch")
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("merge"), st.sampled_from(KINDS)),
        st.tuples(st.just("fail"), st.integers(0, 5)),
        st.tuples(st.just("rerun"), st.integers(0, 5), st.sampled_from(["failure", "success"])),
        st.tuples(st.just("merge_a_revert"), st.integers(0, 3)),
        st.tuples(st.just("race"), st.lists(st.integers(0, 5), min_size=2, max_size=3)),
    ),
    min_size=1,
    max_size=7,
)


def _recording() -> Recording:
    run = {
        "id": 1,
        "name": "CI",
        "head_sha": "0" * 40,
        "head_branch": "main",
        "event": "push",
        "status": "completed",
        "conclusion": "success",
        "run_attempt": 1,
        "html_url": f"https://github.com/{REPO}/actions/runs/1",
        "created_at": "2024-01-01T00:00:00Z",
        "head_repository": {"full_name": REPO},
        "repository": {"full_name": REPO},
    }
    return Recording(repos=[REPO], pull_requests={REPO: []}, workflow_runs={REPO: [run]})


def _merge(double: GitHubDouble, kind: str) -> tuple[int, str]:
    number = fresh_pull(double, REPO)
    if kind == "revert_trailer":
        body = f"Undo.\n\nReverted-by: repopilot\nReverts: #{max(number - 1, 1)}"
        return number, merge_pull(double, REPO, number, title="Undo", body=body)
    if kind == "revert_branch":
        return number, merge_pull(double, REPO, number, head_ref=f"revert-{max(number - 1, 1)}-x")
    labels = ("no-auto-revert",) if kind == "opted_out" else ()
    return number, merge_pull(double, REPO, number, by_repopilot=kind != "human", labels=labels)


def _merge_a_revert(double: GitHubDouble, index: int) -> tuple[int, str] | None:
    """Auto-merge one of the reverts the action opened (as auto-merge would): a revert on the branch."""
    opened = [r for r in double.writes.reverts]
    if not opened:
        return None
    number = opened[index % len(opened)][2]
    pull = next(p for p in double.recording.pull_requests[REPO] if p["number"] == number)
    if pull["state"] != "open":
        return None
    double.configure_pull(REPO, number, mergeable=True, mergeable_state="clean")
    status = (
        client(double)
        .get_repo(REPO)
        .get_pull(number)
        .merge(commit_message=f"{MERGE_MARKER}\n", merge_method="squash", sha=pull["head"]["sha"])
    )
    return number, str(status.sha)


def _act(run_id: int, config: Path) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--repo", REPO, "--run-id", str(run_id), "--config", str(config)]) == 0
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def _play(
    monkeypatch: pytest.MonkeyPatch, config: Path, steps: list[Any]
) -> tuple[GitHubDouble, dict[int, str], list[dict[str, Any]]]:
    """Play the steps on a fresh double; returns it (stopped), the kinds of merged pulls, the decisions."""
    with GitHubDouble(_recording(), token=FAKE_TOKEN) as double:
        monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", double.url)
        merged: list[tuple[int, str, str]] = []  # (number, merge commit, kind)
        runs: dict[int, int] = {}  # index into merged → its latest run id
        decisions = []
        for step in steps:
            if step[0] == "merge":
                number, sha = _merge(double, step[1])
                merged.append((number, sha, step[1]))
                continue
            if step[0] == "merge_a_revert":
                done = _merge_a_revert(double, step[1])
                if done is not None:
                    merged.append((done[0], done[1], "repopilot_revert"))
                continue
            if not merged:
                continue
            if step[0] == "race":
                racing = [failed_run(double, REPO, merged[i % len(merged)][1]) for i in step[1]]
                args = [["--repo", REPO, "--run-id", str(r), "--config", str(config)] for r in racing]
                decisions += race(double, main, args)
                continue
            index = step[1] % len(merged)
            sha = merged[index][1]
            if step[0] == "rerun" and index in runs:
                run_id = failed_run(double, REPO, sha, run_id=runs[index], attempt=2, conclusion=step[2])
            else:
                run_id = failed_run(double, REPO, sha)
                runs[index] = run_id
            decisions.append(_act(run_id, config))
    return double, {number: kind for number, _, kind in merged}, decisions


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, cap=st.integers(0, 3))
def test_never_a_revert_of_a_revert_never_over_the_cap_never_twice(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, steps: list[Any], cap: int
) -> None:
    config = tmp_path_factory.mktemp("cfg") / "auto-merge.yml"
    config.write_text(f"revert: {{daily_cap: {cap}}}\n")
    double, kinds, decisions = _play(monkeypatch, config, steps)
    pulls = {p["number"]: p for p in double.recording.pull_requests[REPO]}
    reverted = [number for _, number, _ in double.writes.reverts]
    reverts = {opened for _, _, opened in double.writes.reverts}
    assert all(kinds[n] == "auto" for n in reverted), (kinds, reverted)  # never a revert, never opted out
    assert not set(reverted) & reverts  # never a revert of repopilot's own reverts
    # what stays: open or merged (a withdrawn revert is closed unmerged)
    kept = [n for _, n, r in double.writes.reverts if pulls[r]["state"] == "open" or pulls[r]["merged"]]
    assert len(kept) == len(set(kept))  # never two reverts of one pull request
    assert len(kept) <= cap  # every revert of a test is opened today
    assert sum(d["decision"] == "revert" for d in decisions) == len(kept)
    withdrawn = [d for d in decisions if d["decision"] == "revert_withdrawn"]
    assert len(withdrawn) == len(reverted) - len(kept)
    for decision in withdrawn:  # withdrawn only when another revert made it extra
        number = decision["revert_pull_request"]["number"]
        assert pulls[number]["state"] == "closed"
        if decision["recount"]["cause"] == "daily_cap":
            assert len(kept) == cap
        else:  # a revert of the same pull request was opened before it
            same = [r for _, n, r in double.writes.reverts if n == decision["pull_request"]]
            assert min(same, key=lambda r: (pulls[r]["created_at"], r)) != number


def test_a_merged_revert_that_fails_is_not_reverted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # guards the property against passing vacuously: the interesting sequence does happen
    config = tmp_path / "auto-merge.yml"
    config.write_text("revert: {daily_cap: 5}\n")
    steps = [("merge", "auto"), ("fail", 0), ("merge_a_revert", 0), ("fail", 1), ("rerun", 0, "failure")]
    double, kinds, decisions = _play(monkeypatch, config, steps)
    assert [d["decision"] for d in decisions] == ["revert", "skipped", "skipped"]
    assert list(kinds.values()) == ["auto", "repopilot_revert"]
    assert decisions[1]["reason"].startswith(f"not_a_revert: #{list(kinds)[1]} is itself a revert")
    assert decisions[2]["reason"].startswith("no_revert_yet:")
    assert len(double.writes.reverts) == 1


def test_a_race_over_the_cap_withdraws_the_extra_reverts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # guards the interleaving part of the property: a race does open more than the cap, then withdraws
    config = tmp_path / "auto-merge.yml"
    config.write_text("revert: {daily_cap: 1}\n")
    steps = [("merge", "auto"), ("merge", "auto"), ("merge", "auto"), ("race", [0, 1, 2, 0])]
    double, _, decisions = _play(monkeypatch, config, steps)
    assert len(double.writes.reverts) == 4 and all(d["reverts_today"] == 0 for d in decisions)
    assert sorted(d["decision"] for d in decisions) == ["revert"] + ["revert_withdrawn"] * 3
    # which run's revert comes first is up to the race; the other two pull requests' are over the
    # cap, and the later of the two reverts of the first pull request is a duplicate
    causes = sorted(str(d["recount"]["cause"]) for d in decisions)
    assert causes == ["None", "daily_cap", "daily_cap", "duplicate"]
