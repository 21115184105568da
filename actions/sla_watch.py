"""``repopilot-sla``: check response and resolution SLAs and CI health, and run the incident workflow.

Runs on a schedule (``actions/sla_watch/action.yml``, every 15 minutes) or by hand. It reads the
configuration (``.github/sla.yml``: targets by priority, success-rate and availability targets, the
window; defaults when absent), fetches from the GitHub API the open and recently closed issues and
pull requests with their first responses and the workflow runs of the windows
(:mod:`actions.sla.github_data`), and runs :func:`~actions.sla.engine.check_sla_compliance`.

On a breach it runs the incident workflow (:mod:`actions.sla.incidents`): severity, the playbook's
mitigations (label, comment, assign the on-call person), Slack and PagerDuty notifications,
escalation after ``escalation_minutes`` unresolved, and a post-mortem when resolved. The incident's
state lives in GitHub, in an issue labelled ``repopilot-incident`` (:mod:`actions.sla.store`), so a
fresh runner neither notifies twice nor loses the escalation clock. ``--dry-run`` reads and decides
but writes nothing and sends nothing.

Environment: ``GITHUB_TOKEN`` (``issues: write`` and ``pull-requests: write`` to open the incident
issue and apply mitigations, ``actions: read`` for the runs; read-only is enough for a dry run),
``GITHUB_API_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_WORKSPACE``, and the variables the
configuration names for the Slack webhook URL and the PagerDuty routing key (by default
``SLACK_WEBHOOK_URL`` and ``PAGERDUTY_ROUTING_KEY``). Those values never appear in any output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from github import GithubException

from actions.common.config import read_action_config
from actions.common.errors import ActionError, InputError, exit_codes
from actions.common.github import TokenNeeds, action_client, github_failure, parse_now, repository_name
from actions.common.report import (
    append_audit,
    audit_record,
    markdown_table,
    redact,
    run_cli,
    write_outputs,
    write_summary,
)
from actions.sla.config import PRIORITIES, SlaConfig
from actions.sla.engine import check_sla_compliance
from actions.sla.github_data import MARKER, fetch_items, fetch_runs, lookback
from actions.sla.incidents import Notifiers, acknowledge_state, advance_incidents, more_breaches
from actions.sla.store import IncidentStore

ACTION = "sla"
CONFIG_FILE = "sla.yml"
TOKEN_NEEDS = TokenNeeds(
    ACTION, required=frozenset({"repo", "public_repo"}), allowed=frozenset({"repo", "public_repo"})
)
_TRANSITIONS = frozenset({"opened", "escalated", "resolved", "resolve_failed"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repopilot-sla", description=__doc__.split("\n\n")[0], epilog=exit_codes(exports=False)
    )
    parser.add_argument("--repos", help="comma-separated owner/name to watch (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--incident-repo", help="where the incident issue lives (default: the first watched)")
    parser.add_argument("--config", type=Path, help="configuration file or repository root")
    parser.add_argument("--now", help="the end of the window, ISO 8601 with a time zone (default: now)")
    parser.add_argument("--dry-run", action="store_true", help="decide and explain; write and send nothing")
    parser.add_argument("--output", type=Path, help="also write the result JSON here")
    return parser


def _repos(text: str | None) -> list[str]:
    raw = text or os.environ.get("GITHUB_REPOSITORY") or ""
    names = [repository_name(part.strip()) for part in raw.split(",") if part.strip()]
    if not names:
        raise InputError("no repository to watch: pass --repos or set GITHUB_REPOSITORY")
    return list(dict.fromkeys(names))


def _fingerprint(state: Mapping[str, Any]) -> str:
    """What of the state is worth a write: not the elapsed hours that grow every run."""
    incident = state.get("open")
    if not isinstance(incident, dict):
        return json.dumps(None)
    material = {
        k: v for k, v in incident.items() if k not in {"breaches", "mitigations", "summary", "reasons"}
    }
    material["breaches"] = sorted(
        (b["repo"], b["number"], b["clock"]) for b in incident.get("breaches") or []
    )
    material["severity"] = incident.get("severity")
    return json.dumps(material, sort_keys=True, default=str)


def _mitigate(
    requester: Any, incident: dict[str, Any], config: SlaConfig, watched: set[str], dry_run: bool
) -> list[dict[str, Any]]:
    """Apply the playbook's steps not applied before (at most ``max_mitigations_per_run``)."""
    applied: list[str] = incident.setdefault("applied", [])
    done: list[dict[str, Any]] = []
    budget = config.max_mitigations_per_run
    for step in incident.get("mitigations") or []:
        action, repo, number = step["action"], step.get("repo"), step.get("number")
        if action not in {"label", "comment", "assign"} or repo not in watched:
            continue  # paging is the notifiers' job, re-runs the self-healing action's
        key = f"{action}:{repo}#{number}"
        if key in applied:
            continue
        if action == "assign" and not config.on_call:
            continue
        if budget <= 0:
            done.append({"step": key, "status": "deferred to the next run"})
            break
        budget -= 1
        if dry_run:
            done.append({"step": key, "status": "dry-run"})
            continue
        path = f"/repos/{repo}/issues/{number}"
        try:
            if action == "label":
                requester.requestJsonAndCheck("POST", f"{path}/labels", input={"labels": step["labels"]})
            elif action == "comment":
                body = f"{MARKER}\n{step['body']} (repopilot SLA watch)"
                requester.requestJsonAndCheck("POST", f"{path}/comments", input={"body": body})
            else:
                person = config.on_call[int(number) % len(config.on_call)]
                requester.requestJsonAndCheck("POST", f"{path}/assignees", input={"assignees": [person]})
        except GithubException as error:
            done.append({"step": key, "status": "failed", "error": f"GitHub answered HTTP {error.status}"})
            continue
        applied.append(key)
        done.append({"step": key, "status": "applied"})
    return done


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}%}"


