"""Training the failure and duration models, calibrated on a time slice after their training data.

**Failure.** LightGBM (binary) with tuned parameters is fitted on the *fit* rows; its raw
margin is then calibrated on the *calibration* slice (the latest rows of the training period,
:func:`calibration_split`), which that booster never saw. Two scikit-learn calibrators compete:
isotonic regression and Platt scaling (a logistic regression on the margin). Both are fitted
on the first half of the slice (by time) and judged by expected calibration error on the
second half; the winner is refitted on the whole slice. The decision threshold (for balanced
accuracy and MCC) is the one maximising balanced accuracy on the slice. Finally (``refit``)
the booster is trained again, with the same parameters and rounds, on fit and calibration rows
together, so that the model also learns from the latest builds (CI outcomes drift); the
calibrator, threshold and risk levels found with the first booster are kept. On TravisTorrent
this raises ROC-AUC and PR-AUC on the later test window on both splits while ECE stays low
(numbers in the README's CI benchmark).

**Risk levels.** From calibrated probability p and the decision threshold t:
LOW p < t/2 ≤ MEDIUM p < t ≤ HIGH p < (1+t)/2 ≤ CRITICAL. HIGH and CRITICAL are exactly the
runs predicted to fail. Because p is calibrated, the observed failure rate rises across the
levels; :func:`level_failure_rates` checks it (on the slice at training, on test in the
benchmark).

**Confidence.** How far p is from the decision threshold, relative to the room on its side:
(p − t)/(1 − t) above it, (t − p)/t below it; 0 on the threshold, 1 at p = 0 or 1.

**Duration.** LightGBM predicts z = log1p(duration) − log1p(reference), the reference being
the rolling median of the last 5 runs of the branch (``duration_median5``), else of the
repository (``repo_duration_median5``, when the features carry it), else the training median
(:data:`REFERENCE_FEATURES`): the point estimate uses the L1 objective (the conditional
median), P10 and P90 the quantile objective. The interval is then conformalised on the
calibration slice (conformalised quantile regression in log space): both ends move out (or in)
by the quantile of the slice's non-conformity scores that gives 80% coverage there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from actions.prediction.explain import RISK_LEVELS, risk_index
from actions.prediction.model import combine_duration, reference_duration
from pipelines.ml.dataset import Dataset, FeatureSpec
from pipelines.ml.metrics import choose_threshold, ece
from pipelines.ml.splits import time_split
from pipelines.ml.tune import base_params

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Objects = npt.NDArray[np.object_]

CALIBRATION_METHODS: tuple[str, ...] = ("isotonic", "platt")
"""The calibrators that compete on the calibration slice."""

DURATION_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 63,
    "min_child_samples": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "lambda_l2": 1.0,
}
"""LightGBM parameters of the three duration models (not tuned)."""

DURATION_ROUNDS = 400
"""Boosting rounds of each duration model."""

INTERVAL = (0.1, 0.9)
"""Quantiles of the duration interval (P10, P90)."""

REFERENCE_FEATURES: tuple[str, ...] = ("duration_median5", "repo_duration_median5")
"""Duration references, most specific first: each row uses the first one present and non-null
(a feature missing from the specification is skipped), else the training median."""


def _sigmoid(x: Floats) -> Floats:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def calibration_split(data: Dataset, *, fraction: float = 0.2) -> tuple[Dataset, Dataset]:
    """Cut training rows into the *fit* rows and the later *calibration* slice (by trigger time).

    Attempt groups stay on one side (straddling groups are purged), as in
    :func:`~pipelines.ml.splits.time_split`.

    Args:
        data: the training rows.
        fraction: share of rows (the latest ones) in the calibration slice, in (0, 1).

    Returns:
        ``(fit, calibration)``, each in time order.
    """
    split = time_split(data.time, data.groups, train_fraction=1.0 - fraction)
    return data.subset(split.train), data.subset(split.test)


@dataclass(frozen=True)
class Calibrator:
    """A monotone map from the booster's raw margin to a calibrated failure probability.

    Attributes:
        method: ``isotonic`` or ``platt``.
        model: the fitted scikit-learn object.
    """

    method: str
    model: Any

    def __call__(self, margin: Floats) -> Floats:
        """Calibrated probabilities of raw margins."""
        m = np.asarray(margin, dtype=np.float64).reshape(-1)
        if self.method == "isotonic":
            return np.asarray(self.model.predict(m), dtype=np.float64)
        return np.asarray(self.model.predict_proba(m.reshape(-1, 1))[:, 1], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form: the isotonic steps, or Platt's slope and intercept."""
        if self.method == "isotonic":
            return {
                "method": "isotonic",
                "x": [float(v) for v in self.model.X_thresholds_],
                "y": [float(v) for v in self.model.y_thresholds_],
            }
        return {
            "method": "platt",
            "slope": float(self.model.coef_[0, 0]),
            "intercept": float(self.model.intercept_[0]),
        }


