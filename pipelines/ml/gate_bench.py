"""Benchmarks of the promotion gate: its noise on equal models, and its verdict on a warehouse.

``repopilot benchmark gate-noise`` simulates test windows of a given number of attempt groups
(one or two attempts each, sharing the group's outcome), scores them with two exchangeable
models (the same signal, independent noise) and runs the gate's paired bootstrap
(:func:`~pipelines.ml.versus.paired_bootstrap`). The gate refuses when the 95% interval of the
ROC-AUC or the PR-AUC difference lies below zero, so an equal candidate should be refused in
at most about 5% of windows; more than that on small windows is the percentile interval being
too narrow there, the reason for :data:`~pipelines.ml.versus.MIN_UNSEEN_CLASS_GROUPS`.

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
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.ml.pipeline import promotion_verdict, train_models, versus_current_summary
from pipelines.ml.versus import paired_bootstrap, stored_report
from warehouse.db import connect
from warehouse.frames import read_relation

GROUPS: tuple[int, ...] = (10, 20, 30, 50, 100, 200, 400)
"""Test-window sizes simulated, in attempt groups."""


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
    replicates: int = 500,
    seed: int = 0,
    json_path: Path | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Simulate every window size of ``groups``; print a table and optionally write JSON."""
    started = time.perf_counter()
    rows = [
        false_refusals(n, failure_rate=failure_rate, sims=sims, replicates=replicates, seed=seed)
        for n in groups
    ]
    report = {
        "failure_rate": failure_rate,
        "sims": sims,
        "replicates": replicates,
        "seed": seed,
        "by_groups": rows,
        "seconds": time.perf_counter() - started,
    }
    if echo:
        print(f"{'groups':>7} {'failing':>8} {'refused':>8} {'ROC-AUC CI width':>17}")
        for row in rows:
            print(
                f"{row['groups']:>7} {row['failing_groups_mean']:>8.1f} "
                f"{row['equal_candidate_refused']:>8.3f} {row['roc_auc_interval_width_mean']:>17.3f}"
            )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


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
