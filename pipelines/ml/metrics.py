"""The protocol's metrics, for failure probabilities and duration estimates.

Failure (label 1 = failed, the positive class): ROC-AUC, PR-AUC of the failure class (average
precision), and at a decision threshold balanced accuracy, accuracy beside the always-pass
accuracy, and the Matthews correlation coefficient; the Brier score and the expected
calibration error (ECE) judge the probabilities themselves.

**ECE binning.** ``ece`` uses ``bins`` (default 15) equal-width bins of predicted probability
on [0, 1] (the last bin closed on the right): ECE = Σ_b (n_b / n) · |mean(y)_b − mean(p)_b|
over non-empty bins.

**Thresholds.** The threshold turning probabilities into decisions is chosen on a calibration
slice with :func:`choose_threshold` (the one maximising balanced accuracy there), never on the
test rows.

Duration: MAE (seconds), the median absolute percentage error (over rows whose true duration is
positive: a percentage of zero is undefined), and the coverage of a [P10, P90] interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

Floats = npt.NDArray[np.float64]

ECE_BINS = 15
"""Equal-width probability bins of :func:`ece` and :func:`reliability_curve`."""


def _arrays(y: npt.ArrayLike, p: npt.ArrayLike) -> tuple[Floats, Floats]:
    ya = np.asarray(y, dtype=np.float64).reshape(-1)
    pa = np.asarray(p, dtype=np.float64).reshape(-1)
    if ya.shape != pa.shape:
        raise ValueError(f"labels and predictions differ in length: {ya.shape[0]} vs {pa.shape[0]}")
    return ya, pa


def roc_auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Area under the ROC curve (NaN when only one class is present)."""
    ya, pa = _arrays(y, p)
    if np.unique(ya).size < 2:
        return float("nan")
    return float(roc_auc_score(ya, pa))


def pr_auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Average precision of the failure class (label 1), the step-wise area under the PR curve."""
    ya, pa = _arrays(y, p)
    if not (ya == 1).any():
        return float("nan")
    return float(average_precision_score(ya, pa))


def confusion(y: npt.ArrayLike, predicted: npt.ArrayLike) -> tuple[int, int, int, int]:
    """(true positives, false positives, true negatives, false negatives) of 0/1 decisions."""
    ya, da = _arrays(y, predicted)
    yb, db = ya == 1, da == 1
    return (int((yb & db).sum()), int((~yb & db).sum()), int((~yb & ~db).sum()), int((yb & ~db).sum()))


def balanced_accuracy(y: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Mean of the recall of each class (0.5 for a constant prediction)."""
    tp, fp, tn, fn = confusion(y, predicted)
    recalls = [tp / (tp + fn)] if tp + fn else []
    recalls += [tn / (tn + fp)] if tn + fp else []
    return float(np.mean(recalls)) if recalls else float("nan")


