"""The incident state kept in GitHub: an issue labelled ``repopilot-incident`` with a hidden state block.

A workflow runner starts empty, so the state between runs lives where the next run can read it: the
body of the incident's own issue ends with an HTML comment holding the state as JSON, tagged with a
stable incident key (the repositories watched)::

    <!-- repopilot-incident-state key=repopilot-sla/owner/a,owner/b
    {"version": 1, "open": {...}, "history": []}
    -->

GitHub hides the comment when it renders the issue; the action reads it back on the next run. Only
people with triage rights can label an issue, so a stranger's issue cannot pose as the incident.
One issue per incident: it is opened with the incident (before anyone is notified), updated when
something material changes, and closed, with the post-mortem as its last comment, when resolved.
A state block that cannot be read is an error, never an empty state: guessing would notify again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from github.Requester import Requester

from actions.common.report import markdown_table
from actions.sla.github_data import MARKER, pages
from actions.sla.incidents import breach_total, check_state, empty_state, more_breaches

_BLOCK = re.compile(r"<!-- repopilot-incident-state key=(?P<key>[^\s]+)\n(?P<json>.*?)\n-->", re.DOTALL)
_MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
_KEPT_BREACHES = 50


def _encode(state: Mapping[str, Any]) -> str:
    # < and > escaped so no text in the state (an issue title) can close the HTML comment early
    return (
        json.dumps(state, sort_keys=True, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
    )


def _stored(state: Mapping[str, Any], kept: int) -> dict[str, Any]:
    """The state as written: the open incident's lists cut to ``kept`` (they are refreshed every run)."""
    out = {**state, "history": []}  # one issue per incident: earlier ones are their own closed issues
    incident = state.get("open")
    if isinstance(incident, dict):
        breaches = incident.get("breaches") or []
        out["open"] = {
            **incident,
            "breaches": breaches[:kept],
            "breach_count": breach_total(incident),
            "mitigations": (incident.get("mitigations") or [])[:kept],
        }
    return out


def render_body(key: str, state: Mapping[str, Any], incident: Mapping[str, Any]) -> str:
    """The issue body: the incident for people, then the hidden state block for the next run."""
    kept = _KEPT_BREACHES
    while True:
        stored = _stored(state, kept)
        breaches = incident.get("breaches") or []
        lines = [
            f"**Severity:** {incident['severity']} · **opened** {incident['opened_at']}"
            + (f" · **escalated** {incident['escalated_at']}" if incident.get("escalated_at") else "")
            + (
                f" · **acknowledged** {incident['acknowledged_at']}"
                if incident.get("acknowledged_at")
                else ""
            ),
            "",
            incident["summary"],
            "",
        ]
        if breaches:
            rows = [
                (
                    f"{b['repo']}#{b['number']}",
                    b["priority"],
                    b["clock"],
                    f"{b['target_hours']:g}",
                    f"{b['elapsed_hours']:g}",
                )
                for b in breaches[:kept]
            ]
            lines.append(markdown_table(("item", "priority", "clock", "target (h)", "elapsed (h)"), rows))
            more = more_breaches(incident, len(rows))
            if more:
                lines.append(f"\n{more}")
        lines += [
            "",
            "Add the label to acknowledge (stops the escalation). repopilot closes this issue, with a "
            "post-mortem, once every target is met again.",
            "",
            f"<!-- repopilot-incident-state key={key}\n{_encode(stored)}\n-->",
        ]
        body = "\n".join(lines)
        if len(body) <= _MAX_BODY or kept == 0:
            return body
        kept //= 2


def parse_body(body: str | None, where: str) -> tuple[str, dict[str, Any]] | None:
    """``(key, state)`` of the state block in an issue body, or None when it has none.

    Raises:
        ValueError: when the block is there but unreadable (naming ``where``).
    """
    match = _BLOCK.search(body or "")
    if match is None:
        return None
    try:
        state = json.loads(match.group("json"))
    except ValueError:
        raise ValueError(
            f"the incident state in {where} is not readable JSON (was the issue edited?)"
        ) from None
    return match.group("key"), check_state(state, where)


@dataclass
class IncidentStore:
    """The incident issue of ``key`` in ``repo``: reading it, opening, updating and closing it."""

    requester: Requester
    repo: str
    key: str
    label: str
    number: int | None = None
    labels: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    def load(self) -> dict[str, Any]:
        """The state of the open incident issue of this key (the oldest if several), else an empty one."""
        params = {"state": "open", "labels": self.label, "sort": "created", "direction": "asc"}
        for issue in pages(self.requester, f"/repos/{self.repo}/issues", params):
            if "pull_request" in issue:
                continue
            found = parse_body(issue.get("body"), f"{self.repo}#{issue.get('number')}")
            if found is not None and found[0] == self.key:
                self.number = int(issue["number"])
                self.labels = [
                    str(lab.get("name")) for lab in issue.get("labels") or [] if isinstance(lab, dict)
                ]
                return found[1]
        return empty_state()

    def acknowledged_by_label(self, acknowledge_label: str) -> bool:
        """Whether someone put the acknowledge label on the incident issue."""
        return acknowledge_label.lower() in {name.lower() for name in self.labels}

    def save(self, state: Mapping[str, Any], incident: Mapping[str, Any]) -> None:
        """Write the state: open the issue if there is none yet, else update its body (and title)."""
        title = f"SLA incident ({incident['severity']}): {incident['summary']}"[:250]
        body = render_body(self.key, state, incident)
        if self.number is None:
            _, created = self.requester.requestJsonAndCheck(
                "POST",
                f"/repos/{self.repo}/issues",
                input={"title": title, "body": body, "labels": [self.label, str(incident["severity"])]},
            )
            self.number = int(created["number"])
            self.writes.append(f"opened incident issue #{self.number}")
        else:
            self.requester.requestJsonAndCheck(
                "PATCH", f"/repos/{self.repo}/issues/{self.number}", input={"title": title, "body": body}
            )
            self.writes.append(f"updated incident issue #{self.number}")

    def close(self, state: Mapping[str, Any], incident: Mapping[str, Any], postmortem: str) -> None:
        """Post the post-mortem and close the issue as completed."""
        if self.number is None:
            self.save(state, incident)
        path = f"/repos/{self.repo}/issues/{self.number}"
        self.requester.requestJsonAndCheck(
            "POST", f"{path}/comments", input={"body": f"{MARKER}\n{postmortem}"}
        )
        self.requester.requestJsonAndCheck(
            "PATCH",
            path,
            input={
                "body": render_body(self.key, state, incident),
                "state": "closed",
                "state_reason": "completed",
            },
        )
        self.writes.append(f"posted the post-mortem and closed incident issue #{self.number}")