def _summary(result: Mapping[str, Any]) -> str:
    report = result["report"]
    incident = result["incident"]
    verdict = "✅ all targets met" if report["compliant"] else "❌ targets breached"
    lines = [f"### repopilot SLA: {', '.join(result['repositories'])} — {verdict}", ""]
    window = report["window"]
    lines.append(f"Window {window['start']} → {window['end']} ({window['hours']:g} h).\n")
    rows: list[Sequence[Any]] = []
    for priority in PRIORITIES:
        for clock in ("response", "resolution"):
            tally = report["compliance"]["by_priority"][priority][clock]
            rows.append(
                (
                    priority,
                    clock,
                    f"{tally['target_hours']:g} h",
                    _pct(tally["rate"]),
                    tally["met"],
                    tally["breached"],
                    tally["pending"],
                )
            )
    success, available = report["success_rate"], report["availability"]
    rows.append(
        (
            "CI",
            "success rate",
            _pct(success["target"]),
            _pct(success["value"]),
            success["succeeded"],
            success["failed"],
            "",
        )
    )
    rows.append(("CI", "availability", _pct(available["target"], 2), _pct(available["value"], 2), "", "", ""))
    lines.append(markdown_table(("priority", "target", "goal", "actual", "met", "breached", "pending"), rows))
    trend = report["trend"]
    lines.append(
        "\nTrend against the previous window: "
        + ", ".join(f"{name} {value['direction'] or 'n/a'}" for name, value in trend.items())
        + "."
    )
    if report["breaches"]:
        lines.append("\n**Breaches**\n")
        breach_rows = [
            (
                f"{b['repo']}#{b['number']}",
                b["priority"],
                b["clock"],
                f"{b['target_hours']:g}",
                f"{b['elapsed_hours']:g}",
                "yes" if b["open"] else "no",
            )
            for b in report["breaches"][:25]
        ]
        lines.append(
            markdown_table(("item", "priority", "clock", "target (h)", "elapsed (h)", "open"), breach_rows)
        )
        more = more_breaches(report, len(breach_rows))
        if more:
            lines.append(f"\n{more}")
    status = result["incident_status"]
    if incident is not None:
        where = f" (issue #{result['incident_issue']})" if result["incident_issue"] else ""
        lines.append(f"\n**Incident {status}**{where}: {incident['summary']}")
    for note in result["notifications"]:
        lines.append(f"- {note['channel']} {note['event']}: {note.get('error') or note['status']}")
    for step in result["mitigations"]:
        lines.append(f"- {step['step']}: {step.get('error') or step['status']}")
    for skipped in result["skipped"]:
        lines.append(f"- not notified: {skipped}")
    if result["dry_run"]:
        lines.append("\n<sub>dry run: nothing was written to GitHub and no notification was sent</sub>")
    return "\n".join(lines)


