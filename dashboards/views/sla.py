"""SLA and incidents: compliance, breaches over time, open clocks, and post-mortems."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboards import data, ui

ctx = ui.context()
if ui.header("SLA and incidents", ctx, needs=("features.sla_clock_states",)):
    clocks = ui.query(ctx, data.sla_clocks)
    columns = st.columns(3)
    columns[0].metric("First-response compliance", ui.percent(data.sla_compliance(clocks, "response")))
    columns[1].metric("Resolution compliance", ui.percent(data.sla_compliance(clocks, "resolution")))
    open_now = data.open_clocks(clocks)
    columns[2].metric("Open clocks", f"{open_now.height:,}")

    left, right = st.columns(2)
    with left:
        st.subheader("Breaches by week opened")
        breaches = data.weekly_breaches(clocks)
        if breaches.height == 0:
            st.success("No breaches in this selection.")
        else:
            st.altair_chart(
                alt.Chart(breaches)
                .mark_bar()
                .encode(
                    x=alt.X("week:T"),
                    y=alt.Y("breaches:Q"),
                    color=alt.Color("kind:N", title="clock"),
                    xOffset="kind:N",
                ),
                width="stretch",
            )
    with right:
        st.subheader("Open clocks by priority")
        if open_now.height == 0:
            st.success("No open clocks in this selection.")
        else:
            ages = open_now.with_columns(
                pl.when(
                    pl.col("response_breached").fill_null(False)
                    | pl.col("resolution_breached").fill_null(False)
                )
                .then(pl.lit("past target"))
                .otherwise(pl.lit("within target"))
                .alias("status")
            )
            st.altair_chart(
                alt.Chart(ages)
                .mark_bar()
                .encode(
                    x=alt.X("priority:N", sort=[*data.SLA_TARGET_HOURS]),
                    y=alt.Y("count():Q", title="open"),
                    color=alt.Color(
                        "status:N",
                        scale=alt.Scale(
                            domain=["within target", "past target"], range=["#90a4ae", "#c62828"]
                        ),
                    ),
                ),
                width="stretch",
            )
    with st.expander("Targets (hours)"):
        st.dataframe(
            pl.DataFrame(
                {
                    "priority": list(data.SLA_TARGET_HOURS),
                    "first response": [v[0] for v in data.SLA_TARGET_HOURS.values()],
                    "resolution": [v[1] for v in data.SLA_TARGET_HOURS.values()],
                }
            ),
            hide_index=True,
        )
    if open_now.height:
        st.subheader("Longest-open clocks")
        st.dataframe(
            open_now.head(15).select(
                "repo", "number", "is_pull_request", "priority", "waiting_for", pl.col("open_hours").round(1)
            ),
            hide_index=True,
            width="stretch",
        )

st.subheader("Post-mortems")
reports = data.post_mortems(ctx.home)
if not reports:
    st.info(
        f"None yet: post-mortems written by the SLA action appear here (from `{ctx.home / 'incidents'}`)."
    )
for pm in reports:
    with st.expander(pm.title):
        st.markdown(pm.text)
