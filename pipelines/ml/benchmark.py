"""``repopilot benchmark ci``: train and judge the CI models on real TravisTorrent history.

The files go through the pipeline's own code: each is loaded into a temporary DuckDB warehouse
(:func:`~warehouse.travistorrent.load_travistorrent`, the core models, the feature-input view)
and turned into run features by :func:`~pipelines.features.runs.build_run_features`.

Three ways to split (the evaluation protocol of ``ARCHITECTURE.md``):

* ``--train A --test B`` — train on A, test on B; each file gets its own warehouse, so B's
  features use only B's own earlier builds;
* ``--split time --data F`` — features built once on F (they are as of each trigger, so later
  rows do not change earlier features), the first 80% of builds by start time train, the rest
  test;
* ``--split project --data F`` — a deterministic ~20% of the projects are held out whole.

Within the training rows, the latest 20% (by time) are the calibration slice: the calibrator,
the decision threshold, the risk levels, the baselines' thresholds and the duration interval's
conformal step are fitted there; tuning runs time-series cross-validation on the rest. The
failure booster is then refitted on all training rows (see :mod:`pipelines.ml.train`). The test
rows are touched once, for the figures.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.features.runs import build_run_features
from pipelines.features.schemas import RUN_INPUT_SCHEMA, conform
from pipelines.ml.baselines import (
    baseline_duration_metrics,
    baseline_failure_metrics,
    duration_median_prediction,
    fit_fallbacks,
    previous_outcome_probability,
)
from pipelines.ml.card import build_model_card
from pipelines.ml.dataset import Dataset, fit_spec, make_dataset
from pipelines.ml.explain import predict_workflow_outcome
from pipelines.ml.metrics import (
    balanced_accuracy,
    duration_metrics,
    failure_metrics,
    mae,
    pr_auc,
    pr_curve,
    reliability_curve,
    roc_auc,
)
from pipelines.ml.mlp import train_mlp
from pipelines.ml.splits import Split, held_out_projects, project_split, time_series_folds, time_split
from pipelines.ml.train import (
    DurationModel,
    FailureModel,
    calibration_split,
    feature_importance,
    level_failure_rates,
    rates_increase,
    train_duration_model,
    train_failure_model,
)
from pipelines.ml.tune import TuningResult, tune_failure_model
from pipelines.ml.versus import training_windows
from warehouse.db import build_core, connect, create_feature_inputs
from warehouse.frames import read_relation
from warehouse.travistorrent import load_travistorrent

DEFAULT_TRIALS = 25
"""Optuna trials by default: the whole benchmark stays well under 15 minutes on two cores."""

SPLITS = ("time", "project")
"""The ``--split`` choices for a single ``--data`` file."""

CV_FOLDS = 3
"""Time-series folds of the tuning."""

CV_GAP = timedelta(days=1)
"""Gap between each tuning fold's training rows and its validation block."""

TARGETS: dict[str, tuple[str, float]] = {
    "failure.roc_auc": (">=", 0.92),
    "failure.pr_auc": (">=", 0.87),
    "failure.balanced_accuracy": (">=", 0.85),
    "failure.balanced_accuracy_over_previous_outcome": (">=", 0.05),
    "failure.ece": ("<=", 0.03),
    "duration.mae_ratio_to_baseline": ("<=", 0.85),
    "duration.interval_coverage_low": (">=", 0.75),
    "duration.interval_coverage_high": ("<=", 0.85),
    "seconds": ("<", 900.0),
}
"""The issue's targets, checked in every report (``targets``)."""


ROW_ORDER: tuple[str, ...] = ("created_at", "repo", "id", "run_attempt")
"""A total order of run-feature rows. DuckDB returns rows in no fixed order, and LightGBM's
bagging and the tuning folds depend on row order, so without it two runs of the benchmark on the
same file give different models and figures."""


