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
# # CI history
#
# How the organisation's workflow runs went: success rate by week, what fails, what is flaky,
# what is slow. It reads the warehouse of `$REPOPILOT_HOME` (`make demo` builds one from the
# synthetic sample organisation) through its reader copy, so a running pipeline is never blocked,
# and, where the shared real data is present, the same weekly view of real TravisTorrent builds.

# %%
import os
import tempfile
from pathlib import Path

import polars as pl

from dashboards import charts, data
from dashboards.snapshot import connect_read_only, home_directory, read_copy

home = home_directory()
copy = read_copy(home, Path(tempfile.mkdtemp(prefix="notebook-")))
conn = connect_read_only(copy.path)
source = data.source(conn)
print(f"reading {copy.path.name} of {home}; sources: {', '.join(source.labels)}")
if source.synthetic:
    print("SYNTHETIC sample organisation: the figures show the method, not a real organisation.")

# %% [markdown]
# ## Success rate by week
#
# Completed workflow runs, each counted once by its latest attempt (a failure re-run to green
# counts as a success), in UTC weeks of their creation. Success rate: successful runs over
# successful and failed ones (failure, timed out, startup failure); cancelled runs are left out.
# The same figures as the dashboard's overview (`dashboards.data.ci_weekly`).

# %%
everything = data.Filters()
weekly = data.ci_weekly(conn, everything)
org = data.org_weekly(weekly)
print(f"{int(weekly['runs'].sum()):,} completed runs over {org.height} weeks; "
      f"success rate {data.success_rate(weekly):.1%}")
charts.success_trend(weekly, org)

# %% [markdown]
# ## What fails, what is flaky, what is slow

# %%
conclusions = data.ci_conclusions(conn, everything)
# Attempts, not runs: a run re-run twice counts up to three times; cancelled is not a failure.
conclusions.group_by("conclusion").agg(pl.col("attempts").sum()).sort("attempts", descending=True)

# %%
flaky = data.flaky_workflows(conn, everything)
flaky.select("repo", "workflow", "runs_with_failure", "flaky_runs", pl.col("flaky_share").round(2)).head(5)

# %%
slow = data.slow_workflows(conn, everything)
charts.range_bars(slow, "workflow", "median_minutes", "p90_minutes", title="minutes (median to P90)")

# %% [markdown]
# ## Why runs fail: failure classes
#
# Each failed attempt's log excerpt, classified by the self-healing action's `classify_failure`
# (`features.failure_classes`): transient, dependency or permanent, with the lines that decided.

# %%
classes = data.failure_classes(conn, everything) if "features.failure_classes" in data.tables(conn) else None
if classes is not None:
    print(classes.group_by("failure_class").len().sort("len", descending=True))
charts.failure_classes_over_time(data.failure_classes_weekly(classes)) if classes is not None else None

# %% [markdown]
# ## Real builds: TravisTorrent (when the shared data is present)
#
# Three projects of the TravisTorrent table are loaded into a scratch warehouse with the
# project's own loader and core models, then summarised by the same weekly mart.

# %%
shared = Path(os.environ.get("REPOPILOT_SHARED_DATA", Path.cwd().resolve().parents[1] / "shared" / "data"))
builds = shared / "travistorrent" / "builds.parquet"
if builds.exists():
    from warehouse.db import build_core, build_marts, connect
    from warehouse.travistorrent import load_travistorrent

    projects = (
        pl.scan_parquet(builds).group_by("gh_project_name").len().sort("len").collect()["gh_project_name"][-20:-17]
    )
    subset = Path(tempfile.mkdtemp(prefix="notebook-tt-")) / "builds.parquet"
    pl.scan_parquet(builds).filter(pl.col("gh_project_name").is_in(projects.implode())).sink_parquet(subset)
    with connect(subset.parent / "warehouse.duckdb") as real:
        load_travistorrent(real, subset)
        build_core(real)
        build_marts(real)
        real_weekly = data.ci_weekly(real, everything)
    print(f"TravisTorrent: {', '.join(projects)}: {int(real_weekly['runs'].sum()):,} builds, "
          f"success rate {data.success_rate(real_weekly):.1%}")
else:
    real_weekly = None
    print(f"shared data not found at {builds}: skipping the real-data section")

# %%
charts.success_trend(real_weekly, data.org_weekly(real_weekly)) if real_weekly is not None else None
