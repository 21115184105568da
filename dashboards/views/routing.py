"""Routing and workload: review load per person, response times, who knows which paths."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, data, ui

ctx = ui.context()
if ui.header("Routing and workload", ctx, needs=("marts.review_load", "core.reviews")):
    load = ui.query(ctx, data.review_load)
    left, right = st.columns(2)
    with left:
        st.subheader("Review load per person")
        if load.height == 0:
            st.info("No reviews in the selected repositories.")
        else:
            long = (
                load.head(20)
                .unpivot(
                    index="login",
                    on=["open_review_requests", "reviewed_last_30_days"],
                    variable_name="load",
                    value_name="count",
                )
                .with_columns(pl.col("load").str.replace_all("_", " "))
            )
            st.altair_chart(
                charts.stacked_bars(long, "login", "count", "load", title="pull requests"),
                width="stretch",
            )
        st.caption(
            "The 20 with the most open review requests now; their reviews in the 30 days before the "
            "newest review. Neither is narrowed by the time range."
        )
    with right:
        st.subheader("Median hours to first review")
        timed = load.drop_nulls("median_first_review_hours").sort("median_first_review_hours").head(20)
        if timed.height == 0:
            st.info("No reviews in the selected repositories.")
        else:
            st.altair_chart(
                charts.bars(timed, "login", "median_first_review_hours", title="hours", fmt=".1f"),
                width="stretch",
            )
            st.caption(
                "The 20 fastest: each person's median over the pull requests opened in the time range, "
                "from opening to their first review."
            )
    firsts = ui.query(ctx, data.first_reviews)
    if firsts.height:
        median = firsts["hours_to_first_review"].median()
        st.caption(
            f"{firsts.height:,} pull requests opened in the time range got a human review; "
            f"median wait {ui.hours(float(median) if isinstance(median, int | float) else None)}."
        )
    st.subheader("Who knows which paths")
    expertise = ui.section(
        ctx,
        "features.path_expertise_weights",
        data.path_expertise,
        missing="No path expertise yet — run `make demo`.",
        empty="No path expertise in the selected repositories.",
    )
    if expertise is not None:
        st.altair_chart(charts.expertise_heatmap(expertise), width="stretch")
        st.caption(
            "Recency-weighted authorship and reviews of files under each path "
            "(features.path_expertise_weights)."
        )
