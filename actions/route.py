"""``repopilot-route``: request reviewers for a pull request, or assign an issue, and say why.

Runs as a step of a GitHub Actions workflow (``actions/route/action.yml``) when a pull request is
opened, reopened or marked ready for review, or an issue is opened; or by hand with ``--repo`` and
``--pull`` or ``--issue``. It reads the item as GitHub has it now (author, labels, draft, the
reviewers or assignees it already has, and for a pull request its changed paths), the reviewer
features of the exports (``reviewers.json``), the open review requests of the repository as the
live workload, and the configuration (``.github/routing.yml`` from the checkout, else from the
default branch through the API; defaults when absent).
:func:`~actions.routing.engine.calculate_assignment` decides; unless ``--dry-run``, the reviewers
are requested or the assignees added. Drafts, closed items, items with an exempt label and items
that already have reviewers (or assignees) are left alone, with the reason. Every decision is
printed as JSON, written to the step outputs and summary (with the factor breakdown), and
appended to the audit log.

Environment: ``GITHUB_TOKEN`` (``pull-requests: write``, ``issues: write``, ``contents: read``),
``GITHUB_API_URL``, ``REPOPILOT_EXPORTS``, ``GITHUB_EVENT_PATH``, ``GITHUB_WORKSPACE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from github import GithubException
from github.Repository import Repository

from actions.common.config import read_action_config
from actions.common.errors import ActionError, ExportError, InputError
from actions.common.exports import exports_from_arguments
from actions.common.freshness import age_outputs, exports_age
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
from actions.routing.config import FACTORS, RoutingConfig
from actions.routing.engine import (
    AssignmentResult,
    Candidate,
    ItemKind,
    RoundRobinState,
    RoutedItem,
    calculate_assignment,
)

ACTION = "route"
CONFIG_FILE = "routing.yml"
TOKEN_NEEDS = TokenNeeds(
    ACTION, required=frozenset({"repo", "public_repo"}), allowed=frozenset({"repo", "public_repo"})
)
MAX_OPEN_PULLS = 1000
"""Open pull requests read for the live workload (ten pages); a busier repository counts the newest."""
MAX_FILES = 3000
"""Changed files read of a pull request (GitHub lists no more than 3,000)."""
SUMMARY_ROWS = 10
"""Candidates shown in the step summary's factor table."""
AUDIT_SCORES = 5
"""Candidates whose breakdown the audit record keeps."""
MAX_LISTED = 20
"""Scored and excluded candidates listed in the result (the counts give the rest)."""


@dataclass(frozen=True)
class Target:
    """The item to route: where, which kind, which number."""

    repository: str
    kind: ItemKind
    number: int


@dataclass(frozen=True)
class LiveItem:
    """The item as GitHub has it now.

    Attributes:
        routed: what the engine sees (author, labels, paths, creation time).
        state: ``open`` or ``closed``.
        draft: whether a pull request is a draft.
        existing: reviewers (pending or who reviewed) or assignees it already has.
    """

    routed: RoutedItem
    state: str
    draft: bool
    existing: tuple[str, ...]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repopilot-route", description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--repo", help="owner/name (with --pull or --issue)")
    parser.add_argument("--pull", help="pull request number (with --repo)")
    parser.add_argument("--issue", help="issue number (with --repo)")
    parser.add_argument("--config", type=Path, help="configuration file or repository root")
    parser.add_argument(
        "--round-robin-state",
        type=Path,
        help="JSON file keeping where round robin stands (kept by the caller)",
    )
    parser.add_argument("--dry-run", action="store_true", help="decide and explain without writing")
    return parser


