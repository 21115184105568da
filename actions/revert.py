"""``repopilot-revert``: open a revert pull request when the default branch fails after an auto-merge.

Runs as a step of a workflow triggered by ``workflow_run`` (completed), or by hand with ``--repo``
and ``--run-id``. It reads the run from the API (its latest attempt: a re-run that passed is not a
failure), then, stopping at the first refusal, the pull request merged as the run's commit and the
commit's message, the pull requests that already revert it and today's repopilot reverts (counted
on GitHub, so every rerun and every workflow sees the same count), and the run's failing jobs.
:func:`~actions.merging.revert.decide_revert` decides. Unless ``--dry-run``, the revert is created
the way GitHub's revert button does it (GraphQL ``revertPullRequest``), its body naming the failing
run (link, id, attempt, failing jobs) with repopilot's trailers, then labelled. Today's reverts are
then read again from GitHub (:func:`~actions.merging.revert.recount`): when runs of other commits
opened reverts at the same moment and this one is beyond the daily cap, or another revert of the
same pull request came first, it is closed with a comment saying why (decision ``revert_withdrawn``);
otherwise the reverted pull request gets a comment. Every decision is printed as JSON, written to
the step outputs and summary, and appended to the audit log.

Environment: ``GITHUB_TOKEN`` (``contents: write``, ``pull-requests: write``, ``actions: read``),
``GITHUB_API_URL``, ``GITHUB_EVENT_PATH``, ``GITHUB_WORKSPACE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from github import Github, GithubException
from github.Issue import Issue
from github.PullRequest import PullRequest
from github.Repository import Repository
from pydantic import BaseModel, ValidationError

from actions.common.conclusions import FAILED_CONCLUSIONS
from actions.common.errors import ActionError, InputError
from actions.common.github import (
    TokenNeeds,
    action_client,
    add_common_arguments,
    event_path,
    github_failure,
    parse_time,
    positive_number,
    read_event,
    repository_name,
)
from actions.common.report import (
    append_audit,
    audit_record,
    markdown_table,
    run_cli,
    write_outputs,
    write_summary,
)
from actions.merging.config import RevertConfig
from actions.merging.graphql import GraphQLRefusedError, merge_queue_of, revert_pull_request
from actions.merging.revert import (
    ExistingRevert,
    FailingJob,
    MergedPull,
    OpenedToday,
    RevertFacts,
    Run,
    decide_revert,
    is_repopilot_revert,
    recount,
    revert_body,
    reverted_number,
    today_start,
)
from actions.merging.settings import read_config

ACTION = "revert"
TOKEN_NEEDS = TokenNeeds(
    ACTION,
    required=frozenset({"repo", "public_repo"}),
    # reverting a pull request that changed .github/workflows takes the workflow scope
    allowed=frozenset({"repo", "public_repo", "workflow"}),
)
MAX_SCANNED_PULLS = 3000
"""Most pull requests read back (newest first) looking for earlier reverts; beyond it, fail closed."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repopilot-revert", description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, exports=False)
    parser.add_argument("--repo", help="owner/name (with --run-id)")
    parser.add_argument("--run-id", help="workflow run id (with --repo)")
    parser.add_argument("--config", type=Path, help="auto-merge.yml or repository root (its revert: section)")
    parser.add_argument("--dry-run", action="store_true", help="decide and explain without writing")
    return parser


def event_run(path: Path) -> tuple[str, int]:
    """``(repository, run id)`` of a ``workflow_run`` event payload.

    Raises:
        InputError: when the payload is unreadable or is not a workflow_run event.
    """
    payload = read_event(path)
    repository = payload.get("repository")
    if not isinstance(repository, dict) or not isinstance(repository.get("full_name"), str):
        raise InputError("the event payload has no repository.full_name")
    run = payload.get("workflow_run")
    if not isinstance(run, dict):
        raise InputError("the event is not a workflow_run event; pass --repo and --run-id instead")
    return repository_name(repository["full_name"]), positive_number(run.get("id"), "workflow_run.id")


def _model(model: type[BaseModel], data: Mapping[str, Any], what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5])
        raise InputError(f"{what} has an unexpected shape: {where}") from None


def read_run(repo: Repository, run_id: int) -> Run:
    """The run's latest attempt as the API reports it (validated)."""
    found = repo.get_workflow_run(run_id)
    data: dict[str, Any] = found.raw_data
    head_repo = data.get("head_repository")
    fields = {
        key: data.get(key)
        for key in ("id", "name", "run_number", "html_url", "head_sha", "head_branch", "event", "status")
    }
    fields |= {
        "conclusion": data.get("conclusion"),
        "run_attempt": data.get("run_attempt") or 1,
        "head_repository": head_repo.get("full_name") if isinstance(head_repo, dict) else None,
    }
    run: Run = _model(Run, fields, f"workflow run {run_id}")
    return run


