"""From run features to a model matrix: encoded inputs, labels, and what splitting needs.

:func:`make_dataset` turns the output of :func:`~pipelines.features.runs.build_run_features`
into a :class:`Dataset`: a float matrix of the feature columns (categoricals as integer codes
with categories fixed at training time, in a :class:`FeatureSpec` kept for scoring), the two
labels (``failed`` as 0/1 and ``duration_seconds``), the trigger time, ``attempt_group`` and
``repo`` (for splitting, never inputs), and the protocol's naive baselines for the same rows.

Rows with neither label are dropped; a row with one label keeps the other as NaN, and each
task uses the rows where its own label is known (:attr:`Dataset.has_failure_label`,
:attr:`Dataset.has_duration_label`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from pipelines.features.runs import CATEGORICAL_FEATURES, KEY_COLUMNS, LABEL_COLUMNS, naive_baselines

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Objects = npt.NDArray[np.object_]
Times = npt.NDArray[np.datetime64]

_NOT_INPUTS = frozenset(KEY_COLUMNS) | frozenset(LABEL_COLUMNS)
_FEATURE_KEYS = ("run_attempt",)  # keys that are also model inputs


@dataclass(frozen=True)
class FeatureSpec:
    """The model inputs, in matrix order, and the categories fixed at training time.

    Attributes:
        names: every input column, in the column order of the matrix.
        categorical: the subset of ``names`` encoded as category codes.
        categories: per categorical column, its categories; code ``i`` is ``categories[c][i]``,
            and values not in the list (or null) become NaN (missing).
    """

    names: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def categorical_indices(self) -> list[int]:
        """Matrix column indices of the categorical inputs."""
        return [self.names.index(c) for c in self.categorical]

    def decode(self, column: str, value: float) -> Any:
        """The original value behind a matrix cell: the category for a code, else the number.

        Args:
            column: an input column name.
            value: the matrix value.

        Returns:
            The category string (None when missing) for a categorical column; otherwise the
            number itself (None when NaN).
        """
        if np.isnan(value):
            return None
        if column in self.categories:
            return self.categories[column][int(value)]
        return float(value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (for the exports' feature specification)."""
        return {
            "names": list(self.names),
            "categorical": list(self.categorical),
            "categories": {k: list(v) for k, v in self.categories.items()},
        }


@dataclass(frozen=True)
class Dataset:
    """A model matrix with its labels, split keys and baselines, one row per run attempt.

    Attributes:
        x: inputs, shape (rows, len(spec.names)), float64, NaN for missing.
        failed: 1.0 failed, 0.0 passed, NaN unknown.
        duration: duration in seconds, NaN unknown.
        time: trigger time (``created_at``), datetime64[us] (UTC).
        groups: ``attempt_group`` of each row (attempts of a commit and workflow).
        repos: repository of each row.
        ids: run id of each row.
        baseline_previous: "same as the previous build" (0/1; NaN without history).
        baseline_rolling: rolling per-workflow failure rate (NaN without history).
        baseline_duration: median duration of the last 5 runs (NaN without history).
        spec: the feature specification the matrix was encoded with.
    """

    x: Floats
    failed: Floats
    duration: Floats
    time: Times
    groups: Objects
    repos: Objects
    ids: Ints
    baseline_previous: Floats
    baseline_rolling: Floats
    baseline_duration: Floats
    spec: FeatureSpec

    def __len__(self) -> int:
        """Number of rows."""
        return int(self.x.shape[0])

    @property
    def has_failure_label(self) -> Bools:
        """Rows whose failure label is known."""
        return ~np.isnan(self.failed)

    @property
    def has_duration_label(self) -> Bools:
        """Rows whose duration label is known."""
        return ~np.isnan(self.duration)

    def subset(self, rows: npt.NDArray[np.int64] | Bools) -> Dataset:
        """The rows selected by an index array or a boolean mask, in that order."""
        return Dataset(
            x=self.x[rows],
            failed=self.failed[rows],
            duration=self.duration[rows],
            time=self.time[rows],
            groups=self.groups[rows],
            repos=self.repos[rows],
            ids=self.ids[rows],
            baseline_previous=self.baseline_previous[rows],
            baseline_rolling=self.baseline_rolling[rows],
            baseline_duration=self.baseline_duration[rows],
            spec=self.spec,
        )


