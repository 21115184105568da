"""The design's dense network (64 → 32, scikit-learn's MLPClassifier), as a comparison row.

It is trained on the same *fit* rows as LightGBM and its decision threshold is chosen on the
same calibration slice, so its row in the evaluation compares the two choices of model on
equal terms. Its probabilities are reported uncalibrated (as the design would use them).

Preprocessing: numeric inputs get a signed log transform (sign(x)·log1p(|x|): durations and
seconds-since span six orders of magnitude, which would swamp a standardised input), then
median imputation with missing-value indicators and standardisation; categorical codes are
one-hot encoded (unknown categories to all zeros, missing values to their own column). Inputs
missing on every training row are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from pipelines.ml.dataset import Dataset, FeatureSpec
from pipelines.ml.metrics import choose_threshold

Floats = npt.NDArray[np.float64]

HIDDEN_LAYERS = (64, 32)
"""The design's hidden layer sizes."""


def _signed_log(x: Floats) -> Floats:
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)), dtype=np.float64)


@dataclass(frozen=True)
class MLPModel:
    """The fitted network, its preprocessing and its decision threshold.

    Attributes:
        pipeline: scikit-learn pipeline (preprocessing + MLPClassifier).
        spec: the inputs it was trained on.
        threshold: decision threshold chosen on the calibration slice.
        epochs: training epochs actually run (early stopping).
    """

    pipeline: Pipeline
    spec: FeatureSpec
    threshold: float
    epochs: int

    def probability(self, x: Floats) -> Floats:
        """Failure probabilities (uncalibrated)."""
        return np.asarray(self.pipeline.predict_proba(x)[:, 1], dtype=np.float64)


def _pipeline(numeric: list[int], categorical: list[int], seed: int, max_iter: int) -> Pipeline:
    steps: list[tuple[str, object, list[int]]] = [
        (
            "numeric",
            Pipeline(
                [
                    ("log", FunctionTransformer(_signed_log)),
                    ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                    ("scale", StandardScaler()),
                ]
            ),
            numeric,
        )
    ]
    if categorical:
        steps.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value=-1.0)),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                categorical,
            )
        )
    network = MLPClassifier(
        hidden_layer_sizes=HIDDEN_LAYERS,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        max_iter=max_iter,
        batch_size=512,
        random_state=seed,
    )
    return Pipeline([("prepare", ColumnTransformer(steps)), ("network", network)])


def train_mlp(fit: Dataset, calibration: Dataset, *, seed: int = 0, max_iter: int = 60) -> MLPModel:
    """Train the dense network on ``fit`` and choose its threshold on ``calibration``.

    Args:
        fit: training rows (those with a known outcome are used).
        calibration: the later slice for the decision threshold.
        seed: seed of the weights and of the early-stopping hold-out.
        max_iter: maximum epochs.

    Returns:
        The fitted model.

    Raises:
        ValueError: if either side lacks one of the classes.
    """
    rows = fit.has_failure_label
    cal = calibration.has_failure_label
    y, yc = fit.failed[rows], calibration.failed[cal]
    if not (0 < y.sum() < y.size and 0 < yc.sum() < yc.size):
        raise ValueError("the fit and calibration rows need both passing and failing runs")
    categorical = fit.spec.categorical_indices
    observed = np.asarray(~np.isnan(fit.x[rows]).all(axis=0), dtype=bool)
    numeric = [i for i in range(len(fit.spec.names)) if i not in set(categorical) and observed[i]]
    pipeline = _pipeline(numeric, categorical, seed, max_iter)
    pipeline.fit(fit.x[rows], y.astype(np.int64))
    threshold = choose_threshold(yc, np.asarray(pipeline.predict_proba(calibration.x[cal])[:, 1]))
    epochs = int(pipeline.named_steps["network"].n_iter_)
    return MLPModel(pipeline=pipeline, spec=fit.spec, threshold=threshold, epochs=epochs)
