"""The candidate against the model in service, on the candidate's own test rows.

The promotion gate asks whether a candidate is worse than the current model *beyond noise*.
Figures each model measured on its own test window cannot answer that: the windows differ, and
so do their failure rates and difficulty. Here the current model (``models/current``: its
LightGBM text model, feature specification and calibration) scores the rows the candidate is
judged on, encoded with the current model's own specification, and a paired bootstrap gives
95% intervals of the differences candidate − current in ROC-AUC, PR-AUC and balanced accuracy
(each model at its own decision threshold).

**Resampling unit.** The attempts of one commit and workflow (``attempt_group``) share their
code and often their outcome, and the splits already keep them together; the bootstrap draws
whole attempt groups with replacement (equivalently, multinomial weights per group), both
models scored on the same draw. The interval is the 2.5th–97.5th percentile of the replicate
differences; replicates in which a class is missing leave that replicate out.

**When the current model cannot score the rows** (its files cannot be loaded, a feature column
it needs is gone, none of a categorical input's values on these rows is among its categories),
:func:`compare_with_current` says why instead of guessing, and the gate falls back to its
stored figures from another window (see :func:`~pipelines.ml.pipeline.promotion_verdict`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import polars as pl

from actions.prediction.model import calibrate
from pipelines.ml.dataset import Dataset, FeatureSpec, make_dataset
from pipelines.ml.metrics import balanced_accuracy, pr_auc, roc_auc

Floats = npt.NDArray[np.float64]

REPLICATES = 1_000
"""Bootstrap replicates of the paired comparison."""

COMPARED = ("roc_auc", "pr_auc", "balanced_accuracy")
"""The paired differences reported (the gate judges ROC-AUC and PR-AUC)."""

_CELLS_PER_CHUNK = 2_000_000
"""Replicates are drawn in chunks of at most this many (replicate, row) weights (memory bound)."""


class IncomparableError(ValueError):
    """The current model cannot score the candidate's test rows (the message says why)."""


