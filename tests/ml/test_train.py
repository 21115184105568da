"""Training: calibration, risk levels, duration interval, tuning determinism, the MLP row."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from actions.prediction.explain import confidence
from pipelines.ml.dataset import Dataset
from pipelines.ml.metrics import ece, interval_coverage, roc_auc
from pipelines.ml.mlp import train_mlp
from pipelines.ml.splits import time_series_folds
from pipelines.ml.train import (
    RISK_LEVELS,
    RiskLevels,
    calibration_split,
    level_failure_rates,
    rates_increase,
    train_duration_model,
    train_failure_model,
)
from pipelines.ml.tune import DEFAULT_SEARCH_PARAMS, base_params, tune_failure_model

PARAMS = {**base_params(), **DEFAULT_SEARCH_PARAMS}


def _known(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    rows = data.has_failure_label
    return data.x[rows], data.failed[rows]


def test_calibration_lowers_ece_on_a_later_held_out_slice(train_test: tuple[Dataset, Dataset]) -> None:
    train, test = train_test
    fit, calibration = calibration_split(train, fraction=0.3)
    assert fit.time.max() < calibration.time.min() < calibration.time.max() < test.time.min()
    # up-weighting failures makes the raw probabilities too high: calibration must undo it
    model = train_failure_model(
        fit, calibration, params={**PARAMS, "scale_pos_weight": 4.0}, num_boost_round=100
    )
    x, y = _known(test)
    raw = 1.0 / (1.0 + np.exp(-model.margin(x)))
    calibrated = model.probability(x)
    assert ece(y, calibrated) < 0.5 * ece(y, raw)
    assert model.report["calibration_method"] in {"isotonic", "platt"}
    assert {"ece_isotonic", "ece_platt", "ece_uncalibrated"} <= set(model.report)


def test_risk_levels_rise_on_synthetic_data(train_test: tuple[Dataset, Dataset]) -> None:
    train, test = train_test
    fit, calibration = calibration_split(train)
    model = train_failure_model(fit, calibration, params=PARAMS, num_boost_round=100)
    x, y = _known(test)
    p = model.probability(x)
    assert roc_auc(y, p) > 0.65
    rates = level_failure_rates(model.risk, p, y)
    assert set(rates) == set(RISK_LEVELS)
    assert rates_increase(rates)
    assert model.report["risk_rates_increase_calibration"]
    low, medium, high = model.risk.thresholds
    assert medium == pytest.approx(model.threshold)
    assert low < medium < high


def test_refit_learns_from_the_calibration_slice_and_keeps_its_calibration(
    train_test: tuple[Dataset, Dataset],
) -> None:
    train, test = train_test
    fit, calibration = calibration_split(train)
    kept = train_failure_model(fit, calibration, params=PARAMS, num_boost_round=100, refit=False)
    refitted = train_failure_model(fit, calibration, params=PARAMS, num_boost_round=100)
    labelled = int(fit.has_failure_label.sum() + calibration.has_failure_label.sum())
    assert refitted.report["refit_rows"] == labelled
    assert kept.report["refit_rows"] == 0
    # calibration, threshold and levels come from the fit-only booster on the slice
    assert refitted.calibrator.to_dict() == kept.calibrator.to_dict()
    assert refitted.threshold == kept.threshold
    assert refitted.risk == kept.risk
    x, y = _known(test)
    assert not np.allclose(refitted.margin(x), kept.margin(x))
    assert roc_auc(y, refitted.probability(x)) > 0.65


def test_risk_levels_and_confidence_by_hand() -> None:
    levels = RiskLevels.from_decision_threshold(0.4)
    assert levels.thresholds == pytest.approx((0.2, 0.4, 0.7))
    p = np.asarray([0.0, 0.2, 0.39, 0.4, 0.69, 0.7, 1.0])
    assert levels.levels(p).tolist() == ["LOW", "MEDIUM", "MEDIUM", "HIGH", "HIGH", "CRITICAL", "CRITICAL"]
    assert confidence(np.asarray([0.0, 0.2, 0.4, 0.7, 1.0]), 0.4) == pytest.approx([1.0, 0.5, 0.0, 0.5, 1.0])
    assert not rates_increase({"LOW": {"failure_rate": 0.3}, "HIGH": {"failure_rate": 0.2}})


def test_duration_interval_is_conformalised(train_test: tuple[Dataset, Dataset]) -> None:
    train, test = train_test
    fit, calibration = calibration_split(train)
    model = train_duration_model(fit, calibration, rounds=100)
    rows = test.has_duration_label
    point, low, high = model.predict(test.x[rows])
    assert (low <= point).all()
    assert (point <= high).all()
    assert (low >= 0).all()
    assert 0.7 <= interval_coverage(test.duration[rows], low, high) <= 0.9
    assert "conformal_offset" in model.report


def _folds(data: Dataset) -> tuple[np.ndarray, np.ndarray, list]:
    x, y = _known(data)
    rows = data.has_failure_label
    folds = time_series_folds(data.time[rows], data.groups[rows], n_folds=2, gap=timedelta(hours=6))
    return x, y, folds


def test_tuning_is_deterministic_for_a_seed(train_test: tuple[Dataset, Dataset]) -> None:
    train, _ = train_test
    x, y, folds = _folds(train)
    kwargs = {"trials": 6, "categorical": train.spec.categorical_indices, "seed": 7, "max_rounds": 60}
    first = tune_failure_model(x, y, folds, **kwargs)
    second = tune_failure_model(x, y, folds, **kwargs)
    assert first.history == second.history
    assert first.params == second.params
    assert first.num_boost_round == second.num_boost_round
    assert first.trials == 6
    assert first.completed + first.pruned == 6
    # the first trial is LightGBM's defaults, so tuning never does worse on the folds
    assert first.history[0]["params"] == DEFAULT_SEARCH_PARAMS
    assert first.score <= first.history[0]["value"]
    assert all(t["last_step"] is not None for t in first.history)


def test_mlp_comparison_row(train_test: tuple[Dataset, Dataset]) -> None:
    train, test = train_test
    fit, calibration = calibration_split(train)
    model = train_mlp(fit, calibration, max_iter=15)
    x, y = _known(test)
    p = model.probability(x)
    assert ((p >= 0) & (p <= 1)).all()
    # the same bar as LightGBM's on this synthetic history (seeds give 0.67-0.71 here)
    assert roc_auc(y, p) > 0.65
    assert 0.0 < model.threshold < 1.0


def test_duration_reference_prefers_the_branch_then_the_repository() -> None:
    from pipelines.ml.dataset import FeatureSpec
    from pipelines.ml.train import _reference

    spec = FeatureSpec(names=("repo_duration_median5", "duration_median5", "hour"))
    x = np.asarray([[50.0, 10.0, 1.0], [50.0, np.nan, 1.0], [np.nan, np.nan, 1.0]])
    assert _reference(x, spec, 99.0).tolist() == [10.0, 50.0, 99.0]
    only_branch = FeatureSpec(names=("duration_median5",))
    assert _reference(np.asarray([[np.nan], [3.0]]), only_branch, 7.0).tolist() == [7.0, 3.0]
