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
# # Maintenance windows
#
# When is each repository quiet? The hour-of-week activity of the warehouse
# (`features.activity_by_hour`), the quietest windows after now, and, where the shared data is
# present, the same activity computed by `pipelines.features.activity` from real pull requests
# (the `pullreqs` data set).

# %%
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from dashboards import charts, data
from dashboards.snapshot import connect_read_only, home_directory, read_copy
from pipelines.features.activity import activity_by_hour_of_week

home = home_directory()
copy = read_copy(home, Path(tempfile.mkdtemp(prefix="notebook-")))
conn = connect_read_only(copy.path)
if data.source(conn).synthetic:
    print("SYNTHETIC sample organisation: its working hours are generated.")

# %% [markdown]
# ## Activity across the organisation
#
# Impact score per hour of the week (UTC): 0.4 × active people + 0.3 × workflow runs + 0.2 ×
# merges + 0.1 × issue activity, each averaged over the weeks observed and scaled to the
# repository's own busiest hour, so every repository's score runs from 0 to 1; here averaged over
# all repositories (each counts the same, whatever its size). A window's impact is the sum of its
# hours' scores: 0 means nobody and nothing was ever active then.

# %%
activity = data.activity(conn, data.Filters())
charts.week_heatmap(activity)

# %%
windows = data.quiet_windows(activity, datetime.now(UTC), hours=2)
print(windows)

# %%
by_day = activity.group_by("day_of_week", "day").agg(pl.col("impact_score").mean()).sort("day_of_week")
by_day

# %% [markdown]
# ## Real pull requests (when the shared data is present)

# %%
shared = Path(os.environ.get("REPOPILOT_SHARED_DATA", Path.cwd().resolve().parents[1] / "shared" / "data"))
pullreqs = shared / "pullreqs" / "pullreqs.parquet"
if pullreqs.exists():
    prs = pl.scan_parquet(pullreqs)
    repo = prs.group_by("repo").len().sort("len", descending=True).collect()["repo"][0]
    utc = pl.Datetime("us", "UTC")
    real = (
        prs.filter(pl.col("repo") == repo)
        .select(
            "repo",
            pl.col("pull_req_id").cast(pl.Int64).alias("number"),
            pl.col("requester").alias("author"),
            pl.lit(False).alias("author_is_bot"),
            pl.col("created_at").dt.replace_time_zone("UTC"),
            pl.col("merged_at").dt.replace_time_zone("UTC"),
        )
        .collect()
    )
    # The data set has pull requests only: every other kind of action is an empty frame.
    none = {
        "reviews": {"repo": pl.String, "reviewer": pl.String, "reviewer_is_bot": pl.Boolean, "submitted_at": utc},
        "comments": {
            "repo": pl.String, "kind": pl.String, "issue_number": pl.Int64,
            "author": pl.String, "author_is_bot": pl.Boolean, "created_at": utc,
        },
        "issues": {
            "repo": pl.String, "number": pl.Int64, "author": pl.String, "author_is_bot": pl.Boolean,
            "created_at": utc, "closed_at": utc, "is_pull_request": pl.Boolean,
        },
        "issue_events": {
            "repo": pl.String, "issue_number": pl.Int64, "event": pl.String,
            "actor": pl.String, "actor_is_bot": pl.Boolean, "created_at": utc,
        },
        "ci_runs": {
            "repo": pl.String, "id": pl.Int64, "run_attempt": pl.Int64,
            "actor": pl.String, "actor_is_bot": pl.Boolean, "created_at": utc,
        },
    }
    empty = {name: pl.DataFrame(schema=schema) for name, schema in none.items()}
    real_activity = activity_by_hour_of_week(real, **empty).with_columns(
        pl.col("day_of_week").replace_strict(dict(enumerate(data.DAY_NAMES)), return_dtype=pl.String).alias("day")
    )
    print(f"{repo}: {real.height:,} pull requests; quietest 2-hour windows:")
    print(data.quiet_windows(real_activity, datetime.now(UTC)))
else:
    real_activity = None
    print(f"shared data not found at {pullreqs}: skipping the real-data section")

# %%
charts.week_heatmap(real_activity) if real_activity is not None else None