def fit_calibrator(method: str, margin: Floats, y: Floats) -> Calibrator:
    """Fit one calibrator on raw margins and 0/1 outcomes.

    Raises:
        ValueError: for an unknown method.
    """
    if method == "isotonic":
        model: Any = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        model.fit(margin, y)
    elif method == "platt":
        model = LogisticRegression(C=1e6, max_iter=1_000)
        model.fit(np.asarray(margin).reshape(-1, 1), y)
    else:
        raise ValueError(f"unknown calibration method {method!r}; expected one of {CALIBRATION_METHODS}")
    return Calibrator(method=method, model=model)


def choose_calibrator(margin: Floats, y: Floats) -> tuple[Calibrator, dict[str, float]]:
    """Pick the calibrator with the lower ECE on the later half of the slice, refit on all of it.

    Args:
        margin: raw margins of the calibration slice, in time order.
        y: its 0/1 outcomes.

    Returns:
        The chosen calibrator (fitted on the whole slice) and the held-out ECE of the raw
        sigmoid and of each candidate (``ece_uncalibrated``, ``ece_isotonic``, ``ece_platt``).
    """
    half = margin.size // 2
    report = {"ece_uncalibrated": ece(y[half:], _sigmoid(margin[half:]))}
    for method in CALIBRATION_METHODS:
        candidate = fit_calibrator(method, margin[:half], y[:half])
        report[f"ece_{method}"] = ece(y[half:], candidate(margin[half:]))
    best = min(CALIBRATION_METHODS, key=lambda m: report[f"ece_{m}"])
    return fit_calibrator(best, margin, y), report


@dataclass(frozen=True)
class RiskLevels:
    """Cut points of calibrated probability between LOW, MEDIUM, HIGH and CRITICAL.

    Attributes:
        thresholds: lower bounds of MEDIUM, HIGH and CRITICAL (increasing).
    """

    thresholds: tuple[float, float, float]

    @classmethod
    def from_decision_threshold(cls, threshold: float) -> RiskLevels:
        """Levels around the decision threshold (see the module doc)."""
        return cls((threshold / 2.0, threshold, (1.0 + threshold) / 2.0))

    def index(self, probability: Floats) -> Ints:
        """Level index (0 = LOW ... 3 = CRITICAL) of each probability."""
        return risk_index(probability, self.thresholds)

    def levels(self, probability: Floats) -> Objects:
        """Level name of each probability."""
        return np.asarray(RISK_LEVELS, dtype=object)[self.index(probability)]


def level_failure_rates(levels: RiskLevels, probability: Floats, y: Floats) -> dict[str, dict[str, float]]:
    """Observed failure rate, row count and mean probability per risk level (empty levels omitted)."""
    index = levels.index(probability)
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(RISK_LEVELS):
        mask = index == i
        if mask.any():
            out[name] = {
                "failure_rate": float(y[mask].mean()),
                "rows": float(mask.sum()),
                "mean_probability": float(probability[mask].mean()),
            }
    return out


def rates_increase(rates: dict[str, dict[str, float]]) -> bool:
    """Whether the observed failure rate strictly rises across the (non-empty) levels."""
    values = [rates[name]["failure_rate"] for name in RISK_LEVELS if name in rates]
    return all(a < b for a, b in itertools.pairwise(values))


