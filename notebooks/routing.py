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
# # Routing: who reviews, how fast, and who knows which paths
#
# Reviewer features (`features.reviewer_stats`), review load (`marts.review_load`) and path
# expertise (`features.path_expertise_weights`) of the warehouse in `$REPOPILOT_HOME`, and the
# project's own candidate ranking (`pipelines.features.reviewers.expertise_score`) for the files
# of a recent pull request.

# %%
import tempfile
from pathlib import Path

import polars as pl

from dashboards import charts, data
from dashboards.snapshot import connect_read_only, home_directory, read_copy
from pipelines.features.reviewers import expertise_score
from warehouse.frames import read_relation

home = home_directory()
copy = read_copy(home, Path(tempfile.mkdtemp(prefix="notebook-")))
conn = connect_read_only(copy.path)
if data.source(conn).synthetic:
    print("SYNTHETIC sample organisation: the people and numbers are generated.")

# %% [markdown]
# ## Load and response time per person

# %%
load = data.review_load(conn, data.Filters())
print(load.head(10))
charts.bars(load.drop_nulls("median_first_review_hours"), "login", "median_first_review_hours", title="hours", fmt=".1f")

# %%
stats = read_relation(conn, "features.reviewer_stats")
stats.select(
    "repo", "candidate", "open_workload", "median_first_response_hours", "approval_rate", "in_usual_hours_share"
).sort("open_workload", descending=True).head(10)

# %% [markdown]
# ## Who would be asked to review the latest change
#
# The most recently opened pull request that changed files, and the candidates
# `expertise_score` ranks for its paths (score: the summed recency-weighted expertise of each
# person in the path prefixes that hold the changed files). The weights are as of the warehouse's
# newest event, so they include this pull request's own authorship and reviews: this shows how
# the ranking works, not how it would have ranked the change when it was opened.

# %%
repo, number, opened, paths = data.latest_pull_files(conn).row(0)
expertise = read_relation(conn, "features.path_expertise_weights")
ranking = expertise_score(expertise, repo, paths)
print(f"{repo}#{number} (opened {opened:%Y-%m-%d %H:%M} UTC) changes {len(paths)} files; top candidates:")
print(ranking.head(5))

# %%
charts.expertise_heatmap(data.path_expertise(conn, data.Filters(repos=(repo,))))
