"""Tuning the failure model: Optuna (seeded TPE + median pruning) over time-series folds.

Each trial trains LightGBM on every fold's past and scores it (binary log loss, a proper
scoring rule, so tuning rewards probabilities and not only ranking) on the fold's validation
block, with early stopping on that block. After each fold the trial reports the running mean
to Optuna; the :class:`~optuna.pruners.MedianPruner` stops a trial whose running mean is worse
than the median of earlier trials at the same fold. The folds come from
:func:`~pipelines.ml.splits.time_series_folds` (expanding window, with a gap), built on
training rows only: the test rows are never seen.

The first trial is always LightGBM's usual defaults (:data:`DEFAULT_SEARCH_PARAMS`), so the
result is never worse on the folds than the untuned model. Given the seed the result is
deterministic: trials run one at a time, TPE is seeded and LightGBM runs with
``deterministic=True`` and a fixed seed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import optuna

from pipelines.ml.splits import Split

Floats = npt.NDArray[np.float64]

NUM_THREADS = 1
"""LightGBM threads. One: LightGBM's OpenMP threads spin while they wait, so on a machine whose cores
are busy with anything else two threads ran a 6-trial tuning 10x slower than one (42 s against 4 s
at load 3 on two cores); Optuna's trials and the benchmark's models are many small fits, where a
second thread gains little even on an idle machine."""

MAX_ROUNDS = 2_000
"""Upper bound on boosting rounds; early stopping on each fold's validation block ends sooner."""

EARLY_STOPPING_ROUNDS = 50
"""Rounds without improvement of the validation loss before a fold stops."""

DEFAULT_SEARCH_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "lambda_l2": 1e-3,
    "min_split_gain": 0.0,
}
"""The searched parameters at LightGBM's usual defaults: the first trial of every study."""


def base_params(objective: str = "binary", *, seed: int = 0) -> dict[str, Any]:
    """The fixed LightGBM parameters every model uses: deterministic, two threads, quiet.

    Args:
        objective: the LightGBM objective.
        seed: the seed of every random choice LightGBM makes.

    Returns:
        A parameter dict to extend with the searched (or chosen) parameters.
    """
    return {
        "objective": objective,
        "num_threads": NUM_THREADS,
        "deterministic": True,
        "force_col_wise": True,
        "seed": seed,
        "bagging_freq": 1,
        "verbosity": -1,
    }


@dataclass(frozen=True)
class TuningResult:
    """The outcome of a study.

    Attributes:
        params: full LightGBM parameters of the best trial (fixed ones included).
        num_boost_round: rounds to train the final model with (best trial's mean best iteration
            over the folds, scaled up by the final training set's size over the folds' mean).
        score: best trial's mean validation log loss over the folds.
        metric: the name of the score.
        trials: trials run; ``completed`` and ``pruned`` of them finished or were pruned.
        completed: trials that ran every fold.
        pruned: trials stopped by the pruner.
        folds: number of folds.
        history: per trial ``number``, ``state``, ``value`` (mean log loss so far), ``params``.
        seconds: wall time of the study.
    """

    params: dict[str, Any]
    num_boost_round: int
    score: float
    metric: str
    trials: int
    completed: int
    pruned: int
    folds: int
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable summary (the history without per-trial parameters)."""
        searched = {k: self.params[k] for k in DEFAULT_SEARCH_PARAMS if k in self.params}
        return {
            "metric": self.metric,
            "best_score": self.score,
            "best_params": searched,
            "num_boost_round": self.num_boost_round,
            "trials": self.trials,
            "completed": self.completed,
            "pruned": self.pruned,
            "folds": self.folds,
            "seconds": self.seconds,
            "sampler": "TPESampler(seeded)",
            "pruner": "MedianPruner(n_startup_trials=5)",
        }


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    """The search space (learning rate, tree size, row/column sampling, regularisation)."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 8, 255, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 500, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        "min_split_gain": trial.suggest_float("min_split_gain", 0.0, 1.0),
    }