@dataclass(frozen=True)
class FailureModel:
    """The calibrated failure model.

    Attributes:
        booster: the LightGBM booster (raw margin = log-odds before calibration).
        spec: the inputs it was trained on.
        calibrator: the map from margin to calibrated probability.
        threshold: the decision threshold on calibrated probability.
        risk: the risk-level cut points.
        report: how it was trained (rows, calibration ECEs, chosen method, ...).
    """

    booster: lgb.Booster
    spec: FeatureSpec
    calibrator: Calibrator
    threshold: float
    risk: RiskLevels
    report: dict[str, Any] = field(default_factory=dict)

    def margin(self, x: Floats) -> Floats:
        """Raw margins (log-odds of the uncalibrated booster)."""
        return np.asarray(self.booster.predict(x, raw_score=True), dtype=np.float64)

    def probability(self, x: Floats) -> Floats:
        """Calibrated failure probabilities."""
        return self.calibrator(self.margin(x))

    def contributions(self, x: Floats) -> Floats:
        """Per-feature contributions to the raw margin; the last column is the bias term."""
        return np.asarray(self.booster.predict(x, pred_contrib=True), dtype=np.float64)


def _failure_booster(
    x: Floats, y: Floats, spec: FeatureSpec, params: dict[str, Any], num_boost_round: int
) -> lgb.Booster:
    data = lgb.Dataset(x, y, categorical_feature=spec.categorical_indices, free_raw_data=True)
    return lgb.train({**params, "objective": "binary"}, data, num_boost_round=num_boost_round)


def train_failure_model(
    fit: Dataset,
    calibration: Dataset,
    *,
    params: dict[str, Any],
    num_boost_round: int,
    refit: bool = True,
) -> FailureModel:
    """Fit the booster on ``fit``, then calibrate, threshold and cut risk levels on ``calibration``.

    Args:
        fit: rows to train the booster on (earlier than ``calibration``).
        calibration: the later slice: calibrator, decision threshold and risk-level checks.
        params: full LightGBM parameters (e.g. :attr:`~pipelines.ml.tune.TuningResult.params`).
        num_boost_round: boosting rounds.
        refit: retrain the final booster on ``fit`` and ``calibration`` together (same
            parameters and rounds), keeping the calibration found with the fit-only booster.

    Returns:
        The calibrated model.

    Raises:
        ValueError: if either side lacks one of the classes.
    """
    fit_rows = fit.has_failure_label
    cal_rows = calibration.has_failure_label
    y_fit, y_cal = fit.failed[fit_rows], calibration.failed[cal_rows]
    for name, y in (("fit", y_fit), ("calibration", y_cal)):
        if not 0 < y.sum() < y.size:
            raise ValueError(f"the {name} rows need both passing and failing runs")
    booster = _failure_booster(fit.x[fit_rows], y_fit, fit.spec, params, num_boost_round)
    margin = np.asarray(booster.predict(calibration.x[cal_rows], raw_score=True), dtype=np.float64)
    calibrator, calibration_report = choose_calibrator(margin, y_cal)
    probability = calibrator(margin)
    threshold = choose_threshold(y_cal, probability)
    risk = RiskLevels.from_decision_threshold(threshold)
    rates = level_failure_rates(risk, probability, y_cal)
    if refit:
        booster = _failure_booster(
            np.vstack([fit.x[fit_rows], calibration.x[cal_rows]]),
            np.concatenate([y_fit, y_cal]),
            fit.spec,
            params,
            num_boost_round,
        )
    report = {
        "fit_rows": int(y_fit.size),
        "calibration_rows": int(y_cal.size),
        "refit_rows": int(y_fit.size + y_cal.size) if refit else 0,
        "num_boost_round": int(num_boost_round),
        "calibration_method": calibrator.method,
        **calibration_report,
        "threshold": threshold,
        "risk_thresholds": list(risk.thresholds),
        "risk_rates_calibration": rates,
        "risk_rates_increase_calibration": rates_increase(rates),
    }
    return FailureModel(booster, fit.spec, calibrator, threshold, risk, report)


@dataclass(frozen=True)
class DurationModel:
    """Point estimate and P10–P90 interval of a run's duration.

    Attributes:
        point: booster of the median of z (L1 objective).
        low: booster of the P10 of z.
        high: booster of the P90 of z.
        spec: the inputs they were trained on.
        fallback: reference duration (s) for rows without a rolling median (training median).
        offset: conformal widening of both interval ends, in z units (negative narrows).
        report: how it was trained.
    """

    point: lgb.Booster
    low: lgb.Booster
    high: lgb.Booster
    spec: FeatureSpec
    fallback: float
    offset: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)

    def reference(self, x: Floats) -> Floats:
        """The reference duration of each row (:data:`REFERENCE_FEATURES`, else the fallback)."""
        return _reference(x, self.spec, self.fallback)

    def predict(self, x: Floats) -> tuple[Floats, Floats, Floats]:
        """``(point, p10, p90)`` in seconds (non-negative, p10 <= point <= p90)."""
        return combine_duration(
            self.reference(x),
            np.asarray(self.point.predict(x), dtype=np.float64),
            np.asarray(self.low.predict(x), dtype=np.float64),
            np.asarray(self.high.predict(x), dtype=np.float64),
            self.offset,
        )