@dataclass(frozen=True)
class ServiceModel:
    """The failure model in service, as saved by :meth:`~pipelines.ml.pipeline.TrainedModels.save`."""

    version: str
    booster: lgb.Booster
    spec: FeatureSpec
    calibration: dict[str, Any]
    threshold: float

    @classmethod
    def load(cls, folder: Path) -> ServiceModel:
        """Load ``failure_model.txt`` and ``feature_spec.json`` of a models folder.

        Raises:
            IncomparableError: when a file is missing, unreadable or not what training writes.
        """
        try:
            saved = json.loads((folder / "feature_spec.json").read_text(encoding="utf-8"))
            features = saved["features"]
            spec = FeatureSpec(
                names=tuple(features["names"]),
                categorical=tuple(features["categorical"]),
                categories={k: tuple(v) for k, v in features["categories"].items()},
            )
            booster = lgb.Booster(model_file=str(folder / "failure_model.txt"))
            model = cls(
                str(saved["model_version"]),
                booster,
                spec,
                dict(saved["calibration"]),
                float(saved["threshold"]),
            )
        except (OSError, KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as exc:
            raise IncomparableError(
                f"the current model cannot be loaded ({type(exc).__name__}: {exc})"
            ) from None
        if booster.num_feature() != len(spec.names):
            raise IncomparableError(
                f"the current model's booster takes {booster.num_feature()} inputs, "
                f"its feature specification names {len(spec.names)}"
            )
        return model

    def probability(self, x: Floats) -> Floats:
        """Calibrated failure probabilities of rows encoded with :attr:`spec`."""
        return calibrate(
            self.calibration, np.asarray(self.booster.predict(x, raw_score=True), dtype=np.float64)
        )


def _check_categories(rows: pl.DataFrame, spec: FeatureSpec) -> None:
    # An unseen category is routine (a new repository) and is missing for both models alike;
    # a column none of whose values is known means the encoding itself changed.
    for column, categories in spec.categories.items():
        values = rows.get_column(column).drop_nulls().cast(pl.String)
        if values.len() and not values.is_in(list(categories)).any():
            raise IncomparableError(
                f"none of the {values.len()} values of the categorical input {column!r} on the test rows "
                "is among the current model's categories"
            )


def score_rows(model: ServiceModel, frame: pl.DataFrame, rows: npt.NDArray[np.int64]) -> Dataset:
    """The rows ``rows`` of ``frame`` encoded with the current model's own specification.

    Raises:
        IncomparableError: when a column the current model needs is missing or re-encoded.
    """
    try:
        data = make_dataset(frame, model.spec).subset(rows)
    except ValueError as exc:  # encode() names the missing columns
        raise IncomparableError(f"the current model cannot encode the test rows: {exc}") from None
    # the rows make_dataset keeps (those with a label), at the same positions
    labelled = frame.filter(pl.col("failed").is_not_null() | pl.col("duration_seconds").is_not_null())
    _check_categories(labelled[rows.tolist()], model.spec)
    return data


def _ranked(p: Floats) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Row order by decreasing score and the start of each run of tied scores in that order."""
    order = np.argsort(-p, kind="stable").astype(np.int64)
    s = p[order]
    starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]])).astype(np.int64)
    return order, starts


def weighted_auc(
    y: Floats,
    p: Floats,
    weights: Floats,
    ranked: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> tuple[Floats, Floats]:
    """ROC-AUC and average precision of ``p`` under each row of case ``weights`` (replicates × rows).

    The same figures as scikit-learn's ``roc_auc_score`` and ``average_precision_score`` with
    ``sample_weight`` (ties at 1/2 for ROC-AUC; precision at each distinct threshold for AP),
    for all replicates at once. NaN where a replicate lacks a class.
    """
    order, starts = ranked if ranked is not None else _ranked(p)
    w = weights[:, order]
    ys = y[order]
    pos = np.add.reduceat(w * ys, starts, axis=1)
    neg = np.add.reduceat(w * (1.0 - ys), starts, axis=1)
    tp, fp = np.cumsum(pos, axis=1), np.cumsum(neg, axis=1)
    total_pos, total_neg = tp[:, -1], fp[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.sum(neg * (tp - 0.5 * pos), axis=1) / (total_pos * total_neg)
        precision = np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1.0), 0.0)
        ap = np.sum(pos * precision, axis=1) / total_pos
    auc = np.where((total_pos > 0) & (total_neg > 0), auc, np.nan)
    ap = np.where(total_pos > 0, ap, np.nan)
    return np.asarray(auc, dtype=np.float64), np.asarray(ap, dtype=np.float64)


def weighted_balanced_accuracy(y: Floats, decided: Floats, weights: Floats) -> Floats:
    """Balanced accuracy of 0/1 decisions under each row of case ``weights`` (NaN without both classes)."""
    positives, negatives = weights @ y, weights @ (1.0 - y)
    with np.errstate(invalid="ignore", divide="ignore"):
        ba = 0.5 * (
            (weights @ (y * decided)) / positives + (weights @ ((1.0 - y) * (1.0 - decided))) / negatives
        )
    return np.asarray(np.where((positives > 0) & (negatives > 0), ba, np.nan), dtype=np.float64)


def paired_bootstrap(
    y: Floats,
    candidate: Floats,
    current: Floats,
    thresholds: tuple[float, float],
    groups: npt.NDArray[Any],
    *,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> dict[str, Any]:
    """Point figures of both models and 95% intervals of candidate − current, resampling groups.

    Args:
        y: 0/1 outcomes.
        candidate: the candidate's calibrated probabilities of the same rows.
        current: the current model's.
        thresholds: the decision thresholds (candidate, current) for balanced accuracy.
        groups: the resampling unit of each row (attempt groups).
        replicates: bootstrap replicates.
        seed: seed of the draws.

    Returns:
        Per metric of :data:`COMPARED` ``candidate``, ``current``, ``difference`` and ``ci95``;
        and ``replicates`` (the usable ones per metric are in ``used``).
    """
    codes = np.unique(groups.astype(str), return_inverse=True)[1].reshape(-1)
    n_groups = int(codes.max()) + 1 if codes.size else 0
    decided = [(candidate >= thresholds[0]).astype(np.float64), (current >= thresholds[1]).astype(np.float64)]
    ranked = [_ranked(candidate), _ranked(current)]
    rng = np.random.default_rng(seed)
    differences: dict[str, list[Floats]] = {m: [] for m in COMPARED}
    chunk = max(1, _CELLS_PER_CHUNK // max(1, y.size))
    done = 0
    while done < replicates:
        size = min(chunk, replicates - done)
        counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=size).astype(np.float64)
        weights = counts[:, codes]
        (auc_a, ap_a), (auc_b, ap_b) = (
            weighted_auc(y, p, weights, r) for p, r in zip((candidate, current), ranked, strict=True)
        )
        differences["roc_auc"].append(auc_a - auc_b)
        differences["pr_auc"].append(ap_a - ap_b)
        differences["balanced_accuracy"].append(
            weighted_balanced_accuracy(y, decided[0], weights)
            - weighted_balanced_accuracy(y, decided[1], weights)
        )
        done += size
    point = {
        "roc_auc": (roc_auc(y, candidate), roc_auc(y, current)),
        "pr_auc": (pr_auc(y, candidate), pr_auc(y, current)),
        "balanced_accuracy": (balanced_accuracy(y, decided[0]), balanced_accuracy(y, decided[1])),
    }
    out: dict[str, Any] = {"replicates": replicates}
    for metric in COMPARED:
        draws = np.concatenate(differences[metric])
        draws = draws[np.isfinite(draws)]
        a, b = point[metric]
        out[metric] = {
            "candidate": a,
            "current": b,
            "difference": a - b,
            "ci95": [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]
            if draws.size
            else [float("nan"), float("nan")],
            "used": int(draws.size),
        }
    return out


def compare_with_current(
    folder: Path,
    frame: pl.DataFrame,
    rows: npt.NDArray[np.int64],
    test: Dataset,
    candidate_probability: Floats,
    candidate_threshold: float,
    *,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> dict[str, Any]:
    """The report's ``versus_current`` section: the paired comparison, or why there is none.

    Args:
        folder: the models in service (``models/current``).
        frame: the labelled, ordered run features the candidate was trained and tested on.
        rows: positions of the candidate's test rows in ``frame``.
        test: the candidate's test dataset (those rows under its own specification).
        candidate_probability: the candidate's probabilities of the test rows with a known outcome.
        candidate_threshold: the candidate's decision threshold.
        replicates: bootstrap replicates.
        seed: seed of the draws.

    Returns:
        ``same_rows`` True with ``current_version``, ``rows``, ``groups``, ``resampled``,
        ``seed`` and per metric ``candidate``, ``current``, ``difference``, ``ci95``; or
        ``same_rows`` False with ``reason`` (and ``current_version`` when it was readable).
    """
    version = None
    try:
        model = ServiceModel.load(folder)
        version = model.version
        current = score_rows(model, frame, rows)
        if not np.array_equal(current.ids, test.ids):
            raise IncomparableError("the current model's encoding kept other rows than the candidate's")
        known = test.has_failure_label
        current_probability = model.probability(current.x[known])
    except IncomparableError as exc:
        return {"same_rows": False, "current_version": version, "reason": str(exc)}
    y, groups = test.failed[known], test.groups[known]
    compared = paired_bootstrap(
        y,
        candidate_probability,
        current_probability,
        (candidate_threshold, model.threshold),
        groups,
        replicates=replicates,
        seed=seed,
    )
    return {
        "same_rows": True,
        "current_version": version,
        "rows": int(y.size),
        "groups": len(set(groups.astype(str).tolist())),
        "resampled": "attempt groups, with replacement (paired: both models on each draw)",
        "seed": seed,
        **compared,
    }
