"""How a failure prediction explains itself: factors, a recommendation and a confidence.

Shared by the pipeline (``pipelines.ml.explain``) and the predict action, so both say the same
thing about the same prediction. LightGBM's ``pred_contrib`` splits each raw margin (log-odds,
before calibration) exactly into one contribution per feature plus a bias term (SHAP values of
the trees). The largest contributions by absolute value become the ``factors``; the one-line
recommendation comes from the risk level and the family of the strongest risk-raising factor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

RISK_LEVELS: tuple[str, ...] = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
"""Risk levels, from the lowest calibrated failure probability to the highest."""

TOP_FACTORS = 5
"""Factors listed per prediction."""

# feature-name prefixes → advice; the first family whose prefix starts the name wins
_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("prev_failed", "fail_streak", "fail_rate_", "prev_log_tests_failed"),
        "this branch is already failing: fix the last failure before pushing more changes on top of it",
    ),
    (
        ("commit_",),
        "this commit already failed in another run: read that run's log before waiting on this one",
    ),
    (
        ("workflow_fail_rate_", "repo_fail_rate_", "repo_prev_failed"),
        "this workflow fails often lately: check for flaky tests or broken infrastructure before re-running",
    ),
    (
        ("branch_fail_rate_",),
        "this branch fails often across workflows: rebase on the default branch and run the tests locally",
    ),
    (
        ("lines_", "files_changed", "log_churn", "src_", "test_churn", "test_share", "doc_", "tests_added"),
        "the change is large or touches risky files: split it or run the affected tests locally first",
    ),
    (
        ("actor_",),
        "the author's recent runs fail often: ask for an early review or a local test run",
    ),
    (
        ("runs_in_flight", "repo_runs_in_flight"),
        "earlier runs are still going: their outcome is not known yet, so this estimate has less to go on",
    ),
    (
        ("since_prev", "since_repo_prev", "completed_runs", "hour", "day_of_week"),
        "little recent history for this branch: expect surprises and watch the first jobs",
    ),
)


def _family_advice(feature: str) -> str | None:
    for prefixes, advice in _FAMILIES:
        if feature.startswith(prefixes):
            return advice
    return None


def factors(
    contributions: Floats,
    row: Floats,
    names: Sequence[str],
    decode: Callable[[str, float], Any],
    *,
    top: int = TOP_FACTORS,
) -> list[dict[str, Any]]:
    """The ``top`` features of one prediction by absolute contribution to the raw margin.

    Args:
        contributions: one row of LightGBM's ``pred_contrib`` output (features then bias).
        row: the same row of the input matrix.
        names: the input column names, in matrix order.
        decode: the original value behind a matrix cell (category string, number or None).
        top: how many factors to return.

    Returns:
        ``feature``, ``value`` (decoded: category string, number or None), ``contribution``
        (log-odds) and ``direction`` (``increases_risk`` or ``decreases_risk``), largest first;
        zero contributions are left out.
    """
    per_feature = contributions[: len(names)]
    order = np.argsort(-np.abs(per_feature), kind="stable")[:top]
    return [
        {
            "feature": names[i],
            "value": decode(names[i], float(row[i])),
            "contribution": float(per_feature[i]),
            "direction": "increases_risk" if per_feature[i] > 0 else "decreases_risk",
        }
        for i in order
        if per_feature[i] != 0.0
    ]


def recommendation(risk_level: str, top_factors: list[dict[str, Any]]) -> str:
    """A one-line recommendation from the risk level and the strongest risk-raising factor."""
    if risk_level == "LOW":
        return "Low risk: no action needed."
    raising = [f for f in top_factors if f["direction"] == "increases_risk"]
    advice = next((a for f in raising if (a := _family_advice(str(f["feature"]))) is not None), None)
    if advice is None:
        advice = "review the change and its tests before relying on this run"
    prefix = {"MEDIUM": "Some risk", "HIGH": "Likely to fail", "CRITICAL": "Very likely to fail"}.get(
        risk_level, risk_level.title()
    )
    return f"{prefix}: {advice}."


def confidence(probability: Floats, threshold: float) -> Floats:
    """Per-prediction confidence in [0, 1]: how far the probability lies from the decision threshold.

    0 at the threshold, 1 at certainty (0 or 1), linear in between on each side.
    """
    p = np.asarray(probability, dtype=np.float64)
    above = (p - threshold) / max(1.0 - threshold, 1e-12)
    below = (threshold - p) / max(threshold, 1e-12)
    return np.clip(np.where(p >= threshold, above, below), 0.0, 1.0)


def risk_index(probability: Floats, thresholds: Sequence[float]) -> npt.NDArray[np.int64]:
    """Risk level index (0 = LOW ... 3 = CRITICAL) of each probability, given the three cut points."""
    p = np.asarray(probability, dtype=np.float64)
    return np.searchsorted(np.asarray(thresholds, dtype=np.float64), p, side="right").astype(np.int64)
