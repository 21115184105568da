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
from pipelines.ml.evidence import evidence_shortfall
from pipelines.ml.splits import time_split
from pipelines.ml.train import REFERENCE_FEATURES, DurationModel, FailureModel
from pipelines.ml.versus import (
    compare_with_current,
    duration_standard_errors,
    standard_errors,
    training_windows,
)

MIN_LABELLED_RUNS = 200
"""Fewer labelled runs than this cannot be split into fit, calibration and test honestly.

Enough to train and write a model card, not to promote: the test window of 200 runs holds
about 40 attempt groups, and the gate asks for more
(:data:`~pipelines.ml.evidence.MIN_TEST_GROUPS`), refusing with the counts until history grows."""


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
    features: pl.DataFrame,
    *,
    trials: int = 20,
    seed: int = 0,
    synthetic: bool = False,
    current: Path | None = None,
    train_fraction: float = 0.8,
) -> TrainedModels:
    """Tune, train, calibrate and evaluate on run features (``features.run_features`` rows).

    ``synthetic`` (the data came from the sample organisation) is recorded in the report's
    ``data`` and labels the model card, which then makes no claim about model quality.
    ``current`` (the models in service, if any) scores the candidate's test rows too: the
    report's ``versus_current`` (:func:`~pipelines.ml.versus.compare_with_current`), on the
    rows it was not trained on. The report's ``windows`` record the period and size of the
    fit, calibration and test rows (:func:`~pipelines.ml.versus.training_windows`).
    ``train_fraction`` is the share of rows, by trigger time, before the test window.

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
    split = time_split(times, groups, train_fraction=train_fraction)
    spec = fit_spec(frame[split.train])
    dataset = make_dataset(frame, spec)
    train, test = dataset.subset(split.train), dataset.subset(split.test)
    fitted = fit_models(train, trials=trials, seed=seed)
    fit, calibration, failure, duration = fitted.fit, fitted.calibration, fitted.failure, fitted.duration
    report = evaluate(failure, duration, fit, calibration, test)
    known = test.has_failure_label
    probability = failure.probability(test.x[known])
    report["failure_noise"] = standard_errors(test.failed[known], probability, test.groups[known], seed=seed)
    timed = test.has_duration_label
    predicted = duration.predict(test.x[timed])
    report["duration_noise"] = duration_standard_errors(
        test.duration[timed], predicted, test.groups[timed], seed=seed
    )
    if current is not None:
        report["versus_current"] = compare_with_current(
            current, frame, split.test, test, probability, failure.threshold, predicted, seed=seed
        )
    report["tuning"] = fitted.tuning.summary()
    report["windows"] = training_windows(fit, calibration, test)
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


JUDGED_AGAINST_CURRENT = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC"}
"""The figures a candidate may not lose against the current model (balanced accuracy is reported)."""


def _paired(versus: dict[str, Any], metric: str) -> str:
    figures = versus[metric]
    low, high = figures["ci95"]
    return (
        f"{figures['candidate']:.3f} vs {figures['current']:.3f}, "
        f"difference {figures['difference']:+.3f} (95% interval {low:+.3f} to {high:+.3f})"
    )


def _unseen(versus: dict[str, Any]) -> str:
    """Which of the test rows the comparison kept (empty for reports written before it was checked)."""
    unseen = versus.get("unseen")
    if not unseen:
        return ""
    return f" ({'' if unseen.get('checked') else 'unchecked: '}{unseen['note']})"


def _stale(versus: dict[str, Any], current: dict[str, Any] | None) -> str:
    """Why a comparison with another model than the one in service now cannot be used ("" when it can)."""
    # a promotion between the candidate's training and its check puts another model in service
    compared, serving = versus.get("current_version"), (current or {}).get("version")
    if compared is not None and serving is not None and str(compared) != str(serving):
        return f"the candidate was compared with model {compared}, but model {serving} is in service now"
    return ""


def _same_rows(report: dict[str, Any], current: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    """The paired comparison the gate may use, or None and why not."""
    versus = report.get("versus_current")
    if versus is None:
        return None, "the candidate's report has no same-row comparison"
    if not versus.get("same_rows"):
        return None, str(versus.get("reason"))
    stale = _stale(versus, current)
    return (None, stale) if stale else (versus, "")


def _same_duration_rows(
    report: dict[str, Any], current: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, str]:
    """The paired duration comparison the gate may use, or None and why not."""
    versus = report.get("versus_current")
    if versus is None:
        return None, "the candidate's report has no same-row comparison"
    duration = versus.get("duration")
    if duration is None:
        return None, "the candidate's report predates the same-row duration comparison"
    if not duration.get("compared"):
        return None, str(duration.get("reason"))
    stale = _stale(versus, current)
    return (None, stale) if stale else (duration, "")


def _paired_seconds(figures: dict[str, Any]) -> str:
    low, high = figures["ci95"]
    return (
        f"{figures['candidate']:.1f}s vs {figures['current']:.1f}s, difference {figures['difference']:+.1f}s "
        f"(95% interval {low:+.1f}s to {high:+.1f}s)"
    )


def _coverages(figures: dict[str, Any]) -> str:
    (a_low, a_high), (b_low, b_high) = figures["candidate_ci95"], figures["current_ci95"]
    return (
        f"{figures['candidate']:.3f} (95% interval {a_low:.3f} to {a_high:.3f}) vs "
        f"{figures['current']:.3f} ({b_low:.3f} to {b_high:.3f})"
    )


def _duration_summary(report: dict[str, Any], current: dict[str, Any] | None) -> str:
    """The duration half of :func:`versus_current_summary`."""
    paired, why = _same_duration_rows(report, current)
    if paired is not None:
        return (
            f"duration on the same {paired['rows']} test rows with a duration ({paired['groups']} attempt "
            f"groups), paired bootstrap: MAE {_paired_seconds(paired['mae'])}; median APE "
            f"{_paired(paired, 'median_ape')}; P10–P90 coverage {_coverages(paired['interval_coverage'])}"
        )
    if current is None:
        return f"duration not compared: {why}"
    return f"duration: stored figures of different test windows (not compared on the same rows: {why})"


def versus_current_summary(report: dict[str, Any], current: dict[str, Any] | None) -> str:
    """One line on how the candidate was compared with the current model (for the gate's metadata)."""
    versus = report.get("versus_current")
    paired, why = _same_rows(report, current)
    if paired is not None:
        return (
            f"on the same {paired['rows']} test rows{_unseen(paired)}, paired bootstrap of "
            f"{paired['resampled']}: "
            + "; ".join(
                f"{name} {_paired(paired, metric)}"
                for metric, name in {
                    **JUDGED_AGAINST_CURRENT,
                    "balanced_accuracy": "balanced accuracy",
                }.items()
            )
            + f"; {_duration_summary(report, current)}"
        )
    if current is None and versus is None:
        return "no model in service"
    if current is None:
        return (
            f"not compared: the current model could not score the candidate's rows ({why}) and has no report"
            f"; {_duration_summary(report, current)}"
        )
    return (
        f"stored figures of different test windows (not compared on the same rows: {why})"
        f"; {_duration_summary(report, current)}"
    )


def _cross_window_allowance(
    report: dict[str, Any],
    current: dict[str, Any],
    metric: str,
    tolerance: float,
    *,
    noise: str = "failure_noise",
    unit: str = "",
    digits: int = 3,
) -> tuple[float, str]:
    """How far a figure may fall across two test windows before it is a loss beyond noise, and why.

    Two windows are independent samples, so the noise of the difference is the root sum of
    squares of each report's bootstrap standard error (its ``noise`` section): 1.96 of it is the
    95% allowance. Reports written before they recorded a standard error fall back to the
    fixed ``tolerance``.
    """
    errors = [_recorded(r, noise, metric) for r in (report, current)]
    if errors[0] is None or errors[1] is None:
        return tolerance, f"tolerance {tolerance:g}{unit}: a report records no standard error"
    allowed = 1.96 * math.hypot(errors[0], errors[1])
    return allowed, (
        f"allowed {allowed:.{digits}f}{unit}, 1.96 × the two windows' combined bootstrap standard error "
        f"({errors[0]:.{digits}f}{unit} and {errors[1]:.{digits}f}{unit})"
    )


def _recorded(report: dict[str, Any], noise: str, metric: str) -> float | None:
    """A bootstrap standard error a report stored; None when it predates it or it is not finite."""
    value = (report.get(noise) or {}).get(metric)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


COVERAGE_BAND = (0.75, 0.85)
"""P10–P90 coverage a candidate may not miss beyond noise when the current model does not.

The interval is conformalised to 80% on the calibration slice; issue #4's target on the
benchmark is 0.75–0.85. Judged "beyond noise": on n rows coverage has a binomial standard
error of about 0.4/√n (0.028 on 200 rows, more with attempts of one group sharing their
duration), so a point figure of 0.74 on a few hundred rows is no evidence of a broken
interval, while a collapse to 0.4 or an interval covering 0.97 is. The gate uses each
model's 95% bootstrap interval of its coverage (groups resampled): a model misses the band
when that interval lies entirely outside it. A current model that misses it too (the data
moved for both) leaves the band unjudged: the candidate is then no worse by this measure."""

DURATION_TOLERANCE = 0.10
"""Rise of the duration MAE, as a share of the current model's, allowed across two test windows
when a report records no bootstrap standard error of it (written before ``duration_noise``)."""


def _misses_band(interval: Any) -> bool:
    low, high = interval
    return _finite(low) and _finite(high) and (high < COVERAGE_BAND[0] or low > COVERAGE_BAND[1])


def _stored_coverage(report: dict[str, Any]) -> tuple[list[float], str]:
    """A report's own coverage figure with its 95% interval from its stored standard error."""
    coverage = report["duration"].get("interval_coverage")
    error = _recorded(report, "duration_noise", "interval_coverage")
    if not _finite(coverage):
        return [math.nan, math.nan], "not recorded"
    if error is None:
        return [coverage, coverage], f"{coverage:.3f} (no standard error recorded)"
    interval = [coverage - 1.96 * error, coverage + 1.96 * error]
    return interval, f"{coverage:.3f} (95% interval {interval[0]:.3f} to {interval[1]:.3f})"


def paired_duration_reasons(paired: dict[str, Any]) -> dict[str, str]:
    """The gate's reasons to refuse a duration model on the same rows as the current one, by rule.

    Args:
        paired: ``versus_current.duration`` once compared: ``rows`` and
            :func:`~pipelines.ml.versus.duration_bootstrap`'s figures.

    Returns:
        Empty, or why, under the rule's name: ``mae`` when the MAE difference's 95% interval lies
        above zero, ``coverage`` when the candidate's coverage interval misses
        :data:`COVERAGE_BAND` where the current model's does not.
    """
    band = f"{COVERAGE_BAND[0]}–{COVERAGE_BAND[1]}"
    reasons = {}
    where = f"on the same {paired['rows']} test rows with a duration"
    low = paired["mae"]["ci95"][0]
    if _finite(low) and low > 0:
        reasons["mae"] = (
            f"duration MAE is worse than the current model's beyond noise {where}: "
            f"{_paired_seconds(paired['mae'])}"
        )
    coverage = paired["interval_coverage"]
    if _misses_band(coverage["candidate_ci95"]) and not _misses_band(coverage["current_ci95"]):
        reasons["coverage"] = (
            f"P10–P90 coverage misses {band} beyond noise where the current model's does not, {where}: "
            f"{_coverages(coverage)}"
        )
    return reasons


def _duration_against_current(report: dict[str, Any], current: dict[str, Any] | None) -> list[str]:
    """The gate's reasons to refuse on the duration model against the current one."""
    band = f"{COVERAGE_BAND[0]}–{COVERAGE_BAND[1]}"
    paired, why = _same_duration_rows(report, current)
    if paired is not None:
        return list(paired_duration_reasons(paired).values())
    if current is None:
        return []
    reasons = []
    before = current["duration"].get("mae")
    if _finite(before):
        rise = report["duration"]["mae"] - before
        allowed, noise = _cross_window_allowance(
            report,
            current,
            "mae",
            round(DURATION_TOLERANCE * before, 1),
            noise="duration_noise",
            unit="s",
            digits=1,
        )
        if rise > allowed:
            reasons.append(
                f"duration MAE rose by {rise:.1f}s against the current model's figure on its own, different "
                f"test window ({noise}; not compared on the same rows: {why})"
            )
    (ours, ours_text), (theirs, theirs_text) = _stored_coverage(report), _stored_coverage(current)
    if _misses_band(ours) and _finite(theirs[0]) and not _misses_band(theirs):
        reasons.append(
            f"P10–P90 coverage {ours_text} misses {band} where the current model's {theirs_text} on its own, "
            f"different test window does not (not compared on the same rows: {why})"
        )
    return reasons


def baseline_reasons(report: dict[str, Any]) -> dict[str, str]:
    """The gate's point comparison with the naive baselines on the test window: why it fails, by rule.

    ROC-AUC above the rolling failure rate's, balanced accuracy above the previous outcome's,
    duration MAE below the rolling median's (the report's ``failure``, ``baselines`` and
    ``duration``, every figure finite). A point comparison: on a small window a candidate no
    better than the baselines passes it often, hence :data:`~pipelines.ml.evidence.MIN_TEST_GROUPS` first.
    The reasons are keyed ``roc_auc``, ``balanced_accuracy`` and ``duration_mae``.
    """
    failure, baselines, duration = report["failure"], report["baselines"], report["duration"]
    reasons = {}
    if failure["roc_auc"] <= baselines["rolling_rate"]["roc_auc"]:
        reasons["roc_auc"] = (
            f"ROC-AUC {failure['roc_auc']:.3f} does not beat the rolling-rate baseline's "
            f"{baselines['rolling_rate']['roc_auc']:.3f}"
        )
    if failure["balanced_accuracy"] <= baselines["previous_outcome"]["balanced_accuracy"]:
        reasons["balanced_accuracy"] = (
            f"balanced accuracy {failure['balanced_accuracy']:.3f} does not beat the previous-outcome "
            f"baseline's {baselines['previous_outcome']['balanced_accuracy']:.3f}"
        )
    if duration["mae"] >= duration["baseline_mae"]:
        reasons["duration_mae"] = (
            f"duration MAE {duration['mae']:.0f}s does not beat the baseline's "
            f"{duration['baseline_mae']:.0f}s"
        )
    return reasons


def promotion_verdict(
    report: dict[str, Any], current: dict[str, Any] | None, *, tolerance: float = 0.01
) -> tuple[bool, list[str]]:
    """Whether a new model may replace the current one, and why not.

    Its test window must first hold enough evidence (:func:`~pipelines.ml.evidence.evidence_shortfall`:
    :data:`~pipelines.ml.evidence.MIN_TEST_GROUPS` attempt groups with an outcome and with a
    duration, :data:`~pipelines.ml.evidence.MIN_TEST_CLASS_GROUPS` with a failure and with a
    pass); below it, or in a report without those counts, the candidate is refused with that one
    reason. It must then beat the naive baselines on the test window (:func:`baseline_reasons`:
    ROC-AUC above the rolling failure rate's, balanced accuracy above the previous outcome's,
    duration MAE below the rolling median's), and must not be worse than the current model
    beyond noise.

    Against the current model: when the report's ``versus_current`` holds the paired comparison
    on the candidate's own test rows, a candidate is refused if the 95% bootstrap interval of
    its ROC-AUC or PR-AUC minus the current model's lies entirely below zero; a difference
    within the noise passes. Those rows are the test rows the current model was not trained
    on. When too few of them remain, or the current model could not score them (its
    specification no longer fits the features, or its files cannot be read), the only figures
    left are the ones it stored for its own, older test window: the gate then falls back to
    them, refusing a loss beyond the noise of two independent windows (1.96 × the root sum of
    squares of the two reports' bootstrap standard errors; ``tolerance`` when a report records
    none), and says that the windows differ. Falling
    back rather than passing keeps a model that cannot be compared from replacing a better one
    unchecked; rather than refusing, it keeps a change of features from blocking every retrain.

    The duration model is judged the same way (``versus_current.duration``): refused when the
    95% interval of its MAE minus the current model's lies entirely above zero, or when its
    P10–P90 coverage misses :data:`COVERAGE_BAND` beyond noise while the current model's does
    not. Without that comparison, across windows: an MAE rise beyond 1.96 × the combined
    standard errors of ``duration_noise`` (:data:`DURATION_TOLERANCE` of the current MAE when a
    report records none), and the band on each report's own coverage figure.
    """
    # on too small a window the rules below pass worse candidates by chance: one reason, first
    shortfall = evidence_shortfall(report)
    if shortfall is not None:
        return False, [shortfall]
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
    reasons += baseline_reasons(report).values()
    versus, why = _same_rows(report, current)
    if versus is not None:
        for metric, name in JUDGED_AGAINST_CURRENT.items():
            high = versus[metric]["ci95"][1]
            if _finite(high) and high < 0:
                reasons.append(
                    f"{name} is worse than the current model's beyond noise on the same {versus['rows']} "
                    f"test rows{_unseen(versus)}: {_paired(versus, metric)}"
                )
    elif current is not None:
        for metric in JUDGED_AGAINST_CURRENT:
            before = current["failure"].get(metric)
            if not _finite(before):  # a current model judged without it: nothing to lose against
                continue
            drop = before - failure[metric]
            allowed, noise = _cross_window_allowance(report, current, metric, tolerance)
            if drop > allowed:
                reasons.append(
                    f"{metric} fell by {drop:.3f} against the current model's figure on its own, different "
                    f"test window ({noise}; not compared on the same rows: {why})"
                )
    reasons += _duration_against_current(report, current)
    return not reasons, reasons
