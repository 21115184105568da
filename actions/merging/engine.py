"""The auto-merge decision: :func:`check_eligibility` over a pull request's state, the config and the risk.

Everything here is pure. The decision fails closed: a check that is pending, missing, of an unknown
state or errored never counts as passed, mergeability GitHub has not computed yet is not
mergeability, and a head commit without a risk score (exported, or the live prediction's commit
status, :mod:`actions.common.risk_status`) is blocked unless the configuration explicitly allows it.
A pull request merges only when every check in the result passed.

When the base branch uses a merge queue (GitHub reports ``isMergeQueueEnabled``, or the
configuration says ``merge_queue: true``), the up-to-date check gives way to the queue, which tests
the pull request against the latest base itself: an eligible pull request is enqueued rather than
merged (decision ``enqueue``), and one already in the queue is reported as such (``queued``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from actions.merging.config import AutoMergeConfig

Sha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
Text = Annotated[str, StringConstraints(max_length=1000)]
ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
QueueEntryState = Literal["QUEUED", "AWAITING_CHECKS", "MERGEABLE", "UNMERGEABLE", "LOCKED"]

PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
"""Check-run conclusions that count as green; anything else (or no conclusion yet) does not."""
UP_TO_DATE_STATES = frozenset({"clean", "unstable", "has_hooks"})
"""``mergeable_state`` values of a branch that is up to date with its base and not blocked."""
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")


class CheckRun(BaseModel):
    """A check run on the head commit."""

    model_config = ConfigDict(frozen=True)

    id: int = 0
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    status: str
    conclusion: str | None = None
    title: Text | None = None
    summary: Annotated[str, StringConstraints(max_length=65536)] | None = None


class CommitStatus(BaseModel):
    """A commit status on the head commit (the latest one of its context)."""

    model_config = ConfigDict(frozen=True)

    id: int = 0
    context: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    state: str
    description: Text | None = None


class Review(BaseModel):
    """A submitted review."""

    model_config = ConfigDict(frozen=True)

    id: int = 0
    login: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    state: ReviewState


class PullState(BaseModel):
    """What the decision reads of a pull request (validated: a malformed payload is refused)."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    author: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    title: Text = ""
    state: Literal["open", "closed"] = "open"
    merged: bool = False
    draft: bool = False
    labels: tuple[Annotated[str, StringConstraints(max_length=100)], ...] = ()
    mergeable: bool | None = None
    mergeable_state: str = "unknown"
    head_sha: Sha
    head_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    head_repo: str | None = None
    base_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    check_runs: tuple[CheckRun, ...] = ()
    statuses: tuple[CommitStatus, ...] = ()
    reviews: tuple[Review, ...] = ()
    merge_queue: MergeQueueState | None = Field(
        default=None, description="the base branch's merge queue as GitHub reports it; None: not read"
    )


class MergeQueueState(BaseModel):
    """What GitHub says of the base branch's merge queue and the pull request's place in it."""

    model_config = ConfigDict(frozen=True)

    enabled: bool
    in_queue: bool = False
    position: int | None = Field(default=None, ge=1)
    state: QueueEntryState | None = None
    node_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


RiskSource = Literal["exported score", "live prediction status"]


class RunRisk(BaseModel):
    """The failure risk of a run of the head commit, and where it was read."""

    model_config = ConfigDict(frozen=True)

    run_id: int
    probability: float = Field(ge=0.0, le=1.0)
    risk_level: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    workflow: str | None = None
    source: RiskSource = "exported score"


