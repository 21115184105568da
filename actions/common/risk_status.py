"""The ``repopilot/risk`` commit status: how predict writes a run's failure risk and auto-merge reads it.

The predict action posts the risk of a run on the run's head commit as a commit status, so a pull
request pushed after the last export still has a score for auto-merge to gate on. The status's
description is the only place GitHub keeps free text (140 characters), so it carries the figures in
one fixed, parseable sentence: ``failure risk 12.3% (LOW), run 123456 attempt 1``. The percentage is
rounded *up* to 0.1 %, so the status never shows a run as safer than the model said.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

RISK_CONTEXT = "repopilot/risk"
"""The default context of the status (``risk.status_context`` in ``.github/auto-merge.yml``)."""
DESCRIPTION_LIMIT = 140
"""GitHub's limit on a commit status description."""
RISK_LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")

_DESCRIPTION = re.compile(
    r"^failure risk (?P<percent>\d{1,3}(?:\.\d)?)% \((?P<level>[A-Z]+)\), "
    r"run (?P<run>[1-9]\d{0,19})(?: attempt (?P<attempt>[1-9]\d{0,4}))?$"
)
EXAMPLE = "failure risk 12.3% (LOW), run 123456 attempt 1"


@dataclass(frozen=True)
class StatusRisk:
    """The figures of one ``repopilot/risk`` status description."""

    probability: float
    risk_level: str
    run_id: int
    run_attempt: int


def describe(probability: float, risk_level: str, run_id: int, run_attempt: int) -> str:
    """The status description for a prediction (at most :data:`DESCRIPTION_LIMIT` characters).

    Raises:
        ValueError: for a probability outside 0-1 or an unknown risk level.
    """
    if not 0.0 <= probability <= 1.0 or risk_level not in RISK_LEVELS:
        raise ValueError(f"not a prediction: probability {probability!r}, level {risk_level!r}")
    # rounded up (after removing float noise such as 0.3 * 1000 = 300.00000000000006)
    tenths = math.ceil(round(probability * 1000, 6))
    text = f"failure risk {tenths / 10:.1f}% ({risk_level}), run {run_id} attempt {run_attempt}"
    return text[:DESCRIPTION_LIMIT]


def parse(description: str | None) -> StatusRisk:
    """The figures of a status description written by :func:`describe`.

    Raises:
        ValueError: saying what is wrong and what was expected (the description is quoted, cut to 140).
    """
    expected = f"expected e.g. {EXAMPLE!r}"
    if not description:
        raise ValueError(f"the status has no description ({expected})")
    found = _DESCRIPTION.match(description.strip())
    if found is None:
        raise ValueError(
            f"cannot read the status description {description[:DESCRIPTION_LIMIT]!r} ({expected})"
        )
    percent = float(found["percent"])
    if percent > 100.0:
        raise ValueError(f"the status gives a failure risk of {percent}%, above 100%")
    if found["level"] not in RISK_LEVELS:
        raise ValueError(
            f"the status gives an unknown risk level {found['level']!r} (one of {', '.join(RISK_LEVELS)})"
        )
    return StatusRisk(
        probability=percent / 100.0,
        risk_level=found["level"],
        run_id=int(found["run"]),
        run_attempt=int(found["attempt"] or 1),
    )
