"""Maintenance: when the organisation is busy (hour-of-week heatmap) and the next quiet windows."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import streamlit as st

from dashboards import charts, data, ui

ctx = ui.context()
if ui.header("Maintenance windows", ctx, needs=("features.activity_by_hour",)):
    activity = ui.query(ctx, data.activity)
    if activity.height == 0:
        st.info("No activity recorded for the selected repositories.")
    else:
        st.subheader("Activity by hour of week (UTC)")
        st.altair_chart(charts.week_heatmap(activity), width="stretch")
        st.caption(
            "Impact score: weighted active people, workflow runs, merges and issue activity per hour, "
            "averaged over the weeks observed, each repository's scaled to its own busiest hour (0 to 1), "
            "then averaged over the selected repositories. All of each repository's history: the time "
            "range does not narrow it."
        )
        st.subheader("Next quiet windows")
        hours = st.slider("Window length (hours)", 1, 6, 2, key="window_hours")
        windows = data.quiet_windows(activity, datetime.now(UTC), hours=hours)
        columns = st.columns(len(windows))
        for column, row in zip(columns, windows.iter_rows(named=True), strict=True):
            column.metric(
                row["starts_at"].strftime("%a %d %b, %H:%M UTC"),
                f"impact {row['impact']:.3f}",
                help=f"{hours} hours; lower impact means fewer people and runs affected.",
            )
        busiest = activity.sort("impact_score", descending=True).head(1).row(0, named=True)
        st.caption(
            f"Busiest hour: {busiest['day']} {busiest['hour_of_day']:02d}:00 UTC "
            f"(impact {busiest['impact_score']:.3f}). "
            f"{activity.filter(pl.col('impact_score') > 0).height} of the week's 168 hours see any activity."
        )
