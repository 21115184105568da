"""The model card renders tables and well-formed SVG images from a report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pipelines.ml.card import bar_chart, build_model_card, line_chart

REPORT = {
    "data": {"source": "x.parquet", "split": "time", "train_rows": 10, "test_rows": 5},
    "failure": {
        "roc_auc": 0.9,
        "pr_auc": 0.8,
        "always_pass_accuracy": 0.7,
        "calibration": {"ece_platt": 0.01},
    },
    "baselines": {"previous_outcome": {"roc_auc": 0.7}, "rolling_rate": {}, "majority": {"roc_auc": 0.5}},
    "mlp": {"roc_auc": 0.85},
    "duration": {"mae": 10.0, "baseline_mae": 12.0, "interval_coverage": 0.8},
    "risk": {"thresholds": [0.1, 0.2, 0.6], "failure_rate_by_level": {"LOW": 0.05, "HIGH": 0.5}},
    "curves": {
        "pr": [{"recall": 0.0, "precision": 1.0}, {"recall": 1.0, "precision": 0.3}],
        "reliability": [{"low": 0.0, "high": 0.1, "count": 3, "predicted": 0.05, "observed": 0.0}],
    },
    "feature_importance": [{"feature": "fail_streak & <co>", "gain_share": 0.6}],
    "by_repository": [{"repo": "o/r", "rows": 5, "roc_auc": 0.9}],
    "tuning": {"trials": 2},
}


def test_card_markdown_and_images(tmp_path: Path) -> None:
    card = build_model_card(REPORT)
    assert "| ROC-AUC | 0.900 | 0.850 | 0.700 | – | 0.500 |" in card.markdown
    assert "| o/r | 5 |" in card.markdown
    path = card.write(tmp_path)
    assert path.read_text() == card.markdown
    for name in ("pr_curve.svg", "reliability.svg", "importance.svg"):
        root = ET.parse(tmp_path / name).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_charts_escape_text() -> None:
    svg = bar_chart("t", [("a<b", 1.0)])
    assert "a&lt;b" in svg
    ET.fromstring(svg)
    ET.fromstring(line_chart("t", [("s", [(0.0, 0.0), (1.0, 1.0)])], xlabel="x", ylabel="y", diagonal=True))


def test_a_card_of_synthetic_data_says_so_before_any_figure() -> None:
    synthetic = {**REPORT, "data": {**REPORT.get("data", {}), "synthetic": True}}
    markdown = build_model_card(synthetic).markdown
    assert markdown.index("**Synthetic data.**") < markdown.index("ROC-AUC")
    assert "Synthetic data" not in build_model_card({**REPORT, "data": {"synthetic": False}}).markdown