def accuracy(y: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Share of correct 0/1 decisions."""
    ya, da = _arrays(y, predicted)
    return float((ya == da).mean()) if ya.size else float("nan")


def mcc(y: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Matthews correlation coefficient (0 when a margin of the confusion matrix is empty)."""
    tp, fp, tn, fn = confusion(y, predicted)
    denominator = float(tp + fp) * float(tp + fn) * float(tn + fp) * float(tn + fn)
    if denominator == 0.0:
        return 0.0
    return float((tp * tn - fp * fn) / np.sqrt(denominator))


def brier(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    ya, pa = _arrays(y, p)
    return float(np.mean((pa - ya) ** 2)) if ya.size else float("nan")


def _bin_index(p: Floats, bins: int) -> npt.NDArray[np.int64]:
    return np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(np.int64), bins - 1)


def ece(y: npt.ArrayLike, p: npt.ArrayLike, *, bins: int = ECE_BINS) -> float:
    """Expected calibration error over ``bins`` equal-width bins (see the module doc)."""
    ya, pa = _arrays(y, p)
    if not ya.size:
        return float("nan")
    index = _bin_index(pa, bins)
    counts = np.bincount(index, minlength=bins)
    gaps = np.abs(
        np.bincount(index, weights=ya, minlength=bins) - np.bincount(index, weights=pa, minlength=bins)
    )
    # per bin |Σy − Σp| / n_b weighted by n_b / n is |Σy − Σp| / n
    return float(gaps[counts > 0].sum() / ya.size)


def reliability_curve(y: npt.ArrayLike, p: npt.ArrayLike, *, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Per non-empty bin: its range, row count, mean predicted probability and observed failure rate."""
    ya, pa = _arrays(y, p)
    index = _bin_index(pa, bins)
    rows = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            rows.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "count": float(mask.sum()),
                    "predicted": float(pa[mask].mean()),
                    "observed": float(ya[mask].mean()),
                }
            )
    return rows


def pr_curve(y: npt.ArrayLike, p: npt.ArrayLike, *, points: int = 21) -> list[dict[str, float]]:
    """The precision-recall curve of the failure class, thinned to about ``points`` recall levels."""
    ya, pa = _arrays(y, p)
    if not (ya == 1).any():
        return []
    precision, recall, thresholds = precision_recall_curve(ya, pa)
    out = []
    for level in np.linspace(0.0, 1.0, points):
        # the best precision reachable at recall >= level (the interpolated curve)
        reachable = recall >= level
        i = int(np.flatnonzero(reachable)[np.argmax(precision[reachable])])
        out.append(
            {
                "recall": float(level),
                "precision": float(precision[i]),
                "threshold": float(thresholds[min(i, thresholds.size - 1)]),
            }
        )
    return out


def choose_threshold(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """The probability threshold maximising balanced accuracy on these (calibration) rows.

    Candidates are the distinct predicted values (thinned to 1,000 quantiles); a row is
    predicted to fail when ``p >= threshold``. Ties go to the threshold closest to 0.5.

    Raises:
        ValueError: if the rows do not contain both classes.
    """
    ya, pa = _arrays(y, p)
    positives = int((ya == 1).sum())
    negatives = ya.size - positives
    if positives == 0 or negatives == 0:
        raise ValueError("choosing a threshold needs both classes")
    candidates = np.unique(pa)
    if candidates.size > 1_000:
        candidates = np.unique(np.quantile(pa, np.linspace(0.0, 1.0, 1_001)))
    order = np.argsort(pa)
    sorted_p, sorted_y = pa[order], ya[order]
    # rows below each candidate are predicted to pass
    below = np.searchsorted(sorted_p, candidates, side="left")
    positives_below = np.concatenate([[0], np.cumsum(sorted_y == 1)])[below]
    negatives_below = below - positives_below
    scores = 0.5 * ((positives - positives_below) / positives + negatives_below / negatives)
    best = scores.max()
    tied = candidates[np.isclose(scores, best, rtol=0.0, atol=1e-12)]
    return float(tied[np.argmin(np.abs(tied - 0.5))])


def failure_metrics(y: npt.ArrayLike, p: npt.ArrayLike, threshold: float) -> dict[str, Any]:
    """Every failure metric of probabilities ``p`` for outcomes ``y`` at ``threshold``.

    Returns:
        ``roc_auc``, ``pr_auc``, ``balanced_accuracy``, ``accuracy``, ``always_pass_accuracy``,
        ``mcc``, ``brier``, ``ece``, ``threshold``, ``rows``, ``failure_rate``, ``recall``
        (of failures) and ``precision``.
    """
    ya, pa = _arrays(y, p)
    decided = (pa >= threshold).astype(np.float64)
    tp, fp, _, fn = confusion(ya, decided)
    return {
        "roc_auc": roc_auc(ya, pa),
        "pr_auc": pr_auc(ya, pa),
        "balanced_accuracy": balanced_accuracy(ya, decided),
        "accuracy": accuracy(ya, decided),
        "always_pass_accuracy": float((ya == 0).mean()) if ya.size else float("nan"),
        "mcc": mcc(ya, decided),
        "brier": brier(ya, pa),
        "ece": ece(ya, pa),
        "threshold": float(threshold),
        "rows": int(ya.size),
        "failure_rate": float(ya.mean()) if ya.size else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
    }


def mae(y: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Mean absolute error."""
    ya, pa = _arrays(y, predicted)
    return float(np.mean(np.abs(ya - pa))) if ya.size else float("nan")


def median_ape(y: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Median of |y − ŷ| / y over rows with y > 0."""
    ya, pa = _arrays(y, predicted)
    positive = ya > 0
    if not positive.any():
        return float("nan")
    return float(np.median(np.abs(ya[positive] - pa[positive]) / ya[positive]))


def interval_coverage(y: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike) -> float:
    """Share of rows with ``low <= y <= high``."""
    ya, la = _arrays(y, low)
    _, ha = _arrays(y, high)
    return float(np.mean((ya >= la) & (ya <= ha))) if ya.size else float("nan")


def duration_metrics(
    y: npt.ArrayLike, predicted: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike
) -> dict[str, float]:
    """``mae``, ``median_ape``, ``interval_coverage`` and ``interval_width_median`` (seconds)."""
    _, la = _arrays(y, low)
    _, ha = _arrays(y, high)
    return {
        "mae": mae(y, predicted),
        "median_ape": median_ape(y, predicted),
        "interval_coverage": interval_coverage(y, la, ha),
        "interval_width_median": float(np.median(ha - la)) if la.size else float("nan"),
    }
