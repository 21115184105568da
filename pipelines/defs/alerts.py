"""Failed pipeline runs and stale assets reported to Slack, through the SLA incidents' webhook notifier.

The webhook URL is a secret: like the GitHub token it is read from the environment by name when a
failure is reported (``$REPOPILOT_SLACK_WEBHOOK_URL`` by default), so it never enters resource
configuration, the Dagster UI, logs or the notifier's errors. Unset, failures are not sent and the
sensor's tick says why.

A failed freshness check (:mod:`pipelines.defs.freshness`, WARN severity) fails no run, so
:func:`freshness_alerts_sensor` reads the checks' evaluations from the instance's event log and posts
one message per change of state: passing (or never seen) to failing, and failing to passing
("recovered"). Its cursor keeps, per check, the storage id of the last evaluation it has seen and
whether that one passed, so no message is sent twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from dagster import (
    AssetCheckKey,
    AssetChecksDefinition,
    ConfigurableResource,
    DefaultSensorStatus,
    EnvVar,
    MetadataValue,
    RunFailureSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TimestampMetadataValue,
    run_failure_sensor,
    sensor,
)
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)
from pydantic import BaseModel, Field, SecretStr

from actions.sla.incidents import NotificationError, SlackNotifier

SLACK_WEBHOOK_ENV = "REPOPILOT_SLACK_WEBHOOK_URL"
MAX_STEPS_LISTED = 5
MAX_REASON_CHARS = 300
FRESHNESS_ALERTS_SENSOR = "slack_on_freshness_change"
# evaluations read per check and tick: the freshness sensor evaluates a check at most every couple
# of minutes, so a tick a minute sees one or two new ones; more are older than anyone needs told
EVALUATIONS_READ = 20
# what Dagster's last-update freshness checks record (dagster._core.definitions.freshness)
LAST_UPDATE_METADATA = "dagster/last_updated_timestamp"
DEADLINE_METADATA = "dagster/latest_cron_tick_timestamp"
_COMPLETED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


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


class CheckSeen(BaseModel):
    """The last evaluation of one check the alerts sensor has seen: its storage id, and whether it passed."""

    id: int
    passed: bool


class FreshnessAlertsCursor(BaseModel):
    """The sensor's cursor: what it last saw of each check, by ``asset:check`` (no URL, no message)."""

    checks: dict[str, CheckSeen] = {}


def _stamp(metadata: Mapping[str, MetadataValue], key: str) -> str | None:
    """A timestamp of the check's metadata, in minutes UTC, or None when the check did not set it."""
    value = metadata.get(key)
    if not isinstance(value, TimestampMetadataValue):
        return None
    return datetime.fromtimestamp(value.value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _evaluation_text(record: AssetCheckExecutionRecord, passed: bool) -> str:
    """A transition's message: the asset, its last update, the deadline missed and the check's explanation.

    The times come from the evaluation's metadata (what the check saw), not from when it was stored.
    """
    key = record.key
    asset = key.asset_key.to_user_string()
    evaluation = record.event.asset_check_evaluation if record.event is not None else None
    metadata = evaluation.metadata if evaluation is not None else {}
    updated = _stamp(metadata, LAST_UPDATE_METADATA)
    if passed:
        return f":white_check_mark: repopilot: {asset} recovered" + (
            f": updated {updated}" if updated else ""
        )
    deadline = _stamp(metadata, DEADLINE_METADATA)
    text = f":warning: repopilot: {asset} is stale: {key.name} failed"
    text += f" at the {deadline} deadline" if deadline else ""
    text += f"; last updated {updated}" if updated else "; never updated"
    lines = (evaluation.description or "").strip().splitlines() if evaluation is not None else []
    return text + (f"\n• {lines[0][:MAX_REASON_CHARS]}" if lines else "")


def freshness_transitions(
    instance_records: dict[AssetCheckKey, Sequence[AssetCheckExecutionRecord]],
    cursor: FreshnessAlertsCursor,
) -> list[tuple[str, str, CheckSeen]]:
    """The messages to send, in order, each with its check and what the cursor holds once it is sent.

    A check never seen before is taken as passing, so its first failure is told and a first pass is not;
    of its history only the newest evaluation counts (a sensor switched on late tells the state now,
    not the changes before it).
    """
    out: list[tuple[str, str, CheckSeen]] = []
    for key, records in instance_records.items():
        name = key.to_user_string()
        seen = cursor.checks.get(name)
        ordered = sorted(records, key=lambda r: r.id)
        for record in ordered[-1:] if seen is None else [r for r in ordered if r.id > seen.id]:
            passed = record.status is AssetCheckExecutionRecordStatus.SUCCEEDED
            was_passing = seen is None or seen.passed
            seen = CheckSeen(id=record.id, passed=passed)
            # the silent evaluations move the cursor too, carried by the next message or the tick's end
            out.append((name, _evaluation_text(record, passed) if passed != was_passing else "", seen))
    return out


def freshness_alerts_sensor(checks: Sequence[AssetChecksDefinition]) -> SensorDefinition:
    """A sensor posting to Slack each time one of ``checks`` starts failing or recovers."""
    keys = sorted({key for definition in checks for key in definition.check_keys}, key=str)

    @sensor(
        name=FRESHNESS_ALERTS_SENSOR,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Report freshness checks that fail or recover to Slack ($REPOPILOT_SLACK_WEBHOOK_URL).",
    )
    def slack_on_freshness_change(
        context: SensorEvaluationContext, alerts: RunAlertsResource
    ) -> SensorResult:
        """Post each transition; the cursor moves past each message once Slack has taken it.

        Raises:
            NotificationError: when Slack refuses the first message of the tick (naming Slack and the
                status, never the URL); the tick fails and the next one tries again.
        """
        cursor = FreshnessAlertsCursor.model_validate_json(context.cursor or "{}")
        storage = context.instance.event_log_storage
        history = {
            key: storage.get_asset_check_execution_history(key, limit=EVALUATIONS_READ, status=_COMPLETED)
            for key in keys
        }
        transitions = freshness_transitions(history, cursor)
        messages = [text for _, text, _ in transitions if text]
        notifier = alerts.slack()
        if notifier is None:
            for name, _, seen in transitions:
                cursor.checks[name] = seen
            skip = f"{alerts.webhook_url_env} is not set: {len(messages)} freshness changes were not sent"
            return SensorResult(skip_reason=skip if messages else None, cursor=cursor.model_dump_json())
        sent = 0
        for name, text, seen in transitions:
            if text:
                try:
                    notifier.send(text)
                except NotificationError as error:
                    if sent == 0:
                        raise  # nothing sent this tick: failing it repeats nothing
                    # what was sent must not be sent again: keep the cursor, say so and retry next tick
                    return SensorResult(
                        skip_reason=f"{error}: {len(messages) - sent} freshness changes left for next tick",
                        cursor=cursor.model_dump_json(),
                    )
                sent += 1
            cursor.checks[name] = seen
        if not messages:
            return SensorResult(
                skip_reason="no freshness check changed state", cursor=cursor.model_dump_json()
            )
        return SensorResult(cursor=cursor.model_dump_json())

    return slack_on_freshness_change
