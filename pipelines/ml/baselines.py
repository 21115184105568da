"""The protocol's naive baselines, as predictions comparable with the models'.

* **majority** — always the training majority class ("pass" on CI data); its probability is
  the training failure rate, so its ROC-AUC is 0.5 and its balanced accuracy 0.5.
* **previous outcome** — "same as the previous build": the outcome of the latest run of the
  same repository, workflow and branch finished by the trigger (``prev_failed``).
* **rolling rate** — the rolling per-workflow failure rate (``workflow_fail_rate_N``).
* **duration median** — the median duration of the last 5 runs (``duration_median5``).

Rows without history (a null baseline) fall back to the training failure rate (failure) or
the training median duration (duration): a baseline must answer every row the model answers.
The previous outcome decides at 0.5 (its values are 0 or 1, the fallback is the base rate);
the rolling rate decides at a threshold chosen on the calibration slice, as the model does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pipelines.ml.dataset import Dataset
from pipelines.ml.metrics import choose_threshold, failure_metrics, mae, median_ape

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BaselineFallbacks:
    """What the baselines answer for rows without history, fixed on training rows.

    Attributes:
        failure_rate: training failure rate (majority probability; fallback of the failure baselines).
        duration_median: training median duration in seconds (fallback of the duration baseline).
        rolling_threshold: decision threshold of the rolling rate, chosen on the calibration slice.
    """

    failure_rate: float
    duration_median: float
    rolling_threshold: float = 0.5


def fit_fallbacks(train: Dataset, calibration: Dataset | None = None) -> BaselineFallbacks:
    """Fix the fallbacks on training rows and the rolling-rate threshold on the calibration slice.

    Args:
        train: training rows.
        calibration: the calibration slice (rows later than ``train``); without it the rolling
            rate decides at 0.5.

    Returns:
        The fallbacks.
    """
    failed = train.failed[train.has_failure_label]
    durations = train.duration[train.has_duration_label]
    rate = float(failed.mean()) if failed.size else 0.0
    median = float(np.median(durations)) if durations.size else 0.0
    threshold = 0.5
    if calibration is not None:
        known = calibration.has_failure_label
        y = calibration.failed[known]
        if 0 < y.sum() < y.size:
            threshold = choose_threshold(y, _fill(calibration.baseline_rolling[known], rate))
    return BaselineFallbacks(failure_rate=rate, duration_median=median, rolling_threshold=threshold)


def _fill(values: Floats, fallback: float) -> Floats:
    return np.where(np.isnan(values), fallback, values)


def majority_probability(data: Dataset, fallbacks: BaselineFallbacks) -> Floats:
    """The majority baseline's probability: the training failure rate for every row."""
    return np.full(len(data), fallbacks.failure_rate, dtype=np.float64)


def previous_outcome_probability(data: Dataset, fallbacks: BaselineFallbacks) -> Floats:
    """The "same as the previous build" baseline as a probability (0/1; the base rate without history)."""
    return _fill(data.baseline_previous, fallbacks.failure_rate)


def rolling_rate_probability(data: Dataset, fallbacks: BaselineFallbacks) -> Floats:
    """The rolling per-workflow failure rate (the base rate without history)."""
    return _fill(data.baseline_rolling, fallbacks.failure_rate)


def duration_median_prediction(data: Dataset, fallbacks: BaselineFallbacks) -> Floats:
    """Median duration of the last 5 runs (the training median without history)."""
    return _fill(data.baseline_duration, fallbacks.duration_median)


def baseline_failure_metrics(data: Dataset, fallbacks: BaselineFallbacks) -> dict[str, dict[str, Any]]:
    """Failure metrics of the three failure baselines on the rows of ``data`` with a known outcome.

    Returns:
        ``majority``, ``previous_outcome`` and ``rolling_rate``, each the dict of
        :func:`~pipelines.ml.metrics.failure_metrics`; ``majority`` decides "pass" for every row.
    """
    known = data.has_failure_label
    y = data.failed[known]
    majority = majority_probability(data, fallbacks)[known]
    return {
        # above any probability: the majority class ("pass") for every row
        "majority": failure_metrics(y, majority, threshold=1.0 + 1e-9),
        "previous_outcome": failure_metrics(y, previous_outcome_probability(data, fallbacks)[known], 0.5),
        "rolling_rate": failure_metrics(
            y, rolling_rate_probability(data, fallbacks)[known], fallbacks.rolling_threshold
        ),
    }


def baseline_duration_metrics(data: Dataset, fallbacks: BaselineFallbacks) -> dict[str, float]:
    """MAE and median APE of the rolling median, on all rows with a known duration and on those with history.

    Returns:
        ``mae`` and ``median_ape`` (every row, fallback where there is no history),
        ``mae_with_history`` (rows with a non-null baseline only) and ``history_share``.
    """
    known = data.has_duration_label
    y = data.duration[known]
    predicted = duration_median_prediction(data, fallbacks)[known]
    with_history = ~np.isnan(data.baseline_duration[known])
    return {
        "mae": mae(y, predicted),
        "median_ape": median_ape(y, predicted),
        "mae_with_history": mae(y[with_history], predicted[with_history]),
        "history_share": float(with_history.mean()) if with_history.size else float("nan"),
    }
