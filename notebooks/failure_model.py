# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The failure model
#
# The promoted model of `$REPOPILOT_HOME/models/current` re-scored on the warehouse's run
# features: is it calibrated on the runs after its training window, where does it err (by
# repository), and which features move its predictions. Everything is recomputed here from
# the saved model and the project's metric functions, then checked against the model's report.

# %%
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from dashboards import charts, data
from dashboards.models import load_model
from dashboards.snapshot import connect_read_only, home_directory, read_copy
from pipelines.ml.dataset import encode
from pipelines.ml.metrics import ece, reliability_curve, roc_auc
from pipelines.ml.splits import time_split

home = home_directory()
model = load_model(home)
assert model is not None, "no promoted model: run `make demo` first"
copy = read_copy(home, Path(tempfile.mkdtemp(prefix="notebook-")))
conn = connect_read_only(copy.path)
if data.source(conn).synthetic:
    print("SYNTHETIC sample organisation: no claim about model quality is made on it.")
print(f"model trained on {model.report['data']['split']}")

# %% [markdown]
# ## Calibration on the test window
#
# The test window is found the way training found it: the labelled runs in time order, split
# by `pipelines.ml.splits.time_split` (the latest 20%, attempts of one commit and workflow kept
# on one side).

# %%
features = data.run_features(conn, data.Filters())
labelled = features.filter(pl.col("failed").is_not_null() | pl.col("duration_seconds").is_not_null())
labelled = labelled.sort("created_at")
split = time_split(
    labelled["created_at"].to_numpy(), labelled["attempt_group"].to_numpy(), train_fraction=0.8
)
test_features = labelled[split.test].filter(pl.col("failed").is_not_null())
test = model.score(test_features)
y = test["failed"].cast(pl.Float64).to_numpy()
p = test["probability"].to_numpy()
print(f"{test.height} test runs (report: {model.report['failure']['rows']})")
print(f"ECE recomputed {ece(y, p):.3f}; reported {model.report['failure']['ece']:.3f}")
print(f"ROC-AUC recomputed {roc_auc(y, p):.3f}; reported {model.report['failure']['roc_auc']:.3f}")
charts.reliability(reliability_curve(y, p))

# %% [markdown]
# ## Errors by repository
#
# Per repository over the test window: `failure_rate` is the share of runs that failed,
# `mean_probability` the model's mean predicted failure probability (close to `failure_rate`
# when calibrated there), and `error_rate` the share of runs where the decision at the model's
# threshold (failure when the probability reaches it) disagrees with the outcome.

# %%
by_repo = (
    test.group_by("repo")
    .agg(
        pl.len().alias("runs"),
        pl.col("failed").cast(pl.Float64).mean().alias("failure_rate"),
        pl.col("probability").mean().alias("mean_probability"),
        ((pl.col("probability") >= model.threshold) != pl.col("failed")).cast(pl.Float64).mean().alias("error_rate"),
    )
    .sort("error_rate", descending=True)
)
by_repo

# %% [markdown]
# ## Feature effects
#
# Mean absolute contribution (SHAP values from LightGBM's `pred_contrib`) of each feature to
# the log-odds over the test window, and the report's gain shares beside them.

# %%
contributions = model.booster.predict(encode(test_features, model.spec), pred_contrib=True)
effects = pl.DataFrame(
    {"feature": list(model.spec.names), "mean_abs_contribution": np.abs(contributions[:, :-1]).mean(axis=0)}
).sort("mean_abs_contribution", descending=True)
gain = pl.DataFrame(model.report["feature_importance"])
effects = effects.join(gain, on="feature", how="left")
print(effects.head(10))
charts.bars(effects.head(15), "feature", "mean_abs_contribution", title="mean |contribution| (log-odds)")
