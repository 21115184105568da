"""Reading what the auto-merge decision needs from GitHub, and the risk of a head commit.

The risk is the exported score (:func:`head_risk`) or, when the export predates the commit, the live
prediction the predict action posted as a commit status (:func:`status_risk`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from github.PullRequest import PullRequest
from github.Repository import Repository
from pydantic import ValidationError

from actions.common import risk_status
from actions.common.errors import InputError
from actions.common.exports import Exports
from actions.common.github import positive_number, read_event
from actions.merging.config import RiskGate
from actions.merging.engine import PullState, RunRisk


def pull_state(repo: Repository, pull: PullRequest, merge_queue: dict[str, Any] | None = None) -> PullState:
    """The validated state of ``pull``: its fields, the head commit's checks and statuses, its reviews.

    ``merge_queue`` is the pull request's merge-queue fields from GraphQL
    (:func:`actions.merging.graphql.merge_queue_of`); None when GitHub could not say.

    Raises:
        InputError: when GitHub's answer does not have the expected shape.
    """
    data: dict[str, Any] = pull.raw_data
    head = data.get("head") or {}
    sha = str(head.get("sha", ""))
    commit = repo.get_commit(sha)
    runs = [
        {
            "id": run.id,
            "name": run.name,
            "status": run.status,
            "conclusion": run.conclusion,
            "title": (run.output.title if run.output else None),
            "summary": (run.output.summary if run.output else None),
        }
        for run in commit.get_check_runs()
    ]
    statuses = [
        {"id": s.id, "context": s.context, "state": s.state, "description": s.description}
        for s in commit.get_combined_status().statuses
    ]
    reviews = [
        {"id": r.id, "login": r.user.login if r.user else "ghost", "state": r.state}
        for r in pull.get_reviews()
    ]
    try:
        return PullState.model_validate(
            {
                "number": data.get("number"),
                "author": (data.get("user") or {}).get("login"),
                "title": data.get("title") or "",
                "state": data.get("state"),
                "merged": bool(data.get("merged")),
                "draft": bool(data.get("draft")),
                "labels": [label.get("name") for label in data.get("labels") or []],
                "mergeable": data.get("mergeable"),
                "mergeable_state": data.get("mergeable_state") or "unknown",
                "head_sha": sha,
                "head_ref": head.get("ref"),
                "head_repo": ((head.get("repo") or {}).get("full_name")),
                "base_ref": (data.get("base") or {}).get("ref"),
                "check_runs": runs,
                "statuses": statuses,
                "reviews": reviews,
                "merge_queue": None if merge_queue is None else _queue(merge_queue),
            }
        )
    except ValidationError as error:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5])
        raise InputError(f"pull request #{data.get('number')} has an unexpected shape: {where}") from None


def _queue(fields: dict[str, Any]) -> dict[str, Any]:
    found = fields.get("mergeQueueEntry")
    entry: dict[str, Any] = found if isinstance(found, dict) else {}
    return {
        "enabled": fields.get("isMergeQueueEnabled"),
        "in_queue": fields.get("isInMergeQueue"),
        "position": entry.get("position"),
        "state": entry.get("state"),
        "node_id": fields.get("id"),
    }


def head_risk(exports: Exports | None, repository: str, head_sha: str) -> RunRisk | None:
    """The highest exported failure risk among the latest attempts of the head commit's runs, if any."""
    if exports is None or not exports.has("scores"):
        return None
    latest: dict[int, dict[str, Any]] = {}
    for run in exports.json("scores", repository=repository)["runs"]:
        ours = run["repo"].lower() == repository.lower() and run["head_sha"] == head_sha
        if ours and run["run_attempt"] >= latest.get(run["run_id"], {"run_attempt": 0})["run_attempt"]:
            latest[run["run_id"]] = run
    if not latest:
        return None
    worst = max(latest.values(), key=lambda run: run["probability"])
    return RunRisk(
        run_id=worst["run_id"],
        probability=worst["probability"],
        risk_level=worst["risk_level"],
        workflow=worst["workflow"],
    )


def status_risk(repo: Repository, state: PullState, gate: RiskGate) -> tuple[RunRisk | None, str]:
    """The highest risk among the live prediction statuses on the head commit, or why there is none.

    The combined status (read by :func:`pull_state`) shows whether any status of the context exists;
    only then are the commit's statuses listed, newest first, since only that listing names each
    status's creator. A status from a login outside ``gate.status_creators`` is ignored. Of the
    trusted ones the newest per run counts (a later attempt supersedes an earlier one) and the worst
    run wins, as with exported scores. A trusted status that cannot be read blocks (fail closed).

    Returns:
        ``(risk, "")``, or ``(None, reason)`` with the reason said in the risk check.
    """
    context = gate.status_context
    if not any(status.context == context for status in state.statuses):
        return None, f"no {context} status either"
    if not gate.status_creators:
        return None, f"{context} statuses are not used (risk.status_creators is empty)"
    trusted = {login.lower() for login in gate.status_creators}
    newest: dict[int, risk_status.StatusRisk] = {}
    untrusted: set[str] = set()
    for status in repo.get_commit(state.head_sha).get_statuses():
        if status.context != context:
            continue
        login = status.creator.login if status.creator is not None else "ghost"
        if login.lower() not in trusted:
            untrusted.add(login)
            continue
        try:
            parsed = risk_status.parse(status.description)
        except ValueError as error:
            return None, f"the {context} status {status.id} by {login}: {error} (fail closed)"
        newest.setdefault(parsed.run_id, parsed)
    if not newest and not untrusted:  # the combined status listed one the listing no longer has
        return None, f"no {context} status either"
    if not newest:
        who = ", ".join(sorted(untrusted)[:3])
        return None, (
            f"{context} status ignored: created by {who}, not one of risk.status_creators "
            f"({', '.join(gate.status_creators)})"
        )
    worst = max(newest.values(), key=lambda found: found.probability)
    risk = RunRisk.model_validate(
        {
            "run_id": worst.run_id,
            "probability": worst.probability,
            "risk_level": worst.risk_level,
            "source": "live prediction status",
        }
    )
    return risk, ""


def event_pull_numbers(path: Path) -> tuple[str, list[int]]:
    """``(repository, pull request numbers)`` named by an event payload.

    Reads pull_request, pull_request_review and pull_request_target events (their pull request),
    and check_suite, check_run and workflow_run events (the pull requests they list).

    Raises:
        InputError: when the payload is unreadable or names no pull request.
    """
    payload = read_event(path)
    if not isinstance(payload.get("repository"), dict):
        raise InputError("the event payload has no repository")
    repository = payload["repository"].get("full_name")
    if not isinstance(repository, str):
        raise InputError("the event payload has no repository.full_name")
    numbers: list[Any] = []
    if isinstance(payload.get("pull_request"), dict):
        numbers = [payload["pull_request"].get("number")]
    else:
        for key in ("check_suite", "workflow_run", "check_run"):
            if isinstance(payload.get(key), dict):
                pulls = payload[key].get("pull_requests")
                if not isinstance(pulls, list):
                    raise InputError(f"{key}.pull_requests is not a list")
                numbers = [p.get("number") if isinstance(p, dict) else p for p in pulls]
                break
        else:
            raise InputError("the event names no pull request; pass --repo and --pr instead")
    return repository, sorted({positive_number(n, "pull request number") for n in numbers})
