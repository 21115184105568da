"""The action's models, loaded from the exported files, predict exactly what the trained models do."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from actions.prediction.model import ExportedModels
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.features.runs import build_run_features
from pipelines.features.synthetic_runs import synthetic_run_inputs
from pipelines.ml.dataset import make_dataset
from pipelines.ml.explain import predict_workflow_outcome
from pipelines.ml.pipeline import train_models


def test_exported_models_match_the_trained_ones(tmp_path: Path) -> None:
    features = build_run_features(synthetic_run_inputs(4_000, repos=8, seed=3))
    trained = train_models(features, trials=2, seed=0)
    folder = trained.save(tmp_path / "models")
    exports = write_exports(
        tmp_path / "exports",
        models_dir=folder,
        source=SourceInfo("sample", True, None, ("a/b",)),
        documents={},
        scores=lambda models: {
            "schema_version": "1.0",
            "model_version": None,
            "generated_at": "2026-01-01T00:00:00Z",
            "runs": [],
        },
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    models = ExportedModels.load(exports)
    rows = features.tail(300).to_dicts()
    x = make_dataset(features.tail(300), trained.failure.spec).x
    assert np.array_equal(models.encode(rows), x, equal_nan=True)
    want = predict_workflow_outcome(trained.failure, trained.duration, x)
    got = models.predict(rows)
    assert len(got) == len(want) == 300
    for g, w in zip(got, want, strict=True):
        assert g["risk_level"] == w["risk_level"]
        assert g["probability"] == pytest.approx(w["probability"], abs=1e-12)
        assert g["confidence"] == pytest.approx(w["confidence"], abs=1e-12)
        assert g["predicted_duration_seconds"] == pytest.approx(w["predicted_duration_seconds"], rel=1e-12)
        assert g["duration_interval"] == pytest.approx(w["duration_interval"], rel=1e-12)
        assert [f["feature"] for f in g["factors"]] == [f["feature"] for f in w["factors"]]
        assert g["recommendation"] == w["recommendation"]
    assert len({r["risk_level"] for r in got}) > 1  # the comparison covers more than one level
