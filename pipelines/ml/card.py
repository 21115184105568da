"""The model card: what was trained on what, and how it compares with the baselines.

:func:`build_model_card` turns an evaluation report (the dict
:func:`~pipelines.ml.benchmark.run_ci_benchmark` returns) into markdown plus three SVG images
generated here (matplotlib is not a dependency): the precision-recall curve (model and
baselines), the reliability curve, and the feature importance. :meth:`ModelCard.write` puts
the markdown and the images side by side, the markdown linking them (``![..](pr_curve.svg)``);
every figure is also given as a markdown table, so the card reads fine where images do not
render.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.ml.evidence import (
    MIN_TEST_CLASS_GROUPS,
    MIN_TEST_GROUPS,
    evidence_counts,
    evidence_shortfall,
)

_WIDTH, _HEIGHT, _MARGIN = 420, 300, 48
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#7f7f7f")


@dataclass(frozen=True)
class ModelCard:
    """A rendered model card.

    Attributes:
        markdown: the card.
        images: file name → SVG document, referenced from the markdown by file name.
    """

    markdown: str
    images: dict[str, str] = field(default_factory=dict)

    def write(self, directory: Path, name: str = "model_card.md") -> Path:
        """Write the markdown and its images into ``directory``; return the markdown's path."""
        directory.mkdir(parents=True, exist_ok=True)
        for filename, svg in self.images.items():
            (directory / filename).write_text(svg, encoding="utf-8")
        path = directory / name
        path.write_text(self.markdown, encoding="utf-8")
        return path


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.{digits}f}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    span = (high - low) or 1.0
    return start + (value - low) / span * (end - start)


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    *,
    xlabel: str,
    ylabel: str,
    diagonal: bool = False,
) -> str:
    """A small SVG line chart on the unit square (both axes 0..1).

    Args:
        title: chart title.
        series: (name, points) per line.
        xlabel: x-axis label.
        ylabel: y-axis label.
        diagonal: draw the y = x reference line (for reliability curves).

    Returns:
        The SVG document.
    """
    left, top, right, bottom = _MARGIN, 28, _WIDTH - 12, _HEIGHT - _MARGIN

    def x(v: float) -> float:
        return _scale(v, 0.0, 1.0, left, right)

    def y(v: float) -> float:
        return _scale(v, 0.0, 1.0, bottom, top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="white"/>',
        f'<text x="{_WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
        'fill="none" stroke="#333"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 14}" text-anchor="middle">{tick:g}</text>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    parts.append(
        f'<text x="{(left + right) / 2}" y="{_HEIGHT - 10}" text-anchor="middle">{html.escape(xlabel)}</text>'
    )
    parts.append(
        f'<text x="12" y="{(top + bottom) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {(top + bottom) / 2})">{html.escape(ylabel)}</text>'
    )
    if diagonal:
        parts.append(
            f'<line x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(1):.1f}" y2="{y(1):.1f}" '
            'stroke="#999" stroke-dasharray="4 3"/>'
        )
    for i, (name, points) in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in points)
        if coords:
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(
            f'<text x="{right - 6}" y="{top + 14 + 14 * i}" text-anchor="end" fill="{colour}">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(title: str, items: Sequence[tuple[str, float]]) -> str:
    """A small horizontal SVG bar chart of non-negative values (e.g. gain shares)."""
    row, label_width = 16, 170
    height = 36 + row * len(items)
    peak = max((v for _, v in items), default=1.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{_WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{_WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
    ]
    for i, (name, value) in enumerate(items):
        top = 26 + row * i
        width = (_WIDTH - label_width - 50) * value / peak
        parts.append(
            f'<text x="{label_width - 4}" y="{top + 11}" text-anchor="end">{html.escape(name)}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{top + 2}" width="{width:.1f}" height="{row - 4}" '
            f'fill="{_COLOURS[0]}"/>'
        )
        parts.append(f'<text x="{label_width + width + 4:.1f}" y="{top + 11}">{value:.3f}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


_METRIC_ROWS = (
    ("ROC-AUC", "roc_auc"),
    ("PR-AUC (failure)", "pr_auc"),
    ("balanced accuracy", "balanced_accuracy"),
    ("accuracy", "accuracy"),
    ("MCC", "mcc"),
    ("Brier", "brier"),
    ("ECE (15 bins)", "ece"),
    ("threshold", "threshold"),
)


def build_model_card(report: dict[str, Any], *, title: str = "CI failure and duration models") -> ModelCard:
    """Render the model card of an evaluation report.

    Args:
        report: the dict returned by :func:`~pipelines.ml.benchmark.run_ci_benchmark`.
        title: the card's heading.

    Returns:
        The markdown and its SVG images.
    """
    data = report.get("data", {})
    failure = report.get("failure", {})
    baselines = report.get("baselines", {})
    mlp = report.get("mlp", {})
    duration = report.get("duration", {})
    risk = report.get("risk", {})
    tuning = report.get("tuning", {})
    curves = report.get("curves", {})
    columns = [
        ("LightGBM (calibrated)", failure),
        ("MLP 64→32", mlp),
        ("previous outcome", baselines.get("previous_outcome", {})),
        ("rolling rate", baselines.get("rolling_rate", {})),
        ("majority", baselines.get("majority", {})),
    ]
    metric_rows = [[label, *(c.get(key) for _, c in columns)] for label, key in _METRIC_ROWS]
    metric_rows.insert(
        4, ["always-pass accuracy", failure.get("always_pass_accuracy"), None, None, None, None]
    )

    lines = [
        f"# {title}",
        "",
        *(
            [
                "> **Synthetic data.** Trained and judged on the sample organisation repopilot "
                "generates: the figures below show the pipeline works, not how good the models are.",
                "",
            ]
            if data.get("synthetic")
            else []
        ),
        "## Data",
        "",
        _table(["", ""], [[k.replace("_", " "), _list(v)] for k, v in data.items()]),
        "",
        *_windows(report.get("windows")),
        "Features are computed as of each run's trigger time (`pipelines.features.runs`); a run's own "
        "outcome, duration and log facts are never its features.",
        "",
        "## Failure probability",
        "",
        _table(["metric", *(name for name, _ in columns)], metric_rows),
        "",
        f"Calibration: {failure.get('calibration', {}).get('calibration_method', '–')} on the calibration "
        "slice (held-out ECE: "
        + ", ".join(
            f"{k.removeprefix('ece_')} {_fmt(v)}"
            for k, v in failure.get("calibration", {}).items()
            if k.startswith("ece_")
        )
        + "). Thresholds were chosen on the calibration slice, never on test.",
        "",
        "![precision-recall curve](pr_curve.svg) ![reliability curve](reliability.svg)",
        "",
        "### Precision-recall (test)",
        "",
        _table(
            ["recall", "precision (model)", "precision (previous outcome)"],
            _merge_pr(curves.get("pr", []), curves.get("pr_previous_outcome", [])),
        ),
        "",
        "### Reliability (test, 15 equal-width bins)",
        "",
        _table(
            ["bin", "rows", "mean predicted", "observed"],
            [
                [f"{b['low']:.2f}–{b['high']:.2f}", int(b["count"]), b["predicted"], b["observed"]]
                for b in curves.get("reliability", [])
            ],
        ),
        "",
        *_versus_current(report.get("versus_current")),
        "## Risk levels",
        "",
        _table(
            ["level", "lower bound", "rows", "observed failure rate"],
            [
                [level, bound, risk.get("rows_by_level", {}).get(level), rate]
                for level, bound, rate in zip(
                    ["LOW", "MEDIUM", "HIGH", "CRITICAL"],
                    [0.0, *risk.get("thresholds", [None, None, None])],
                    [
                        risk.get("failure_rate_by_level", {}).get(k)
                        for k in ("LOW", "MEDIUM", "HIGH", "CRITICAL")
                    ],
                    strict=False,
                )
            ],
        ),
        "",
        f"Observed failure rates rise across levels on test: {_fmt(risk.get('increasing'))}.",
        "",
        "## Duration",
        "",
        _table(
            ["metric", "LightGBM", "median of last 5"],
            [
                ["MAE (s)", duration.get("mae"), duration.get("baseline_mae")],
                [
                    "MAE, rows with history (s)",
                    duration.get("mae_with_history"),
                    duration.get("baseline_mae_with_history"),
                ],
                ["median APE", duration.get("median_ape"), duration.get("baseline_median_ape")],
                ["P10–P90 coverage", duration.get("interval_coverage"), None],
            ],
        ),
        "",
        "## Feature importance (gain share)",
        "",
        "![feature importance](importance.svg)",
        "",
        _table(
            ["feature", "gain share"],
            [[f["feature"], f["gain_share"]] for f in report.get("feature_importance", [])],
        ),
        "",
        "## By repository (test)",
        "",
        _by_repository(report.get("by_repository", [])),
        "",
        "## Tuning",
        "",
        _table(["", ""], [[k.replace("_", " "), _list(v)] for k, v in tuning.items()]),
        "",
    ]
    images = {
        "pr_curve.svg": line_chart(
            "Precision-recall (failure class, test)",
            [
                ("LightGBM", [(p["recall"], p["precision"]) for p in curves.get("pr", [])]),
                (
                    "previous outcome",
                    [(p["recall"], p["precision"]) for p in curves.get("pr_previous_outcome", [])],
                ),
            ],
            xlabel="recall",
            ylabel="precision",
        ),
        "reliability.svg": line_chart(
            "Reliability (test)",
            [("LightGBM", [(b["predicted"], b["observed"]) for b in curves.get("reliability", [])])],
            xlabel="mean predicted probability",
            ylabel="observed failure rate",
            diagonal=True,
        ),
        "importance.svg": bar_chart(
            "Feature importance (gain share)",
            [(f["feature"], f["gain_share"]) for f in report.get("feature_importance", [])[:15]],
        ),
    }
    return ModelCard(markdown="\n".join(lines), images=images)


def _versus_current(versus: dict[str, Any] | None) -> list[str]:
    """The section comparing the candidate with the model in service (none without one)."""
    if versus is None:
        return []
    head = ["### Against the model in service", ""]
    if not versus.get("same_rows"):
        return [
            *head,
            f"Not compared on the same rows: {versus.get('reason')}. The promotion gate falls back to the "
            "current model's stored figures, measured on its own, different test window.",
            "",
        ]
    return [
        *head,
        f"Model {versus.get('current_version')} scored the same {versus.get('rows')} test rows; "
        f"95% intervals from {versus.get('replicates')} paired bootstrap replicates "
        f"({versus.get('resampled')}).",
        *_unseen_note(versus.get("unseen")),
        "",
        _differences(
            versus, (("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC"), ("balanced_accuracy", "balanced accuracy"))
        ),
        "",
        *_versus_duration(versus.get("duration")),
    ]


def _differences(section: dict[str, Any], metrics: Sequence[tuple[str, str]]) -> str:
    """The table of paired figures: each model's, the difference and its 95% interval."""
    return _table(
        ["metric", "candidate", "current", "difference", "95% interval"],
        [
            [
                name,
                section[key]["candidate"],
                section[key]["current"],
                section[key]["difference"],
                " to ".join(_fmt(v) for v in section[key]["ci95"]),
            ]
            for key, name in metrics
        ],
    )


def _versus_duration(duration: dict[str, Any] | None) -> list[str]:
    """Both duration models on the same rows (reports written before it: a line saying so)."""
    if duration is None:
        return ["Duration: not compared on the same rows (the report predates that comparison).", ""]
    if not duration.get("compared"):
        return [
            f"Duration: not compared on the same rows: {duration.get('reason')}. The promotion gate falls "
            "back to the current model's stored figures.",
            "",
        ]
    coverage = duration["interval_coverage"]
    own = {
        k: f"{_fmt(coverage[k])} ({' to '.join(_fmt(v) for v in coverage[f'{k}_ci95'])})"
        for k in ("candidate", "current")
    }
    return [
        f"Duration, on the same {duration.get('rows')} test rows with a duration "
        f"({duration.get('groups')} attempt groups); P10–P90 coverage of each model with its own 95% "
        f"interval: candidate {own['candidate']}, current {own['current']}.",
        "",
        _differences(
            duration,
            (
                ("mae", "duration MAE (s)"),
                ("median_ape", "duration median APE"),
                ("interval_coverage", "P10–P90 coverage"),
            ),
        ),
        "",
    ]


def _unseen_note(unseen: dict[str, Any] | None) -> list[str]:
    """Which test rows the current model scored (reports written before this was checked: none)."""
    if not unseen:
        return []
    if unseen.get("checked"):
        return [f"Only rows it was not trained on: {unseen.get('note')}."]
    return [f"**Unchecked:** {unseen.get('note')}."]


def _windows(windows: dict[str, Any] | None) -> list[str]:
    """The table of the training, calibration and test windows (older reports: a line saying so)."""
    if not windows:
        return ["Training, calibration and test windows: not recorded (trained before they were).", ""]
    return [
        _table(
            [
                "rows",
                "count",
                "with an outcome",
                "attempt groups",
                "with a failure",
                "with a pass",
                "with a duration",
                "first trigger",
                "last trigger",
            ],
            [
                [
                    name,
                    w.get("rows"),
                    w.get("failure_rows"),
                    w.get("groups"),
                    w.get("failing_groups"),
                    w.get("passing_groups"),
                    w.get("duration_groups"),
                    w.get("first"),
                    w.get("last"),
                ]
                for name, w in (
                    (label, windows.get(key) or {})
                    for key, label in (
                        ("fit", "fit"),
                        ("calibration", "calibration"),
                        ("trained", "trained (fit + calibration)"),
                        ("test", "test"),
                    )
                )
            ],
        ),
        "",
        *_evidence({"windows": windows}),
        "Trained rows' keys (SHA-256 of the sorted run id and attempt): "
        f"`{windows.get('trained_keys_sha256')}`",
        "",
    ]


def _evidence(report: dict[str, Any]) -> list[str]:
    """Whether the test window holds the evidence the promotion gate asks for (nothing before counts)."""
    counts = evidence_counts(report)
    if counts is None:
        return []
    shortfall = evidence_shortfall(report)
    if shortfall is not None:
        return [f"**Not promotable on this window:** {shortfall}.", ""]
    return [
        f"Evidence for the promotion gate: the test window's {counts['groups']} attempt groups "
        f"({counts['failing_groups']} with a failure, {counts['passing_groups']} with a pass, "
        f"{counts['duration_groups']} with a duration) meet its minimum of {MIN_TEST_GROUPS} "
        f"({MIN_TEST_CLASS_GROUPS} with a failure and {MIN_TEST_CLASS_GROUPS} with a pass).",
        "",
    ]


def _list(value: Any) -> str:
    if isinstance(value, list | tuple):
        shown = ", ".join(_fmt(v) for v in value[:8])
        return shown + (f", … ({len(value)} in all)" if len(value) > 8 else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return _fmt(value)


def _merge_pr(model: list[dict[str, float]], previous: list[dict[str, float]]) -> list[list[Any]]:
    by_recall = {round(p["recall"], 4): p["precision"] for p in previous}
    return [[p["recall"], p["precision"], by_recall.get(round(p["recall"], 4))] for p in model[::2]]


def _by_repository(rows: list[dict[str, Any]]) -> str:
    headers = [
        "repository",
        "rows",
        "failure rate",
        "ROC-AUC",
        "PR-AUC",
        "bal. acc.",
        "bal. acc. (previous)",
        "duration MAE",
        "baseline MAE",
    ]
    keys = [
        "repo",
        "rows",
        "failure_rate",
        "roc_auc",
        "pr_auc",
        "balanced_accuracy",
        "previous_outcome_balanced_accuracy",
        "duration_mae",
        "baseline_duration_mae",
    ]
    return _table(headers, [[r.get(k) for k in keys] for r in rows])
