"""The candidate against the model in service, on the candidate's own test rows.

The promotion gate asks whether a candidate is worse than the current model *beyond noise*.
Figures each model measured on its own test window cannot answer that: the windows differ, and
so do their failure rates and difficulty. Here the current model (``models/current``: its
LightGBM text model, feature specification and calibration) scores the rows the candidate is
judged on, encoded with the current model's own specification, and a paired bootstrap gives
95% intervals of the differences candidate − current in ROC-AUC, PR-AUC and balanced accuracy
(each model at its own decision threshold).

**Duration.** The current duration model (its three boosters, conformal offset and fallback
reference, on the same specification) predicts the same kept rows that have a known duration;
the same group bootstrap gives 95% intervals of the candidate − current differences in MAE and
median APE, and the P10–P90 coverage of both models with their own intervals
(:func:`duration_bootstrap`). A current model whose duration files are missing or unreadable
leaves the failure comparison standing and says why in ``duration``.

**Resampling unit.** The attempts of one commit and workflow (``attempt_group``) share their
code and often their outcome, and the splits already keep them together; the bootstrap draws
whole attempt groups with replacement (equivalently, multinomial weights per group), both
models scored on the same draw. The interval is the 2.5th–97.5th percentile of the replicate
differences; replicates in which a class is missing leave that replicate out.

**Rows the current model saw.** Every report records the windows its model was trained,
calibrated and tested on (:func:`training_windows`). The current model may have been trained
on some of the candidate's test rows (history re-ingested or backfilled, a different split
fraction, a retrain whose cut moved backwards); its scores there are optimistic. So the
comparison keeps only the candidate's test attempt groups with no row inside the current
model's training period (fit and calibration rows: the final booster is refit on both), and
needs at least :data:`MIN_UNSEEN_GROUPS` of them, :data:`MIN_UNSEEN_CLASS_GROUPS` with a
failure and as many without, when some had to go; with fewer it says why and the gate falls
back to stored figures. A current model whose report predates these windows is compared on
all rows as before, and the result says so.

**When the current model cannot score the rows** (its files cannot be loaded, a feature column
it needs is gone, none of a categorical input's values on these rows is among its categories),
:func:`compare_with_current` says why instead of guessing, and the gate falls back to its
stored figures from another window (see :func:`~pipelines.ml.pipeline.promotion_verdict`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import polars as pl

from actions.prediction.model import calibrate, model_text_problem
from pipelines.ml.dataset import Dataset, FeatureSpec, make_dataset
from pipelines.ml.metrics import balanced_accuracy, interval_coverage, mae, median_ape, pr_auc, roc_auc
from pipelines.ml.train import DurationModel

Floats = npt.NDArray[np.float64]

REPLICATES = 1_000
"""Bootstrap replicates of the paired comparison."""

COMPARED = ("roc_auc", "pr_auc", "balanced_accuracy")
"""The paired differences reported (the gate judges ROC-AUC and PR-AUC)."""

DURATION_COMPARED = ("mae", "median_ape", "interval_coverage")
"""The paired duration differences reported (the gate judges MAE, and each model's coverage)."""

DURATION_FILES = {"point": "duration_point.txt", "low": "duration_p10.txt", "high": "duration_p90.txt"}
"""The duration boosters of a models folder (:meth:`~pipelines.ml.pipeline.TrainedModels.save`)."""

MIN_UNSEEN_GROUPS = 50
"""Fewest test attempt groups the current model never saw for the paired comparison to be used
after some had to go (see :data:`MIN_UNSEEN_CLASS_GROUPS`)."""

MIN_UNSEEN_CLASS_GROUPS = 10
"""Of which at least this many with a failure, and as many without.

ROC-AUC and PR-AUC hinge on the rarer class, and the percentile interval is too narrow when it
is held by a handful of groups. ``repopilot benchmark gate-noise`` (two equally good models,
300 windows per size) measures how often the gate refuses the equal candidate (nominally
about 5%: either of two one-sided 2.5% tails): with 20% failing groups 11% at 10 groups
(2.3 failing), 4–6% from 20 groups (4 failing) on; with 5% failing groups 16–24% on 10–50
groups (1–3 failing), 10% on 100 (5 failing), 5–6% from 200 groups (10 failing) on. Ten
groups of the rarer class is where the rate settles at its nominal level in both. The gate's
own minimum on the candidate's test window is higher
(:data:`~pipelines.ml.evidence.MIN_TEST_CLASS_GROUPS`): its baseline rule is a point comparison."""

_CELLS_PER_CHUNK = 2_000_000
"""Replicates are drawn in chunks of at most this many (replicate, row) weights (memory bound)."""


class IncomparableError(ValueError):
    """The current model cannot score the candidate's test rows (the message says why)."""


@contextmanager
def _loading(what: str) -> Iterator[None]:
    """Turns what a missing, unreadable or foreign file raises into an :class:`IncomparableError`."""
    try:
        yield
    except (OSError, KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as exc:
        raise IncomparableError(f"{what} cannot be loaded ({type(exc).__name__}: {exc})") from None


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
        with _loading("the current model"):
            saved = json.loads((folder / "feature_spec.json").read_text(encoding="utf-8"))
            features = saved["features"]
            spec = FeatureSpec(
                names=tuple(features["names"]),
                categorical=tuple(features["categorical"]),
                categories={k: tuple(v) for k, v in features["categories"].items()},
            )
            booster = _booster(folder / "failure_model.txt")
            model = cls(
                str(saved["model_version"]),
                booster,
                spec,
                dict(saved["calibration"]),
                float(saved["threshold"]),
            )
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


def _booster(path: Path) -> lgb.Booster:
    # LightGBM aborts the process on a model cut short (see model_text_problem): checked first
    text = path.read_text(encoding="utf-8")
    problem = model_text_problem(text)
    if problem is not None:
        raise ValueError(f"{path.name} is not a whole LightGBM model: {problem}")
    return lgb.Booster(model_str=text)


def load_duration(folder: Path, spec: FeatureSpec) -> DurationModel:
    """The duration model in service: its boosters, conformal offset and fallback, on ``spec``.

    Raises:
        IncomparableError: when a file is missing, unreadable or not what training writes.
    """
    with _loading("the current duration model"):
        saved = json.loads((folder / "feature_spec.json").read_text(encoding="utf-8"))["duration"]
        boosters = {name: _booster(folder / file) for name, file in DURATION_FILES.items()}
        model = DurationModel(
            boosters["point"],
            boosters["low"],
            boosters["high"],
            spec,
            float(saved["fallback_seconds"]),
            float(saved["interval_offset"]),
        )
    wrong = [n for n, b in boosters.items() if b.num_feature() != len(spec.names)]
    if wrong:
        raise IncomparableError(
            f"the current duration boosters {wrong} do not take the {len(spec.names)} inputs "
            "its feature specification names"
        )
    return model


def _instant(value: np.datetime64) -> str:
    return f"{np.datetime_as_string(value.astype('datetime64[us]'), unit='us')}Z"


def _window(times: npt.NDArray[np.datetime64], failure_rows: int) -> dict[str, Any]:
    return {
        "rows": int(times.size),
        "failure_rows": failure_rows,
        "first": _instant(times.min()) if times.size else None,
        "last": _instant(times.max()) if times.size else None,
    }


def class_groups(y: Floats, groups: npt.NDArray[Any]) -> tuple[int, int, int]:
    """Attempt groups of rows with an outcome: all of them, those with a failure, those with a pass.

    A group retried to green (a failed attempt, then a passing one) counts on both sides: it
    brings a row of each class, which is what ROC-AUC and PR-AUC are made of.
    """
    labels = np.asarray(groups.astype(str))
    failing, passing = len(set(labels[y == 1].tolist())), len(set(labels[y == 0].tolist()))
    return len(set(labels.tolist())), failing, passing


def group_counts(failed: Floats, duration: Floats, groups: npt.NDArray[Any]) -> dict[str, int]:
    """A window's attempt-group counts, the evidence the promotion gate asks for.

    Args:
        failed: 1.0 failed, 0.0 passed, NaN unknown, per row.
        duration: seconds, NaN unknown, per row.
        groups: the attempt group of each row.

    Returns:
        ``groups`` (with an outcome), ``failing_groups`` and ``passing_groups`` of
        :func:`class_groups`, and ``duration_groups`` (with a known duration).
    """
    known = ~np.isnan(failed)
    total, failing, passing = class_groups(failed[known], groups[known])
    timed = len(set(np.asarray(groups[~np.isnan(duration)].astype(str)).tolist()))
    return {"groups": total, "failing_groups": failing, "passing_groups": passing, "duration_groups": timed}


def _keys(data: Dataset) -> npt.NDArray[np.int64]:
    # a row is a run attempt: run id and attempt number (retries share the run id)
    attempt = (
        np.nan_to_num(data.x[:, data.spec.names.index("run_attempt")]).astype(np.int64)
        if "run_attempt" in data.spec.names
        else np.zeros(len(data), dtype=np.int64)
    )
    return np.stack([data.ids.astype(np.int64), attempt], axis=1)


def training_windows(fit: Dataset, calibration: Dataset, test: Dataset) -> dict[str, Any]:
    """The report's ``windows``: trigger-time period and row counts of each side of a training.

    Returns:
        ``fit``, ``calibration``, ``test`` and ``trained`` (fit and calibration together: every
        row the final booster, refit on both, or its calibrator saw), each with ``rows``,
        ``failure_rows``, ``first``/``last`` trigger times (ISO 8601, UTC, microseconds) and the
        attempt-group counts of :func:`group_counts` (the test window's are the evidence the
        promotion gate asks for); ``trained_keys_sha256``, a SHA-256 of the sorted (run id,
        attempt) keys of the trained rows, tells two trainings on the same rows apart from others.
    """
    keys = np.concatenate([_keys(fit), _keys(calibration)])
    keys = keys[np.lexsort((keys[:, 1], keys[:, 0]))].astype("<i8")
    windows = {
        name: {
            **_window(data.time, int(data.has_failure_label.sum())),
            **group_counts(data.failed, data.duration, data.groups),
        }
        for name, data in (("fit", fit), ("calibration", calibration), ("test", test))
    }
    windows["trained"] = {
        **_window(
            np.concatenate([fit.time, calibration.time]),
            windows["fit"]["failure_rows"] + windows["calibration"]["failure_rows"],
        ),
        **group_counts(
            np.concatenate([fit.failed, calibration.failed]),
            np.concatenate([fit.duration, calibration.duration]),
            np.concatenate([fit.groups, calibration.groups]),
        ),
    }
    return {**windows, "trained_keys_sha256": hashlib.sha256(keys.tobytes()).hexdigest()}


def trained_period(report: dict[str, Any] | None) -> tuple[np.datetime64, np.datetime64] | None:
    """First and last trigger time the model of a report was trained on; None when not recorded.

    Reports written before the windows were recorded (or without report at all) give None.
    """
    try:
        trained = (report or {})["windows"]["trained"]
        first, last = (np.datetime64(str(trained[k]).removesuffix("Z"), "us") for k in ("first", "last"))
    except (KeyError, TypeError, ValueError):  # missing, or not what training writes
        return None
    return (first, last) if not (np.isnat(first) or np.isnat(last)) else None


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


def _group_weights(groups: npt.NDArray[Any], replicates: int, seed: int) -> Iterator[Floats]:
    """Case weights (replicates × rows) of a bootstrap drawing whole groups, in memory-bound chunks."""
    codes = np.unique(groups.astype(str), return_inverse=True)[1].reshape(-1)
    n_groups = int(codes.max()) + 1 if codes.size else 0
    rng = np.random.default_rng(seed)
    chunk = max(1, _CELLS_PER_CHUNK // max(1, codes.size))
    done = 0
    while done < replicates:
        size = min(chunk, replicates - done)
        counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=size).astype(np.float64)
        yield counts[:, codes]
        done += size


def _spread(draws: dict[str, list[Floats]], replicates: int) -> dict[str, Any]:
    """Standard deviation of each metric's replicate figures (the usable ones): its standard error."""
    out: dict[str, Any] = {"resampled": "attempt groups, with replacement", "replicates": replicates}
    for metric, chunks in draws.items():
        values = np.concatenate(chunks)
        values = values[np.isfinite(values)]
        out[metric] = float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
    return out


def standard_errors(
    y: Floats, p: Floats, groups: npt.NDArray[Any], *, replicates: int = REPLICATES, seed: int = 0
) -> dict[str, Any]:
    """Bootstrap standard errors of one model's ROC-AUC and PR-AUC on its test rows (groups resampled).

    Stored in every report so that a later gate, when it cannot compare two models on the same
    rows, can still tell a loss across two test windows from the noise of each.
    """
    ranked = _ranked(p)
    draws: dict[str, list[Floats]] = {"roc_auc": [], "pr_auc": []}
    for weights in _group_weights(groups, replicates, seed):
        auc, ap = weighted_auc(y, p, weights, ranked)
        draws["roc_auc"].append(auc)
        draws["pr_auc"].append(ap)
    return _spread(draws, replicates)


def _interval(draws: Floats) -> list[float]:
    """The 2.5th–97.5th percentile of the usable (finite) replicate figures; NaNs without any."""
    draws = draws[np.isfinite(draws)]
    if not draws.size:
        return [float("nan"), float("nan")]
    return [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


def _difference(candidate: float, current: float, draws: Floats) -> dict[str, Any]:
    """One compared figure: both models' point figures, their difference, and its replicates' 95% interval."""
    return {
        "candidate": candidate,
        "current": current,
        "difference": candidate - current,
        "ci95": _interval(draws),
        "used": int(np.isfinite(draws).sum()),
    }


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
    decided = [(candidate >= thresholds[0]).astype(np.float64), (current >= thresholds[1]).astype(np.float64)]
    ranked = [_ranked(candidate), _ranked(current)]
    differences: dict[str, list[Floats]] = {m: [] for m in COMPARED}
    for weights in _group_weights(groups, replicates, seed):
        (auc_a, ap_a), (auc_b, ap_b) = (
            weighted_auc(y, p, weights, r) for p, r in zip((candidate, current), ranked, strict=True)
        )
        differences["roc_auc"].append(auc_a - auc_b)
        differences["pr_auc"].append(ap_a - ap_b)
        differences["balanced_accuracy"].append(
            weighted_balanced_accuracy(y, decided[0], weights)
            - weighted_balanced_accuracy(y, decided[1], weights)
        )
    point = {
        "roc_auc": (roc_auc(y, candidate), roc_auc(y, current)),
        "pr_auc": (pr_auc(y, candidate), pr_auc(y, current)),
        "balanced_accuracy": (balanced_accuracy(y, decided[0]), balanced_accuracy(y, decided[1])),
    }
    out: dict[str, Any] = {"replicates": replicates}
    for metric in COMPARED:
        out[metric] = _difference(*point[metric], np.concatenate(differences[metric]))
    return out


Predictions = tuple[Floats, Floats, Floats]
"""A duration model's ``(point, p10, p90)`` seconds of the rows with a known duration."""


def _weighted_median(values: Floats, weights: Floats) -> Floats:
    """The lower weighted median of ``values`` under each row of ``weights`` (NaN without weight)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[:, order], axis=1)
    total = cumulative[:, -1] if values.size else np.zeros(weights.shape[0])
    at = np.argmax(cumulative >= 0.5 * total[:, None], axis=1) if values.size else np.zeros(0, dtype=int)
    out = values[order][at] if values.size else np.full(weights.shape[0], np.nan)
    return np.asarray(np.where(total > 0, out, np.nan), dtype=np.float64)


def _duration_figures(y: Floats, predicted: Predictions, weights: Floats) -> dict[str, Floats]:
    """MAE, median APE and P10–P90 coverage under each row of case ``weights``."""
    point, low, high = predicted
    total = weights.sum(axis=1)
    positive = y > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "mae": (weights @ np.abs(y - point)) / total,
            "median_ape": _weighted_median(
                np.abs(y[positive] - point[positive]) / y[positive], weights[:, positive]
            ),
            "interval_coverage": (weights @ ((y >= low) & (y <= high)).astype(np.float64)) / total,
        }


def _point_figures(y: Floats, predicted: Predictions) -> dict[str, float]:
    point, low, high = predicted
    return {
        "mae": mae(y, point),
        "median_ape": median_ape(y, point),
        "interval_coverage": interval_coverage(y, low, high),
    }


def duration_bootstrap(
    y: Floats,
    candidate: Predictions,
    current: Predictions,
    groups: npt.NDArray[Any],
    *,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> dict[str, Any]:
    """Duration figures of both models and 95% intervals of candidate − current, resampling groups.

    Returns:
        Per metric of :data:`DURATION_COMPARED` ``candidate``, ``current``, ``difference``,
        ``ci95`` (of the difference) and ``used``; ``interval_coverage`` also has each model's own
        95% interval (``candidate_ci95``, ``current_ci95``), which the gate's coverage band uses.
    """
    draws: dict[str, list[Floats]] = {m: [] for m in DURATION_COMPARED}
    coverage: tuple[list[Floats], list[Floats]] = ([], [])
    for weights in _group_weights(groups, replicates, seed):
        a, b = _duration_figures(y, candidate, weights), _duration_figures(y, current, weights)
        for metric in DURATION_COMPARED:
            draws[metric].append(a[metric] - b[metric])
        coverage[0].append(a["interval_coverage"])
        coverage[1].append(b["interval_coverage"])
    point = (_point_figures(y, candidate), _point_figures(y, current))
    out: dict[str, Any] = {"replicates": replicates}
    for metric in DURATION_COMPARED:
        out[metric] = _difference(point[0][metric], point[1][metric], np.concatenate(draws[metric]))
    out["interval_coverage"]["candidate_ci95"] = _interval(np.concatenate(coverage[0]))
    out["interval_coverage"]["current_ci95"] = _interval(np.concatenate(coverage[1]))
    return out


def duration_standard_errors(
    y: Floats,
    predicted: Predictions,
    groups: npt.NDArray[Any],
    *,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> dict[str, Any]:
    """Bootstrap standard errors of one duration model's MAE and coverage on its test rows (groups resampled).

    The report's ``duration_noise``, alongside ``failure_noise`` (:func:`standard_errors`): what a
    later gate uses across two test windows when it cannot compare the models on the same rows.
    """
    draws: dict[str, list[Floats]] = {"mae": [], "interval_coverage": []}
    for weights in _group_weights(groups, replicates, seed):
        figures = _duration_figures(y, predicted, weights)
        for metric, chunks in draws.items():
            chunks.append(figures[metric])
    return _spread(draws, replicates)


def stored_report(folder: Path) -> dict[str, Any] | None:
    """The ``report.json`` of a models folder; None when missing or unreadable."""
    try:
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def unseen_groups(test: Dataset, period: tuple[np.datetime64, np.datetime64]) -> npt.NDArray[np.bool_]:
    """Rows of attempt groups none of whose rows lies inside the trained ``period`` (both ends in).

    A whole group goes when one of its rows may have been seen: its attempts share code and
    mostly their outcome, so a seen attempt leaks the others'.
    """
    first, last = period
    seen = (test.time >= first) & (test.time <= last)
    codes = np.unique(test.groups.astype(str), return_inverse=True)[1].reshape(-1)
    seen_groups = np.bincount(codes, weights=seen, minlength=int(codes.max()) + 1 if codes.size else 0) > 0
    return np.asarray(~seen_groups[codes], dtype=np.bool_)


def _too_few(y: Floats, groups: npt.NDArray[Any]) -> str | None:
    total, failed, passed = class_groups(y, groups)
    if total >= MIN_UNSEEN_GROUPS and min(failed, passed) >= MIN_UNSEEN_CLASS_GROUPS:
        return None
    return (
        f"{total} attempt groups ({failed} with a failure, {passed} without), fewer than the "
        f"{MIN_UNSEEN_GROUPS} ({MIN_UNSEEN_CLASS_GROUPS} with a failure and as many without) "
        "a paired bootstrap needs"
    )


def compare_with_current(
    folder: Path,
    frame: pl.DataFrame,
    rows: npt.NDArray[np.int64],
    test: Dataset,
    candidate_probability: Floats,
    candidate_threshold: float,
    candidate_duration: Predictions | None = None,
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
        candidate_duration: the candidate's duration predictions of the test rows with a known
            duration (None: no duration comparison).
        replicates: bootstrap replicates.
        seed: seed of the draws.

    Returns:
        ``same_rows`` True with ``current_version``, ``rows``, ``groups``, ``resampled``,
        ``seed``, ``unseen`` and per metric ``candidate``, ``current``, ``difference``,
        ``ci95``; or ``same_rows`` False with ``reason`` (and ``current_version`` when it was
        readable, ``unseen`` when the rows were too few). ``unseen`` says which test rows the
        current model never saw: ``checked`` (False when its report records no training
        period), ``trained_first``/``trained_last``, ``test_rows``/``test_groups`` (all
        labelled test rows) and ``rows``/``groups`` kept, and a ``note``. Once the current model
        could encode the rows, ``duration`` holds :func:`compare_durations`.
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
    period = trained_period(stored_report(folder))
    duration = compare_durations(
        folder, model.spec, current, test, candidate_duration, period, replicates=replicates, seed=seed
    )
    y, groups = test.failed[known], test.groups[known]
    keep = unseen_groups(test.subset(known), period) if period is not None else np.ones(y.size, dtype=bool)
    unseen: dict[str, Any] = {
        "checked": period is not None,
        "trained_first": _instant(period[0]) if period is not None else None,
        "trained_last": _instant(period[1]) if period is not None else None,
        "test_rows": int(y.size),
        "test_groups": len(set(groups.astype(str).tolist())),
        "rows": int(keep.sum()),
        "groups": len(set(groups[keep].astype(str).tolist())),
    }
    if period is None:
        unseen["note"] = (
            "the current model's report records no training period (trained before it was recorded): "
            "compared on all test rows, some of which it may have been trained on"
        )
    else:
        unseen["note"] = (
            f"{unseen['rows']} of {unseen['test_rows']} test rows ({unseen['groups']} of "
            f"{unseen['test_groups']} attempt groups) lie outside the current model's training period "
            f"({unseen['trained_first']} to {unseen['trained_last']})"
        )
        # a window the current model never saw is compared as before, however small
        too_few = _too_few(y[keep], groups[keep]) if not keep.all() else None
        if too_few is not None:
            return {
                "same_rows": False,
                "current_version": version,
                "reason": f"the current model was trained on the candidate's test window: {unseen['note']}, "
                f"only {too_few}",
                "unseen": unseen,
                "duration": duration,
            }
    compared = paired_bootstrap(
        y[keep],
        candidate_probability[keep],
        current_probability[keep],
        (candidate_threshold, model.threshold),
        groups[keep],
        replicates=replicates,
        seed=seed,
    )
    return {
        "same_rows": True,
        "current_version": version,
        "rows": unseen["rows"],
        "groups": unseen["groups"],
        "resampled": "attempt groups, with replacement (paired: both models on each draw)",
        "seed": seed,
        "unseen": unseen,
        **compared,
        "duration": duration,
    }


def compare_durations(
    folder: Path,
    spec: FeatureSpec,
    current: Dataset,
    test: Dataset,
    candidate: Predictions | None,
    period: tuple[np.datetime64, np.datetime64] | None,
    *,
    replicates: int = REPLICATES,
    seed: int = 0,
) -> dict[str, Any]:
    """``versus_current.duration``: both duration models on the unseen test rows with a duration.

    The rows are kept as for the failure comparison (whole attempt groups outside the current
    model's training ``period``; all rows when it recorded none), and with fewer than
    :data:`MIN_UNSEEN_GROUPS` groups left after some had to go there is no comparison.

    Returns:
        ``compared`` True with ``rows``, ``groups`` and :func:`duration_bootstrap`'s figures; or
        ``compared`` False with ``reason``.
    """
    if candidate is None:
        return {"compared": False, "reason": "the candidate gave no duration predictions"}
    try:
        model = load_duration(folder, spec)
    except IncomparableError as exc:
        return {"compared": False, "reason": str(exc)}
    rows = test.has_duration_label
    y, groups = test.duration[rows], test.groups[rows]
    keep = unseen_groups(test.subset(rows), period) if period is not None else np.ones(y.size, dtype=bool)
    kept = len(set(groups[keep].astype(str).tolist()))
    if not keep.any() or (not keep.all() and kept < MIN_UNSEEN_GROUPS):
        return {
            "compared": False,
            "reason": f"only {kept} of the test attempt groups with a duration lie outside the current "
            f"model's training period, fewer than the {MIN_UNSEEN_GROUPS} a paired bootstrap needs",
        }
    theirs = model.predict(current.x[rows][keep])
    ours = (candidate[0][keep], candidate[1][keep], candidate[2][keep])
    return {
        "compared": True,
        "rows": int(keep.sum()),
        "groups": kept,
        **duration_bootstrap(y[keep], ours, theirs, groups[keep], replicates=replicates, seed=seed),
    }
