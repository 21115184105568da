"""Explanations: factors add up to the raw margin; the result has the design's shape."""

from __future__ import annotations

import numpy as np
import pytest

from actions.prediction.explain import factors, recommendation
from pipelines.ml.dataset import Dataset
from pipelines.ml.explain import predict_workflow_outcome
from pipelines.ml.train import (
    DurationModel,
    FailureModel,
    calibration_split,
    train_duration_model,
    train_failure_model,
)
from pipelines.ml.tune import DEFAULT_SEARCH_PARAMS, base_params


@pytest.fixture(scope="module")
def models(train_test: tuple[Dataset, Dataset]) -> tuple[FailureModel, DurationModel]:
    train, _ = train_test
    fit, calibration = calibration_split(train)
    failure = train_failure_model(
        fit, calibration, params={**base_params(), **DEFAULT_SEARCH_PARAMS}, num_boost_round=60
    )
    return failure, train_duration_model(fit, calibration, rounds=50)


def test_contributions_sum_to_the_raw_margin(
    models: tuple[FailureModel, DurationModel], train_test: tuple[Dataset, Dataset]
) -> None:
    failure, _ = models
    x = train_test[1].x[:200]
    contributions = failure.contributions(x)
    assert contributions.shape == (200, len(failure.spec.names) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), failure.margin(x), rtol=1e-6, atol=1e-6)


def test_factors_are_the_largest_contributions(
    models: tuple[FailureModel, DurationModel], train_test: tuple[Dataset, Dataset]
) -> None:
    failure, _ = models
    row = train_test[1].x[0]
    contributions = failure.contributions(row[None, :])[0]
    top = factors(contributions, row, failure.spec.names, failure.spec.decode, top=3)
    assert len(top) == 3
    magnitudes = [abs(f["contribution"]) for f in top]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert magnitudes[0] == pytest.approx(np.abs(contributions[:-1]).max())
    for factor in top:
        i = failure.spec.names.index(factor["feature"])
        assert factor["contribution"] == pytest.approx(contributions[i])
        expected = "increases_risk" if contributions[i] > 0 else "decreases_risk"
        assert factor["direction"] == expected
        if factor["feature"] in failure.spec.categories:
            assert factor["value"] is None or factor["value"] in failure.spec.categories[factor["feature"]]


def test_predict_workflow_outcome_shape(
    models: tuple[FailureModel, DurationModel], train_test: tuple[Dataset, Dataset]
) -> None:
    failure, duration = models
    results = predict_workflow_outcome(failure, duration, train_test[1].x[:20])
    assert len(results) == 20
    for result in results:
        assert set(result) == {
            "probability",
            "risk_level",
            "confidence",
            "factors",
            "recommendation",
            "predicted_duration_seconds",
            "duration_interval",
        }
        assert 0.0 <= result["probability"] <= 1.0
        assert result["risk_level"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
        assert 0.0 <= result["confidence"] <= 1.0
        low, high = result["duration_interval"]
        assert low <= result["predicted_duration_seconds"] <= high
        assert result["recommendation"].endswith(".")
        assert "\n" not in result["recommendation"]
    without = predict_workflow_outcome(failure, None, train_test[1].x[:1])[0]
    assert without["duration_interval"] is None


def test_recommendation_follows_level_and_factor() -> None:
    assert recommendation("LOW", []) == "Low risk: no action needed."
    streak = [{"feature": "fail_streak", "direction": "increases_risk"}]
    assert "already failing" in recommendation("CRITICAL", streak)
    assert recommendation("HIGH", []).startswith("Likely to fail:")
    workflow = [{"feature": "workflow_fail_rate_5", "direction": "increases_risk"}]
    assert "workflow fails often" in recommendation("MEDIUM", workflow)
    lowering = [{"feature": "fail_streak", "direction": "decreases_risk"}]
    assert "already failing" not in recommendation("HIGH", lowering)