def build_features(path: Path) -> pl.DataFrame:
    """Run features of a TravisTorrent-schema file, through its own temporary warehouse.

    Rows come in :data:`ROW_ORDER`, so the benchmark is repeatable.

    Raises:
        warehouse.travistorrent.TravisTorrentError: if the file is not a TravisTorrent table.
    """
    with tempfile.TemporaryDirectory(prefix="repopilot-ci-") as tmp, connect(Path(tmp) / "w.duckdb") as conn:
        load_travistorrent(conn, path)
        build_core(conn)
        create_feature_inputs(conn)
        inputs = conform(read_relation(conn, "features.run_inputs"), RUN_INPUT_SCHEMA)
    return build_run_features(inputs).sort(ROW_ORDER)


def _labelled(features: pl.DataFrame) -> pl.DataFrame:
    return features.filter(pl.col("failed").is_not_null() | pl.col("duration_seconds").is_not_null())


def _split_arrays(frame: pl.DataFrame) -> tuple[Any, Any, Any]:
    time_ = frame.get_column("created_at").dt.replace_time_zone(None).to_numpy().astype("datetime64[us]")
    groups = np.asarray(frame.get_column("attempt_group").to_list(), dtype=object)
    repos = np.asarray(frame.get_column("repo").to_list(), dtype=object)
    return time_, groups, repos


def prepare(
    *, train: Path | None, test: Path | None, data: Path | None, split: str, seed: int = 0
) -> tuple[Dataset, Dataset, dict[str, Any]]:
    """Build the training and test datasets of one benchmark configuration.

    Returns:
        ``(train, test, description)``; the feature specification is fitted on training rows.

    Raises:
        ValueError: on an invalid combination of arguments.
    """
    if data is not None and (train is not None or test is not None):
        raise ValueError("give either --data or both --train and --test, not both")
    if data is None and (train is None or test is None):
        raise ValueError("give --data FILE, or both --train FILE and --test FILE")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    started = time.perf_counter()
    info: dict[str, Any] = {}
    if data is not None:
        frame = _labelled(build_features(data))
        time_, groups, repos = _split_arrays(frame)
        chosen: Split = (
            time_split(time_, groups, train_fraction=0.8)
            if split == "time"
            else project_split(time_, repos, test_fraction=0.2, seed=seed)
        )
        spec = fit_spec(frame[chosen.train])
        dataset = make_dataset(frame, spec)
        train_ds, test_ds = dataset.subset(chosen.train), dataset.subset(chosen.test)
        info.update({"source": str(data), "split": chosen.description, "purged_rows": chosen.purged})
        if split == "project":
            info["held_out_projects"] = held_out_projects(repos, test_fraction=0.2, seed=seed)
    else:
        if train is None or test is None:  # checked above; narrows the types
            raise ValueError("give both --train and --test")
        train_frame = _labelled(build_features(train))
        test_frame = _labelled(build_features(test))
        spec = fit_spec(train_frame)
        train_ds = make_dataset(train_frame, spec)
        test_ds = make_dataset(test_frame, spec)
        train_ds = train_ds.subset(np.argsort(train_ds.time, kind="stable"))
        test_ds = test_ds.subset(np.argsort(test_ds.time, kind="stable"))
        info.update(
            {"source": f"train {train}, test {test}", "split": "files: each file's features built apart"}
        )
    info["feature_seconds"] = time.perf_counter() - started
    return train_ds, test_ds, info


def _period(data: Dataset) -> list[str]:
    if not len(data):
        return []
    return [str(data.time.min())[:19], str(data.time.max())[:19]]


def _failure_rows(data: Dataset) -> tuple[Any, Any]:
    known = data.has_failure_label
    return data.x[known], data.failed[known]


