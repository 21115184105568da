"""The revert decision: :func:`decide_revert` over a failed run and the pull request merged as its commit.

Everything here is pure. A revert pull request is opened only when every check passes, in order:
revert automation is enabled; the run failed on a push to the default branch of this repository;
the failing commit is the merge commit of a pull request that repopilot merged (its trailer is on
the commit); the pull request does not carry the opt-out label; it is not itself a revert (by
trailer, GitHub's revert branch, the commit message or the title); no revert of it exists yet, in
any state (so reruns and several failing workflows of one commit open one revert at most); and
fewer repopilot reverts than the daily cap were opened today (UTC), as counted on GitHub.

Runs of different commits can decide at the same moment, each seeing the cap not yet reached, so
the count is checked again once the revert is open (optimistic concurrency): :func:`recount`
orders the reverts by creation (time, then number) and keeps the opened one only if no revert of the
same pull request comes before it and it is among the first ``daily_cap`` of today's repopilot
reverts (one per pull request). Every concurrent run applies that rule to the same ordered list,
which later reverts only extend, so exactly the first survive.

The facts arrive in stages (the action stops asking GitHub at the first refusal): a fact that has
not been gathered yet is None, and the decision is ``incomplete`` when a check needs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from actions.merging.config import MERGE_MARKER, REVERT_MARKER, RevertConfig

Sha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
Text = Annotated[str, StringConstraints(max_length=262144)]
Short = Annotated[str, StringConstraints(max_length=1000)]

REVERTS_TRAILER = "Reverts"
FAILING_RUN_TRAILER = "Failing-run"
_GITHUB_REVERT_BRANCH = re.compile(r"^revert-(?P<number>\d+)-")
_GITHUB_REVERT_BODY = re.compile(
    r"^Reverts [A-Za-z0-9._-]+/[A-Za-z0-9._-]+#(?P<number>\d+)\s*$", re.MULTILINE
)
_OUR_REVERT_BODY = re.compile(rf"^{REVERTS_TRAILER}: #(?P<number>\d+)\s*$", re.MULTILINE)


class FailingJob(BaseModel):
    """A failed job of the run."""

    model_config = ConfigDict(frozen=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    conclusion: str
    html_url: Short | None = None


class Run(BaseModel):
    """The workflow run that completed (its latest attempt, as the API reports it)."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(ge=1)
    name: Short | None = None
    run_number: int | None = None
    run_attempt: int = Field(default=1, ge=1)
    html_url: Short
    head_sha: Sha
    head_branch: Short | None = None
    head_repository: Short | None = None
    event: Short
    status: Short
    conclusion: Short | None = None


class MergedPull(BaseModel):
    """The pull request whose merge commit the run ran on."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    title: Short = ""
    body: Text | None = None
    labels: tuple[Annotated[str, StringConstraints(max_length=100)], ...] = ()
    head_ref: Annotated[str, StringConstraints(max_length=255)] = ""
    base_ref: Annotated[str, StringConstraints(max_length=255)] = ""
    merged: bool = False
    merged_at: AwareDatetime | None = None
    merge_commit_sha: Sha | None = None
    html_url: Short | None = None
    node_id: Annotated[str, StringConstraints(max_length=200)] | None = None


class ExistingRevert(BaseModel):
    """A pull request on GitHub that reverts another one (repopilot's or a person's)."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    reverts: int = Field(ge=1)
    state: str
    merged: bool = False
    by_repopilot: bool = False
    created_at: AwareDatetime


class OpenedToday(BaseModel):
    """One of repopilot's revert pull requests opened today (UTC), in any state."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    created_at: AwareDatetime
    reverts: int | None = Field(default=None, ge=1)
    """The pull request it reverts, when its trailer, branch or body says."""


class RevertFacts(BaseModel):
    """What the decision reads; None: not gathered (yet)."""

    model_config = ConfigDict(frozen=True)

    repository: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    default_branch: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    run: Run
    pull_lookup_done: bool = False
    pull: MergedPull | None = None
    merge_commit_message: Text | None = None
    reverts: tuple[ExistingRevert, ...] | None = None
    reverts_today: int | None = Field(default=None, ge=0)
    day_start: AwareDatetime | None = None
    failing_jobs: tuple[FailingJob, ...] = ()


def has_trailer(message: str | None, trailer: str) -> bool:
    """Whether ``trailer`` is a line of its own in ``message`` (a git trailer, not a quotation)."""
    return message is not None and any(line.strip() == trailer for line in message.splitlines())


def reverted_number(title: str, body: str | None, head_ref: str) -> int | None:
    """The pull request a pull request reverts, by repopilot's trailer, GitHub's revert branch or body."""
    for pattern, text in ((_OUR_REVERT_BODY, body or ""), (_GITHUB_REVERT_BODY, body or "")):
        found = pattern.search(text)
        if found is not None:
            return int(found["number"])
    branch = _GITHUB_REVERT_BRANCH.match(head_ref)
    return int(branch["number"]) if branch is not None else None


def revert_signs(pull: MergedPull, merge_commit_message: str | None) -> list[str]:
    """Why ``pull`` is itself a revert (empty when it is not one)."""
    signs = []
    if has_trailer(pull.body, REVERT_MARKER) or has_trailer(merge_commit_message, REVERT_MARKER):
        signs.append(f"it carries the {REVERT_MARKER!r} trailer")
    if reverted_number(pull.title, pull.body, pull.head_ref) is not None:
        signs.append("it reverts another pull request (revert branch or body)")
    if merge_commit_message is not None and "This reverts commit " in merge_commit_message:
        signs.append("its commit says it reverts another commit")
    if pull.title.startswith(('Revert "', "Revert '")):
        signs.append("its title says it is a revert")
    return signs


def is_repopilot_revert(body: str | None, labels: tuple[str, ...] | list[str], label: str) -> bool:
    """Whether a pull request is one of repopilot's reverts: its trailer, or its label."""
    return has_trailer(body, REVERT_MARKER) or label.lower() in {name.lower() for name in labels}