def event_target(path: Path) -> Target:
    """The item a ``pull_request`` (``pull_request_target``) or ``issues`` event payload names.

    Raises:
        InputError: for an unreadable payload, or one that names no pull request or issue.
    """
    payload = read_event(path)
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    if not isinstance(full_name, str):
        raise InputError("the event payload has no repository.full_name")
    if "pull_request" in payload:
        key, kind = "pull_request", "pull_request"
    elif "issue" in payload:
        key, kind = "issue", "issue"
    else:
        raise InputError("the event names no pull request or issue; pass --repo with --pull or --issue")
    item = payload[key]
    if not isinstance(item, dict):
        raise InputError(f"the event's {key} is not an object")
    if kind == "issue" and item.get("pull_request"):
        kind = "pull_request"  # an issue event about a pull request
    number = positive_number(item.get("number"), f"{key}.number")
    return Target(repository_name(full_name), "pull_request" if kind == "pull_request" else "issue", number)


def _target(args: argparse.Namespace) -> Target:
    if args.repo or args.pull or args.issue:
        if not args.repo or bool(args.pull) == bool(args.issue):
            raise InputError("--repo goes with exactly one of --pull and --issue")
        if args.pull:
            return Target(repository_name(args.repo), "pull_request", positive_number(args.pull, "--pull"))
        return Target(repository_name(args.repo), "issue", positive_number(args.issue, "--issue"))
    event = event_path(args)
    if event is None:
        raise InputError(
            "nothing to route: pass --repo with --pull or --issue, or run on a pull request or issue event"
        )
    return event_target(event)


def _login(user: object) -> str | None:
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) and login else None


def _base(data: Mapping[str, Any], what: str) -> tuple[str, tuple[str, ...], str]:
    """Author, labels and state of an issue or pull request JSON.

    Raises:
        ActionError: when GitHub's answer lacks them.
    """
    author = _login(data.get("user"))
    if author is None:
        raise ActionError(f"GitHub's answer for the {what} names no author")
    labels = tuple(
        str(label["name"])
        for label in data.get("labels") or []
        if isinstance(label, dict) and isinstance(label.get("name"), str)
    )
    return author, labels, str(data.get("state") or "open")


def read_pull(repo: Repository, number: int) -> LiveItem:
    """A pull request as GitHub has it, without its paths (see :func:`changed_paths`)."""
    data = repo.get_pull(number).raw_data
    author, labels, state = _base(data, f"pull request #{number}")
    existing = [login for login in map(_login, data.get("requested_reviewers") or []) if login]
    existing += [
        f"team:{team['slug']}"
        for team in data.get("requested_teams") or []
        if isinstance(team, dict) and isinstance(team.get("slug"), str)
    ]
    routed = RoutedItem(
        number=number,
        author=author,
        kind="pull_request",
        labels=labels,
        created_at=parse_time(data.get("created_at")),
    )
    return LiveItem(routed, state, bool(data.get("draft")), tuple(existing))


def read_issue(repo: Repository, number: int) -> LiveItem:
    """An issue as GitHub has it.

    Raises:
        InputError: when the number is a pull request's.
    """
    data = repo.get_issue(number).raw_data
    if data.get("pull_request"):
        raise InputError(f"#{number} is a pull request: route it with --pull")
    author, labels, state = _base(data, f"issue #{number}")
    existing = tuple(login for login in map(_login, data.get("assignees") or []) if login)
    routed = RoutedItem(
        number=number,
        author=author,
        kind="issue",
        labels=labels,
        created_at=parse_time(data.get("created_at")),
    )
    return LiveItem(routed, state, False, existing)


def past_reviewers(repo: Repository, number: int, author: str) -> tuple[str, ...]:
    """People other than the author who already reviewed the pull request (a reopened one, say)."""
    logins = (_login(review.raw_data.get("user")) for review in repo.get_pull(number).get_reviews())
    return tuple(dict.fromkeys(login for login in logins if login and login.lower() != author.lower()))


def changed_paths(repo: Repository, number: int) -> tuple[str, ...]:
    """The paths a pull request changes (both sides of a rename)."""
    paths: list[str] = []
    for changed in repo.get_pull(number).get_files():
        if len(paths) >= MAX_FILES:
            break
        data = changed.raw_data
        paths += [p for p in (data.get("filename"), data.get("previous_filename")) if isinstance(p, str)]
    return tuple(dict.fromkeys(paths))