def _pages(
    repo: Repository, path: str, params: dict[str, Any], key: str | None = None
) -> Iterator[dict[str, Any]]:
    """The items of a list endpoint of ``repo``, page by page (100 a page) as they are needed.

    PyGithub's list objects fetch each item again when its raw data is read; the raw pages do not.
    """
    page = 1
    while True:
        _, data = repo._requester.requestJsonAndCheck(
            "GET", f"{repo.url}{path}", parameters={**params, "per_page": 100, "page": page}
        )
        items = data.get(key) if key is not None and isinstance(data, dict) else data
        if not isinstance(items, list):
            raise InputError(f"GitHub's answer to {path} is not a list")
        yield from (item for item in items if isinstance(item, dict))
        if len(items) < 100:
            return
        page += 1


def read_merged_pull(repo: Repository, sha: str) -> tuple[MergedPull | None, str]:
    """The pull request merged as commit ``sha`` (None if none) and the commit's message."""
    commit = repo.get_commit(sha)
    message = str((commit.raw_data.get("commit") or {}).get("message") or "")
    for data in _pages(repo, f"/commits/{sha}/pulls", {}):
        if data.get("merge_commit_sha") != sha or not (data.get("merged_at") or data.get("merged")):
            continue
        fields = {
            "number": data.get("number"),
            "title": data.get("title") or "",
            "body": data.get("body"),
            "labels": [label.get("name") for label in data.get("labels") or [] if isinstance(label, dict)],
            "head_ref": (data.get("head") or {}).get("ref") or "",
            "base_ref": (data.get("base") or {}).get("ref") or "",
            "merged": True,
            "merged_at": data.get("merged_at"),
            "merge_commit_sha": sha,
            "html_url": data.get("html_url"),
            "node_id": data.get("node_id"),
        }
        found: MergedPull = _model(MergedPull, fields, f"pull request #{data.get('number')}")
        return found, message
    return None, message


def read_reverts(
    repo: Repository, since: datetime, day_start: datetime, config: RevertConfig
) -> tuple[tuple[ExistingRevert, ...], tuple[OpenedToday, ...]]:
    """Pull requests created since ``since`` that revert another one, and repopilot's reverts today.

    Read newest first until one older than ``since`` (a revert is never older than what it reverts).

    Raises:
        ActionError: when more than :data:`MAX_SCANNED_PULLS` would have to be read (fail closed).
    """
    reverts: list[ExistingRevert] = []
    today: list[OpenedToday] = []
    listing = _pages(repo, "/pulls", {"state": "all", "sort": "created", "direction": "desc"})
    for scanned, data in enumerate(listing):
        if scanned >= MAX_SCANNED_PULLS:
            raise ActionError(f"more than {MAX_SCANNED_PULLS} pull requests to check for earlier reverts")
        created = parse_time(data.get("created_at"))
        if created is None or created < since:
            break
        labels = [label.get("name", "") for label in data.get("labels") or [] if isinstance(label, dict)]
        ours = is_repopilot_revert(data.get("body"), labels, config.label)
        head_ref = str((data.get("head") or {}).get("ref") or "")
        number = reverted_number(str(data.get("title") or ""), data.get("body"), head_ref)
        if ours and created >= day_start and isinstance(data.get("number"), int):
            today.append(OpenedToday(number=data["number"], created_at=created, reverts=number))
        if number is not None and isinstance(data.get("number"), int):
            reverts.append(
                ExistingRevert(
                    number=data["number"],
                    reverts=number,
                    state=str(data.get("state")),
                    merged=bool(data.get("merged_at") or data.get("merged")),
                    by_repopilot=ours,
                    created_at=created,
                )
            )
    return tuple(reverts), tuple(today)


def read_failing_jobs(repo: Repository, run: Run) -> tuple[FailingJob, ...]:
    """The failed jobs of the run's latest attempt."""
    failing = []
    for data in _pages(repo, f"/actions/runs/{run.id}/attempts/{run.run_attempt}/jobs", {}, key="jobs"):
        if data.get("conclusion") in FAILED_CONCLUSIONS:
            name = str(data.get("name") or "unnamed job")[:200]
            url = data.get("html_url") if isinstance(data.get("html_url"), str) else None
            failing.append(FailingJob(name=name, conclusion=str(data["conclusion"]), html_url=url))
    return tuple(failing)


