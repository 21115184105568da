"""Per-prediction explanations in the shape of the design's ``predict_workflow_outcome`` result.

LightGBM's ``pred_contrib`` splits each raw margin (log-odds, before calibration) exactly into
one contribution per feature plus a bias term (SHAP values of the trees). The largest
contributions by absolute value become the ``factors``; the one-line recommendation comes from
the risk level and the family of the strongest risk-raising factor.

The result of :func:`predict_workflow_outcome`::

    {"probability": 0.81, "risk_level": "CRITICAL", "confidence": 0.62,
     "factors": [{"feature": "fail_streak", "value": 3.0, "contribution": 1.9,
                  "direction": "increases_risk"}, ...],
     "recommendation": "...",
     "predicted_duration_seconds": 512.0, "duration_interval": [430.0, 700.0]}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from pipelines.ml.train import DurationModel, FailureModel, confidence

Floats = npt.NDArray[np.float64]

TOP_FACTORS = 5
"""Factors listed per prediction."""

# feature-name prefixes → advice; the first family whose prefix starts the name wins
_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("prev_failed", "fail_streak", "fail_rate_", "prev_log_tests_failed"),
        "this branch is already failing: fix the last failure before pushing more changes on top of it",
    ),
    (
        ("workflow_fail_rate_", "repo_fail_rate_"),
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
        ("since_prev", "completed_runs", "hour", "day_of_week"),
        "little recent history for this branch: expect surprises and watch the first jobs",
    ),
)


def _family_advice(feature: str) -> str | None:
    for prefixes, advice in _FAMILIES:
        if feature.startswith(prefixes):
            return advice
    return None


def factors(
    contributions: Floats, row: Floats, model: FailureModel, *, top: int = TOP_FACTORS
) -> list[dict[str, Any]]:
    """The ``top`` features of one prediction by absolute contribution to the raw margin.

    Args:
        contributions: one row of :meth:`FailureModel.contributions` (features then bias).
        row: the same row of the input matrix.
        model: the model (for feature names and category decoding).
        top: how many factors to return.

    Returns:
        ``feature``, ``value`` (decoded: category string, number or None), ``contribution``
        (log-odds) and ``direction`` (``increases_risk`` or ``decreases_risk``), largest first;
        zero contributions are left out.
    """
    names = model.spec.names
    per_feature = contributions[: len(names)]
    order = np.argsort(-np.abs(per_feature), kind="stable")[:top]
    return [
        {
            "feature": names[i],
            "value": model.spec.decode(names[i], float(row[i])),
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


def predict_workflow_outcome(
    failure: FailureModel,
    duration: DurationModel | None,
    x: Floats,
    *,
    top: int = TOP_FACTORS,
) -> list[dict[str, Any]]:
    """The design's ``predict_workflow_outcome`` result for every row of ``x``.

    Args:
        failure: the calibrated failure model.
        duration: the duration model (``None`` leaves the duration fields null).
        x: input rows encoded with ``failure.spec``.
        top: factors per prediction.

    Returns:
        One dict per row: ``probability``, ``risk_level``, ``confidence``, ``factors``,
        ``recommendation``, ``predicted_duration_seconds``, ``duration_interval``.
    """
    probability = failure.probability(x)
    levels = failure.risk.levels(probability)
    sure = confidence(probability, failure.threshold)
    contributions = failure.contributions(x)
    if duration is not None:
        point, low, high = duration.predict(x)
    results = []
    for i in range(x.shape[0]):
        top_factors = factors(contributions[i], x[i], failure, top=top)
        results.append(
            {
                "probability": float(probability[i]),
                "risk_level": str(levels[i]),
                "confidence": float(sure[i]),
                "factors": top_factors,
                "recommendation": recommendation(str(levels[i]), top_factors),
                "predicted_duration_seconds": None if duration is None else float(point[i]),
                "duration_interval": None if duration is None else [float(low[i]), float(high[i])],
            }
        )
    return results