def today_start(now: datetime) -> datetime:
    """The start of ``now``'s UTC day (the daily cap's window)."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _check(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": passed, "detail": detail}


def _run_check(facts: RevertFacts) -> dict[str, Any]:
    run = facts.run
    name = "failed_on_default_branch"
    if run.status != "completed" or run.conclusion != "failure":
        return _check(name, False, f"the run is {run.status} with conclusion {run.conclusion or 'none'}")
    if run.head_branch != facts.default_branch:
        return _check(
            name, False, f"the run is on {run.head_branch or 'no branch'}, not {facts.default_branch}"
        )
    if run.event != "push":
        return _check(name, False, f"the run was triggered by {run.event}, not a push to the default branch")
    if run.head_repository is not None and run.head_repository.lower() != facts.repository.lower():
        return _check(name, False, "the run's commit comes from another repository (a fork)")
    return _check(name, True, f"run {run.id} failed on {facts.default_branch} at {run.head_sha[:12]}")


def _merged_check(facts: RevertFacts) -> dict[str, Any] | None:
    name = "merged_by_repopilot"
    if not facts.pull_lookup_done:
        return None
    pull = facts.pull
    if pull is None or not pull.merged or pull.merge_commit_sha != facts.run.head_sha:
        return _check(name, False, f"no pull request was merged as commit {facts.run.head_sha[:12]}")
    if facts.merge_commit_message is None:
        return None
    if not has_trailer(facts.merge_commit_message, MERGE_MARKER):
        return _check(
            name, False, f"#{pull.number} was not merged by repopilot (no {MERGE_MARKER!r} trailer)"
        )
    return _check(name, True, f"#{pull.number} was merged by repopilot")


def _existing_check(facts: RevertFacts, number: int) -> dict[str, Any] | None:
    if facts.reverts is None:
        return None
    found = sorted((r for r in facts.reverts if r.reverts == number), key=lambda r: r.number)
    if found:
        first = found[0]
        state = "merged" if first.merged else first.state
        return _check("no_revert_yet", False, f"#{first.number} already reverts #{number} ({state})")
    return _check("no_revert_yet", True, f"no pull request reverts #{number} yet")


def _label_check(pull: MergedPull, config: RevertConfig) -> dict[str, Any]:
    if config.opt_out_label.lower() in {label.lower() for label in pull.labels}:
        return _check("not_opted_out", False, f"#{pull.number} carries the {config.opt_out_label} label")
    return _check("not_opted_out", True, f"no {config.opt_out_label} label")


def _not_revert_check(pull: MergedPull, message: str | None) -> dict[str, Any]:
    signs = revert_signs(pull, message)
    if signs:
        return _check("not_a_revert", False, f"#{pull.number} is itself a revert: " + "; ".join(signs))
    return _check("not_a_revert", True, "not a revert")


def _cap_check(facts: RevertFacts, config: RevertConfig) -> dict[str, Any] | None:
    if facts.reverts_today is None:
        return None
    detail = f"{facts.reverts_today} of {config.daily_cap} revert pull requests opened today (UTC)"
    return _check("under_daily_cap", facts.reverts_today < config.daily_cap, detail)


def _checks(facts: RevertFacts, config: RevertConfig) -> Iterator[dict[str, Any] | None]:
    """The checks in order; None where a fact is missing. Later ones rely on the earlier passing."""
    yield _check("enabled", config.enabled, "revert automation is " + ("on" if config.enabled else "off"))
    yield _run_check(facts)
    yield _merged_check(facts)
    pull = facts.pull
    if pull is None:  # unreachable after a passing merged_by_repopilot check
        return
    yield _label_check(pull, config)
    yield _not_revert_check(pull, facts.merge_commit_message)
    yield _existing_check(facts, pull.number)
    yield _cap_check(facts, config)


def decide_revert(facts: RevertFacts, config: RevertConfig) -> dict[str, Any]:
    """Whether to open a revert pull request for the run's commit, and why: the checks in order.

    Returns:
        ``decision`` (``revert``, ``skipped``, or ``incomplete`` when a fact a check needs is not
        gathered yet); ``reason`` (the first failed check's detail, or None); ``checks`` (each
        ``{name, passed, detail}``, up to the first failure); ``pull_request`` (the number, or None).
    """
    checks: list[dict[str, Any]] = []
    decision = "revert"
    for check in _checks(facts, config):
        if check is None:
            decision = "incomplete"
            break
        checks.append(check)
        if not check["passed"]:
            decision = "skipped"
            break
    failed = next((c for c in checks if not c["passed"]), None)
    return {
        "decision": decision,
        "reason": None if failed is None else f"{failed['name']}: {failed['detail']}",
        "checks": checks,
        "pull_request": None if facts.pull is None else facts.pull.number,
    }


def revert_body(facts: RevertFacts, config: RevertConfig) -> tuple[str, str]:
    """Title and body of the revert pull request: the failing run (link, id, jobs) and the trailers."""
    pull, run = facts.pull, facts.run
    if pull is None:
        raise ValueError("no pull request to revert")
    workflow = f"{run.name} #{run.run_number}" if run.name and run.run_number else f"run {run.id}"
    lines = [
        f"Reverts #{pull.number}: the `{facts.default_branch}` branch failed its CI on the merge commit "
        f"{run.head_sha[:12]} after repopilot auto-merged it.",
        "",
        f"Failing run: [{workflow}]({run.html_url}) (run id {run.id}, attempt {run.run_attempt})",
    ]
    if facts.failing_jobs:
        lines.append("Failing jobs:")
        lines += [
            f"- [{job.name}]({job.html_url})" if job.html_url else f"- {job.name}"
            for job in facts.failing_jobs
        ]
    else:
        lines.append("Failing jobs: none reported by the API (see the run)")
    lines += [
        "",
        f"Merge this to restore a green `{facts.default_branch}`, or close it if the failure is unrelated. "
        f"The `{config.opt_out_label}` label on a pull request opts it out of automatic reverts.",
        "",
        REVERT_MARKER,
        f"{REVERTS_TRAILER}: #{pull.number}",
        f"{FAILING_RUN_TRAILER}: {run.id}",
    ]
    return f'Revert "{pull.title}"', "\n".join(lines)


def _order(item: ExistingRevert | OpenedToday) -> tuple[datetime, int]:
    """The order every concurrent run agrees on: creation time, then number (times tie to the second)."""
    return item.created_at, item.number


def recount(
    opened: int,
    reverted: int,
    reverts: tuple[ExistingRevert, ...],
    today: tuple[OpenedToday, ...],
    config: RevertConfig,
) -> dict[str, Any]:
    """Whether the just-opened revert ``opened`` of ``reverted`` stays open, from GitHub's state re-read.

    Everything is ordered by (creation time, number) and counted in any state, like the first count,
    so the order of the reverts already open never changes and every run agrees on it. ``opened``
    stays open only if no other revert of ``reverted`` comes before it and it is among the first
    ``daily_cap`` of today's repopilot reverts, where a later revert of a pull request already
    reverted today does not count (it is withdrawn itself). A revert missing from the re-read (a
    lagging listing) comes last.

    Returns:
        ``kept``; ``cause`` (None, ``duplicate`` or ``daily_cap``); ``detail``; ``position`` (1-based,
        among today's reverts); ``reverts_today``; ``earlier`` (the numbers that come before it).
    """
    mine = next((r for r in reverts if r.number == opened), None)
    rivals = sorted(
        (
            r
            for r in reverts
            if r.reverts == reverted and r.number != opened and (mine is None or _order(r) < _order(mine))
        ),
        key=_order,
    )
    seen: set[int] = set()
    counted: list[OpenedToday] = []
    for item in sorted(today, key=_order):
        if item.reverts is None:
            counted.append(item)
        elif item.reverts not in seen:
            counted.append(item)
            seen.add(item.reverts)
    ours = next((r for r in counted if r.number == opened), None)
    earlier = [r.number for r in counted if r.number != opened and (ours is None or _order(r) < _order(ours))]
    position = len(earlier) + 1
    result: dict[str, Any] = {
        "position": position,
        "reverts_today": len(counted) + (ours is None),
        "earlier": earlier,
    }
    if rivals:
        detail = f"#{rivals[0].number}, opened at the same moment, already reverts #{reverted}"
        return result | {"kept": False, "cause": "duplicate", "detail": detail}
    if position > config.daily_cap:
        listed = ", ".join(f"#{n}" for n in earlier[: config.daily_cap])
        detail = (
            f"the daily cap of {config.daily_cap} repopilot reverts was reached by reverts opened "
            f"at the same moment ({listed})"
        )
        return result | {"kept": False, "cause": "daily_cap", "detail": detail}
    detail = f"#{opened} is revert {position} of {config.daily_cap} allowed today (UTC)"
    return result | {"kept": True, "cause": None, "detail": detail}
