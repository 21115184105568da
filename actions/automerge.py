"""``repopilot-automerge``: merge a pull request when every safety check passes, and say why or why not.

Runs as a step of a GitHub Actions workflow (``actions/automerge/action.yml``) on pull request,
review, check suite or workflow run events, or by hand with ``--repo`` and ``--pr``. For each pull
request it reads the state GitHub reports, the configuration (``.github/auto-merge.yml`` from the
checkout, else from the default branch through the API) and, when an exports location is given,
the exported failure risk of the head commit, or for a commit newer than the export the live
prediction the predict action posted on it as a ``repopilot/risk`` status (from a trusted creator);
:func:`~actions.merging.engine.check_eligibility` decides. Unless ``--dry-run``, an eligible pull
request is merged with the head commit pinned (a push in between makes GitHub refuse), its branch
deleted, labelled and commented on; when its base branch uses a merge queue it is enqueued instead
(pinned to the head too), and the queue merges it. Exports older than ``exports.max_age_hours`` merge
nothing: every pull request gets the decision ``exports_stale`` and the step exits 3 once it is recorded.
Every decision is printed as JSON, written to the step outputs and summary, and appended to the audit log.

Environment: ``GITHUB_TOKEN`` (``contents: write``, ``pull-requests: write``, ``checks: read``,
``statuses: read``), ``GITHUB_API_URL``, ``REPOPILOT_EXPORTS``, ``GITHUB_EVENT_PATH``,
``GITHUB_WORKSPACE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from github import GithubException
from github.Repository import Repository

from actions.common.errors import ExportError, InputError
from actions.common.exports import exports_from_arguments
from actions.common.freshness import ExportsAge, age_outputs, exports_age
from actions.common.github import (
    TokenNeeds,
    action_client,
    add_common_arguments,
    event_path,
    github_failure,
    positive_number,
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
from actions.merging.config import MERGE_MARKER, AutoMergeConfig
from actions.merging.engine import check_eligibility
from actions.merging.github_state import event_pull_numbers, head_risk, pull_state, status_risk
from actions.merging.graphql import GraphQLRefusedError, enqueue, merge_queue_of
from actions.merging.settings import read_config

ACTION = "auto-merge"
TOKEN_NEEDS = TokenNeeds(
    ACTION,
    required=frozenset({"repo", "public_repo"}),
    # merging a pull request that changes .github/workflows takes the workflow scope
    allowed=frozenset({"repo", "public_repo", "workflow"}),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repopilot-automerge", description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--repo", help="owner/name (with --pr)")
    parser.add_argument("--pr", help="pull request number (with --repo)")
    parser.add_argument("--config", type=Path, help="configuration file or repository root")
    parser.add_argument("--dry-run", action="store_true", help="decide and explain without writing")
    return parser


def _enqueue(client: Any, node_id: str | None, result: dict[str, Any]) -> list[str]:
    """Add the pull request to its base branch's merge queue; returns what was done. A refusal is reported."""
    if node_id is None:
        result["decision"] = "enqueue_failed"
        result["blocking_reasons"].append("merge_queue: GitHub did not give the pull request's node id")
        return []
    try:
        entry = enqueue(client, node_id, result["head_sha"])
    except GraphQLRefusedError as error:
        result["decision"] = "enqueue_failed"
        result["blocking_reasons"].append(f"merge_queue: GitHub refused: {error}")
        return []
    result["merge_queue"] = {**(result.get("merge_queue") or {}), "in_queue": True, **entry}
    return [f"enqueued at position {entry.get('position')} ({entry.get('state')})"]


def _act(repo: Repository, number: int, result: dict[str, Any], config: AutoMergeConfig) -> list[str]:
    """Merge and tidy up; returns what was done. A refused merge is reported, not raised."""
    pull = repo.get_pull(number)
    title = f"{pull.title} (#{number})"
    try:
        status = pull.merge(
            commit_title=title,
            commit_message=f"{MERGE_MARKER}\n",
            merge_method=config.merge_method,
            sha=result["head_sha"],
        )
    except GithubException as error:
        why = {405: "GitHub refused: not mergeable", 409: "the head moved since the decision"}
        result["decision"] = "merge_failed"
        result["blocking_reasons"].append(f"merge: {why.get(error.status, f'HTTP {error.status}')}")
        return []
    done = [f"merged ({config.merge_method}) as {status.sha[:12]}"]
    result["merge_commit_sha"] = status.sha
    head_repo = pull.head.repo.full_name if pull.head.repo else None
    if config.delete_branch and (head_repo is None or head_repo.lower() == repo.full_name.lower()):
        try:
            repo.get_git_ref(f"heads/{pull.head.ref}").delete()
            done.append(f"deleted branch {pull.head.ref}")
        except GithubException as error:
            done.append(f"branch {pull.head.ref} not deleted (HTTP {error.status})")
    issue = repo.get_issue(number)
    if config.merged_label:
        issue.add_to_labels(config.merged_label)
        done.append(f"labelled {config.merged_label}")
    if config.notify:
        passed = ", ".join(c["name"] for c in result["checks"])
        issue.create_comment(
            f"Merged by repopilot ({config.merge_method}) after these checks passed: {passed}. "
            f"If the default branch fails because of it, repopilot opens a revert pull request "
            f"(label `{config.revert.opt_out_label}` opts out)."
        )
        done.append("commented")
    return done


