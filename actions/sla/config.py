"""The SLA configuration, ``.github/sla.yml``, validated with pydantic.

Targets are per priority (P0 most urgent). An item's priority comes from its labels: through
``priority_labels`` when given (label name → priority, case-insensitive), else from names such as
``P1``, ``priority/p2`` or ``priority: 3``; items without one get ``default_priority``.

Notification secrets never live in this file: it names the environment variables that hold the
Slack webhook URL and the PagerDuty routing key, and :meth:`NotificationConfig.secrets` reads
them into :class:`~pydantic.SecretStr` values that do not print.

Example::

    targets:
      P0: {response_hours: 0.5, resolution_hours: 8}
      P1: {response_hours: 4, resolution_hours: 48}
      P2: {response_hours: 24, resolution_hours: 336}
      P3: {response_hours: 72, resolution_hours: 720}   # every priority needs a target
    priority_labels: {"sev: critical": P0, bug: P2}
    success_rate_target: 0.95
    availability_target: 0.99
    window_hours: 24
    escalation_minutes: 15
    on_call: [alice, bob]          # assigned to items waiting for a first response
    max_breaches_listed: 100       # breach records in a report (the most urgent); counts stay exact
    incident_label: repopilot-incident
    notifications:
      slack: {webhook_url_env: SLACK_WEBHOOK_URL}
      pagerduty: {routing_key_env: PAGERDUTY_ROUTING_KEY, min_severity: SEV2}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Priority = Literal["P0", "P1", "P2", "P3"]
PRIORITIES: tuple[Priority, ...] = ("P0", "P1", "P2", "P3")
Severity = Literal["SEV1", "SEV2", "SEV3"]
SEVERITIES: tuple[Severity, ...] = ("SEV1", "SEV2", "SEV3")
"""Incident severities, most severe first."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOGIN = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
_PRIORITY_LABEL = re.compile(r"(?:priority|prio|pri)?[\s:/_.\-]*p?([0-3])")

# Inputs are hidden from validation messages: a secret pasted where a variable name belongs
# must not be echoed back into a CI log.
_CONFIG = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Target(BaseModel):
    """Hours within which an item must get its first response and be resolved."""

    model_config = _CONFIG

    response_hours: float = Field(gt=0)
    resolution_hours: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Target:
        if self.resolution_hours < self.response_hours:
            raise ValueError("resolution_hours must not be shorter than response_hours")
        return self


def _default_targets() -> dict[Priority, Target]:
    return {
        "P0": Target(response_hours=1, resolution_hours=24),
        "P1": Target(response_hours=4, resolution_hours=72),
        "P2": Target(response_hours=24, resolution_hours=14 * 24),
        "P3": Target(response_hours=72, resolution_hours=30 * 24),
    }


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be the NAME of an environment variable (letters, digits, _), not its value")
    return value


@dataclass(frozen=True)
class Secrets:
    """Notification secrets read from the environment; None when a variable is unset or empty."""

    slack_webhook_url: SecretStr | None
    pagerduty_routing_key: SecretStr | None


class SlackConfig(BaseModel):
    """Slack incoming webhook."""

    model_config = _CONFIG

    enabled: bool = True
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    min_severity: Severity = "SEV3"

    _name = field_validator("webhook_url_env")(_env_name)


class PagerDutyConfig(BaseModel):
    """PagerDuty Events API v2."""

    model_config = _CONFIG

    enabled: bool = True
    routing_key_env: str = "PAGERDUTY_ROUTING_KEY"
    events_url: str = Field(default="https://events.pagerduty.com/v2/enqueue")
    min_severity: Severity = "SEV2"
    source: str = "repopilot"

    _name = field_validator("routing_key_env")(_env_name)

    @field_validator("events_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https URL (plain http only on loopback)")
        return value


class NotificationConfig(BaseModel):
    """Where incidents are announced."""

    model_config = _CONFIG

    slack: SlackConfig = SlackConfig()
    pagerduty: PagerDutyConfig = PagerDutyConfig()

    def secrets(self, environ: Mapping[str, str]) -> Secrets:
        """The webhook URL and routing key from the named environment variables."""
        slack = environ.get(self.slack.webhook_url_env, "").strip()
        key = environ.get(self.pagerduty.routing_key_env, "").strip()
        return Secrets(SecretStr(slack) if slack else None, SecretStr(key) if key else None)


class SlaConfig(BaseModel):
    """``.github/sla.yml``: targets, the window they are judged over, and incident handling."""

    model_config = _CONFIG

    targets: dict[Priority, Target] = Field(default_factory=_default_targets)
    priority_labels: dict[str, Priority] | None = None
    default_priority: Priority = "P3"
    success_rate_target: float = Field(default=0.95, ge=0, le=1)
    availability_target: float = Field(default=0.99, ge=0, le=1)
    window_hours: float = Field(default=24.0, gt=0, le=24 * 90)
    escalation_minutes: float = Field(default=15.0, gt=0)
    breach_label: str = Field(default="sla-breach", min_length=1)
    incident_label: str = Field(default="repopilot-incident", min_length=1, max_length=50)
    acknowledge_label: str = Field(default="incident-acknowledged", min_length=1, max_length=50)
    on_call: list[str] = Field(default_factory=list, max_length=50)
    max_mitigations_per_run: int = Field(default=20, ge=0, le=100)
    max_breaches_listed: int = Field(default=100, ge=1, le=10_000)
    notifications: NotificationConfig = NotificationConfig()

    @field_validator("on_call")
    @classmethod
    def _logins(cls, value: list[str]) -> list[str]:
        if not all(_LOGIN.fullmatch(login) for login in value):
            raise ValueError("must be GitHub logins (letters, digits and single hyphens)")
        return value

    @model_validator(mode="after")
    def _complete(self) -> SlaConfig:
        missing = [p for p in PRIORITIES if p not in self.targets]
        if missing:
            raise ValueError(f"targets must cover every priority; missing {missing}")
        return self

    def priority_of(self, labels: list[str] | tuple[str, ...]) -> Priority:
        """The most urgent priority any label stands for, or ``default_priority``."""
        found: list[Priority] = []
        mapping = {k.strip().lower(): v for k, v in (self.priority_labels or {}).items()}
        for label in labels:
            text = label.strip().lower()
            if self.priority_labels is not None:
                if text in mapping:
                    found.append(mapping[text])
            elif (match := _PRIORITY_LABEL.fullmatch(text)) and (text.startswith("p") or "pri" in text):
                found.append(PRIORITIES[int(match.group(1))])
        return min(found, key=PRIORITIES.index) if found else self.default_priority
