"""SlaConfig: defaults, priorities from labels, errors naming the key, secrets never echoed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actions.sla.config import SlaConfig

SECRET_URL = "https://hooks.slack.com/services/T000/B000/VERYSECRETTOKEN"


def test_defaults_cover_every_priority() -> None:
    config = SlaConfig()
    assert set(config.targets) == {"P0", "P1", "P2", "P3"}
    assert config.escalation_minutes == 15 and config.max_breaches_listed == 100
    assert config.notifications.pagerduty.events_url == "https://events.pagerduty.com/v2/enqueue"


def test_priority_from_labels() -> None:
    config = SlaConfig()
    assert config.priority_of(["bug", "priority/p1", "P2"]) == "P1"
    assert config.priority_of(["Priority: 0"]) == "P0"
    assert config.priority_of(["bug", "help wanted"]) == "P3"
    mapped = SlaConfig(priority_labels={"Sev: Critical": "P0", "bug": "P2"}, default_priority="P2")
    assert mapped.priority_of(["sev: critical"]) == "P0"
    assert mapped.priority_of(["P1"]) == "P2"  # an explicit mapping replaces the default rules


@pytest.mark.parametrize(
    ("raw", "key", "message"),
    [
        ({"targets": {"P0": {"response_hours": 1, "resolution_hours": 4}}}, "targets", "missing ['P1'"),
        ({"targets": {"P4": {"response_hours": 1, "resolution_hours": 4}}}, "targets.P4", "P0"),
        (
            {"targets": {"P0": {"response_hours": 5, "resolution_hours": 4}}},
            "targets.P0",
            "must not be shorter",
        ),
        ({"success_rate_target": 1.5}, "success_rate_target", "less than or equal to 1"),
        ({"escalation_minute": 10}, "escalation_minute", "Extra inputs"),
        (
            {"notifications": {"pagerduty": {"events_url": "ftp://x"}}},
            "notifications.pagerduty.events_url",
            "https",
        ),
        ({"notifications": {"slack": {"webhook": "x"}}}, "notifications.slack.webhook", "Extra inputs"),
        ({"max_breaches_listed": 0}, "max_breaches_listed", "greater than or equal to 1"),
        ({"max_breaches_listed": 20_000}, "max_breaches_listed", "less than or equal to 10000"),
        ({"max_breaches_listed": 2.5}, "max_breaches_listed", "valid integer"),
    ],
)
def test_invalid_configs_name_the_key(raw: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        SlaConfig.model_validate(raw)
    assert key in str(info.value) and message in str(info.value)


def test_a_secret_pasted_as_a_variable_name_is_refused_without_echo() -> None:
    with pytest.raises(ValidationError) as info:
        SlaConfig.model_validate({"notifications": {"slack": {"webhook_url_env": SECRET_URL}}})
    text = str(info.value) + repr(info.value) + str(info.value.errors(include_input=False))
    assert "notifications.slack.webhook_url_env" in str(info.value)
    assert "VERYSECRETTOKEN" not in text and "hooks.slack.com" not in text


def test_secrets_read_from_named_variables_and_masked() -> None:
    config = SlaConfig.model_validate({"notifications": {"pagerduty": {"routing_key_env": "PD_KEY"}}})
    secrets = config.notifications.secrets({"SLACK_WEBHOOK_URL": SECRET_URL, "PD_KEY": "R0UT1NGKEY"})
    assert secrets.slack_webhook_url is not None and secrets.pagerduty_routing_key is not None
    assert secrets.slack_webhook_url.get_secret_value() == SECRET_URL
    assert "VERYSECRETTOKEN" not in repr(secrets) and "R0UT1NGKEY" not in repr(secrets)
    empty = config.notifications.secrets({"SLACK_WEBHOOK_URL": "  "})
    assert empty.slack_webhook_url is None and empty.pagerduty_routing_key is None
