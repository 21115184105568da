"""``repopilot-maintain``: start the maintenance work when the learned quiet window comes round.

Runs hourly from a schedule (``actions/maintain/action.yml``, example workflow
``actions/workflows/repopilot-maintain.yml``). It reads the repository's activity by hour of week
from the exports (``activity.json``) and the configuration (``.github/maintenance.yml``: preferred
days and hours, avoided dates, public holidays, and per task its duration and how to start it), and
plans each enabled task's window for the current period with the design's ``predict_optimal_time``
(:mod:`actions.maintenance.plan`: one window per ``horizon_days``-day period, the same whichever
hour asks). When now falls inside the window, it starts the task once: it dispatches the configured
workflow (``workflow_dispatch`` on the configured ref) or opens a maintenance issue. Work already
started in this window (a dispatched run of the workflow created since the window began, or an
issue carrying the window's marker) is not started again, so the hourly runs inside one window
start it once. Otherwise it says why it does nothing: outside the window, a holiday or avoided
date, or already started. ``--dry-run`` decides and explains without writing.

Every decision is printed as JSON, written to the step outputs and summary (window, alternatives,
reasoning) and appended to the audit log.

Environment: ``GITHUB_TOKEN`` (``actions: write`` to dispatch, ``issues: write`` to open issues,
``contents: read`` for the configuration; read-only in dry-run), ``GITHUB_API_URL``,
``GITHUB_REPOSITORY``, ``REPOPILOT_EXPORTS``, ``GITHUB_WORKSPACE``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import numpy as np
from github import GithubException
from github.Repository import Repository
from github.Workflow import Workflow

from actions.common.config import read_action_config
from actions.common.errors import ActionError, ExportError, InputError
from actions.common.exports import Exports, exports_from_arguments
from actions.common.freshness import age_outputs, exports_age
from actions.common.github import (
    TokenNeeds,
    action_client,
    add_common_arguments,
    github_failure,
    parse_now,
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
from actions.maintenance.config import MaintenanceConfig, TaskConfig, TaskKind
from actions.maintenance.plan import Plan, plan_window
from actions.maintenance.windows import (
    Vector,
    WeeklyActivity,
    activity_from_export,
    organisation_template,
)

ACTION = "maintenance"
CONFIG_FILE = "maintenance.yml"
TOKEN_NEEDS = TokenNeeds(
    ACTION, required=frozenset({"repo", "public_repo"}), allowed=frozenset({"repo", "public_repo"})
)
MARKER = "repopilot-maintenance"
"""Marks the issues this action opens, with the task and the window's start."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repopilot-maintain", description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--repo", help="owner/name (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--config", type=Path, help="configuration file or repository root")
    parser.add_argument(
        "--task",
        action="append",
        choices=get_args(TaskKind),
        help="plan only this task (repeatable; default: every enabled task)",
    )
    parser.add_argument("--now", help="the current time, ISO 8601 with an offset (for testing)")
    parser.add_argument("--dry-run", action="store_true", help="decide and explain without writing")
    return parser


def read_activity(
    exports: Exports, repository: str
) -> tuple[WeeklyActivity | None, Vector | None, str | None]:
    """The repository's activity (None when it has none), the organisation's template and ``as_of``.

    Raises:
        ExportError: when the exports have no activity file.
    """
    if not exports.has("activity"):
        raise ExportError(f"the exports at {exports.origin} have no activity.json (re-run the exports)")
    document = exports.json("activity", repository=repository)
    if "organisation" in document:
        pooled = document["organisation"]
        template = None if pooled is None else np.asarray(pooled, dtype=np.float64)
    else:  # exports written before the organisation's profile was pooled at export time
        template = organisation_template(exports.json("activity")["repositories"])
    entry = next(iter(document["repositories"].values()), None)
    if entry is None or int(entry["weeks_observed"]) <= 0:
        return None, template, document["as_of"]
    return activity_from_export(entry), template, document["as_of"]


def marker(task: TaskKind, window_start: str) -> str:
    """The hidden marker of the issue opened for ``task`` in the window starting at ``window_start``."""
    return f"<!-- {MARKER} task={task} window-start={window_start} -->"


def _existing_run(workflow: Workflow, ref: str, since: datetime) -> Any | None:
    """A run of ``workflow`` dispatched on ``ref`` since ``since`` (the window's start), if any."""
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    for run in workflow.get_runs(event="workflow_dispatch", branch=branch, created=f">={stamp}"):
        return run
    return None


def _existing_issue(repo: Repository, task: TaskKind, window_start: str, since: datetime) -> Any | None:
    """An issue (open or closed) carrying this window's marker, updated since the window began."""
    wanted = marker(task, window_start)
    for issue in repo.get_issues(state="all", since=since):
        if issue.pull_request is None and wanted in (issue.body or ""):
            return issue
    return None


