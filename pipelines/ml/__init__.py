"""Datasets, splits, tuning, training and evaluation.

* :mod:`~pipelines.ml.dataset` — run features → model matrix, labels, split keys, baselines.
* :mod:`~pipelines.ml.splits` — time split, project hold-out, time-series folds (groups kept whole).
* :mod:`~pipelines.ml.metrics`, :mod:`~pipelines.ml.baselines` — the protocol's metrics and naive baselines.
* :mod:`~pipelines.ml.tune` — Optuna (seeded TPE, median pruning) over time-series folds.
* :mod:`~pipelines.ml.train` — calibrated LightGBM failure model, risk levels, duration with P10–P90.
* :mod:`~pipelines.ml.explain` — ``pred_contrib`` factors and the ``predict_workflow_outcome`` result.
* :mod:`~pipelines.ml.mlp` — the design's dense network, as a comparison row.
* :mod:`~pipelines.ml.card` — the model card (markdown + SVG).
* :mod:`~pipelines.ml.evidence` — the least evidence on a test window before the promotion gate judges it.
* :mod:`~pipelines.ml.benchmark` — ``repopilot benchmark ci`` on TravisTorrent-schema files.

Nothing here imports Dagster: the assets in ``pipelines/defs`` call these functions.
"""