def input_columns(features: pl.DataFrame) -> list[str]:
    """Every model-input column of a run-feature frame, in frame order.

    All columns that are neither keys nor labels, plus ``run_attempt`` (a key that is also a
    feature). Columns added to :func:`~pipelines.features.runs.build_run_features` later are
    picked up without touching this module.
    """
    return [c for c in features.columns if c not in _NOT_INPUTS or c in _FEATURE_KEYS]


def fit_spec(
    features: pl.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] = CATEGORICAL_FEATURES,
) -> FeatureSpec:
    """Fix the inputs and the categories from training rows.

    Args:
        features: the training rows (output of ``build_run_features``).
        columns: the inputs; by default :func:`input_columns`.
        categorical: which inputs are categorical (those absent from ``columns`` are ignored).

    Returns:
        The specification; categories are the sorted non-null values seen in ``features``.

    Raises:
        ValueError: if a requested column is missing from ``features``.
    """
    names = tuple(columns) if columns is not None else tuple(input_columns(features))
    missing = [c for c in names if c not in features.columns]
    if missing:
        raise ValueError(f"feature columns missing from the frame: {missing}")
    cats = tuple(c for c in names if c in set(categorical))
    categories = {
        c: tuple(sorted(str(v) for v in features.get_column(c).drop_nulls().unique().to_list())) for c in cats
    }
    return FeatureSpec(names=names, categorical=cats, categories=categories)


def encode(features: pl.DataFrame, spec: FeatureSpec) -> Floats:
    """The float matrix of ``features`` under ``spec`` (unknown categories and nulls → NaN).

    Raises:
        ValueError: if a column of ``spec`` is missing from ``features``.
    """
    missing = [c for c in spec.names if c not in features.columns]
    if missing:
        raise ValueError(f"feature columns missing from the frame: {missing}")
    exprs = []
    for name in spec.names:
        if name in spec.categories:
            mapping = {v: float(i) for i, v in enumerate(spec.categories[name])}
            expr = pl.col(name).cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.Float64)
        else:
            expr = pl.col(name).cast(pl.Float64)
        exprs.append(expr.fill_nan(None).alias(name))
    if not exprs:
        return np.empty((features.height, 0), dtype=np.float64)
    matrix = features.select(exprs).to_numpy().astype(np.float64, copy=False)
    return np.asarray(matrix, dtype=np.float64)


def make_dataset(features: pl.DataFrame, spec: FeatureSpec | None = None) -> Dataset:
    """Build the model dataset of a run-feature frame.

    Args:
        features: output of :func:`~pipelines.features.runs.build_run_features`.
        spec: the specification fixed at training time; ``None`` fits one on ``features``
            (do that on training rows only, then pass it when encoding other rows).

    Returns:
        The dataset of the rows with at least one known label, in input order.
    """
    labelled = features.filter(pl.col("failed").is_not_null() | pl.col("duration_seconds").is_not_null())
    spec = spec if spec is not None else fit_spec(labelled)
    baselines = naive_baselines(labelled)
    return Dataset(
        x=encode(labelled, spec),
        failed=_floats(labelled.get_column("failed").cast(pl.Float64)),
        duration=_floats(labelled.get_column("duration_seconds")),
        time=labelled.get_column("created_at").dt.replace_time_zone(None).to_numpy().astype("datetime64[us]"),
        groups=np.asarray(labelled.get_column("attempt_group").to_list(), dtype=object),
        repos=np.asarray(labelled.get_column("repo").to_list(), dtype=object),
        ids=labelled.get_column("id").cast(pl.Int64).to_numpy().astype(np.int64),
        baseline_previous=_floats(baselines.get_column("baseline_previous_outcome")),
        baseline_rolling=_floats(baselines.get_column("baseline_rolling_rate")),
        baseline_duration=_floats(baselines.get_column("baseline_duration_median5")),
        spec=spec,
    )


def _floats(series: pl.Series) -> Floats:
    return np.asarray(series.cast(pl.Float64).fill_null(float("nan")).to_numpy(), dtype=np.float64)