def _summary(result: Mapping[str, Any], dry_run: bool) -> str:
    decision = str(result["decision"])
    pull = result.get("pull_request")
    opened = result.get("revert_pull_request") or {}
    verdict = {
        "revert": (
            f"would open a revert of #{pull}"
            if dry_run
            else f"opened #{opened.get('number')} reverting #{pull}"
        ),
        "skipped": "no revert",
        "revert_failed": "revert refused by GitHub",
        "revert_withdrawn": f"opened #{opened.get('number')} reverting #{pull}, then closed it",
    }.get(decision, decision)
    lines = [f"### repopilot revert: {result['repository']} run {result['run_id']}: {verdict}", ""]
    if result.get("reason"):
        lines.append(f"Reason: {result['reason']}.\n")
    rows = [("✅" if c["passed"] else "❌", c["name"], c["detail"]) for c in result["checks"]]
    lines.append(markdown_table(("", "check", "detail"), rows))
    if result.get("recount"):
        lines.append(f"\nRecount after opening: {result['recount']['detail']}.")
    if result.get("failing_jobs"):
        lines.append("\nFailing jobs: " + ", ".join(job["name"] for job in result["failing_jobs"]) + ".")
    if result.get("actions"):
        lines.append("\nDone: " + "; ".join(result["actions"]) + ".")
    if dry_run:
        lines.append("\n<sub>dry run: nothing was written to GitHub</sub>")
    return "\n".join(lines)


def _open_revert(
    client: Github, repo: Repository, facts: RevertFacts, config: RevertConfig, result: dict[str, Any]
) -> list[str]:
    """Create the revert pull request, label it, comment on the reverted one; returns what was done."""
    pull = facts.pull
    if pull is None:  # decide_revert only says revert for a pull request
        raise ActionError("nothing to revert")
    node_id = pull.node_id or _node_id(client, facts.repository, pull.number)
    title, body = revert_body(facts, config)
    try:
        created = revert_pull_request(client, node_id, title=title, body=body, draft=config.draft)
    except GraphQLRefusedError as error:
        result["decision"] = "revert_failed"
        result["reason"] = f"GitHub refused the revert: {error}"
        return []
    number = int(created["number"])
    result["revert_pull_request"] = {
        "number": number,
        "url": created.get("url"),
        "branch": created.get("headRefName"),
    }
    done = [f"opened #{number} reverting #{pull.number}"]
    try:
        repo.get_issue(number).add_to_labels(config.label)
        done.append(f"labelled #{number} {config.label}")
    except GithubException as error:
        done.append(f"label not added (HTTP {error.status})")
    if not _recount(repo, facts, config, number, result, done):
        return done
    try:
        repo.get_issue(pull.number).create_comment(
            f"The `{facts.default_branch}` branch failed after repopilot merged this pull request "
            f"([run {facts.run.id}]({facts.run.html_url})); #{number} reverts it."
        )
        done.append(f"commented on #{pull.number}")
    except GithubException as error:
        done.append(f"comment not added (HTTP {error.status})")
    return done


def _recount(
    repo: Repository,
    facts: RevertFacts,
    config: RevertConfig,
    number: int,
    result: dict[str, Any],
    done: list[str],
) -> bool:
    """Read today's reverts again; close revert ``number`` if concurrent runs' reverts come first.

    Returns:
        Whether the revert stays open.
    """
    pull, day = facts.pull, facts.day_start
    if pull is None or day is None:
        raise ActionError("nothing to revert")
    try:
        reverts, today = read_reverts(repo, min(day, pull.merged_at or day), day, config)
    except GithubException as error:
        raise ActionError(
            f"opened revert #{number}, then GitHub answered HTTP {error.status} re-counting today's "
            "reverts; check by hand that no more than the daily cap are open"
        ) from None
    counted = recount(number, pull.number, reverts, today, config)
    result["recount"] = counted
    if counted["kept"]:
        return True
    result["decision"] = "revert_withdrawn"
    result["reason"] = f"recount: {counted['detail']}"
    # not completed: the PATCH and the comment only, without reading the pull request first
    url = f"{repo.url}/pulls/{number}"
    try:
        PullRequest(repo.requester, url=url, completed=False).edit(state="closed")
    except GithubException as error:
        raise ActionError(
            f"GitHub answered HTTP {error.status} closing revert #{number}, opened beyond what "
            f"concurrent runs allow: {counted['detail']}; close it by hand"
        ) from None
    result["revert_pull_request"]["state"] = "closed"
    done.append(f"closed #{number}")
    try:
        Issue(repo.requester, url=f"{repo.url}/issues/{number}", completed=False).create_comment(
            f"repopilot closed this revert of #{pull.number} without merging it: {counted['detail']}. "
            f"Several runs decided at once; each checks GitHub again after opening its revert and the "
            f"later ones close theirs, so no more than {config.daily_cap} repopilot reverts a day stay "
            "open, and one per pull request."
        )
        done.append(f"commented on #{number}")
    except GithubException as error:
        done.append(f"comment not added (HTTP {error.status})")
    return False