def _reference(x: Floats, spec: FeatureSpec, fallback: float) -> Floats:
    return reference_duration(x, spec.names, REFERENCE_FEATURES, fallback)


def _duration_booster(
    objective: str, x: Floats, z: Floats, spec: FeatureSpec, *, alpha: float | None, seed: int, rounds: int
) -> lgb.Booster:
    params = {**base_params(objective, seed=seed), **DURATION_PARAMS}
    if alpha is not None:
        params["alpha"] = alpha
    data = lgb.Dataset(x, z, categorical_feature=spec.categorical_indices, free_raw_data=True)
    return lgb.train(params, data, num_boost_round=rounds)


def train_duration_model(
    fit: Dataset,
    calibration: Dataset | None,
    *,
    seed: int = 0,
    coverage: float = INTERVAL[1] - INTERVAL[0],
    rounds: int = DURATION_ROUNDS,
) -> DurationModel:
    """Fit the three duration boosters on ``fit``; conformalise the interval on ``calibration``.

    Args:
        fit: training rows (those with a known duration are used).
        calibration: the later slice for the conformal step; ``None`` keeps the raw quantiles.
        seed: LightGBM seed.
        coverage: the interval coverage the conformal step aims for on the slice.
        rounds: boosting rounds of each of the three boosters.

    Returns:
        The duration model.

    Raises:
        ValueError: if ``fit`` has no row with a known duration.
    """
    rows = fit.has_duration_label
    if not rows.any():
        raise ValueError("no training row has a known duration")
    x, y = fit.x[rows], fit.duration[rows]
    fallback = float(np.median(y))
    z = np.log1p(np.maximum(y, 0.0)) - np.log1p(_reference(x, fit.spec, fallback))
    point = _duration_booster("l1", x, z, fit.spec, alpha=None, seed=seed, rounds=rounds)
    low = _duration_booster("quantile", x, z, fit.spec, alpha=INTERVAL[0], seed=seed, rounds=rounds)
    high = _duration_booster("quantile", x, z, fit.spec, alpha=INTERVAL[1], seed=seed, rounds=rounds)
    model = DurationModel(point, low, high, fit.spec, fallback)
    offset = 0.0
    report: dict[str, Any] = {"fit_rows": int(rows.sum()), "fallback_seconds": fallback}
    if calibration is not None and calibration.has_duration_label.any():
        cal = calibration.has_duration_label
        xc, yc = calibration.x[cal], calibration.duration[cal]
        base = np.log1p(model.reference(xc))
        zc = np.log1p(np.maximum(yc, 0.0)) - base
        scores = np.maximum(
            np.asarray(low.predict(xc), dtype=np.float64) - zc,
            zc - np.asarray(high.predict(xc), dtype=np.float64),
        )
        n = scores.size
        level = min(1.0, math.ceil((n + 1) * coverage) / n)
        offset = float(np.quantile(scores, level, method="higher"))
        _, lo, hi = model.predict(xc)
        report.update(
            {
                "calibration_rows": int(n),
                "raw_coverage_calibration": float(np.mean((yc >= lo) & (yc <= hi))),
                "conformal_offset": offset,
            }
        )
    return DurationModel(point, low, high, fit.spec, fallback, offset, report)


def feature_importance(booster: lgb.Booster, names: Sequence[str], *, top: int = 20) -> list[dict[str, Any]]:
    """The booster's features by total gain (share of the total), largest first."""
    gains = np.asarray(booster.feature_importance(importance_type="gain"), dtype=np.float64)
    total = float(gains.sum()) or 1.0
    order = np.argsort(-gains, kind="stable")[:top]
    return [{"feature": names[i], "gain_share": float(gains[i] / total)} for i in order if gains[i] > 0]
