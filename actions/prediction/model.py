"""The exported models, loaded from their LightGBM text files and the feature specification.

What the pipeline's ``FailureModel`` and ``DurationModel`` compute in memory, computed here from
the exports alone (a parity test holds the two to the same numbers): the raw margin of the
failure booster, its calibration to a probability (isotonic steps or Platt's sigmoid), the risk
level and confidence, the factors, and the duration's point estimate and P10–P90 interval
relative to a reference duration (the rolling median of the branch, else of the repository,
else the training median).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from actions.common.errors import ExportError
from actions.common.exports import Exports
from actions.prediction.explain import (
    RISK_LEVELS,
    TOP_FACTORS,
    confidence,
    factors,
    recommendation,
    risk_index,
)

if TYPE_CHECKING:
    import lightgbm as lgb

Floats = npt.NDArray[np.float64]

LIGHTGBM_EXTRAS = ("sklearn", "pandas", "pyarrow", "dask", "datatable", "cffi")
"""Libraries LightGBM imports when installed, for interfaces the action does not use (its scikit-learn
estimators, DataFrame and Arrow inputs, Dask training): importing them costs over a second of CPU."""


def import_lightgbm_alone() -> ModuleType:
    """Import LightGBM without :data:`LIGHTGBM_EXTRAS`, for a process that only loads boosters.

    LightGBM treats each of them as optional, and its ``Booster`` reads numpy arrays without them.
    Only the predict action's own process calls this (its console entry): in a process that goes
    on to use LightGBM's scikit-learn interface, the extras must be importable.
    """
    if "lightgbm" in sys.modules:
        return sys.modules["lightgbm"]
    hidden = [name for name in LIGHTGBM_EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes ``import name`` raise ImportError
    try:
        return importlib.import_module("lightgbm")
    finally:
        for name in hidden:
            del sys.modules[name]


MODEL_FILES: dict[str, str] = {
    "failure_model": "failure_model.txt",
    "duration_point": "duration_point.txt",
    "duration_p10": "duration_p10.txt",
    "duration_p90": "duration_p90.txt",
}
"""Export name → file name of each LightGBM text model (under ``models/`` in the exports)."""


def calibrate(calibration: Mapping[str, Any], margin: Floats) -> Floats:
    """Calibrated probabilities of raw margins, from the exported calibration."""
    m = np.asarray(margin, dtype=np.float64)
    if calibration["method"] == "isotonic":
        # scikit-learn's isotonic predict: linear between the steps, clipped beyond them
        x = np.asarray(calibration["x"], dtype=np.float64)
        y = np.asarray(calibration["y"], dtype=np.float64)
        return np.asarray(np.interp(m, x, y), dtype=np.float64)
    z = calibration["slope"] * m + calibration["intercept"]
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def reference_duration(x: Floats, names: Sequence[str], references: Sequence[str], fallback: float) -> Floats:
    """Per row, the first present reference feature (seconds), else ``fallback``."""
    reference = np.full(x.shape[0], np.nan, dtype=np.float64)
    for name in references:
        if name in names:
            column = x[:, list(names).index(name)]
            reference = np.where(np.isnan(reference), column, reference)
    return np.where(np.isnan(reference), fallback, np.maximum(reference, 0.0))


def combine_duration(
    reference: Floats, z_point: Floats, z_low: Floats, z_high: Floats, offset: float
) -> tuple[Floats, Floats, Floats]:
    """``(point, p10, p90)`` seconds from the boosters' log-ratios to the reference duration.

    The interval ends are widened by the conformal ``offset`` (log units), ordered, and kept on
    either side of the point estimate; nothing is negative.
    """
    base = np.log1p(reference)
    low_z, high_z = z_low - offset, z_high + offset
    point = np.expm1(base + z_point)
    low = np.minimum(np.expm1(base + np.minimum(low_z, high_z)), point)
    high = np.maximum(np.expm1(base + np.maximum(low_z, high_z)), point)
    return np.maximum(point, 0.0), np.maximum(low, 0.0), np.maximum(high, 0.0)


def model_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a whole LightGBM text model, or None when its tree blocks are where it says.

    LightGBM parses the trees at the offsets its ``tree_sizes`` header gives, in parallel threads,
    and a model cut short or edited there aborts the whole process (SIGABRT) instead of raising: so
    every ``Tree=i`` block is checked to start where the header puts it, and ``end of trees`` to follow.
    """
    data = text.encode("utf-8")
    header, _, rest = data.partition(b"\nTree=0\n")
    sizes_line = next((line for line in header.split(b"\n") if line.startswith(b"tree_sizes=")), None)
    if not rest or sizes_line is None:
        return "no trees"
    try:
        sizes = [int(size) for size in sizes_line.removeprefix(b"tree_sizes=").split()]
    except ValueError:
        return "a malformed tree_sizes header"
    at = len(header) + 1
    for index, size in enumerate(sizes):
        if not data.startswith(b"Tree=%d\n" % index, at) or size <= 0:
            return f"tree {index} is not where its header puts it (cut short or edited)"
        at += size
    if not data.startswith(b"end of trees", at):
        return "the trees do not end where the header says (cut short or edited)"
    return None


