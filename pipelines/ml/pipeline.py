"""Train, calibrate and judge the CI models on the warehouse's run features (what the assets run).

The same steps as ``repopilot benchmark ci``: a time-ordered split (train on the past, test on
the future, attempts of one commit and workflow on one side), a later slice of the training
window for calibration, Optuna tuning with time-series folds on the rest, then the evaluation
protocol's metrics next to the naive baselines.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from actions.common.schemas import SCHEMA_VERSION
from actions.prediction.explain import RISK_LEVELS
from pipelines.features.runs import feature_docs
from pipelines.ml.benchmark import ROW_ORDER, clean_report, evaluate, fit_models
from pipelines.ml.card import build_model_card
from pipelines.ml.dataset import fit_spec, make_dataset
from pipelines.ml.splits import time_split
from pipelines.ml.train import REFERENCE_FEATURES, DurationModel, FailureModel

MIN_LABELLED_RUNS = 200
"""Fewer labelled runs than this cannot be split into fit, calibration and test honestly."""


class InsufficientHistoryError(ValueError):
    """Too few runs with a known outcome to train and judge a model honestly."""


@dataclass(frozen=True)
class TrainedModels:
    """A trained pair of models with the report that judges them."""

    version: str
    failure: FailureModel
    duration: DurationModel
    report: dict[str, Any]

    def save(self, directory: Path) -> Path:
        """Write the LightGBM text models, the feature specification and the report.

        Returns:
            The folder written (``directory/<version>``).
        """
        target = directory / self.version
        target.mkdir(parents=True, exist_ok=True)
        (target / "failure_model.txt").write_text(self.failure.booster.model_to_string(), encoding="utf-8")
        for name, booster in (
            ("point", self.duration.point),
            ("p10", self.duration.low),
            ("p90", self.duration.high),
        ):
            (target / f"duration_{name}.txt").write_text(booster.model_to_string(), encoding="utf-8")
        spec = {
            "schema_version": SCHEMA_VERSION,
            "model_version": self.version,
            "features": {**self.failure.spec.to_dict(), "docs": feature_docs()},
            "calibration": self.failure.calibrator.to_dict(),
            "threshold": self.failure.threshold,
            "risk_levels": list(RISK_LEVELS),
            "risk_thresholds": list(self.failure.risk.thresholds),
            "duration": {
                "fallback_seconds": self.duration.fallback,
                "interval_offset": self.duration.offset,
                "reference_features": [n for n in REFERENCE_FEATURES if n in self.duration.spec.names],
            },
        }
        (target / "feature_spec.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")
        report = {"version": self.version, **self.report}
        (target / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        build_model_card(self.report).write(target)
        return target


def train_models(
    features: pl.DataFrame, *, trials: int = 20, seed: int = 0, synthetic: bool = False
) -> TrainedModels:
    """Tune, train, calibrate and evaluate on run features (``features.run_features`` rows).

    ``synthetic`` (the data came from the sample organisation) is recorded in the report's
    ``data`` and labels the model card, which then makes no claim about model quality.

    Raises:
        InsufficientHistoryError: when there are too few labelled runs to split honestly.
    """
    started = time.perf_counter()
    frame = features.filter(pl.col("failed").is_not_null() | pl.col("duration_seconds").is_not_null())
    if frame["failed"].drop_nulls().len() < MIN_LABELLED_RUNS:
        raise InsufficientHistoryError(
            f"only {frame['failed'].drop_nulls().len()} runs with a known outcome; "
            f"at least {MIN_LABELLED_RUNS} are needed to train and judge a model"
        )
    frame = frame.sort(ROW_ORDER)
    times = frame["created_at"].to_numpy()
    groups = frame["attempt_group"].to_numpy()
    split = time_split(times, groups, train_fraction=0.8)
    spec = fit_spec(frame[split.train])
    dataset = make_dataset(frame, spec)
    train, test = dataset.subset(split.train), dataset.subset(split.test)
    fitted = fit_models(train, trials=trials, seed=seed)
    fit, calibration, failure, duration = fitted.fit, fitted.calibration, fitted.failure, fitted.duration
    report = evaluate(failure, duration, fit, calibration, test)
    report["tuning"] = fitted.tuning.summary()
    report["data"] = {
        "split": split.description,
        "train_rows": len(train),
        "fit_rows": len(fit),
        "calibration_rows": len(calibration),
        "test_rows": len(test),
        "repositories": frame["repo"].n_unique(),
        "features": len(spec.names),
        "synthetic": synthetic,
    }
    report["seconds"] = time.perf_counter() - started
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return TrainedModels(version, failure, duration, clean_report(report))


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def promotion_verdict(
    report: dict[str, Any], current: dict[str, Any] | None, *, tolerance: float = 0.01
) -> tuple[bool, list[str]]:
    """Whether a new model may replace the current one, and why not.

    It must beat the naive baselines on the test window (ROC-AUC above the rolling failure
    rate's, balanced accuracy above the previous outcome's, duration MAE below the rolling
    median's) and lose no more than ``tolerance`` of ROC-AUC or PR-AUC against the current model.
    """
    reasons: list[str] = []
    failure, baselines, duration = report["failure"], report["baselines"], report["duration"]
    # The report stores a metric that could not be computed (a test window with one class, no
    # durations) as null: such a candidate cannot be shown to beat anything, so it is refused.
    judged = {
        "ROC-AUC": failure.get("roc_auc"),
        "PR-AUC": failure.get("pr_auc"),
        "balanced accuracy": failure.get("balanced_accuracy"),
        "duration MAE": duration.get("mae"),
        "the rolling-rate baseline's ROC-AUC": baselines.get("rolling_rate", {}).get("roc_auc"),
        "the previous-outcome baseline's balanced accuracy": baselines.get("previous_outcome", {}).get(
            "balanced_accuracy"
        ),
        "the baseline's duration MAE": duration.get("baseline_mae"),
    }
    undefined = [name for name, value in judged.items() if not _finite(value)]
    if undefined:
        return False, [
            f"undefined on the test window, so the candidate cannot be judged: {', '.join(undefined)}"
        ]
    if failure["roc_auc"] <= baselines["rolling_rate"]["roc_auc"]:
        reasons.append(
            f"ROC-AUC {failure['roc_auc']:.3f} does not beat the rolling-rate baseline's "
            f"{baselines['rolling_rate']['roc_auc']:.3f}"
        )
    if failure["balanced_accuracy"] <= baselines["previous_outcome"]["balanced_accuracy"]:
        reasons.append(
            f"balanced accuracy {failure['balanced_accuracy']:.3f} does not beat the previous-outcome "
            f"baseline's {baselines['previous_outcome']['balanced_accuracy']:.3f}"
        )
    if duration["mae"] >= duration["baseline_mae"]:
        reasons.append(
            f"duration MAE {duration['mae']:.0f}s does not beat the baseline's "
            f"{duration['baseline_mae']:.0f}s"
        )
    if current is not None:
        for metric in ("roc_auc", "pr_auc"):
            before = current["failure"].get(metric)
            if not _finite(before):  # a current model judged without it: nothing to lose against
                continue
            drop = before - failure[metric]
            if drop > tolerance:
                reasons.append(
                    f"{metric} fell by {drop:.3f} against the current model (tolerance {tolerance})"
                )
    return not reasons, reasons