def _check(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": passed, "detail": detail}


def latest_by_name(pr: PullState, ignored: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Each check's latest verdict by name: ``name → (pass|fail|pending, what it said)``.

    Check runs and statuses share one namespace (branch protection treats them alike); the newest
    (highest id) of each name wins, since re-runs supersede earlier runs.
    """
    skip = {name.lower() for name in ignored}
    verdicts: dict[str, tuple[int, str, str]] = {}
    for run in pr.check_runs:
        if run.status != "completed":
            verdict, said = "pending", run.status
        elif run.conclusion in PASSING_CONCLUSIONS:
            verdict, said = "pass", str(run.conclusion)
        else:
            verdict, said = "fail", str(run.conclusion or "no conclusion")
        if run.name.lower() not in skip and run.id >= verdicts.get(run.name, (-1, "", ""))[0]:
            verdicts[run.name] = (run.id, verdict, said)
    for status in pr.statuses:
        state = status.state
        verdict = "pass" if state == "success" else "pending" if state == "pending" else "fail"
        if status.context.lower() not in skip and status.id >= verdicts.get(status.context, (-1, "", ""))[0]:
            verdicts[status.context] = (status.id, verdict, state)
    return {name: (verdict, said) for name, (_, verdict, said) in verdicts.items()}


def _required_checks(pr: PullState, config: AutoMergeConfig) -> dict[str, Any]:
    verdicts = latest_by_name(pr, config.ignored_checks)
    problems: list[str] = []
    for name in config.required_checks:
        if name not in verdicts:
            problems.append(f"{name} has not reported")
    for name, (verdict, said) in sorted(verdicts.items()):
        if verdict != "pass":
            problems.append(f"{name} is {said}")
    if not verdicts and not config.required_checks:
        problems.append("no check has reported on the head commit")
    if problems:
        return _check("required_checks", False, "; ".join(problems))
    return _check("required_checks", True, f"{len(verdicts)} checks green")


def latest_reviews(pr: PullState) -> dict[str, str]:
    """Each reviewer's standing review (author's own and plain comments aside): login → state."""
    standing: dict[str, str] = {}
    # submission order: by id, then by position for reviews without an id
    for _, review in sorted(enumerate(pr.reviews), key=lambda item: (item[1].id, item[0])):
        login = review.login.lower()
        if login != pr.author.lower() and review.state not in ("COMMENTED", "PENDING"):
            standing[login] = review.state
    return {login: state for login, state in standing.items() if state != "DISMISSED"}


def _approvals(pr: PullState, config: AutoMergeConfig) -> dict[str, Any]:
    standing = latest_reviews(pr)
    approvals = sorted(login for login, state in standing.items() if state == "APPROVED")
    changes = sorted(login for login, state in standing.items() if state == "CHANGES_REQUESTED")
    detail = f"{len(approvals)} of {config.required_approvals} approvals"
    if changes:
        return _check("approvals", False, f"{detail}; changes requested by {', '.join(changes)}")
    return _check("approvals", len(approvals) >= config.required_approvals, detail)


def _conflicts(pr: PullState) -> dict[str, Any]:
    if pr.mergeable is None:
        return _check("no_conflicts", False, "GitHub has not computed mergeability yet")
    if pr.mergeable is False or pr.mergeable_state == "dirty":
        return _check("no_conflicts", False, "the branch has merge conflicts")
    return _check("no_conflicts", True, "no merge conflicts")


def uses_merge_queue(pr: PullState, config: AutoMergeConfig) -> tuple[bool, str | None]:
    """Whether the pull request goes through a merge queue, and the disagreement that blocks it, if any.

    What GitHub reports wins over the configuration, which only speaks when GitHub was not asked; a
    configuration that contradicts GitHub blocks rather than guessing.
    """
    detected = None if pr.merge_queue is None else pr.merge_queue.enabled
    if detected is None:
        return bool(config.merge_queue), None
    if config.merge_queue is True and not detected:
        return False, "merge_queue is true but GitHub reports no merge queue on the base branch"
    if config.merge_queue is False and detected:
        return True, "the base branch requires its merge queue but merge_queue is false"
    return detected, None


def _up_to_date(pr: PullState, config: AutoMergeConfig) -> dict[str, Any]:
    queued, disagreement = uses_merge_queue(pr, config)
    name = "merge_queue" if queued or disagreement is not None else "up_to_date"
    if disagreement is not None:
        return _check(name, False, disagreement)
    state = pr.mergeable_state
    if state in UP_TO_DATE_STATES:
        return _check(name, True, f"branch is {state}" + ("; the merge queue merges it" if queued else ""))
    if state == "behind" and queued:
        return _check(name, True, "behind its base; the merge queue tests it against the latest base")
    if state == "behind" and not config.require_up_to_date:
        return _check(name, True, "behind its base; up-to-date branches are not required")
    reasons = {
        "behind": "the branch is behind its base",
        "blocked": "branch protection blocks the merge",
        "dirty": "the branch has merge conflicts",
        "draft": "the pull request is a draft",
    }
    return _check(name, False, reasons.get(state, f"merge state {state!r} is not known to be safe"))


def coverage_of(pr: PullState, sources: Iterable[str]) -> tuple[float | None, str]:
    """The coverage percent reported on the head commit (None if none or not final) and its origin."""
    wanted = [source.lower() for source in sources]
    for status in sorted(pr.statuses, key=lambda s: -s.id):
        if any(source in status.context.lower() for source in wanted):
            found = _PERCENT.search(status.description or "")
            if status.state != "success" or found is None:
                return None, f"{status.context} is {status.state} without a final figure"
            return float(found.group(1)), status.context
    for run in sorted(pr.check_runs, key=lambda r: -r.id):
        if any(source in run.name.lower() for source in wanted):
            found = _PERCENT.search(f"{run.title or ''} {run.summary or ''}")
            if run.status != "completed" or run.conclusion not in PASSING_CONCLUSIONS or found is None:
                return None, f"{run.name} is {run.conclusion or run.status} without a final figure"
            return float(found.group(1)), run.name
    return None, "no coverage report on the head commit"


def _coverage(pr: PullState, config: AutoMergeConfig) -> dict[str, Any]:
    minimum = config.coverage.minimum
    if minimum is None:
        return _check("coverage", True, "no coverage threshold configured")
    value, origin = coverage_of(pr, config.coverage.sources)
    if value is None:
        return _check("coverage", False, origin)
    return _check("coverage", value >= minimum, f"{value:.2f}% from {origin} (minimum {minimum:.2f}%)")


def _risk(risk: RunRisk | None, config: AutoMergeConfig, missing: str | None) -> dict[str, Any]:
    gate = config.risk
    if risk is None:
        allowed = gate.on_missing == "allow"
        detail = "no exported risk score for the head commit" + ("" if allowed else " (fail closed)")
        return _check("risk", allowed, detail + (f"; {missing}" if missing else ""))
    detail = (
        f"{risk.probability:.1%} failure risk ({risk.risk_level}, run {risk.run_id}) from the {risk.source}; "
        f"limit {gate.max_probability:.0%}"
    )
    return _check("risk", risk.probability <= gate.max_probability, detail)


def _labels(pr: PullState, config: AutoMergeConfig) -> dict[str, Any]:
    blocking = sorted({label.lower() for label in pr.labels} & set(config.blocking_labels))
    if blocking:
        return _check("labels", False, f"blocking label {', '.join(blocking)}")
    return _check("labels", True, "no blocking label")


def skip_reason(pr: PullState, config: AutoMergeConfig) -> str | None:
    """Why the pull request is not a candidate at all (None when it is one)."""
    labels = {label.lower() for label in pr.labels}
    exempt = sorted(labels & set(config.exempt_labels))
    if not config.enabled:
        return "auto-merge is disabled in the configuration"
    if pr.merged or pr.state != "open":
        return "the pull request is not open"
    if pr.draft:
        return "the pull request is a draft"
    if exempt:
        return f"exempt label {exempt[0]}"
    if config.require_label is not None and config.require_label.lower() not in labels:
        return f"no {config.require_label} label"
    queue = pr.merge_queue
    if queue is not None and queue.in_queue:
        where = f" at position {queue.position}" if queue.position else ""
        return f"already in the merge queue{where} ({queue.state or 'state unknown'})"
    return None


def check_eligibility(
    pr: PullState, config: AutoMergeConfig, risk: RunRisk | None, *, risk_missing: str | None = None
) -> dict[str, Any]:
    """Whether ``pr`` may be merged now, and why: the design's result shape.

    ``risk_missing`` says, when ``risk`` is None, why no live prediction status gave one either.

    Returns:
        ``eligible``; ``decision`` (``merge``, ``enqueue`` when the base branch uses a merge queue,
        ``queued`` when the pull request is in it already, ``blocked`` or ``skipped``); ``checks``
        (each ``{name, passed, detail}``); ``blocking_reasons``; ``skip_reason``; the
        ``merge_method`` and ``delete_branch`` to apply; the pull request's ``number`` and
        ``head_sha``; the ``risk``; ``merge_queue`` (what GitHub reported of the queue, or None).
    """
    checks = [
        _required_checks(pr, config),
        _approvals(pr, config),
        _conflicts(pr),
        _up_to_date(pr, config),
        _coverage(pr, config),
        _risk(risk, config, risk_missing),
        _labels(pr, config),
    ]
    skipped = skip_reason(pr, config)
    blocking = [f"{c['name']}: {c['detail']}" for c in checks if not c["passed"]]
    eligible = skipped is None and not blocking
    queued, _ = uses_merge_queue(pr, config)
    in_queue = pr.merge_queue is not None and pr.merge_queue.in_queue
    if skipped is not None:
        decision = "queued" if in_queue and skipped.startswith("already in the merge queue") else "skipped"
    else:
        decision = ("enqueue" if queued else "merge") if eligible else "blocked"
    return {
        "eligible": eligible,
        "decision": decision,
        "number": pr.number,
        "head_sha": pr.head_sha,
        "checks": checks,
        "blocking_reasons": blocking,
        "skip_reason": skipped,
        "merge_method": config.merge_method,
        "delete_branch": config.delete_branch,
        "risk": None if risk is None else risk.model_dump(),
        "merge_queue": None if pr.merge_queue is None else pr.merge_queue.model_dump(exclude={"node_id"}),
    }