def _node_id(client: Github, repository: str, number: int) -> str:
    fields = merge_queue_of(client, repository, number) or {}
    if not isinstance(fields.get("id"), str):
        raise ActionError(f"GitHub did not give the node id of pull request #{number}")
    return str(fields["id"])


def decide(
    repo: Repository, repository: str, run_id: int, config: RevertConfig, now: datetime
) -> tuple[dict[str, Any], RevertFacts]:
    """Gather the facts stage by stage, stopping at the first refusal; returns the decision and the facts."""
    run = read_run(repo, run_id)
    facts = RevertFacts(repository=repository, default_branch=repo.default_branch, run=run)
    result = decide_revert(facts, config)
    if result["decision"] != "incomplete":
        return result, facts
    pull, message = read_merged_pull(repo, run.head_sha)
    facts = facts.model_copy(update={"pull_lookup_done": True, "pull": pull, "merge_commit_message": message})
    result = decide_revert(facts, config)
    if result["decision"] != "incomplete" or pull is None:
        return result, facts
    day = today_start(now)
    since = min(day, pull.merged_at or day)
    reverts, today = read_reverts(repo, since, day, config)
    facts = facts.model_copy(
        update={
            "reverts": reverts,
            "reverts_today": len(today),
            "day_start": day,
            "failing_jobs": read_failing_jobs(repo, run),
        }
    )
    return decide_revert(facts, config), facts


def main(argv: Sequence[str] | None = None) -> int:
    """Decide (and unless dry-run, open) the revert of a failed run's pull request; print the result JSON."""
    args = _parser().parse_args(argv)
    if args.repo or args.run_id:
        if not (args.repo and args.run_id):
            raise InputError("--repo and --run-id go together")
        repository, run_id = repository_name(args.repo), positive_number(args.run_id, "--run-id")
    else:
        event = event_path(args)
        if event is None:
            raise InputError("no run given: pass --repo and --run-id, or run on a workflow_run event")
        repository, run_id = event_run(event)
    client = action_client(TOKEN_NEEDS)
    try:
        repo = client.get_repo(repository)
        config = read_config(args.config, repo).revert
        result, facts = decide(repo, repository, run_id, config, datetime.now(UTC))
        if result["decision"] == "incomplete":  # every fact was gathered; cannot happen, but fail closed
            result["decision"] = "skipped"
        result |= {
            "repository": repository,
            "run_id": run_id,
            "run_url": facts.run.html_url,
            "run_attempt": facts.run.run_attempt,
            "head_sha": facts.run.head_sha,
            "failing_jobs": [job.model_dump() for job in facts.failing_jobs],
            "reverts_today": facts.reverts_today,
            "daily_cap": config.daily_cap,
            "revert_pull_request": None,
            "recount": None,
            "dry_run": args.dry_run,
            "actions": [],
        }
        if result["decision"] == "revert" and not args.dry_run:
            result["actions"] = _open_revert(client, repo, facts, config, result)
    except GithubException as error:
        raise github_failure(error, "reading the run or its pull request") from None
    result["reverted"] = result["decision"] == "revert" and result["revert_pull_request"] is not None
    write_summary(_summary(result, args.dry_run))
    append_audit(
        audit_record(
            ACTION,
            repository=repository,
            subject=f"workflow run {run_id} at {facts.run.head_sha[:12]}",
            decision=str(result["decision"]),
            dry_run=args.dry_run,
            details={
                "checks": result["checks"],
                "reason": result["reason"],
                "pull_request": result["pull_request"],
                "failing_jobs": [job["name"] for job in result["failing_jobs"]],
                "reverts_today": result["reverts_today"],
                "daily_cap": config.daily_cap,
                "revert_pull_request": result["revert_pull_request"],
                "recount": result["recount"],
                "actions": result["actions"],
            },
        )
    )
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    opened = result["revert_pull_request"] or {}
    write_outputs(
        {
            "decision": str(result["decision"]),
            "reverted": "true" if result["reverted"] else "false",
            "revert-pull-request": str(opened.get("number") or ""),
            "pull-request": str(result["pull_request"] or ""),
            "reason": str(result["reason"] or ""),
            "result": result,
        }
    )
    return 0


def cli() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    cli()