def _by_repository(
    test: Dataset,
    probability: Any,
    threshold: float,
    point: Any,
    fallbacks_failure: float,
    baseline_duration: Any,
) -> list[dict[str, Any]]:
    known = test.has_failure_label
    repos_f, y_f = test.repos[known], test.failed[known]
    previous = np.where(
        np.isnan(test.baseline_previous[known]), fallbacks_failure, test.baseline_previous[known]
    )
    dur = test.has_duration_label
    repos_d, y_d = test.repos[dur], test.duration[dur]
    rows: list[dict[str, Any]] = []
    for repo in sorted({str(r) for r in test.repos.tolist()}):
        f = repos_f == repo
        d = repos_d == repo
        y = y_f[f]
        rows.append(
            {
                "repo": repo,
                "rows": int(f.sum()),
                "failure_rate": float(y.mean()) if y.size else float("nan"),
                "roc_auc": roc_auc(y, probability[f]) if y.size else float("nan"),
                "pr_auc": pr_auc(y, probability[f]) if y.size else float("nan"),
                "balanced_accuracy": balanced_accuracy(y, (probability[f] >= threshold).astype(float))
                if y.size
                else float("nan"),
                "previous_outcome_balanced_accuracy": balanced_accuracy(y, (previous[f] >= 0.5).astype(float))
                if y.size
                else float("nan"),
                "duration_mae": mae(y_d[d], point[d]) if d.any() else float("nan"),
                "baseline_duration_mae": mae(y_d[d], baseline_duration[d]) if d.any() else float("nan"),
            }
        )
    rows.sort(key=lambda r: -int(r["rows"]))
    return rows


def evaluate(
    failure_model: FailureModel,
    duration_model: DurationModel,
    fit: Dataset,
    calibration: Dataset,
    test: Dataset,
    *,
    mlp_probability: Any = None,
    mlp_threshold: float | None = None,
) -> dict[str, Any]:
    """Every figure of the report on the test rows (models, baselines, risk, duration, curves).

    Returns:
        The ``failure``, ``baselines``, ``mlp``, ``duration``, ``risk``, ``by_repository``,
        ``curves``, ``feature_importance`` and ``example_prediction`` sections.
    """
    fallbacks = fit_fallbacks(fit, calibration)
    x, y = _failure_rows(test)
    probability = failure_model.probability(x)
    failure = failure_metrics(y, probability, failure_model.threshold)
    failure["calibration"] = {
        k: v
        for k, v in failure_model.report.items()
        if k.startswith("ece_") or k in {"calibration_method", "calibration_rows", "fit_rows", "refit_rows"}
    }
    baselines = baseline_failure_metrics(test, fallbacks)
    failure["balanced_accuracy_over_previous_outcome"] = (
        failure["balanced_accuracy"] - baselines["previous_outcome"]["balanced_accuracy"]
    )
    mlp: dict[str, Any] = {}
    if mlp_probability is not None and mlp_threshold is not None:
        mlp = failure_metrics(y, mlp_probability, mlp_threshold)

    rates = level_failure_rates(failure_model.risk, probability, y)
    risk = {
        "thresholds": list(failure_model.risk.thresholds),
        "failure_rate_by_level": {k: v["failure_rate"] for k, v in rates.items()},
        "rows_by_level": {k: int(v["rows"]) for k, v in rates.items()},
        "mean_probability_by_level": {k: v["mean_probability"] for k, v in rates.items()},
        "increasing": rates_increase(rates),
        "increasing_on_calibration": failure_model.report.get("risk_rates_increase_calibration"),
    }

    dur = test.has_duration_label
    point, low, high = duration_model.predict(test.x[dur])
    y_d = test.duration[dur]
    baseline_point = duration_median_prediction(test, fallbacks)[dur]
    base = baseline_duration_metrics(test, fallbacks)
    with_history = ~np.isnan(test.baseline_duration[dur])
    duration: dict[str, Any] = {
        **duration_metrics(y_d, point, low, high),
        "baseline_mae": base["mae"],
        "baseline_median_ape": base["median_ape"],
        "mae_with_history": mae(y_d[with_history], point[with_history]),
        "baseline_mae_with_history": base["mae_with_history"],
        "history_share": base["history_share"],
        "rows": int(dur.sum()),
        "calibration": duration_model.report,
    }
    duration["mae_ratio_to_baseline"] = (
        duration["mae"] / duration["baseline_mae"] if duration["baseline_mae"] else float("nan")
    )

    all_probability = np.full(len(test), np.nan)
    all_probability[test.has_failure_label] = probability
    example_row = int(np.nanargmax(all_probability)) if np.isfinite(all_probability).any() else 0
    one_row = test.x[example_row : example_row + 1]
    example = predict_workflow_outcome(failure_model, duration_model, one_row)[0]
    example["run_id"] = int(test.ids[example_row])
    example["repo"] = str(test.repos[example_row])
    return {
        "failure": failure,
        "baselines": baselines,
        "mlp": mlp,
        "duration": duration,
        "risk": risk,
        "by_repository": _by_repository(
            test,
            probability,
            failure_model.threshold,
            point,
            fallbacks.failure_rate,
            baseline_point,
        ),
        "curves": {
            "pr": pr_curve(y, probability),
            "pr_previous_outcome": pr_curve(
                y, previous_outcome_probability(test, fallbacks)[test.has_failure_label]
            ),
            "reliability": reliability_curve(y, probability),
        },
        "feature_importance": feature_importance(failure_model.booster, failure_model.spec.names),
        "example_prediction": example,
    }


