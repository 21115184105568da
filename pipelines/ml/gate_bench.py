"""Benchmarks of the promotion gate: its noise on equal or worse models, and its verdict on a warehouse.

``repopilot benchmark gate-noise`` simulates test windows of a given number of attempt groups
(one or two attempts each, sharing the group's outcome, scores and duration) and measures three
error rates of the gate's rules by window size:

- **Equal failure models, paired bootstrap** (:func:`false_refusals`): two exchangeable models
  (the same signal, independent noise) through :func:`~pipelines.ml.versus.paired_bootstrap`.
  The gate refuses when the 95% interval of the ROC-AUC or the PR-AUC difference lies below
  zero, so an equal candidate should be refused in at most about 5% of windows; more than that
  on small windows is the percentile interval being too narrow there, the reason for
  :data:`~pipelines.ml.versus.MIN_UNSEEN_CLASS_GROUPS`.
- **The baseline rule's false passes** (:func:`baseline_false_passes`): the rule "beat the naive
  baselines" is a point comparison (ROC-AUC above the rolling rate's, balanced accuracy above the
  previous outcome's, duration MAE below the rolling median's), the only check a first model
  meets. A candidate that is really no better is simulated two ways: *equal* (exchangeable with
  the baseline) and *worse* (the baseline's own score plus noise, calibrated so that its true
  ROC-AUC is :data:`WORSE` lower and its true MAE that share higher). The share of windows in
  which it still passes is the rule's false-pass rate, the reason for
  :data:`~pipelines.ml.evidence.MIN_TEST_GROUPS` and
  :data:`~pipelines.ml.evidence.MIN_TEST_CLASS_GROUPS`.
- **Equal duration models** (:func:`duration_false_refusals`): two exchangeable duration models
  with a P10–P90 interval of true coverage 0.80 through
  :func:`~pipelines.ml.versus.duration_bootstrap`, refused when the MAE difference's 95% interval
  lies above zero or when the candidate's coverage interval misses
  :data:`~pipelines.ml.pipeline.COVERAGE_BAND` while the current model's does not.

``repopilot benchmark gate`` trains a candidate on a warehouse's run features (optionally on
an earlier share of its history, or with another split fraction) against the models in
service there, and prints how the gate compares them: on the test rows the current model was
not trained on, and, for reference, on all test rows as before that check. Nothing is written
to the warehouse or the models.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from pipelines.ml.pipeline import (
    baseline_reasons,
    paired_duration_reasons,
    promotion_verdict,
    train_models,
    versus_current_summary,
)
from pipelines.ml.versus import (
    duration_bootstrap,
    paired_bootstrap,
    stored_report,
    weighted_auc,
    weighted_balanced_accuracy,
)
from warehouse.db import connect
from warehouse.frames import read_relation

Floats = npt.NDArray[np.float64]

_NORMAL = NormalDist()

GROUPS: tuple[int, ...] = (10, 20, 30, 50, 100, 200, 400)
"""Test-window sizes simulated, in attempt groups."""

BASELINE_ROC_AUC = 0.70
"""True ROC-AUC of the simulated naive baseline, binormal scores of unit variance (the demo's rolling
rate scores 0.59 on its test window; TravisTorrent's previous outcome has a balanced accuracy of 0.76)."""

WORSE: tuple[tuple[float, float], ...] = ((0.05, 0.05), (0.10, 0.10))
"""Worse candidates simulated: (true ROC-AUC below the baseline's, true MAE above it as a share)."""

LOG_DURATION = (5.0, 1.0)
"""Mean and standard deviation of a workflow's log typical duration (seconds: median about 150 s)."""

ATTEMPT_SPREAD = 0.25
"""Standard deviation of an attempt's log duration around its group's typical one."""

PREDICTION_SPREAD = 0.30
"""Standard deviation of a duration estimate's log error (the rolling median of 5 runs, or a model)."""


def _window(rng: np.random.Generator, groups: int) -> npt.NDArray[np.int64]:
    """The attempt group of each row of a window: one or two attempts per group."""
    return np.repeat(np.arange(groups), rng.integers(1, 3, groups)).astype(np.int64)


def _noise_for_roc_auc(separation: float, target: float) -> float:
    """Standard deviation of noise that brings a unit-variance binormal score's ROC-AUC to ``target``.

    With scores ``separation · y + N(0, 1)`` the ROC-AUC is Φ(separation / √2); adding independent
    N(0, σ²) makes it Φ(separation / √(2(1 + σ²))).
    """
    return float(np.sqrt((separation / (np.sqrt(2.0) * _NORMAL.inv_cdf(target))) ** 2 - 1.0))


@cache
def _noise_for_mae(excess: float, seed: int) -> float:
    """Log-noise standard deviation that raises the baseline's true duration MAE by the share ``excess``.

    Found by bisection on one large simulated sample (common random numbers, so deterministic).
    """
    rng = np.random.default_rng([seed, 7])
    typical = np.exp(rng.normal(*LOG_DURATION, 200_000))
    y = typical * np.exp(rng.normal(0.0, ATTEMPT_SPREAD, typical.size))
    base = typical * np.exp(rng.normal(0.0, PREDICTION_SPREAD, typical.size))
    z = rng.normal(0.0, 1.0, typical.size)
    target = (1.0 + excess) * float(np.mean(np.abs(y - base)))
    low, high = 0.0, 2.0
    for _ in range(40):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if np.mean(np.abs(y - base * np.exp(mid * z))) < target else (low, mid)
    return 0.5 * (low + high)


def baseline_false_passes(
    groups: int,
    *,
    failure_rate: float,
    sims: int,
    seed: int,
    worse: Sequence[tuple[float, float]] = WORSE,
) -> dict[str, Any]:
    """How often the gate's point comparison with the baselines passes a candidate no better than them.

    Each window's groups fail with probability ``failure_rate``; the baseline scores a group
    ``d · y + N(0, 1)`` (ROC-AUC :data:`BASELINE_ROC_AUC`) and decides "fails" above ``d / 2`` (the
    previous outcome's role), and predicts durations with log error :data:`PREDICTION_SPREAD`
    (the rolling median's). The *equal* candidate has the same signal and its own noise; a
    *worse* one is the baseline's own score and estimate plus noise, so that its true ROC-AUC
    is lower and its true MAE higher by the amounts of ``worse``. Both are judged by
    :func:`~pipelines.ml.pipeline.baseline_reasons`.

    Returns:
        ``groups``, ``windows`` (those with both classes), ``failing_groups_mean`` and per
        candidate (``equal``, ``worse_roc_auc_<d>_mae_<s>``) the share of windows passing the
        ROC-AUC, balanced-accuracy and MAE rules, the failure rules together (``failure``) and
        all three (``all``).
    """
    rng = np.random.default_rng([seed, groups, 1])
    separation = float(np.sqrt(2.0) * _NORMAL.inv_cdf(BASELINE_ROC_AUC))
    kinds: dict[str, tuple[float, float] | None] = {"equal": None}
    for deficit, excess in worse:
        kinds[f"worse_roc_auc_{deficit:g}_mae_{excess:g}"] = (
            _noise_for_roc_auc(separation, BASELINE_ROC_AUC - deficit),
            _noise_for_mae(excess, seed),
        )
    rules = ("roc_auc", "balanced_accuracy", "duration_mae", "failure", "all")
    passes = {kind: dict.fromkeys(rules, 0) for kind in kinds}
    usable = failing = 0
    for _ in range(sims):
        codes = _window(rng, groups)
        y_group = (rng.random(groups) < failure_rate).astype(np.float64)
        y = y_group[codes]
        if not 0 < y.sum() < y.size:  # one class: the gate cannot judge it at all
            continue
        usable += 1
        failing += int(y_group.sum())
        base_score = separation * y_group + rng.normal(0.0, 1.0, groups)
        typical = np.exp(rng.normal(*LOG_DURATION, groups))
        duration = typical[codes] * np.exp(rng.normal(0.0, ATTEMPT_SPREAD, codes.size))
        base_estimate = typical * np.exp(rng.normal(0.0, PREDICTION_SPREAD, groups))
        baseline = _point_figures(y, base_score[codes], separation / 2, duration, base_estimate[codes])
        for kind, noise in kinds.items():
            if noise is None:
                score = separation * y_group + rng.normal(0.0, 1.0, groups)
                estimate = typical * np.exp(rng.normal(0.0, PREDICTION_SPREAD, groups))
            else:
                score = base_score + rng.normal(0.0, noise[0], groups)
                estimate = base_estimate * np.exp(rng.normal(0.0, noise[1], groups))
            candidate = _point_figures(y, score[codes], separation / 2, duration, estimate[codes])
            report = {
                "failure": candidate,
                "baselines": {"rolling_rate": baseline, "previous_outcome": baseline},
                "duration": {"mae": candidate["mae"], "baseline_mae": baseline["mae"]},
            }
            reasons = baseline_reasons(report)
            failed = {rule: rule in reasons for rule in ("roc_auc", "balanced_accuracy", "duration_mae")}
            failed["failure"] = failed["roc_auc"] or failed["balanced_accuracy"]
            failed["all"] = bool(reasons)
            for rule in rules:
                passes[kind][rule] += not failed[rule]
    return {
        "groups": groups,
        "windows": usable,
        "failing_groups_mean": failing / usable if usable else float("nan"),
        **{
            kind: {rule: count / usable if usable else float("nan") for rule, count in counts.items()}
            for kind, counts in passes.items()
        },
    }


def _point_figures(
    y: Floats, score: Floats, threshold: float, duration: Floats, estimate: Floats
) -> dict[str, float]:
    """A window's ROC-AUC, balanced accuracy and MAE (scikit-learn's figures, computed directly: faster)."""
    ones = np.ones((1, y.size))
    return {
        "roc_auc": float(weighted_auc(y, score, ones)[0][0]),
        "balanced_accuracy": float(
            weighted_balanced_accuracy(y, (score >= threshold).astype(np.float64), ones)[0]
        ),
        "mae": float(np.mean(np.abs(duration - estimate))),
    }


def duration_false_refusals(groups: int, *, sims: int, replicates: int, seed: int) -> dict[str, Any]:
    """Share of windows in which the gate refuses a duration model equal to the current one.

    Both models estimate each group's typical duration with their own log error
    (:data:`PREDICTION_SPREAD`) and give a P10–P90 interval of true coverage 0.80; the gate's
    paired rules (:func:`~pipelines.ml.pipeline.paired_duration_reasons`) judge them through
    :func:`~pipelines.ml.versus.duration_bootstrap`.

    Returns:
        ``groups``, ``windows`` and the share refused by the MAE rule (``mae``), by the coverage
        band (``coverage``) and by either (``either``), with the mean width of the MAE
        difference's 95% interval as a share of the current MAE (``mae_interval_width_share``).
    """
    rng = np.random.default_rng([seed, groups, 2])
    # log error of an attempt's duration around a model's estimate: the two spreads combined
    half_width = float(_NORMAL.inv_cdf(0.9) * np.hypot(ATTEMPT_SPREAD, PREDICTION_SPREAD))
    refused = {"mae": 0, "coverage": 0, "either": 0}
    widths = []
    for sim in range(sims):
        codes = _window(rng, groups)
        typical = np.exp(rng.normal(*LOG_DURATION, groups))
        y = typical[codes] * np.exp(rng.normal(0.0, ATTEMPT_SPREAD, codes.size))
        models = []
        for _ in range(2):
            point = (typical * np.exp(rng.normal(0.0, PREDICTION_SPREAD, groups)))[codes]
            models.append((point, point * np.exp(-half_width), point * np.exp(half_width)))
        paired = duration_bootstrap(
            y, models[0], models[1], codes.astype(object), replicates=replicates, seed=seed + sim
        )
        reasons = paired_duration_reasons({**paired, "rows": int(y.size)})
        refused["mae"] += "mae" in reasons
        refused["coverage"] += "coverage" in reasons
        refused["either"] += bool(reasons)
        low, high = paired["mae"]["ci95"]
        widths.append((high - low) / paired["mae"]["current"])
    return {
        "groups": groups,
        "windows": sims,
        **{rule: count / sims for rule, count in refused.items()},
        "mae_interval_width_share": float(np.mean(widths)),
    }


def false_refusals(
    groups: int, *, failure_rate: float, sims: int, replicates: int, seed: int
) -> dict[str, float]:
    """Share of windows of ``groups`` attempt groups in which an equal candidate is refused."""
    rng = np.random.default_rng([seed, groups])
    refused = usable = failing = 0
    widths = []
    for sim in range(sims):
        codes = np.repeat(np.arange(groups), rng.integers(1, 3, groups))
        y = (rng.random(groups) < failure_rate).astype(np.float64)[codes]
        if not 0 < y.sum() < y.size:  # a window with one class is not compared at all
            continue
        a, b = (np.clip(0.3 * y + rng.normal(0.0, 0.25, y.size), 0.0, 1.0) for _ in range(2))
        out = paired_bootstrap(
            y, a, b, (0.5, 0.5), codes.astype(object), replicates=replicates, seed=seed + sim
        )
        usable += 1
        failing += len(set(codes[y == 1].tolist()))
        refused += out["roc_auc"]["ci95"][1] < 0 or out["pr_auc"]["ci95"][1] < 0
        widths.append(out["roc_auc"]["ci95"][1] - out["roc_auc"]["ci95"][0])
    return {
        "groups": groups,
        "windows": usable,
        "failing_groups_mean": failing / usable if usable else float("nan"),
        "equal_candidate_refused": refused / usable if usable else float("nan"),
        "roc_auc_interval_width_mean": float(np.mean(widths)) if widths else float("nan"),
    }


def run_gate_noise(
    *,
    groups: Sequence[int] = GROUPS,
    failure_rate: float = 0.2,
    sims: int = 300,
    point_sims: int = 1_000,
    replicates: int = 500,
    seed: int = 0,
    json_path: Path | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Simulate every window size of ``groups``; print the tables and optionally write JSON.

    Args:
        groups: window sizes, in attempt groups.
        failure_rate: share of failing attempt groups.
        sims: windows per size of the bootstrap simulations (equal failure and duration models).
        point_sims: windows per size of the baseline rule's (a point comparison: cheap).
        replicates: bootstrap replicates per window.
        seed: seed of the windows and the draws.
        json_path: where to write the figures as JSON.
        echo: print them.

    Returns:
        ``by_groups`` (:func:`false_refusals` per size), ``baseline_rule``
        (:func:`baseline_false_passes`), ``duration_equal`` (:func:`duration_false_refusals`) and
        the settings.
    """
    started = time.perf_counter()
    rows = [
        false_refusals(n, failure_rate=failure_rate, sims=sims, replicates=replicates, seed=seed)
        for n in groups
    ]
    point = [baseline_false_passes(n, failure_rate=failure_rate, sims=point_sims, seed=seed) for n in groups]
    duration = [duration_false_refusals(n, sims=sims, replicates=replicates, seed=seed) for n in groups]
    report = {
        "failure_rate": failure_rate,
        "sims": sims,
        "point_sims": point_sims,
        "replicates": replicates,
        "seed": seed,
        "baseline_roc_auc": BASELINE_ROC_AUC,
        "worse": [{"roc_auc_deficit": d, "mae_excess": e} for d, e in WORSE],
        "by_groups": rows,
        "baseline_rule": point,
        "duration_equal": duration,
        "seconds": time.perf_counter() - started,
    }
    if echo:
        _print_tables(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _print_tables(report: dict[str, Any]) -> None:
    print(f"equal failure models, paired bootstrap ({report['sims']} windows per size): share refused")
    print(f"{'groups':>7} {'failing':>8} {'refused':>8} {'ROC-AUC CI width':>17}")
    for row in report["by_groups"]:
        print(
            f"{row['groups']:>7} {row['failing_groups_mean']:>8.1f} "
            f"{row['equal_candidate_refused']:>8.3f} {row['roc_auc_interval_width_mean']:>17.3f}"
        )
    kinds = [k for k in report["baseline_rule"][0] if k == "equal" or k.startswith("worse")]
    print(
        f"\nthe baseline rule (point comparison; baseline ROC-AUC {report['baseline_roc_auc']}, "
        f"{report['point_sims']} windows per size): share passing a candidate no better than the baselines"
    )
    print(f"{'':>16}" + "".join(f"{_kind_label(k):>27}" for k in kinds))
    print(f"{'groups':>7} {'failing':>8}" + f"{'failure':>11} {'MAE':>7} {'all':>7}" * len(kinds))
    for row in report["baseline_rule"]:
        print(
            f"{row['groups']:>7} {row['failing_groups_mean']:>8.1f}"
            + "".join(
                f"{row[k]['failure']:>11.3f} {row[k]['duration_mae']:>7.3f} {row[k]['all']:>7.3f}"
                for k in kinds
            )
        )
    print(f"\nequal duration models, paired bootstrap ({report['sims']} windows per size): share refused")
    print(f"{'groups':>7} {'MAE':>7} {'coverage':>9} {'either':>7} {'MAE CI width / MAE':>19}")
    for row in report["duration_equal"]:
        print(
            f"{row['groups']:>7} {row['mae']:>7.3f} {row['coverage']:>9.3f} {row['either']:>7.3f} "
            f"{row['mae_interval_width_share']:>19.3f}"
        )


def _kind_label(kind: str) -> str:
    """``equal``, or ``worse_roc_auc_<d>_mae_<s>`` as "ROC-AUC -d, MAE +s%"."""
    if not kind.startswith("worse_"):
        return kind
    deficit, excess = kind.removeprefix("worse_roc_auc_").split("_mae_")
    return f"ROC-AUC -{deficit}, MAE +{float(excess):.0%}"


def run_gate_check(
    home: Path,
    *,
    seed: int = 1,
    trials: int = 10,
    train_fraction: float = 0.8,
    history: float = 1.0,
    json_path: Path | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Train a candidate on ``home``'s warehouse and judge it against ``home/models/current``.

    Args:
        home: a repopilot home after a run that promoted a model (``make demo``).
        seed: the candidate's training seed.
        trials: its Optuna trials.
        train_fraction: its split fraction.
        history: the earliest share of runs (by trigger time) it is trained and tested on.
        json_path: where to write the figures as JSON.
        echo: print them.

    Raises:
        ValueError: when ``home`` has no warehouse or no model in service.
    """
    current = home / "models" / "current"
    if not (home / "warehouse.duckdb").exists() or stored_report(current) is None:
        raise ValueError(f"{home} has no warehouse or no model in service with its report")
    with connect(home / "warehouse.duckdb", read_only=True) as conn:
        features = read_relation(conn, "features.run_features")
    if history < 1.0:
        cut = features["created_at"].sort()[int(history * features.height)]
        features = features.filter(pl.col("created_at") < cut)
    stored = stored_report(current)
    out: dict[str, Any] = {
        "seed": seed,
        "trials": trials,
        "train_fraction": train_fraction,
        "history": history,
    }
    with tempfile.TemporaryDirectory() as scratch:
        # the same models in service with a report from before training periods were recorded
        unchecked = Path(scratch) / "current"
        shutil.copytree(current, unchecked)
        (unchecked / "report.json").write_text(
            json.dumps({k: v for k, v in (stored or {}).items() if k != "windows"}), encoding="utf-8"
        )
        for name, folder in (("checked", current), ("all_rows_as_before", unchecked)):
            report = train_models(
                features, trials=trials, seed=seed, current=folder, train_fraction=train_fraction
            ).report
            passed, reasons = promotion_verdict(report, stored)
            out[name] = {
                "versus_current": report["versus_current"],
                "summary": versus_current_summary(report, stored),
                "passed": passed,
                "reasons": reasons,
            }
            out["candidate_windows"] = report["windows"]
    out["current_windows"] = (stored or {}).get("windows")
    if echo:
        for name in ("checked", "all_rows_as_before"):
            print(f"{name}: {'passes' if out[name]['passed'] else 'refused'}; {out[name]['summary']}")
            for reason in out[name]["reasons"]:
                print(f"  - {reason}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out
