"""Failed pipeline runs reported to Slack, through the incoming-webhook notifier of the SLA incidents.

The webhook URL is a secret: like the GitHub token it is read from the environment by name when a
failure is reported (``$REPOPILOT_SLACK_WEBHOOK_URL`` by default), so it never enters resource
configuration, the Dagster UI, logs or the notifier's errors. Unset, failures are not sent and the
sensor's tick says why.
"""

from __future__ import annotations

from dagster import (
    ConfigurableResource,
    DefaultSensorStatus,
    EnvVar,
    RunFailureSensorContext,
    SkipReason,
    run_failure_sensor,
)
from pydantic import Field, SecretStr

from actions.sla.incidents import SlackNotifier

SLACK_WEBHOOK_ENV = "REPOPILOT_SLACK_WEBHOOK_URL"
MAX_STEPS_LISTED = 5
MAX_REASON_CHARS = 300


class RunAlertsResource(ConfigurableResource):  # type: ignore[type-arg]
    """Where failed runs are reported: a Slack incoming webhook named by an environment variable."""

    webhook_url_env: str = Field(
        default=SLACK_WEBHOOK_ENV, description="environment variable holding the Slack incoming-webhook URL"
    )
    timeout: float = Field(default=10.0, gt=0, description="seconds before Slack is given up on")

    def slack(self) -> SlackNotifier | None:
        """The notifier, or None when the variable is unset or empty."""
        url = EnvVar(self.webhook_url_env).get_value(default="")
        return SlackNotifier(SecretStr(url), timeout=self.timeout) if url else None


def failure_text(context: RunFailureSensorContext) -> str:
    """One Slack message: the job, run, partition and each failed step with the first line of its error."""
    run = context.dagster_run
    partition = run.tags.get("dagster/partition")
    lines = [
        f":x: repopilot: run {run.run_id[:8]} of {run.job_name}"
        + (f" ({partition})" if partition else "")
        + " failed"
    ]
    steps = context.get_step_failure_events()
    for event in steps[:MAX_STEPS_LISTED]:
        error = event.step_failure_data.error
        cause = error.cause if error is not None and error.cause is not None else error
        reason = (cause.message if cause is not None else "").strip().splitlines()
        first = reason[0] if reason else "no message"
        lines.append(f"• {event.step_key}: {first[:MAX_REASON_CHARS]}")
    if len(steps) > MAX_STEPS_LISTED:
        lines.append(f"• and {len(steps) - MAX_STEPS_LISTED} more failed steps")
    if not steps:
        lines.append(f"• {(context.failure_event.message or 'no message')[:MAX_REASON_CHARS]}")
    return "\n".join(lines)


@run_failure_sensor(
    name="slack_on_run_failure",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Report every failed run of this code location to Slack ($REPOPILOT_SLACK_WEBHOOK_URL).",
)
def slack_on_run_failure(context: RunFailureSensorContext, alerts: RunAlertsResource) -> SkipReason | None:
    """Post the failure; a Slack that refuses or cannot be reached fails the tick, so it is retried.

    Raises:
        NotificationError: naming Slack and the status, never the URL.
    """
    notifier = alerts.slack()
    if notifier is None:
        return SkipReason(
            f"{alerts.webhook_url_env} is not set: the failure of run {context.dagster_run.run_id[:8]} "
            "was not sent to Slack"
        )
    notifier.send(failure_text(context))
    return None