def _scrub(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` with every secret (and anything shaped like one) masked, at any depth."""
    known = [s for s in secrets if s]
    return json.loads(redact(json.dumps(value, default=str), known))


def main(argv: Sequence[str] | None = None) -> int:
    """Check the SLAs and run the incident workflow; print the result JSON. Returns the exit code."""
    args = _parser().parse_args(argv)
    now = parse_now(args.now)
    repos = _repos(args.repos)
    incident_repo = repository_name(args.incident_repo) if args.incident_repo else repos[0]
    client = action_client(TOKEN_NEEDS)
    requester = client.requester
    try:
        config = read_action_config(
            args.config, client.withLazy(True).get_repo(incident_repo), CONFIG_FILE, SlaConfig
        )
        secrets = config.notifications.secrets(os.environ)
        secret_values = [
            s.get_secret_value() for s in (secrets.slack_webhook_url, secrets.pagerduty_routing_key) if s
        ]
        notifiers = Notifiers.from_config(config, secrets)
        items_since, runs_since = lookback(now, config.window_hours)
        items: list[dict[str, Any]] = []
        runs: list[dict[str, Any]] = []
        for repo in repos:
            found, _ = fetch_items(requester, repo, items_since, config.incident_label)
            items.extend(found)
            runs.extend(fetch_runs(requester, repo, runs_since))
        try:
            report = check_sla_compliance(items, runs, config, now)
        except ValueError as error:
            raise InputError(f"GitHub answered data the SLA check cannot read: {error}") from None
        key = "repopilot-sla/" + ",".join(sorted(r.lower() for r in repos))
        store = IncidentStore(requester, incident_repo, key, config.incident_label)
        try:
            state = store.load()
        except ValueError as error:
            raise InputError(f"{error}; fix or close that issue") from None
        before = _fingerprint(state)
        acknowledgement = None
        incident_open = state["open"]
        if (
            incident_open is not None
            and incident_open["acknowledged_at"] is None
            and store.acknowledged_by_label(config.acknowledge_label)
        ):
            acknowledgement = acknowledge_state(state, notifiers, now, dry_run=args.dry_run)

        def checkpoint(current: Mapping[str, Any]) -> None:
            store.save(current, current["open"])

        outcome = advance_incidents(
            state,
            report,
            config,
            notifiers,
            now,
            dry_run=args.dry_run,
            incident_key=key,
            checkpoint=checkpoint,
        )
        incident = outcome["incident"]
        mitigations: list[dict[str, Any]] = []
        if state["open"] is not None:
            mitigations = _mitigate(requester, state["open"], config, set(repos), args.dry_run)
        if not args.dry_run:
            if outcome["status"] == "resolved" and incident is not None:
                store.close(state, incident, str(outcome["postmortem"]))
            elif state["open"] is not None and (
                outcome["status"] in _TRANSITIONS
                or outcome["notifications"]
                or acknowledgement is not None
                or any(m["status"] == "applied" for m in mitigations)
                or _fingerprint(state) != before
            ):
                store.save(state, state["open"])
    except GithubException as error:
        raise github_failure(error, "checking the SLA") from None

    notifications = [*(acknowledgement or {}).get("notifications", []), *outcome["notifications"]]
    result = _scrub(
        {
            "repositories": repos,
            "as_of": now.isoformat(),
            "dry_run": args.dry_run,
            "compliant": report["compliant"],
            "report": report,
            "incident_status": outcome["status"],
            "incident": incident,
            "incident_issue": store.number,
            "incident_repository": incident_repo,
            "notifications": notifications,
            "skipped": outcome["skipped"],
            "mitigations": mitigations,
            "writes": store.writes,
            "postmortem": outcome["postmortem"],
        },
        secret_values,
    )
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    write_summary(redact(_summary(result), secret_values))
    append_audit(
        _scrub(
            audit_record(
                ACTION,
                repository=incident_repo,
                subject=f"SLA of {', '.join(repos)} over the {config.window_hours:g} h to {report['as_of']}",
                decision=str(outcome["status"]),
                dry_run=args.dry_run,
                details={
                    "compliant": report["compliant"],
                    "compliance": report["compliance"]["overall"],
                    "success_rate": report["success_rate"]["value"],
                    "availability": report["availability"]["value"],
                    "breaches": report["breach_count"],
                    "severity": None if incident is None else incident["severity"],
                    "dedup_key": None if incident is None else incident["dedup_key"],
                    "incident_issue": store.number,
                    "notifications": notifications,
                    "mitigations": mitigations,
                    "writes": store.writes,
                },
                now=now,
            ),
            secret_values,
        )
    )
    write_outputs(
        {
            "compliant": "true" if report["compliant"] else "false",
            "incident-status": str(outcome["status"]),
            "severity": "" if incident is None else str(incident["severity"]),
            "incident-issue": "" if store.number is None else str(store.number),
            "breaches": str(report["breach_count"]),
            "report": result["report"],
        }
    )
    failed = [n for n in notifications if n["status"] == "failed"]
    if failed:
        reasons = "; ".join(str(n["error"]) for n in failed)
        raise ActionError(
            redact(
                f"{len(failed)} notification(s) failed ({reasons}); the incident state is kept and "
                "they are retried on the next run",
                secret_values,
            )
        )
    return 0


def cli() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    cli()