def open_review_requests(repo: Repository, skip: int | None) -> Counter[str]:
    """Pending review requests per login (lower case) over the repository's open pull requests.

    GitHub lists a person among a pull request's ``requested_reviewers`` until they review, so this
    is the live count of reviews waiting for each person; ``skip`` is the pull request being routed.
    """
    counts: Counter[str] = Counter()
    for seen, pull in enumerate(repo.get_pulls(state="open")):
        if seen >= MAX_OPEN_PULLS:
            break
        # listed attributes only: ``raw_data`` of a listed pull request would fetch it again
        if pull.number == skip:
            continue
        counts.update({user.login.lower() for user in pull.requested_reviewers if user.login})
    return counts


def active_hours(usual_hours: Sequence[int]) -> list[float] | None:
    """The engine's 24-hour activity profile from the exported usual hours (None when unknown)."""
    if not usual_hours:
        return None
    usual = set(usual_hours)
    return [1.0 if hour in usual else 0.0 for hour in range(24)]


def candidates_from_exports(
    document: Mapping[str, Any], repository: str, workload: Mapping[str, int] | None
) -> list[Candidate]:
    """The engine's candidates: the exported reviewers of ``repository``.

    Args:
        document: ``reviewers.json`` (already validated against its schema).
        repository: ``owner/name``; compared without regard to case, as GitHub does.
        workload: live pending review requests per lower-case login; None to use the exported
            ``open_workload`` (the live count was not available).
    """
    wanted = repository.lower()
    team = []
    for row in document["reviewers"]:
        if str(row["repo"]).lower() != wanted:
            continue
        login = str(row["login"])
        team.append(
            Candidate(
                login=login,
                expertise={p["path_prefix"]: float(p["weight"]) for p in row["expertise_paths"]},
                author_history={
                    str(a["author"]).lower(): float(a["weight"]) for a in row.get("author_history") or []
                },
                open_reviews=int(row["open_workload"])
                if workload is None
                else workload.get(login.lower(), 0),
                median_response_hours=row["median_first_response_hours"],
                recent_activity=float(row["events_last_14d"]),
                active_hours=active_hours(row["usual_hours"]),
                completed_reviews=float(row["reviews_done"]),
                is_bot=login.lower().endswith("[bot]"),
            )
        )
    return team


def _read_state(path: Path | None) -> RoundRobinState | None:
    if path is None:
        return None
    if not path.exists():
        return RoundRobinState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise InputError(f"cannot read the round robin state at {path}") from None
    last = data.get("last") if isinstance(data, dict) else None
    if last is not None and not isinstance(last, str):
        raise InputError(f"the round robin state at {path} is not {{'last': login}}")
    return RoundRobinState(last=last)


def _skip_reason(item: LiveItem, config: RoutingConfig, role: str) -> str | None:
    noun = "pull request" if item.routed.kind == "pull_request" else "issue"
    if item.state != "open":
        return f"the {noun} is {item.state}"
    if item.draft:
        return "the pull request is a draft"
    exempt = sorted({label.lower() for label in item.routed.labels} & set(config.exempt_labels))
    if exempt:
        return f"exempt label {exempt[0]!r}"
    if item.existing:
        return f"the {noun} already has {role}: {', '.join(item.existing)}"
    return None


def _write(repo: Repository, target: Target, selected: Sequence[str]) -> tuple[list[str], str | None]:
    """Request the reviewers or add the assignees; returns what was done and a failure, if any."""
    try:
        if target.kind == "pull_request":
            repo.get_pull(target.number).create_review_request(reviewers=list(selected))
            return [f"requested reviews from {', '.join(selected)}"], None
        repo.get_issue(target.number).add_to_assignees(*selected)
        return [f"assigned {', '.join(selected)}"], None
    except GithubException as error:
        why = {422: "GitHub refused them (not collaborators?)", 403: "the token may not write"}
        return [], f"HTTP {error.status}: {why.get(error.status, 'the write failed')}"


