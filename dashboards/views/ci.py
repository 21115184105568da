"""CI and predictions: risk, reliability, failures by conclusion and step, flaky and slow workflows."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, data, ui

ctx = ui.context()
if ui.header("CI and predictions", ctx, needs=("core.ci_runs", "core.ci_jobs")):
    left, right = st.columns(2)
    with left:
        st.subheader("Predicted failure risk")
        scores = ui.scores(ctx)
        if scores is None:
            st.info("No promoted model yet — run `make demo` to train and promote one.")
        elif scores.height == 0:
            st.info("No runs in this selection.")
        else:
            st.altair_chart(charts.risk_histogram(scores), width="stretch")
            by_level = (
                scores.drop_nulls("failed")
                .group_by(pl.col("risk_level").cast(pl.String))
                .agg(pl.len().alias("runs"), pl.col("failed").cast(pl.Float64).mean().alias("failure_rate"))
            )
            summary = ", ".join(
                f"{r['risk_level']}: {r['runs']} runs, {r['failure_rate']:.0%} failed"
                for r in by_level.iter_rows(named=True)
            )
            st.caption(f"Every run in the selection scored by the promoted model. Observed: {summary}.")
    with right:
        st.subheader("Reliability of the predictions")
        report = ui.report(ctx)
        curve = None if report is None else report.get("curves", {}).get("reliability")
        if not curve:
            st.info("No model report yet.")
        else:
            st.altair_chart(charts.reliability(curve), width="stretch")
            st.caption("Test window of the promoted model; the dashed line is perfect calibration.")

    left, right = st.columns(2)
    with left:
        st.subheader("Failures by conclusion")
        conclusions = ui.query(ctx, data.ci_conclusions)
        if conclusions.height == 0:
            st.info("No failed runs in this selection.")
        else:
            st.altair_chart(
                charts.stacked_bars(conclusions, "workflow", "runs", "conclusion", title="runs"),
                width="stretch",
            )
    with right:
        st.subheader("Failing steps")
        steps = ui.query(ctx, data.failed_steps)
        if steps.height == 0:
            st.info("No failed jobs in this selection.")
        else:
            st.altair_chart(
                charts.stacked_bars(
                    steps.with_columns((pl.col("job") + " › " + pl.col("failed_step")).alias("step")),
                    "step",
                    "jobs",
                    "conclusion",
                    title="failed jobs",
                ),
                width="stretch",
            )

    left, right = st.columns(2)
    with left:
        st.subheader("Flaky workflows")
        flaky = ui.query(ctx, data.flaky_workflows)
        if flaky.height == 0:
            st.info("No failed runs in this selection.")
        else:
            labelled = flaky.with_columns(
                (pl.col("workflow") + " · " + pl.col("repo").str.split("/").list.last()).alias("name")
            )
            st.altair_chart(
                charts.bars(
                    labelled, "name", "flaky_share", title="failures a re-run turned green", fmt=".0%"
                ),
                width="stretch",
            )
    with right:
        st.subheader("Slowest workflows")
        slow = ui.query(ctx, data.slow_workflows)
        if slow.height == 0:
            st.info("No completed runs in this selection.")
        else:
            labelled = slow.with_columns(
                (pl.col("workflow") + " · " + pl.col("repo").str.split("/").list.last()).alias("name")
            )
            st.altair_chart(
                charts.range_bars(
                    labelled, "name", "median_minutes", "p90_minutes", title="minutes (median to P90)"
                ),
                width="stretch",
            )
