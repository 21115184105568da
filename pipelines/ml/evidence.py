"""The least evidence a candidate's test window must hold before the promotion gate may pass it.

The gate's first rule, "beat the naive baselines", is a point comparison on the test window:
a candidate no better than the baselines beats them by chance on a small window, and a first
model meets no model in service to be compared with. So before any figure is judged the
window must hold :data:`MIN_TEST_GROUPS` attempt groups with an outcome and as many with a
duration, :data:`MIN_TEST_CLASS_GROUPS` of them with a failure and as many with a passing
attempt; below that the gate refuses with one reason naming the counts
(:func:`evidence_shortfall`). The counts are the report's ``windows.test`` (written by
:func:`~pipelines.ml.versus.training_windows`), which the model card shows too.
"""

from __future__ import annotations

from typing import Any

MIN_TEST_GROUPS = 100
"""Fewest attempt groups with an outcome, and with a duration, on the candidate's test window.

``repopilot benchmark gate-noise`` (1,000–2,000 simulated windows per size, baseline ROC-AUC
0.70): with half the groups failing, a candidate whose true ROC-AUC is 0.10 below the
baselines' still beats them on ROC-AUC and balanced accuracy in 12% of 40-group windows (20 of
each class: :data:`MIN_TEST_CLASS_GROUPS` alone is not enough when neither class is rare), 6%
of 60-group and 4% of 100-group ones. A duration model whose true MAE is 10% above the rolling
median's still beats it in 18% of 50-group windows, 10% of 100-group and 4% of 200-group ones.
The paired duration rules against a model in service refuse an equal one in 14% of 10-group
windows, 5–7% on 20–50 groups and 3–4% from 100 on (their coverage band: 6% at 10 groups,
under 1% from 30 on). With 20% failing groups 100 is also where 20 failing groups are reached."""

MIN_TEST_CLASS_GROUPS = 20
"""Of which at least this many with a failure, and as many with a passing attempt.

ROC-AUC and balanced accuracy hinge on the rarer class. ``repopilot benchmark gate-noise``: a
candidate whose true ROC-AUC is 0.10 below the baselines' (their own score plus noise) still
beats them on ROC-AUC and balanced accuracy in 14% of windows with 10 failing groups, 6% with
20 and 2% with 40 at 20% failing groups (12%, 5% and 1.5% at 5% failing groups: the rate
follows the failing groups, not the window's size); one 0.05 below passes in 19%, 12% and 7%.
Ten, the paired comparison's :data:`~pipelines.ml.versus.MIN_UNSEEN_CLASS_GROUPS`, is enough
there because that rule allows for noise (its question is how often an *equal* candidate is
refused); the baseline rule allows for none, so it needs twice as many. An equal candidate
passes the point comparison in about 40% of windows at every size: the minimum keeps clearly
worse candidates out, it does not make the comparison a test of superiority."""


def evidence_counts(report: dict[str, Any]) -> dict[str, int] | None:
    """The test window's attempt-group counts a report records; None when it predates them."""
    test = (report.get("windows") or {}).get("test") or {}
    counts = {k: test.get(k) for k in ("groups", "failing_groups", "passing_groups", "duration_groups")}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in counts.values()):
        return None
    return {k: int(v) for k, v in counts.items() if isinstance(v, int)}


def evidence_shortfall(report: dict[str, Any]) -> str | None:
    """Why the candidate's test window is too small to judge it on; None when it is large enough.

    Args:
        report: the candidate's report (its ``windows.test`` counts).

    Returns:
        One reason naming the window's counts, the minimum and what to do, or None.
    """
    counts = evidence_counts(report)
    if counts is None:
        return (
            "the candidate's report records no attempt-group counts of its test window (trained before "
            "they were recorded), so it cannot be shown to hold enough evidence: train it again"
        )
    enough = (
        counts["groups"] >= MIN_TEST_GROUPS
        and counts["duration_groups"] >= MIN_TEST_GROUPS
        and min(counts["failing_groups"], counts["passing_groups"]) >= MIN_TEST_CLASS_GROUPS
    )
    if enough:
        return None
    return (
        f"too little evidence on the test window: {counts['groups']} attempt groups with an outcome "
        f"({counts['failing_groups']} with a failure, {counts['passing_groups']} with a passing attempt) "
        f"and {counts['duration_groups']} with a duration, fewer than the gate needs to tell a model from "
        f"the naive baselines beyond chance: at least {MIN_TEST_GROUPS} attempt groups with an outcome "
        f"and {MIN_TEST_GROUPS} with a duration, {MIN_TEST_CLASS_GROUPS} of them with a failure and "
        f"{MIN_TEST_CLASS_GROUPS} with a passing attempt; ingest more history (a longer backfill) or "
        "wait for more runs, and the next training judges a larger window"
    )
