"""The repopilot/risk commit status: its description as predict writes it and auto-merge reads it."""

from __future__ import annotations

import pytest

from actions.common.risk_status import DESCRIPTION_LIMIT, StatusRisk, describe, parse


@pytest.mark.parametrize(
    ("probability", "shown"),
    [(0.0, "0.0%"), (0.123, "12.3%"), (0.1231, "12.4%"), (0.3, "30.0%"), (0.30001, "30.1%"), (1.0, "100.0%")],
)
def test_the_description_rounds_the_risk_up_and_reads_back(probability: float, shown: str) -> None:
    text = describe(probability, "MEDIUM", 987654321, 2)
    assert text == f"failure risk {shown} (MEDIUM), run 987654321 attempt 2"
    assert len(text) <= DESCRIPTION_LIMIT
    back = parse(text)
    # never shown as safer than predicted, and never more than 0.1 point above it
    assert probability <= back.probability + 1e-12 and back.probability - probability < 0.001 + 1e-12
    assert back == StatusRisk(
        probability=back.probability, risk_level="MEDIUM", run_id=987654321, run_attempt=2
    )


def test_a_description_without_an_attempt_is_the_first_attempt() -> None:
    assert parse("failure risk 5% (LOW), run 12").run_attempt == 1


@pytest.mark.parametrize(
    ("description", "message"),
    [
        (None, "the status has no description"),
        ("", "the status has no description"),
        ("all good", "cannot read the status description 'all good'"),
        ("failure risk 12% (low), run 5", "cannot read the status description"),
        ("failure risk 12% (SEVERE), run 5", "unknown risk level 'SEVERE'"),
        ("failure risk 250% (HIGH), run 5", "above 100%"),
        ("failure risk 1% (LOW), run 0", "cannot read"),
        ("x" * 500, "cannot read the status description 'xxx"),
    ],
)
def test_an_unreadable_description_is_refused_clearly(description: str | None, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse(description)
    assert message in str(error.value)
    if "cannot read" in message or "no description" in message:
        assert "expected e.g. 'failure risk 12.3% (LOW), run 123456 attempt 1'" in str(error.value)
    assert len(str(error.value)) < 400  # a long description is cut, not echoed whole


def test_describe_refuses_what_is_not_a_prediction() -> None:
    with pytest.raises(ValueError, match="not a prediction"):
        describe(1.5, "LOW", 1, 1)
    with pytest.raises(ValueError, match="not a prediction"):
        describe(0.5, "SEVERE", 1, 1)
