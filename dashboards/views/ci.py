"""CI and predictions: risk, reliability, failures by class, conclusion and step, flaky and slow workflows."""

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
                .group_by("risk_level")
                .agg(pl.len().alias("runs"), pl.col("failed").cast(pl.Float64).mean().alias("failure_rate"))
                .sort("risk_level")  # LOW to CRITICAL
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

    st.subheader("Failures by class")
    classes = ui.section(
        ctx,
        "features.failure_classes",
        data.failure_classes,
        missing="No failure classes yet — run `make demo` (the run_logs stream and the features stage).",
        empty="No failed runs in this selection.",
    )
    if classes is not None:
        left, right = st.columns(2)
        with left:
            st.altair_chart(
                charts.failure_classes_over_time(data.failure_classes_weekly(classes)), width="stretch"
            )
        with right:
            st.altair_chart(
                charts.failure_classes_by_workflow(data.failure_classes_by_workflow(classes)),
                width="stretch",
            )
        known = classes.filter(pl.col("failure_class").is_in(["transient", "dependency", "permanent"]))
        st.caption(
            f"{classes.height:,} failed attempts, {known.height:,} classified from their log excerpt "
            "by the self-healing action's classifier; the others have no usable log (expired, too "
            "large, corrupt) or their logs were not read yet."
        )
        with st.expander("Why: the lines each failure was classified by"):
            chosen = st.selectbox(
                "Class",
                [c for c in data.FAILURE_CLASS_ORDER if c in set(classes["failure_class"])],
                key="failure_class",
            )
            workflows = sorted(set(classes.filter(pl.col("failure_class") == chosen)["workflow"]))
            picked = st.multiselect(
                "Workflows", workflows, placeholder="All workflows", key="failure_workflows"
            )
            shown = classes.filter(pl.col("failure_class") == chosen)
            if picked:
                shown = shown.filter(pl.col("workflow").is_in(picked))
            st.dataframe(
                shown.head(200).select(
                    "created_at",
                    "repo",
                    "workflow",
                    "run_id",
                    "run_attempt",
                    pl.col("confidence").round(2),
                    pl.col("reason_lines").list.join("\n").alias("reason lines"),
                    pl.col("reason_line_refs").list.join(", ").alias("where (job:line)"),
                    "reason",
                ),
                hide_index=True,
                width="stretch",
            )

    left, right = st.columns(2)
    with left:
        st.subheader("Unsuccessful attempts by conclusion")
        conclusions = ui.query(ctx, data.ci_conclusions)
        if conclusions.height == 0:
            st.info("No failed runs in this selection.")
        else:
            named = data.by_workflow(conclusions, "attempts", top=15)
            st.altair_chart(
                charts.stacked_bars(named, "name", "attempts", "conclusion", title="attempts"),
                width="stretch",
            )
            cancelled = int(conclusions.filter(pl.col("conclusion") == "cancelled")["attempts"].sum())
            st.caption(
                f"{int(conclusions['attempts'].sum()):,} completed attempts did not succeed "
                f"({cancelled:,} cancelled, which are not failures). Every attempt counts: a run re-run "
                "twice counts up to three times. The 15 workflows with the most."
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
            labelled = data.workflow_names(flaky)
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
            labelled = data.workflow_names(slow)
            st.altair_chart(
                charts.range_bars(
                    labelled, "name", "median_minutes", "p90_minutes", title="minutes (median to P90)"
                ),
                width="stretch",
            )