def _logloss(y: Floats, p: Floats) -> float:
    q = np.clip(p, 1e-15, 1.0 - 1e-15)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)))


def _fit_fold(
    params: dict[str, Any],
    x: Floats,
    y: Floats,
    fold: Split,
    categorical: Sequence[int],
    max_rounds: int,
) -> tuple[float, int]:
    train = lgb.Dataset(
        x[fold.train], y[fold.train], categorical_feature=list(categorical), free_raw_data=True
    )
    valid = lgb.Dataset(x[fold.test], y[fold.test], reference=train, categorical_feature=list(categorical))
    booster = lgb.train(
        {**params, "metric": "binary_logloss"},
        train,
        num_boost_round=max_rounds,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    best = int(booster.best_iteration) or booster.current_iteration()
    p = np.asarray(booster.predict(x[fold.test], num_iteration=best), dtype=np.float64)
    return _logloss(y[fold.test], p), best


def tune_failure_model(
    x: Floats,
    y: Floats,
    folds: Sequence[Split],
    *,
    trials: int,
    categorical: Sequence[int] = (),
    seed: int = 0,
    final_rows: int | None = None,
    max_rounds: int = MAX_ROUNDS,
) -> TuningResult:
    """Search LightGBM parameters for the failure model.

    Args:
        x: inputs of the rows the folds index.
        y: 0/1 outcomes of the same rows (no NaN).
        folds: time-series folds over those rows (training rows only).
        trials: the trial budget (>= 1; the first trial is the defaults).
        categorical: column indices of categorical inputs.
        seed: seed of TPE and of LightGBM.
        final_rows: rows the final model will train on (scales the round count); by default
            the folds' mean training size (no scaling).
        max_rounds: upper bound on boosting rounds per fold (early stopping usually ends sooner).

    Returns:
        The best parameters and the study's summary.

    Raises:
        ValueError: on no folds, a budget below one, or NaN labels.
    """
    if not folds:
        raise ValueError("tuning needs at least one fold")
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    if np.isnan(y).any():
        raise ValueError("labels must be known for every row")
    started = time.perf_counter()
    optuna.logging.set_verbosity(logging.WARNING)
    fixed = base_params("binary", seed=seed)
    iterations: dict[int, int] = {}

    def objective(trial: optuna.Trial) -> float:
        params = {**fixed, **suggest(trial)}
        losses: list[float] = []
        rounds: list[int] = []
        for step, fold in enumerate(folds):
            loss, best = _fit_fold(params, x, y, fold, categorical, max_rounds)
            losses.append(loss)
            rounds.append(best)
            trial.report(float(np.mean(losses)), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        iterations[trial.number] = round(float(np.mean(rounds)))
        return float(np.mean(losses))

    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0),
    )
    study.enqueue_trial(DEFAULT_SEARCH_PARAMS)
    study.optimize(objective, n_trials=trials, n_jobs=1, gc_after_trial=False)

    states = [t.state for t in study.trials]
    best = study.best_trial
    mean_train = float(np.mean([f.train.size for f in folds]))
    scale = (final_rows / mean_train) if final_rows else 1.0
    # more rows support more rounds before overfitting; grow the count sub-linearly
    rounds = max(1, round(iterations[best.number] * max(1.0, scale) ** 0.5))
    history = [
        {
            "number": t.number,
            "state": t.state.name,
            "value": None if t.value is None else float(t.value),
            "last_step": t.last_step,
            "params": dict(t.params),
        }
        for t in study.trials
    ]
    return TuningResult(
        params={**fixed, **best.params},
        num_boost_round=rounds,
        score=float(best.value) if best.value is not None else float("nan"),
        metric="binary_logloss (mean over folds)",
        trials=len(study.trials),
        completed=states.count(optuna.trial.TrialState.COMPLETE),
        pruned=states.count(optuna.trial.TrialState.PRUNED),
        folds=len(folds),
        history=history,
        seconds=time.perf_counter() - started,
    )
