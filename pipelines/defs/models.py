"""Model assets: train a candidate, gate it against the baselines and the current model, promote it."""

import json
import shutil
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.quality import refuse_after_failed_checks
from pipelines.defs.resources import FAILURE_TEXT_ENV, FailureTextResource, WarehouseResource
from pipelines.exports.build import source_info
from pipelines.exports.classifier import forget, train_and_keep
from pipelines.ml.card import build_model_card
from pipelines.ml.pipeline import (
    InsufficientHistoryError,
    promotion_verdict,
    train_models,
    versus_current_summary,
)
from pipelines.ml.service import models_in_service, promote
from warehouse.frames import read_relation

ML_GROUP = "ml"

PROMOTION_GATE = "promotion_gate"
"""Name of the blocking check that decides whether a candidate may be promoted."""


class ModelTrainingConfig(Config):
    """Run configuration of a training: the Optuna trial budget and the seed."""

    trials: int = 10
    seed: int = 0


def _report(path: Any) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@asset(
    group_name=ML_GROUP,
    deps=[AssetKey("run_features")],
    kinds={"lightgbm", "optuna"},
    # it opens the warehouse: a read-only open and a writer in another process refuse each other
    pool=WAREHOUSE_POOL,
)
def candidate_models(
    context: AssetExecutionContext, config: ModelTrainingConfig, warehouse: WarehouseResource
) -> MaterializeResult[None]:
    """A tuned, calibrated failure model and a duration model with its interval, not yet promoted.

    Written to ``$REPOPILOT_HOME/models/candidate`` with the model card; judged on a later time
    window than it was trained on, next to the naive baselines and, when a model is in service,
    next to it on the same rows (``versus_current``).
    """
    refuse_after_failed_checks(context)
    with warehouse.connect(read_only=True) as conn:
        features = read_relation(conn, "features.run_features")
        synthetic = source_info(conn).synthetic
    target = warehouse.home_path / "models" / "candidate"
    shutil.rmtree(target, ignore_errors=True)
    try:
        trained = train_models(
            features,
            trials=config.trials,
            seed=config.seed,
            synthetic=synthetic,
            current=models_in_service(target.parent),
        )
    except InsufficientHistoryError as exc:
        # Too little history is an outcome to report (the gate then refuses), not a crash.
        context.log.warning("no candidate model: %s", exc)
        return MaterializeResult(metadata={"trained": False, "reason": str(exc)})
    folder = trained.save(target.parent / "staging")
    folder.rename(target)
    shutil.rmtree(target.parent / "staging", ignore_errors=True)
    report = trained.report
    context.log.info("candidate %s: ROC-AUC %.3f", trained.version, report["failure"]["roc_auc"])
    return MaterializeResult(
        metadata={
            "version": trained.version,
            "roc_auc": report["failure"]["roc_auc"],
            "pr_auc": report["failure"]["pr_auc"],
            "balanced_accuracy": report["failure"]["balanced_accuracy"],
            "ece": report["failure"]["ece"],
            "baseline_previous_outcome_balanced_accuracy": report["baselines"]["previous_outcome"][
                "balanced_accuracy"
            ],
            "duration_mae": report["duration"]["mae"],
            "duration_baseline_mae": report["duration"]["baseline_mae"],
            "interval_coverage": report["duration"]["interval_coverage"],
            "versus_current": versus_current_summary(
                report, _report(target.parent / "current" / "report.json")
            ),
            "model_card": MetadataValue.md(build_model_card(report).markdown),
            "path": MetadataValue.path(str(target)),
        }
    )


@asset_check(
    asset=candidate_models,
    name=PROMOTION_GATE,
    blocking=True,
    description="Beats the baselines and is no worse than current.",
)
def promotion_gate(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    """Refuse a candidate that does not beat the naive baselines or is worse than the current model."""
    models = warehouse.home_path / "models"
    candidate = _report(models / "candidate" / "report.json")
    if candidate is None:
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.ERROR,
            metadata={"reasons": "no candidate model (too little history to train and judge one)"},
        )
    current = _report(models / "current" / "report.json")
    passed, reasons = promotion_verdict(candidate, current)
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "reasons": "; ".join(reasons) or "beats every baseline and is not worse than the current model",
            "versus_current": versus_current_summary(candidate, current),
        },
    )


@asset(group_name=ML_GROUP, deps=[candidate_models], kinds={"lightgbm"})
def promoted_models(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult[None]:
    """The models in service: the candidate, once its promotion gate passed (the gate blocks this).

    A run that selects this asset without the candidate checks the gate's latest verdict instead.
    """
    refuse_after_failed_checks(context, checks=(PROMOTION_GATE,))
    current = promote(warehouse.home_path / "models")
    report = _report(current / "report.json") or {}
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(current)),
            "roc_auc": report.get("failure", {}).get("roc_auc"),
            "pr_auc": report.get("failure", {}).get("pr_auc"),
        }
    )


@asset(group_name=ML_GROUP, kinds={"sklearn", "json"})
def failure_classifier(
    context: AssetExecutionContext, warehouse: WarehouseResource, failure_text: FailureTextResource
) -> MaterializeResult[None]:
    """The heal action's failure classifier: rules plus a text model trained on labelled failure text.

    Trained by :func:`pipelines.ml.failure_text.train_failure_classifier` (settings chosen by inner
    grouped cross-validation) from ``$REPOPILOT_FAILURE_TEXT`` and FlakeRanker's patterns
    (``$REPOPILOT_FAILURE_PATTERNS``), kept for the exports. Not configured: nothing is trained and
    a classifier kept before is dropped, so heal uses its rules. A malformed CSV fails the step
    and leaves the kept classifier and the exports as they were.
    """
    home = warehouse.home_path
    labelled = failure_text.labelled_path()
    if labelled is None:
        dropped = forget(home)
        context.log.info(f"failure classifier not configured: set {FAILURE_TEXT_ENV} to train one")
        return MaterializeResult(metadata={"configured": False, "dropped_previous": dropped})
    try:
        artefact = train_and_keep(home, labelled, failure_text.patterns_path())
    except ValueError as error:
        raise Failure(description=f"failure classifier not trained: {error}") from None
    training = artefact["training"]
    return MaterializeResult(
        metadata={
            "configured": True,
            "dagster/row_count": training["rows"],
            "repositories": training["repositories"],
            "label_counts": MetadataValue.json(training["label_counts"]),
            "inner_cv_choice": MetadataValue.json(training["hyperparameters"]),
            "rules": MetadataValue.json(training["rules"]),
            "rules_total": len(artefact["rules"]),
        }
    )


MODEL_ASSETS = [candidate_models, promoted_models, failure_classifier]
MODEL_CHECKS = [promotion_gate]
