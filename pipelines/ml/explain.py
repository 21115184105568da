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

from actions.prediction.explain import TOP_FACTORS, confidence, factors, recommendation
from pipelines.ml.train import DurationModel, FailureModel

Floats = npt.NDArray[np.float64]


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
        top_factors = factors(contributions[i], x[i], failure.spec.names, failure.spec.decode, top=top)
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
