"""Organisation overview: CI success rate and trend, SLA compliance, open risk."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, data, ui

ctx = ui.context()
if ui.header("Organisation overview", ctx, needs=("marts.ci_weekly",)):
    weekly = ui.query(ctx, data.ci_weekly)
    org = data.org_weekly(weekly)
    recent, before = org.tail(4), org.slice(max(0, org.height - 8), min(4, max(0, org.height - 4)))
    rate, rate_before = data.success_rate(recent), data.success_rate(before)
    sla = ui.sla_settings()
    clocks = ui.sla_clocks(ctx, sla.config) if "features.sla_clock_states" in ctx.tables else None
    scores = ui.scores(ctx)

    columns = st.columns(4)
    columns[0].metric(
        "CI success rate (last 4 weeks)",
        ui.percent(rate),
        delta=None if rate is None or rate_before is None else f"{(rate - rate_before) * 100:+.1f} pts",
        help="Successful over succeeded-or-failed workflow runs (latest attempts; cancelled runs left out).",
    )
    columns[1].metric(
        "SLA compliance (first response)",
        ui.percent(None if clocks is None else data.sla_compliance(clocks, "response")),
        help="Issues and pull requests answered within their priority's target, "
        + ("the SLA configuration model's defaults" if sla.defaults else f"targets {sla.origin}")
        + " (SLA and incidents page).",
    )
    open_clocks = None if clocks is None else data.open_clocks(clocks)
    columns[2].metric(
        "Open SLA clocks",
        "—" if open_clocks is None else f"{open_clocks.height:,}",
        delta=None if open_clocks is None else f"{int(open_clocks['past_target'].sum())} past target",
        delta_color="inverse",
        help="Issues and pull requests still awaiting a first response or a resolution; past target: "
        "either clock is past its priority's target (as on the SLA and incidents page).",
    )
    if scores is None or scores.height == 0:
        columns[3].metric("High-risk runs (last 7 days)", "—", help="No promoted model yet.")
    else:
        week = ui.last_days(scores, "created_at", 7)
        high = week.filter(pl.col("risk_level").cast(pl.String).is_in(["HIGH", "CRITICAL"]))
        in_flight = high.filter(pl.col("conclusion").is_null()).height  # cancelled runs have no label either
        columns[3].metric(
            "High-risk runs (last 7 days)",
            f"{high.height:,} of {week.height:,}",
            delta=f"{in_flight} still running",
            delta_color="off",
            help="Runs created in the 7 days up to the newest run in the selection that the promoted model "
            "puts at HIGH or CRITICAL failure risk; still running: no conclusion yet.",
        )

    st.subheader("CI success rate by week")
    if weekly.height == 0:
        st.info("No completed workflow runs in this selection.")
    else:
        st.altair_chart(charts.success_trend(weekly, org), width="stretch")
        st.caption("Black: every selected repository together.")
        st.caption(
            f"{int(weekly['runs'].sum()):,} completed runs, {int(weekly['failures'].sum()):,} failed, "
            f"{int(weekly['reruns'].sum()):,} re-runs."
        )