def _summary(target: Target, result: Mapping[str, Any], scores: Sequence[Mapping[str, Any]]) -> str:
    noun = "pull request" if target.kind == "pull_request" else "issue"
    selected = ", ".join(result["selected"]) or "nobody"
    verdict = {
        "assign": ("would request " if result["dry_run"] else "requested ") + selected
        if target.kind == "pull_request"
        else ("would assign " if result["dry_run"] else "assigned ") + selected,
        "skipped": "left alone",
        "unassigned": f"no {result['role']} found",
        "assign_failed": "GitHub refused the assignment",
    }[str(result["decision"])]
    lines = [f"### repopilot route: {target.repository}#{target.number} ({noun}) {verdict}", ""]
    if result["skip_reason"]:
        lines.append(f"Skipped: {result['skip_reason']}.")
    else:
        lines.append(f"{result['reason']}.")
        fallback = f", fallback {result['fallback_used']}" if result["fallback_used"] else ""
        lines.append(
            f"Confidence {result['confidence']:.0%}{fallback}; {result['eligible_count']} eligible, "
            f"{result['excluded_count']} excluded; workload from {result['workload_source']}."
        )
    if scores:
        chosen = set(result["selected"])
        header = ("", "candidate", "score", *(name.replace("_", " ") for name in FACTORS))
        rows = [
            (
                "✅" if score["login"] in chosen else "",
                score["login"],
                f"{score['total']:.3f}",
                *(
                    f"{score['factors'][name]['contribution']:.3f} ({score['factors'][name]['value']:.2f})"
                    for name in FACTORS
                ),
            )
            for score in scores[:SUMMARY_ROWS]
        ]
        lines += ["", markdown_table(header, rows), "", "<sub>weighted contribution (factor value)</sub>"]
    if result["actions"]:
        lines.append("\nDone: " + "; ".join(result["actions"]) + ".")
    if result["dry_run"]:
        lines.append("\n<sub>dry run: nothing was written to GitHub</sub>")
    return "\n".join(lines)


def route(
    repo: Repository,
    target: Target,
    config: RoutingConfig,
    reviewers: Mapping[str, Any],
    *,
    dry_run: bool,
    round_robin: RoundRobinState | None,
) -> tuple[dict[str, Any], AssignmentResult | None]:
    """Decide (and unless ``dry_run``, write) for one item; returns the result and the engine's answer."""
    item = (
        read_pull(repo, target.number) if target.kind == "pull_request" else read_issue(repo, target.number)
    )
    role = "reviewers" if target.kind == "pull_request" else "assignees"
    reason = _skip_reason(item, config, role)
    if reason is None and target.kind == "pull_request":
        reviewed = past_reviewers(repo, target.number, item.routed.author)
        if reviewed:
            reason = f"the pull request was already reviewed by {', '.join(reviewed)}"
    result: dict[str, Any] = {
        "repository": target.repository,
        "number": target.number,
        "kind": target.kind,
        "role": role,
        "author": item.routed.author,
        "dry_run": dry_run,
        "skip_reason": reason,
        "selected": [],
        "confidence": 0.0,
        "fallback_used": None,
        "reason": reason or "",
        "scores": [],
        "excluded": {},
        "eligible_count": 0,
        "excluded_count": 0,
        "paths": 0,
        "workload_source": None,
        "actions": [],
        "error": None,
        "decision": "skipped",
    }
    if reason is not None:
        return result, None
    routed = item.routed
    if target.kind == "pull_request":
        paths = changed_paths(repo, target.number)
        routed = RoutedItem(
            routed.number, routed.author, routed.kind, routed.labels, paths, routed.created_at
        )
        result["paths"] = len(paths)
    try:
        workload: Counter[str] | None = open_review_requests(repo, target.number)
        result["workload_source"] = "open review requests"
    except GithubException:
        workload = None
        result["workload_source"] = "exports (open review requests unreadable)"
    team = candidates_from_exports(reviewers, target.repository, workload)
    assignment = calculate_assignment(routed, team, config, round_robin_state=round_robin)
    decided = assignment.to_dict()
    result.update(decided)
    # a thousand people's breakdowns would swamp the outputs: the best ones tell the story
    result["scores"] = decided["scores"][:MAX_LISTED]
    result["excluded"] = dict(list(decided["excluded"].items())[:MAX_LISTED])
    result["eligible_count"] = len(decided["scores"])
    result["excluded_count"] = len(decided["excluded"])
    result["dry_run"] = dry_run
    result["decision"] = "assign" if assignment.selected else "unassigned"
    if assignment.selected and not dry_run:
        result["actions"], result["error"] = _write(repo, target, assignment.selected)
        if result["error"]:
            result["decision"] = "assign_failed"
    return result, assignment