def _refuse_stale(result: dict[str, Any], age: ExportsAge) -> None:
    """Turn a decision into ``exports_stale``: nothing is merged on scores and thresholds this old."""
    result["decision"] = "exports_stale"
    result["eligible"] = False
    result["blocking_reasons"].insert(0, f"exports: {age.reason()}")
    result["checks"].insert(0, {"name": "exports_fresh", "passed": False, "detail": age.reason()})


def _summary(repository: str, result: Mapping[str, Any], dry_run: bool) -> str:
    verdict = {
        "merge": "would merge" if dry_run else "merged",
        "enqueue": "would enqueue in the merge queue" if dry_run else "enqueued in the merge queue",
        "queued": "already in the merge queue",
        "blocked": "not merged",
        "skipped": "skipped",
        "merge_failed": "merge refused by GitHub",
        "enqueue_failed": "enqueue refused by GitHub",
        "exports_stale": "not merged: the exports are stale",
    }[str(result["decision"])]
    lines = [f"### repopilot auto-merge: {repository}#{result['number']} {verdict}", ""]
    if result["skip_reason"]:
        lines.append(f"Skipped: {result['skip_reason']}.\n")
    rows = [("✅" if c["passed"] else "❌", c["name"], c["detail"]) for c in result["checks"]]
    lines.append(markdown_table(("", "check", "detail"), rows))
    if result.get("actions"):
        lines.append("\nDone: " + "; ".join(result["actions"]) + ".")
    if dry_run:
        lines.append("\n<sub>dry run: nothing was written to GitHub</sub>")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Decide (and unless dry-run, merge) each pull request; print the results JSON. Returns the exit code."""
    args = _parser().parse_args(argv)
    client = action_client(TOKEN_NEEDS)
    if args.repo or args.pr:
        if not (args.repo and args.pr):
            raise InputError("--repo and --pr go together")
        repository, numbers = repository_name(args.repo), [positive_number(args.pr, "--pr")]
    else:
        event = event_path(args)
        if event is None:
            raise InputError("no pull request given: pass --repo and --pr, or run on a pull request event")
        repository, numbers = event_pull_numbers(event)
        repository = repository_name(repository)
    exports = exports_from_arguments(args, client)
    results: list[dict[str, Any]] = []
    try:
        repo = client.withLazy(True).get_repo(repository)
        config = read_config(args.config, repo)
        age = (
            None
            if exports is None
            else exports_age(
                exports, config.exports.max_age_hours, max_data_age_hours=config.exports.max_data_age_hours
            )
        )
        stale = age is not None and age.stale
        notice = "" if age is None else age.warning("Nothing is merged until the pipeline exports again.")
        for number in numbers:
            state = pull_state(repo, repo.get_pull(number), merge_queue_of(client, repository, number))
            if stale:
                risk, missing = None, "not read: the exports are stale"
            else:
                risk, missing = head_risk(exports, repository, state.head_sha), ""
                if risk is None:
                    risk, missing = status_risk(repo, state, config.risk)
            result = check_eligibility(state, config, risk, risk_missing=missing or None)
            result["repository"] = repository
            result["dry_run"] = args.dry_run
            result["actions"] = []
            result["exports_age"] = None if age is None else age.record()
            if age is not None and stale:
                _refuse_stale(result, age)
            if result["eligible"] and not args.dry_run:
                if result["decision"] == "enqueue":
                    node_id = None if state.merge_queue is None else state.merge_queue.node_id
                    result["actions"] = _enqueue(client, node_id, result)
                else:
                    result["actions"] = _act(repo, number, result, config)
            result["merged"] = bool(result.get("merge_commit_sha"))
            result["enqueued"] = bool(result["actions"]) and result["decision"] == "enqueue"
            results.append(result)
            write_summary("\n\n".join(filter(None, (notice, _summary(repository, result, args.dry_run)))))
            append_audit(
                audit_record(
                    ACTION,
                    repository=repository,
                    subject=f"pull request #{number} at {state.head_sha[:12]}",
                    decision=str(result["decision"]),
                    dry_run=args.dry_run,
                    details={
                        "checks": result["checks"],
                        "blocking_reasons": result["blocking_reasons"],
                        "skip_reason": result["skip_reason"],
                        "risk": result["risk"],
                        "merge_queue": result["merge_queue"],
                        "actions": result["actions"],
                        "exports": None if exports is None else exports.origin,
                        "exports_age": result["exports_age"],
                    },
                )
            )
    except GithubException as error:
        raise github_failure(error, "reading or merging the pull request") from None
    text = json.dumps(results, indent=2, sort_keys=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    last = results[-1] if results else None
    write_outputs(
        {
            "eligible": "true" if last and last["eligible"] else "false",
            "decision": "" if last is None else str(last["decision"]),
            "merged": "true" if any(r["merged"] for r in results) else "false",
            "enqueued": "true" if any(r["enqueued"] for r in results) else "false",
            "blocking-reasons": "" if last is None else "\n".join(last["blocking_reasons"]),
            **age_outputs(age),
            "results": results,
        }
    )
    if age is not None and stale:
        # after the outputs, summary and audit: the refusal is recorded, and the failed step tells people
        raise ExportError(f"nothing was merged: {age.reason()}")
    return 0


def cli() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    cli()
