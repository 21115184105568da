"""The design's incident workflow on an SLA breach: severity, playbook, notifications, escalation.

:func:`assess` turns a compliance report (:func:`actions.sla.engine.check_sla_compliance`) into an
incident or none; :func:`handle_incidents` runs once per check and keeps the open incident in a
JSON state file between runs:

* a new incident is announced on Slack (incoming webhook) and triggered on PagerDuty (Events API
  v2) when its severity reaches each channel's ``min_severity``;
* an incident still open ``escalation_minutes`` after it opened, and not acknowledged, is escalated
  once (re-triggered on PagerDuty as critical, announced on Slack);
* when a check finds nothing wrong, the open incident is resolved on both and a post-mortem report
  (markdown) is written from the state.

The playbook's mitigations are data (labels, comments, assignments, re-runs, an issue to open):
the action applies them, or only lists them in a dry run. Webhook URLs and routing keys are held
as :class:`~pydantic.SecretStr` and never appear in results, state, errors or reprs.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

from actions.sla.config import SEVERITIES, Secrets, Severity, SlaConfig
from actions.sla.engine import breach_counts

STATE_VERSION = 1
PAGERDUTY_SEVERITY: dict[Severity, str] = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning"}
_HISTORY_KEPT = 20
EventAction = Literal["trigger", "acknowledge", "resolve"]


class NotificationError(Exception):
    """A notification that could not be delivered; the message never holds the URL or key."""


def _more_severe(a: Severity, b: Severity) -> bool:
    return SEVERITIES.index(a) < SEVERITIES.index(b)


def _at_least(severity: Severity, minimum: Severity) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(minimum)


@dataclass(frozen=True)
class Incident:
    """What is wrong now: severity, a one-line summary, the reasons and what to do about it.

    ``breaches`` are the report's records (the most urgent ones); ``breach_count`` counts them all.
    """

    severity: Severity
    summary: str
    reasons: list[str]
    breaches: list[dict[str, Any]]
    mitigations: list[dict[str, Any]]
    breach_count: int

    def as_dict(self) -> dict[str, Any]:
        """The incident as plain data."""
        return {
            "severity": self.severity,
            "summary": self.summary,
            "reasons": self.reasons,
            "breaches": self.breaches,
            "breach_count": self.breach_count,
            "mitigations": self.mitigations,
        }


def breach_total(incident: Mapping[str, Any]) -> int:
    """All the breaches of an incident (its records may show only the most urgent of them)."""
    return int(incident.get("breach_count", len(incident.get("breaches") or [])))


def more_breaches(incident: Mapping[str, Any], shown: int) -> str | None:
    """``…and N more.`` when the incident has more breaches than the ``shown`` ones."""
    rest = breach_total(incident) - shown
    return f"…and {rest} more." if rest > 0 else None


def playbook(report: Mapping[str, Any], config: SlaConfig) -> list[dict[str, Any]]:
    """Automatic mitigations for what the report found (data only; the action applies them).

    Per item, they cover the report's breach records: the most urgent ``max_breaches_listed``.
    """
    steps: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for breach in report["breaches"]:
        key = (breach["repo"], breach["number"])
        target = {"repo": breach["repo"], "number": breach["number"]}
        if key not in seen:
            seen.add(key)
            steps.append({"action": "label", **target, "labels": [config.breach_label, breach["priority"]]})
        if not breach["open"]:
            continue
        if breach["clock"] == "response":
            steps.append(
                {
                    "action": "comment",
                    **target,
                    "body": (
                        f"This {breach['kind'].replace('_', ' ')} has waited "
                        f"{breach['elapsed_hours']:g} h for a first response; the {breach['priority']} "
                        f"target is {breach['target_hours']:g} h."
                    ),
                }
            )
            steps.append({"action": "assign", **target, "to": "suggested", "reason": "routing suggestion"})
        else:
            steps.append(
                {
                    "action": "escalate_priority" if breach["priority"] != "P0" else "page",
                    **target,
                    "reason": (
                        f"open {breach['elapsed_hours']:g} h against a {breach['target_hours']:g} h target"
                    ),
                }
            )
    if report["success_rate"]["met"] is False:
        steps.append(
            {"action": "rerun_failed_jobs", "via": "self-healing", "reason": "success rate below target"}
        )
    if report["availability"]["met"] is False:
        down = [
            repo
            for repo, value in report["availability"]["by_repo"].items()
            if value < config.availability_target
        ]
        steps.append(
            {
                "action": "open_issue",
                "repos": down,
                "title": "CI unavailable: default workflows failing",
                "reason": "availability below target",
            }
        )
    return steps


def assess(report: Mapping[str, Any], config: SlaConfig) -> Incident | None:
    """The incident a compliance report amounts to, or None when everything is within target.

    Severity: SEV1 for a P0 breach or availability more than 5 points under its target; SEV2 for
    a P1 breach or CI success rate or availability under target; SEV3 for other breaches. The
    breaches are counted from the report's compliance counts, all of them, not from its records.
    """
    counts = breach_counts(report["compliance"])
    success, available = report["success_rate"], report["availability"]
    reasons: list[str] = []
    severity: Severity | None = None

    def raise_to(level: Severity, reason: str) -> None:
        nonlocal severity
        reasons.append(reason)
        if severity is None or _more_severe(level, severity):
            severity = level

    by_priority: tuple[tuple[str, Severity], ...] = (
        ("P0", "SEV1"),
        ("P1", "SEV2"),
        ("P2", "SEV3"),
        ("P3", "SEV3"),
    )
    for priority, for_priority in by_priority:
        hit = counts[priority]
        if hit:
            raise_to(for_priority, f"{hit} {priority} SLA breach{'es' if hit > 1 else ''}")
    if success["met"] is False:
        raise_to("SEV2", f"CI success rate {success['value']:.1%} under the {success['target']:.0%} target")
    if available["met"] is False:
        level: Severity = "SEV1" if available["value"] < available["target"] - 0.05 else "SEV2"
        raise_to(
            level, f"CI availability {available['value']:.2%} under the {available['target']:.0%} target"
        )
    if severity is None:
        return None
    summary = f"{severity}: " + "; ".join(reasons)
    return Incident(
        severity,
        summary,
        reasons,
        list(report["breaches"]),
        playbook(report, config),
        breach_count=counts["total"],
    )


def _post_json(
    url: SecretStr | str, payload: Mapping[str, Any], service: str, timeout: float
) -> tuple[int, bytes]:
    """POST JSON; errors name the service and status only, never the URL or the body sent."""
    target = url.get_secret_value() if isinstance(url, SecretStr) else url
    if not target.startswith(("https://", "http://")):
        raise NotificationError(f"{service}: the configured URL is not http(s)")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        target,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "repopilot-sla"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        raise NotificationError(f"{service} refused the notification (HTTP {exc.code})") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise NotificationError(f"{service} could not be reached ({type(exc).__name__})") from None


@dataclass(frozen=True)
class SlackNotifier:
    """Posts messages to a Slack incoming webhook (the URL is the secret)."""

    webhook_url: SecretStr
    timeout: float = 10.0

    def send(self, text: str, blocks: list[dict[str, Any]] | None = None) -> int:
        """Post a message; returns the HTTP status."""
        payload: dict[str, Any] = {"text": text}
        if blocks:
            payload["blocks"] = blocks
        status, _ = _post_json(self.webhook_url, payload, "Slack", self.timeout)
        return status


@dataclass(frozen=True)
class PagerDutyNotifier:
    """Sends events to the PagerDuty Events API v2 (the routing key is the secret)."""

    routing_key: SecretStr
    events_url: str = "https://events.pagerduty.com/v2/enqueue"
    source: str = "repopilot"
    timeout: float = 10.0

    def event(
        self,
        action: EventAction,
        dedup_key: str,
        *,
        summary: str | None = None,
        severity: str = "error",
        details: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> int:
        """Send one event (``trigger`` needs a summary); returns the HTTP status."""
        payload: dict[str, Any] = {
            "routing_key": self.routing_key.get_secret_value(),
            "event_action": action,
            "dedup_key": dedup_key,
        }
        if action == "trigger":
            if not summary:
                raise ValueError("a trigger event needs a summary")
            payload["payload"] = {
                "summary": summary[:1024],
                "source": self.source,
                "severity": severity,
                "component": "sla",
                "custom_details": dict(details or {}),
                **({"timestamp": timestamp.astimezone(UTC).isoformat()} if timestamp else {}),
            }
        status, _ = _post_json(self.events_url, payload, "PagerDuty", self.timeout)
        return status


@dataclass
class Notifiers:
    """The configured channels whose secret is set (a channel without one is skipped)."""

    slack: SlackNotifier | None = None
    pagerduty: PagerDutyNotifier | None = None
    skipped: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: SlaConfig, secrets: Secrets) -> Notifiers:
        """Notifiers for the enabled channels; those missing their secret are listed in ``skipped``."""
        slack_cfg, pd_cfg = config.notifications.slack, config.notifications.pagerduty
        out = cls()
        if slack_cfg.enabled:
            if secrets.slack_webhook_url is None:
                out.skipped.append(f"slack: {slack_cfg.webhook_url_env} is not set")
            else:
                out.slack = SlackNotifier(secrets.slack_webhook_url)
        if pd_cfg.enabled:
            if secrets.pagerduty_routing_key is None:
                out.skipped.append(f"pagerduty: {pd_cfg.routing_key_env} is not set")
            else:
                out.pagerduty = PagerDutyNotifier(
                    secrets.pagerduty_routing_key, pd_cfg.events_url, pd_cfg.source
                )
        return out


def load_state(path: Path) -> dict[str, Any]:
    """The incident state kept between runs (an empty state when the file does not exist)."""
    if not path.exists():
        return empty_state()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"incident state {path} is not readable JSON: {exc}") from exc
    return check_state(state, str(path))


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write the state atomically, so a killed run leaves the previous state intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _dedup_key(now: datetime, summary: str) -> str:
    digest = hashlib.sha256(f"{now.isoformat()}|{summary}".encode()).hexdigest()[:16]
    return f"repopilot-sla-{digest}"


def _slack_text(kind: str, incident: Mapping[str, Any], report: Mapping[str, Any] | None) -> str:
    icon = {"opened": ":rotating_light:", "escalated": ":fire:", "resolved": ":white_check_mark:"}[kind]
    lines = [f"{icon} *SLA incident {kind}* — {incident['summary']}"]
    for breach in incident.get("breaches", [])[:5]:
        lines.append(
            f"• {breach['repo']}#{breach['number']} {breach['priority']} {breach['clock']}: "
            f"{breach['elapsed_hours']:g} h against {breach['target_hours']:g} h"
        )
    more = more_breaches(incident, len(incident.get("breaches", [])[:5]))
    if more:
        lines.append(more)
    if report is not None:
        rate = report["success_rate"]["value"]
        available = report["availability"]["value"]
        lines.append(
            f"CI success rate {'n/a' if rate is None else f'{rate:.1%}'}, "
            f"availability {'n/a' if available is None else f'{available:.2%}'}"
        )
    return "\n".join(lines)


def _deliver(notifications: list[dict[str, Any]], channel: str, event: str, send: Any, dry_run: bool) -> bool:
    if dry_run:
        notifications.append({"channel": channel, "event": event, "status": "dry-run"})
        return True
    try:
        status = send()
    except NotificationError as exc:
        notifications.append({"channel": channel, "event": event, "status": "failed", "error": str(exc)})
        return False
    notifications.append({"channel": channel, "event": event, "status": status})
    return True


Checkpoint = Callable[[Mapping[str, Any]], None]
"""Called with the state before a transition's notifications go out (write-ahead), so a run that
dies after notifying finds the incident on the next run instead of announcing it again."""


def empty_state() -> dict[str, Any]:
    """The state with no incident open and no history."""
    return {"version": STATE_VERSION, "open": None, "history": []}


def check_state(state: Any, where: str) -> dict[str, Any]:
    """``state`` if it has the layout this code writes, else a ValueError naming ``where``."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise ValueError(f"incident state {where} has an unknown layout (expected version {STATE_VERSION})")
    if not isinstance(state.get("history"), list) or not isinstance(state.get("open"), dict | None):
        raise ValueError(f"incident state {where} has an unknown layout (open or history malformed)")
    return state


