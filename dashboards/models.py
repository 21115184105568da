"""The model in service (``$REPOPILOT_HOME/models/current``): its report, card, and scores of runs.

Scoring uses what :meth:`pipelines.ml.pipeline.TrainedModels.save` wrote: the LightGBM text
model, the feature specification (encoded by :func:`pipelines.ml.dataset.encode`), the
calibration map (isotonic steps, clipped at both ends, or Platt's slope and intercept) and the
risk-level cut points (:class:`pipelines.ml.train.RiskLevels`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from actions.prediction.explain import RISK_LEVELS
from actions.prediction.model import calibrate
from pipelines.ml.dataset import FeatureSpec, encode
from pipelines.ml.train import RiskLevels

Floats = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class ServedModel:
    """The promoted failure model, ready to score run features."""

    folder: Path
    report: dict[str, Any]
    spec: FeatureSpec
    booster: lgb.Booster
    calibration: dict[str, Any]
    threshold: float
    risk: RiskLevels

    def probability(self, features: pl.DataFrame) -> Floats:
        """Calibrated failure probability of each row of ``features.run_features``."""
        if features.height == 0:
            return np.empty(0, dtype=np.float64)
        margin = np.asarray(
            self.booster.predict(encode(features, self.spec), raw_score=True), dtype=np.float64
        )
        return calibrate(self.calibration, margin)

    def score(self, features: pl.DataFrame) -> pl.DataFrame:
        """Key columns, outcome (``conclusion`` null while running), probability and risk level per run."""
        probability = self.probability(features)
        levels = self.risk.levels(probability) if probability.size else np.empty(0, dtype=object)
        keys = ("id", "run_attempt", "repo", "workflow", "created_at", "failed", "conclusion")
        return features.select(keys).with_columns(
            pl.Series("probability", probability, dtype=pl.Float64),
            pl.Series("risk_level", [str(v) for v in levels], dtype=pl.Enum(list(RISK_LEVELS))),
        )


def model_folder(home: Path) -> Path:
    """Where the promoted model lives."""
    return home / "models" / "current"


def read_report(home: Path) -> dict[str, Any] | None:
    """The promoted model's evaluation report, or ``None`` before any promotion."""
    path = model_folder(home) / "report.json"
    if not path.exists():
        return None
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report


def load_model(home: Path) -> ServedModel | None:
    """The promoted failure model, or ``None`` when there is none (or it is incomplete)."""
    folder = model_folder(home)
    paths = [folder / name for name in ("report.json", "feature_spec.json", "failure_model.txt")]
    if not all(p.exists() for p in paths):
        return None
    spec = json.loads(paths[1].read_text(encoding="utf-8"))
    features = spec["features"]
    return ServedModel(
        folder=folder,
        report=json.loads(paths[0].read_text(encoding="utf-8")),
        spec=FeatureSpec(
            names=tuple(features["names"]),
            categorical=tuple(features["categorical"]),
            categories={k: tuple(v) for k, v in features["categories"].items()},
        ),
        booster=lgb.Booster(model_str=paths[2].read_text(encoding="utf-8")),
        calibration=spec["calibration"],
        threshold=float(spec["threshold"]),
        risk=RiskLevels(tuple(spec["risk_thresholds"])),
    )


def card_markdown(home: Path) -> str | None:
    """The model card's markdown without its image links (the page draws those charts itself)."""
    path = model_folder(home) / "model_card.md"
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    return re.sub(r"!\[[^\]]*\]\([^)]*\)\s*", "", text)


def metric_comparison(report: dict[str, Any]) -> pl.DataFrame:
    """ROC-AUC, PR-AUC, balanced accuracy and MCC of the model beside each naive baseline."""
    models = {"LightGBM (calibrated)": report["failure"], **report.get("baselines", {})}
    if report.get("mlp"):
        models["MLP"] = report["mlp"]
    rows = [
        {"model": name.replace("_", " "), "metric": metric, "value": values.get(metric)}
        for name, values in models.items()
        for metric in ("roc_auc", "pr_auc", "balanced_accuracy", "mcc")
    ]
    return pl.DataFrame(rows, schema={"model": pl.String, "metric": pl.String, "value": pl.Float64})