@dataclass(frozen=True)
class ExportedModels:
    """The failure and duration models of an exports folder.

    Attributes:
        spec: the feature specification (``feature_spec.schema.json``).
        failure: the failure booster (raw margin = log-odds before calibration).
        duration: the point, P10 and P90 boosters, or None when the exports have none.
    """

    spec: dict[str, Any]
    failure: lgb.Booster
    duration: tuple[lgb.Booster, lgb.Booster, lgb.Booster] | None

    @classmethod
    def load(cls, exports: Exports) -> ExportedModels:
        """Load the models of verified exports.

        Raises:
            ExportError: when the exports hold no model, a file is not a whole LightGBM model, or a
                model reads another number of inputs than the feature specification names.
        """
        if exports.model_version is None or not exports.has("failure_model"):
            raise ExportError(f"the exports at {exports.origin} hold no model yet")
        import lightgbm as lgb  # here, so that importing the action costs no LightGBM

        def booster(name: str) -> lgb.Booster:
            try:
                text = exports.path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise ExportError(f"exports at {exports.origin}: {name} cannot be read as text") from None
            problem = model_text_problem(text)
            if problem is not None:
                raise ExportError(
                    f"exports at {exports.origin}: {name} is not a whole LightGBM model: {problem}"
                )
            try:
                return lgb.Booster(model_str=text)
            except lgb.basic.LightGBMError:
                raise ExportError(f"exports at {exports.origin}: {name} is not a LightGBM model") from None

        names = ["failure_model"]
        if all(exports.has(n) for n in ("duration_point", "duration_p10", "duration_p90")):
            names += ["duration_point", "duration_p10", "duration_p90"]
        boosters = {name: booster(name) for name in names}
        spec = exports.json("feature_spec")
        inputs = len(spec["features"]["names"])
        for name, model in boosters.items():
            if model.num_feature() != inputs:
                raise ExportError(
                    f"exports at {exports.origin}: {name} reads {model.num_feature()} inputs but "
                    f"feature_spec.json names {inputs} (files of different exports mixed?)"
                )
        failure = boosters["failure_model"]
        duration = None
        if len(boosters) == 4:
            duration = (boosters["duration_point"], boosters["duration_p10"], boosters["duration_p90"])
        return cls(spec=spec, failure=failure, duration=duration)

    @property
    def names(self) -> list[str]:
        """Model inputs in matrix order."""
        return list(self.spec["features"]["names"])

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> Floats:
        """The input matrix of feature dicts: numbers as floats, categories as their training codes.

        Missing features, None values and categories unseen at training become NaN (missing).
        """
        categories = {
            c: {v: i for i, v in enumerate(vs)} for c, vs in self.spec["features"]["categories"].items()
        }
        x = np.full((len(rows), len(self.names)), np.nan, dtype=np.float64)
        for i, row in enumerate(rows):
            for j, name in enumerate(self.names):
                value = row.get(name)
                if value is None:
                    continue
                if name in categories:
                    code = categories[name].get(str(value))
                    if code is not None:
                        x[i, j] = code
                else:
                    x[i, j] = float(value)
        return x

    def decode(self, column: str, value: float) -> Any:
        """The original value behind a matrix cell (category string, number, or None)."""
        if np.isnan(value):
            return None
        categories = self.spec["features"]["categories"]
        if column in categories:
            return categories[column][int(value)]
        return float(value)

    def probability(self, x: Floats) -> Floats:
        """Calibrated failure probabilities of encoded rows."""
        margin = np.asarray(self.failure.predict(x, raw_score=True), dtype=np.float64)
        return calibrate(self.spec["calibration"], margin)

    def durations(self, x: Floats) -> tuple[Floats, Floats, Floats] | None:
        """``(point, p10, p90)`` seconds of encoded rows, or None without duration models."""
        if self.duration is None:
            return None
        settings = self.spec["duration"]
        reference = reference_duration(
            x, self.names, settings["reference_features"], float(settings["fallback_seconds"])
        )
        point, low, high = (np.asarray(b.predict(x), dtype=np.float64) for b in self.duration)
        return combine_duration(reference, point, low, high, float(settings["interval_offset"]))

    def predict(self, rows: Sequence[Mapping[str, Any]], *, top: int = TOP_FACTORS) -> list[dict[str, Any]]:
        """The design's ``predict_workflow_outcome`` result for each feature dict."""
        x = self.encode(rows)
        probability = self.probability(x)
        levels = risk_index(probability, self.spec["risk_thresholds"])
        sure = confidence(probability, float(self.spec["threshold"]))
        contributions = np.asarray(self.failure.predict(x, pred_contrib=True), dtype=np.float64)
        durations = self.durations(x)
        results = []
        for i in range(x.shape[0]):
            level = RISK_LEVELS[int(levels[i])]
            top_factors = factors(contributions[i], x[i], self.names, self.decode, top=top)
            results.append(
                {
                    "probability": float(probability[i]),
                    "risk_level": level,
                    "confidence": float(sure[i]),
                    "factors": top_factors,
                    "recommendation": recommendation(level, top_factors),
                    "predicted_duration_seconds": None if durations is None else float(durations[0][i]),
                    "duration_interval": None
                    if durations is None
                    else [float(durations[1][i]), float(durations[2][i])],
                }
            )
        return results