def advance_incidents(
    state: dict[str, Any],
    report: Mapping[str, Any],
    config: SlaConfig,
    notifiers: Notifiers,
    now: datetime,
    *,
    dry_run: bool = False,
    incident_key: str | None = None,
    checkpoint: Checkpoint | None = None,
) -> dict[str, Any]:
    """Open, escalate or resolve the incident in ``state`` (changed in place) for this check.

    A notification that fails is retried on the next run: a PagerDuty trigger, an escalation not
    delivered to every channel, and a resolve PagerDuty did not take (the incident stays open until
    it does, so the page is never left dangling).

    Args:
        state: the incident state (see :func:`empty_state`); updated in place.
        report: the result of ``check_sla_compliance``.
        config: the SLA configuration (severity thresholds of the channels, escalation minutes).
        notifiers: the channels to notify.
        now: the current time (timezone-aware), the clock escalation is measured by.
        dry_run: compose everything but send nothing and call no checkpoint.
        incident_key: a stable name of what is watched (e.g. the repositories); the PagerDuty
            ``dedup_key`` is derived from it and the opening time. Default: the summary.
        checkpoint: see :data:`Checkpoint`.

    Returns:
        ``status`` (``ok``, ``opened``, ``ongoing``, ``escalated``, ``resolved`` or
        ``resolve_failed``), ``incident``, ``notifications`` (channel, event, HTTP status or error),
        ``skipped`` channels, ``failed`` (the notifications that failed), and ``postmortem``
        (markdown) when the incident was resolved.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    current = assess(report, config)
    open_incident: dict[str, Any] | None = state["open"]
    notifications: list[dict[str, Any]] = []
    slack_min = config.notifications.slack.min_severity
    pd_min = config.notifications.pagerduty.min_severity
    status = "ok"
    postmortem: str | None = None
    result_incident: dict[str, Any] | None = None

    def save_ahead() -> None:
        if checkpoint is not None and not dry_run:
            checkpoint(state)

    def slack(kind: str, incident: Mapping[str, Any], minimum_met: bool) -> bool:
        if notifiers.slack is None or not minimum_met:
            return True
        text = _slack_text(kind, incident, report)
        sender = notifiers.slack
        return _deliver(notifications, "slack", kind, lambda: sender.send(text), dry_run)

    def pagerduty(action: EventAction, incident: Mapping[str, Any], severity: str) -> bool:
        if notifiers.pagerduty is None:
            return True
        sender = notifiers.pagerduty

        def send() -> int:
            return sender.event(
                action,
                incident["dedup_key"],
                summary=incident["summary"],
                severity=severity,
                details={"reasons": incident["reasons"], "breaches": breach_total(incident)},
                timestamp=now,
            )

        return _deliver(notifications, "pagerduty", action, send, dry_run)

    def escalate(incident: dict[str, Any]) -> bool:
        """Escalate on the channels not yet told; True once every channel has it."""
        done: list[str] = incident.setdefault("escalation_delivered", [])
        if "slack" not in done and slack("escalated", incident, True):
            done.append("slack")
        summary = {**incident, "summary": f"[escalated] {incident['summary']}"}
        if "pagerduty" not in done and pagerduty("trigger", summary, "critical"):
            done.append("pagerduty")
            incident["pagerduty_triggered"] = True
        return {"slack", "pagerduty"} <= set(done)

    if open_incident is None and current is not None:
        status = "opened"
        open_incident = {
            **current.as_dict(),
            "dedup_key": _dedup_key(now, incident_key or current.summary),
            "opened_at": now.isoformat(),
            "escalated_at": None,
            "acknowledged_at": None,
            "timeline": [{"at": now.isoformat(), "event": "opened", "detail": current.summary}],
            "pagerduty_triggered": False,
            "slack_announced": False,
        }
        state["open"] = open_incident
        save_ahead()
        open_incident["slack_announced"] = slack(
            "opened", open_incident, _at_least(current.severity, slack_min)
        )
        if _at_least(current.severity, pd_min):
            open_incident["pagerduty_triggered"] = pagerduty(
                "trigger", open_incident, PAGERDUTY_SEVERITY[current.severity]
            )
    elif open_incident is not None and current is not None:
        status = "ongoing"
        if _more_severe(current.severity, open_incident["severity"]):
            open_incident["timeline"].append(
                {"at": now.isoformat(), "event": "severity raised", "detail": current.severity}
            )
        open_incident.update(
            {
                k: v
                for k, v in current.as_dict().items()
                if k != "severity" or _more_severe(v, open_incident["severity"])
            }
        )
        opened_at = datetime.fromisoformat(open_incident["opened_at"])
        due = now - opened_at >= timedelta(minutes=config.escalation_minutes)
        if not open_incident.get("slack_announced", True):
            # an announcement that failed is made now (once it gets through, never again)
            open_incident["slack_announced"] = slack(
                "opened", open_incident, _at_least(open_incident["severity"], slack_min)
            )
        if due and open_incident["escalated_at"] is None and open_incident["acknowledged_at"] is None:
            status = "escalated"
            first_try = "escalation_delivered" not in open_incident
            if escalate(open_incident):
                open_incident["escalated_at"] = now.isoformat()
            if first_try or open_incident["escalated_at"] is not None:
                detail = f"unresolved after {config.escalation_minutes:g} minutes"
                if open_incident["escalated_at"] is None:
                    detail += " (not every channel took it; retried on the next run)"
                open_incident["timeline"].append(
                    {"at": now.isoformat(), "event": "escalated", "detail": detail}
                )
        elif not open_incident["pagerduty_triggered"] and _at_least(open_incident["severity"], pd_min):
            # A trigger that failed or that the severity did not warrant yet is sent now.
            open_incident["pagerduty_triggered"] = pagerduty(
                "trigger", open_incident, PAGERDUTY_SEVERITY[open_incident["severity"]]
            )
    elif open_incident is not None:
        resolved = True
        if open_incident["pagerduty_triggered"]:
            resolved = pagerduty("resolve", open_incident, PAGERDUTY_SEVERITY[open_incident["severity"]])
        if resolved:
            status = "resolved"
            open_incident["resolved_at"] = now.isoformat()
            open_incident["timeline"].append(
                {"at": now.isoformat(), "event": "resolved", "detail": "all targets met"}
            )
            slack("resolved", open_incident, _at_least(open_incident["severity"], slack_min))
            postmortem = postmortem_report(open_incident, report)
            state["history"] = [*state["history"], open_incident][-_HISTORY_KEPT:]
            result_incident = open_incident
            open_incident = None
        else:
            status = "resolve_failed"

    state["open"] = open_incident
    return {
        "status": status,
        "incident": open_incident if result_incident is None else result_incident,
        "notifications": notifications,
        "failed": [n for n in notifications if n["status"] == "failed"],
        "skipped": list(notifiers.skipped),
        "postmortem": postmortem,
        "dry_run": dry_run,
    }


def handle_incidents(
    report: Mapping[str, Any],
    config: SlaConfig,
    notifiers: Notifiers,
    state_path: Path,
    now: datetime,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """:func:`advance_incidents` with the state kept in a JSON file between runs (kept in a dry run too)."""
    state = load_state(state_path)
    result = advance_incidents(state, report, config, notifiers, now, dry_run=dry_run)
    save_state(state_path, state)
    return result


def acknowledge_state(
    state: dict[str, Any], notifiers: Notifiers, now: datetime, *, dry_run: bool = False
) -> dict[str, Any]:
    """Acknowledge the open incident of ``state`` (stops its escalation) on PagerDuty and in the state."""
    incident = state["open"]
    if incident is None:
        return {"status": "no open incident", "notifications": []}
    notifications: list[dict[str, Any]] = []
    if notifiers.pagerduty is not None and incident["pagerduty_triggered"]:
        sender = notifiers.pagerduty
        _deliver(
            notifications,
            "pagerduty",
            "acknowledge",
            lambda: sender.event("acknowledge", incident["dedup_key"]),
            dry_run,
        )
    incident["acknowledged_at"] = now.isoformat()
    incident["timeline"].append({"at": now.isoformat(), "event": "acknowledged", "detail": ""})
    return {"status": "acknowledged", "notifications": notifications}


def acknowledge(
    state_path: Path, notifiers: Notifiers, now: datetime, *, dry_run: bool = False
) -> dict[str, Any]:
    """:func:`acknowledge_state` on the state kept in a JSON file."""
    state = load_state(state_path)
    result = acknowledge_state(state, notifiers, now, dry_run=dry_run)
    if state["open"] is not None:
        save_state(state_path, state)
    return result


def _duration(start: str, end: str) -> str:
    minutes = int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def postmortem_report(incident: Mapping[str, Any], report: Mapping[str, Any] | None = None) -> str:
    """A markdown post-mortem of a resolved (or still open) incident from its recorded state."""
    end = incident.get("resolved_at")
    lines = [
        f"# Post-mortem: SLA incident {incident['dedup_key']}",
        "",
        f"- **Severity:** {incident['severity']}",
        f"- **Opened:** {incident['opened_at']}",
        f"- **Resolved:** {end or 'not yet'}",
    ]
    if end:
        lines.append(f"- **Duration:** {_duration(incident['opened_at'], end)}")
    lines += [
        f"- **Escalated:** {incident.get('escalated_at') or 'no'}",
        f"- **Acknowledged:** {incident.get('acknowledged_at') or 'no'}",
        "",
        "## Summary",
        "",
        incident["summary"],
        "",
        "## Impact",
        "",
    ]
    breaches = incident.get("breaches") or []
    if breaches:
        lines += [
            "| Item | Priority | Clock | Target (h) | Elapsed (h) | Open |",
            "|---|---|---|---:|---:|---|",
        ]
        for b in breaches:
            lines.append(
                f"| {b['repo']}#{b['number']} | {b['priority']} | {b['clock']} | {b['target_hours']:g} | "
                f"{b['elapsed_hours']:g} | {'yes' if b['open'] else 'no'} |"
            )
        more = more_breaches(incident, len(breaches))
        if more:
            lines += ["", more]
    else:
        lines.append("No item breached its response or resolution target.")
    lines += ["", "Reasons: " + "; ".join(incident.get("reasons", [])), "", "## Timeline", ""]
    lines += [
        f"- {entry['at']} — {entry['event']}" + (f": {entry['detail']}" if entry["detail"] else "")
        for entry in incident.get("timeline", [])
    ]
    lines += ["", "## Mitigations (playbook)", ""]
    mitigations = incident.get("mitigations") or []
    for step in mitigations:
        where = f" {step['repo']}#{step['number']}" if "repo" in step else ""
        extra = ", ".join(f"{k}={v}" for k, v in step.items() if k not in {"action", "repo", "number"})
        lines.append(f"- `{step['action']}`{where}" + (f" ({extra})" if extra else ""))
    if not mitigations:
        lines.append("- none")
    if report is not None:
        rate, available = report["success_rate"]["value"], report["availability"]["value"]
        combined = report["compliance"]["overall"]["combined"]
        lines += [
            "",
            "## State at resolution",
            "",
            f"- CI success rate: {'n/a' if rate is None else f'{rate:.1%}'}",
            f"- CI availability: {'n/a' if available is None else f'{available:.2%}'}",
            f"- SLA compliance: {'n/a' if combined is None else f'{combined:.1%}'}",
        ]
    lines += [
        "",
        "## Follow-ups",
        "",
        "- [ ] Root cause of each breach written down",
        "- [ ] Targets or routing adjusted where they proved unrealistic",
        "- [ ] Playbook steps that did not help removed or changed",
        "",
    ]
    return "\n".join(lines)