def main(argv: Sequence[str] | None = None) -> int:
    """Route one pull request or issue; print the result JSON. Returns the exit code."""
    args = _parser().parse_args(argv)
    target = _target(args)
    round_robin = _read_state(args.round_robin_state)
    client = action_client(TOKEN_NEEDS)
    exports = exports_from_arguments(args, client, needed_for="routing needs reviewers.json")
    if not exports.has("reviewers"):
        raise ExportError(f"the exports at {exports.origin} have no reviewers.json (routing needs it)")
    # only the routed repository's rows are read and checked: the whole file is the organisation's
    reviewers = exports.json("reviewers", repository=target.repository)
    try:
        repo = client.withLazy(True).get_repo(target.repository)
        config = read_action_config(args.config, repo, CONFIG_FILE, RoutingConfig)
        age = exports_age(
            exports, config.exports.max_age_hours, max_data_age_hours=config.exports.max_data_age_hours
        )
        result, assignment = route(
            repo, target, config, reviewers, dry_run=args.dry_run, round_robin=round_robin
        )
    except GithubException as error:
        noun = "pull request" if target.kind == "pull_request" else "issue"
        raise github_failure(error, f"reading the {noun}") from None
    result["exports"] = exports.origin
    result["exports_age"] = age.record()
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    if (
        args.round_robin_state is not None
        and assignment is not None
        and assignment.fallback_used == "round_robin"
        and result["decision"] == "assign"
        and not args.dry_run
        and assignment.round_robin_state is not None
    ):
        args.round_robin_state.write_text(json.dumps({"last": assignment.round_robin_state.last}) + "\n")
    write_outputs(
        {
            "decision": result["decision"],
            "selected": ",".join(result["selected"]),
            "fallback-used": result["fallback_used"] or "",
            "confidence": f"{result['confidence']:.4f}",
            **age_outputs(age),
            "result": result,
        }
    )
    notice = age.warning("Reviewers were still chosen from them: expertise and workload may be out of date.")
    write_summary("\n\n".join(filter(None, (notice, _summary(target, result, result["scores"])))))
    append_audit(
        audit_record(
            ACTION,
            repository=target.repository,
            subject=f"{target.kind.replace('_', ' ')} #{target.number}",
            decision=str(result["decision"]),
            dry_run=args.dry_run,
            details={
                "role": result["role"],
                "author": result["author"],
                "selected": result["selected"],
                "skip_reason": result["skip_reason"],
                "reason": result["reason"],
                "confidence": result["confidence"],
                "fallback_used": result["fallback_used"],
                "scores": result["scores"][:AUDIT_SCORES],
                "eligible": result["eligible_count"],
                "excluded": result["excluded_count"],
                "paths": result["paths"],
                "workload_source": result["workload_source"],
                "actions": result["actions"],
                "error": result["error"],
                "exports": exports.origin,
                "exports_age": result["exports_age"],
            },
        )
    )
    return 0


def cli() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    cli()
