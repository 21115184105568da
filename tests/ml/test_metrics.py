"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipelines.ml import metrics

Y = [0, 0, 1, 1, 0, 1]
P = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]


def test_roc_auc_counts_correctly_ordered_pairs() -> None:
    # positives 0.35, 0.8, 0.9 vs negatives 0.1, 0.4, 0.2: 8 of 9 pairs ordered (0.35 < 0.4)
    assert metrics.roc_auc(Y, P) == pytest.approx(8 / 9)


def test_pr_auc_is_average_precision() -> None:
    # ranked: 0.9 (1) 0.8 (1) 0.4 (0) 0.35 (1) 0.2 0.1 -> precision at each hit: 1, 1, 3/4
    assert metrics.pr_auc(Y, P) == pytest.approx((1 + 1 + 0.75) / 3)


def test_confusion_metrics_by_hand() -> None:
    decided = [0, 1, 0, 1, 0, 1]  # threshold 0.4: tp 2, fp 1, tn 2, fn 1
    assert metrics.confusion(Y, decided) == (2, 1, 2, 1)
    assert metrics.balanced_accuracy(Y, decided) == pytest.approx(0.5 * (2 / 3 + 2 / 3))
    assert metrics.accuracy(Y, decided) == pytest.approx(4 / 6)
    assert metrics.mcc(Y, decided) == pytest.approx((2 * 2 - 1 * 1) / math.sqrt(3 * 3 * 3 * 3))


def test_constant_prediction_edge_cases() -> None:
    assert metrics.balanced_accuracy(Y, [0] * 6) == pytest.approx(0.5)
    assert metrics.mcc(Y, [0] * 6) == 0.0
    assert math.isnan(metrics.roc_auc([1, 1], [0.2, 0.3]))


def test_brier_by_hand() -> None:
    expected = np.mean([0.01, 0.16, 0.4225, 0.04, 0.04, 0.01])
    assert metrics.brier(Y, P) == pytest.approx(expected)


def test_ece_uses_equal_width_bins() -> None:
    # 3 bins, |sum y - sum p| per bin: [0, 1/3) holds 0.1, 0.2 (y 0, 0): 0.3;
    # [1/3, 2/3) holds 0.4, 0.35 (y 0, 1): 0.25; [2/3, 1] holds 0.8, 0.9 (y 1, 1): 0.3
    assert metrics.ece(Y, P, bins=3) == pytest.approx((0.3 + 0.25 + 0.3) / 6)
    assert metrics.ece([1, 0], [1.0, 0.0]) == 0.0  # p = 1 falls in the last bin


def test_reliability_curve_matches_ece_bins() -> None:
    curve = metrics.reliability_curve(Y, P, bins=3)
    assert [b["count"] for b in curve] == [2, 2, 2]
    assert curve[1]["observed"] == pytest.approx(0.5)
    assert curve[1]["predicted"] == pytest.approx(0.375)


def test_choose_threshold_maximises_balanced_accuracy() -> None:
    y = [0, 0, 0, 1, 1, 0, 1]
    p = [0.1, 0.2, 0.3, 0.35, 0.6, 0.7, 0.8]
    threshold = metrics.choose_threshold(y, p)
    # p >= 0.35 predicts failure: recall 1, specificity 3/4 -> 0.875, the best reachable
    assert threshold == pytest.approx(0.35)
    decided = (np.asarray(p) >= threshold).astype(float)
    assert metrics.balanced_accuracy(y, decided) == pytest.approx(0.875)
    with pytest.raises(ValueError):
        metrics.choose_threshold([0, 0], [0.1, 0.2])


def test_failure_metrics_reports_always_pass_accuracy() -> None:
    report = metrics.failure_metrics(Y, P, threshold=0.5)
    assert report["always_pass_accuracy"] == pytest.approx(0.5)
    assert report["accuracy"] == pytest.approx(5 / 6)
    assert report["recall"] == pytest.approx(2 / 3)
    assert report["precision"] == pytest.approx(1.0)


def test_duration_metrics_by_hand() -> None:
    y = [100.0, 200.0, 0.0, 400.0]
    predicted = [110.0, 150.0, 10.0, 400.0]
    assert metrics.mae(y, predicted) == pytest.approx((10 + 50 + 10 + 0) / 4)
    # percentage errors over y > 0: 0.1, 0.25, 0 -> median 0.1
    assert metrics.median_ape(y, predicted) == pytest.approx(0.1)
    assert metrics.interval_coverage(y, [90, 210, 0, 300], [120, 300, 5, 400]) == pytest.approx(0.75)


def test_pr_curve_is_monotone_in_recall() -> None:
    curve = metrics.pr_curve(Y, P, points=5)
    assert [c["recall"] for c in curve] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert curve[0]["precision"] == pytest.approx(1.0)
    assert curve[-1]["precision"] == pytest.approx(0.75)