def _lookup(report: dict[str, Any], dotted: str) -> Any:
    node: Any = report
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def check_targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each of :data:`TARGETS` with its value in ``report`` and whether it is met."""
    duration = report.get("duration", {})
    derived = {
        "duration.interval_coverage_low": duration.get("interval_coverage"),
        "duration.interval_coverage_high": duration.get("interval_coverage"),
    }
    out = {}
    for name, (op, bound) in TARGETS.items():
        value = derived.get(name, _lookup(report, name))
        met = False
        if isinstance(value, int | float) and not math.isnan(value):
            met = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        out[name] = {"value": value, "target": f"{op} {bound:g}", "met": bool(met)}
    return out


def clean_report(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None, private keys dropped."""
    if isinstance(value, dict):
        return {str(k): clean_report(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [clean_report(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_table(report: dict[str, Any]) -> str:
    """The printed summary: model vs baselines, duration, risk levels and targets."""
    columns = [
        ("LightGBM", report["failure"]),
        ("MLP", report.get("mlp") or {}),
        ("prev.", report["baselines"]["previous_outcome"]),
        ("rolling", report["baselines"]["rolling_rate"]),
        ("majority", report["baselines"]["majority"]),
    ]

    def cell(value: Any) -> str:
        return "–" if not isinstance(value, int | float) or math.isnan(value) else f"{value:.3f}"

    lines = [
        f"split: {report['data']['split']}  train {report['data']['train_rows']:,} rows, "
        f"test {report['data']['test_rows']:,} rows, "
        f"test failure rate {report['failure']['failure_rate']:.3f}",
        "",
        f"{'failure':<22}" + "".join(f"{name:>10}" for name, _ in columns),
    ]
    for key in (
        "roc_auc",
        "pr_auc",
        "balanced_accuracy",
        "accuracy",
        "always_pass_accuracy",
        "mcc",
        "brier",
        "ece",
        "threshold",
    ):
        lines.append(f"{key:<22}" + "".join(f"{cell(c.get(key)):>10}" for _, c in columns))
    d = report["duration"]
    lines += [
        "",
        f"{'duration':<22}{'LightGBM':>10}{'median5':>10}",
        f"{'mae (s)':<22}{cell(d['mae']):>10}{cell(d['baseline_mae']):>10}",
        f"{'mae, with history (s)':<22}{cell(d['mae_with_history']):>10}"
        f"{cell(d['baseline_mae_with_history']):>10}",
        f"{'median_ape':<22}{cell(d['median_ape']):>10}{cell(d['baseline_median_ape']):>10}",
        f"{'p10-p90 coverage':<22}{cell(d['interval_coverage']):>10}",
        "",
        "risk level failure rates: "
        + ", ".join(f"{k} {v:.3f}" for k, v in report["risk"]["failure_rate_by_level"].items())
        + f" (increasing: {report['risk']['increasing']})",
        "",
        "targets:",
    ]
    for name, target in report["targets"].items():
        verdict = "MET " if target["met"] else "miss"
        lines.append(f"  {verdict} {name:<48} {cell(target['value']):>10}  {target['target']}")
    lines.append(f"\n{report['seconds']:.1f} s in all")
    return "\n".join(lines)


@dataclass(frozen=True)
class FittedModels:
    """The models of one training window, with the slices and tuning that made them."""

    fit: Dataset
    calibration: Dataset
    tuning: TuningResult
    failure: FailureModel
    duration: DurationModel


def fit_models(train: Dataset, *, trials: int, seed: int) -> FittedModels:
    """Split off a later calibration slice, tune on time-series folds, train both models."""
    fit, calibration = calibration_split(train, fraction=0.2)
    fit_x, fit_y = _failure_rows(fit)
    known = fit.has_failure_label
    folds = time_series_folds(fit.time[known], fit.groups[known], n_folds=CV_FOLDS, gap=CV_GAP)
    tuning = tune_failure_model(
        fit_x,
        fit_y,
        folds,
        trials=trials,
        categorical=fit.spec.categorical_indices,
        seed=seed,
        final_rows=int(fit_y.size),
    )
    failure = train_failure_model(
        fit, calibration, params=tuning.params, num_boost_round=tuning.num_boost_round
    )
    return FittedModels(fit, calibration, tuning, failure, train_duration_model(fit, calibration, seed=seed))


def run_ci_benchmark(
    *,
    train: Path | None = None,
    test: Path | None = None,
    data: Path | None = None,
    split: str = "time",
    json_path: Path | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    card_dir: Path | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Train, tune, calibrate and evaluate the CI models on TravisTorrent-schema files.

    Args:
        train: training file (with ``test``).
        test: test file (with ``train``); its features use only its own builds.
        data: a single file, split by ``split``.
        split: ``time`` (first 80% by start time train) or ``project`` (~20% of projects held out).
        json_path: where to write the report as JSON.
        trials: Optuna trial budget.
        seed: seed of tuning, models and the project choice.
        card_dir: where to write the model card (markdown and SVG images).
        echo: print the summary table.

    Returns:
        The report (the JSON's content): ``failure``, ``baselines``, ``mlp``, ``duration``,
        ``risk``, ``tuning``, ``data``, ``by_repository``, ``curves``, ``feature_importance``,
        ``example_prediction``, ``targets`` and ``seconds``.

    Raises:
        ValueError: on invalid arguments or data too small to split.
    """
    started = time.perf_counter()
    train_ds, test_ds, info = prepare(train=train, test=test, data=data, split=split, seed=seed)
    if not len(test_ds) or not test_ds.has_failure_label.any():
        raise ValueError("the test side has no labelled run")
    fitted = fit_models(train_ds, trials=trials, seed=seed)
    fit, calibration, tuning = fitted.fit, fitted.calibration, fitted.tuning
    failure_model, duration_model = fitted.failure, fitted.duration
    mlp_started = time.perf_counter()
    mlp = train_mlp(fit, calibration, seed=seed)
    x_test, _ = _failure_rows(test_ds)
    mlp_probability = mlp.probability(x_test)
    mlp_seconds = time.perf_counter() - mlp_started
    report = evaluate(
        failure_model,
        duration_model,
        fit,
        calibration,
        test_ds,
        mlp_probability=mlp_probability,
        mlp_threshold=mlp.threshold,
    )
    report["mlp"].update({"epochs": mlp.epochs, "seconds": mlp_seconds, "hidden_layer_sizes": [64, 32]})
    report["tuning"] = tuning.summary()
    report["windows"] = training_windows(fit, calibration, test_ds)
    report["data"] = {
        **info,
        "train_rows": len(train_ds),
        "fit_rows": len(fit),
        "calibration_rows": len(calibration),
        "test_rows": len(test_ds),
        "train_period": _period(train_ds),
        "calibration_period": _period(calibration),
        "test_period": _period(test_ds),
        "repositories_train": len({str(r) for r in train_ds.repos.tolist()}),
        "repositories_test": len({str(r) for r in test_ds.repos.tolist()}),
        "features": len(train_ds.spec.names),
    }
    report["seconds"] = time.perf_counter() - started
    report["targets"] = check_targets(report)
    clean: dict[str, Any] = clean_report(report)
    if echo:
        print(format_table(report))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(clean, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    if card_dir is not None:
        build_model_card(clean).write(card_dir)
    return clean