def _issue_text(repository: str, plan: Plan, config: MaintenanceConfig) -> tuple[str, str]:
    window = plan.window or {}
    when = str(window.get("start_local", ""))[:16].replace("T", " ")
    title = f"Maintenance: {plan.task} ({when} {config.time_zone})"
    lines = [
        marker(plan.task, str(window.get("start"))),
        f"repopilot chose this window for **{plan.task}** in {repository} because the repository is "
        "expected to be quiet then:",
        "",
        f"- window: {window.get('start_local')} to {window.get('end_local')} ({config.time_zone}); "
        f"UTC {window.get('start')} to {window.get('end')}",
        f"- expected impact: {plan.result['expected_impact']} (0 quiet, 1 the week's busiest hour)",
        "",
        *[f"- {sentence}" for sentence in plan.result["reasoning"]],
    ]
    return title, "\n".join(lines)


def _start(
    repo: Repository,
    repository: str,
    plan: Plan,
    task: TaskConfig,
    config: MaintenanceConfig,
    dry_run: bool,
) -> tuple[str, str, dict[str, Any]]:
    """Start the work unless it was started in this window; returns decision, reason and details."""
    window = plan.window or {}
    window_start = datetime.fromisoformat(window["start"])
    if task.start_kind == "workflow":
        try:
            workflow = repo.get_workflow(str(task.workflow))
            workflow_id, path = workflow.id, workflow.path
        except GithubException as error:
            if error.status == 404:
                raise ActionError(
                    f"workflow {task.workflow} of task {plan.task} is not in {repository}"
                ) from None
            raise
        ref = task.ref or repo.default_branch
        target = {"workflow": path, "workflow_id": workflow_id, "ref": ref, "inputs": dict(task.inputs)}
        existing = _existing_run(workflow, ref, window_start)
        if existing is not None:
            reason = (
                f"already started in this window: run {existing.id} of {path} on {ref}, "
                f"created {existing.created_at.isoformat()} ({existing.status})"
            )
            return "already-started", reason, {**target, "run_id": existing.id, "run_url": existing.html_url}
        if dry_run:
            return "would-start", f"would dispatch {path} on {ref}", target
        try:
            started = workflow.create_dispatch(ref, dict(task.inputs), throw=True, return_run_details=True)
        except GithubException as error:
            message = error.data.get("message") if isinstance(error.data, dict) else None
            raise ActionError(
                f"GitHub refused to dispatch {path} on {ref} (HTTP {error.status}: {message or 'no message'})"
            ) from None
        run_id = getattr(started, "id", None)
        details = {**target, "run_id": run_id, "run_url": getattr(started, "html_url", None)}
        return "started", f"dispatched {path} on {ref}" + (f" (run {run_id})" if run_id else ""), details
    existing_issue = _existing_issue(repo, plan.task, str(window["start"]), window_start)
    if existing_issue is not None:
        reason = f"already started in this window: issue #{existing_issue.number} ({existing_issue.state})"
        return (
            "already-started",
            reason,
            {"issue": existing_issue.number, "issue_url": existing_issue.html_url},
        )
    title, body = _issue_text(repository, plan, config)
    if dry_run:
        return "would-start", f"would open the issue {title!r}", {"title": title, "labels": list(task.labels)}
    issue = repo.create_issue(title=title, body=body, labels=list(task.labels))
    details = {
        "title": title,
        "labels": list(task.labels),
        "issue": issue.number,
        "issue_url": issue.html_url,
    }
    return "started", f"opened issue #{issue.number}", details


def decide(
    repo: Repository,
    repository: str,
    config: MaintenanceConfig,
    activity: WeeklyActivity | None,
    template: Vector | None,
    task_name: TaskKind,
    now: datetime,
    dry_run: bool,
) -> dict[str, Any]:
    """The decision about one task: plan its window and, inside it, start the work once."""
    task = config.tasks[task_name]
    result: dict[str, Any] = {
        "repository": repository,
        "task": task_name,
        "now": now.isoformat(timespec="minutes"),
        "dry_run": dry_run,
        "start": task.start_kind,
        "window": None,
        "expected_impact": None,
        "alternatives": [],
        "reasoning": [],
        "period": None,
        "next_window": None,
        "details": {},
    }
    if not task.enabled:
        return result | {"decision": "disabled", "reason": f"task {task_name} is disabled in {CONFIG_FILE}"}
    if activity is None:
        return result | {
            "decision": "no-activity",
            "reason": f"the exports hold no activity for {repository}, so no window can be learned yet",
        }
    plan = plan_window(activity, config, task_name, now, template=template)
    result |= {
        "window": plan.window,
        "expected_impact": plan.result["expected_impact"],
        "alternatives": plan.result["alternatives"],
        "reasoning": plan.result["reasoning"],
        "excluded": plan.result["excluded"],
        "period": {
            "start": plan.period_start.isoformat(timespec="minutes"),
            "end": plan.period_end.isoformat(timespec="minutes"),
        },
        "next_window": plan.next_window,
    }
    if not plan.inside:
        return result | {"decision": plan.timing, "reason": plan.reason}
    decision, reason, details = _start(repo, repository, plan, task, config, dry_run)
    return result | {"decision": decision, "reason": f"{plan.reason}; {reason}", "details": details}


_VERDICT = {
    "started": "started",
    "would-start": "would start (dry run)",
    "already-started": "already started in this window",
    "outside-window": "nothing to do: outside the window",
    "holiday": "nothing to do: holiday",
    "avoided-date": "nothing to do: avoided date",
    "no-window": "nothing to do: no window",
    "no-activity": "nothing to do: no activity",
    "disabled": "disabled",
}


def _summary(result: Mapping[str, Any], config: MaintenanceConfig) -> str:
    lines = [
        f"### repopilot maintenance: {result['repository']} {result['task']}: {_VERDICT[result['decision']]}",
        "",
        f"{str(result['reason'])[:1].upper()}{str(result['reason'])[1:]}.",
    ]
    window = result["window"]
    if window is not None:
        rows = [("chosen", window, result["expected_impact"])]
        rows += [
            (f"alternative {alt['rank']}", alt, alt["expected_impact"]) for alt in result["alternatives"]
        ]
        table = [
            (
                kind,
                f"{w['day']} {w['start_local'][:16].replace('T', ' ')}",
                w["end_local"][11:16],
                f"{w['start'][:16].replace('T', ' ')}–{w['end'][11:16]}",
                impact,
            )
            for kind, w, impact in rows
        ]
        lines += [
            "",
            markdown_table(
                ("", f"start ({config.time_zone})", "end", "UTC", "expected impact (0 quiet, 1 busiest)"),
                table,
            ),
        ]
    if result["reasoning"]:
        lines += ["", "**Reasoning**", "", *[f"- {sentence}" for sentence in result["reasoning"]]]
    if result["dry_run"]:
        lines.append("\n<sub>dry run: nothing was written to GitHub</sub>")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Plan each task's window and start the work inside it; print the results JSON. Returns the exit code."""
    args = _parser().parse_args(argv)
    now = parse_now(args.now)
    target = args.repo or os.environ.get("GITHUB_REPOSITORY")
    if not target:
        raise InputError("no repository: pass --repo or set GITHUB_REPOSITORY")
    repository = repository_name(target)
    client = action_client(TOKEN_NEEDS)
    exports = exports_from_arguments(args, client, needed_for="the activity comes from them")
    activity, template, as_of = read_activity(exports, repository)
    results: list[dict[str, Any]] = []
    try:
        # Not lazy: nothing else asks GitHub about the repository when the configuration is local and
        # there is no activity or no window, so a missing one would pass for a quiet one. The same
        # request serves the default branch a dispatch needs.
        repo = client.get_repo(repository)
    except GithubException as error:
        raise github_failure(error, f"reading {repository}") from None
    try:
        config = read_action_config(args.config, repo, CONFIG_FILE, MaintenanceConfig)
        age = exports_age(
            exports,
            config.exports.max_age_hours,
            now=now,
            max_data_age_hours=config.exports.max_data_age_hours,
        )
        notice = age.warning("Windows were still planned from the activity they hold.")
        if notice:
            write_summary(notice)
        tasks: list[TaskKind] = list(dict.fromkeys(args.task or config.tasks))
        missing = [t for t in tasks if t not in config.tasks]
        if missing:
            raise InputError(f"task(s) {', '.join(missing)} not configured under tasks in {CONFIG_FILE}")
        for task_name in tasks:
            result = decide(repo, repository, config, activity, template, task_name, now, args.dry_run)
            result["exports"] = {"origin": exports.origin, "activity_as_of": as_of, "age": age.record()}
            results.append(result)
            write_summary(_summary(result, config))
            append_audit(
                audit_record(
                    ACTION,
                    repository=repository,
                    subject=f"{task_name} at {result['now']}",
                    decision=str(result["decision"]),
                    dry_run=args.dry_run,
                    details={
                        "reason": result["reason"],
                        "window": result["window"],
                        "alternatives": result["alternatives"],
                        "reasoning": result["reasoning"],
                        "started": result["details"],
                        "exports": result["exports"],
                    },
                    now=now,
                )
            )
    except GithubException as error:
        raise github_failure(error, "planning or starting the maintenance") from None
    text = json.dumps(results, indent=2, sort_keys=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    first = next((r for r in results if r["window"] is not None), results[0] if results else None)
    window = None if first is None else first["window"]
    taken = [
        f"{r['task']}: {r['details'].get('workflow') or 'issue'}"
        for r in results
        if r["decision"] == "started"
    ]
    write_outputs(
        {
            "window-start": "" if window is None else str(window["start"]),
            "window-end": "" if window is None else str(window["end"]),
            "decision": "" if first is None else str(first["decision"]),
            "started": "true" if taken else "false",
            "action": "; ".join(taken) if taken else "none",
            **age_outputs(age),
            "results": results,
        }
    )
    return 0


def cli() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    cli()
