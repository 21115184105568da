"""SLA and incidents: configured targets, compliance against them, breaches, open clocks, post-mortems."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from actions.sla.config import PRIORITIES
from dashboards import charts, data, sla_config, ui
from dashboards.sla_config import ENV_VAR

ctx = ui.context()
if ui.header("SLA and incidents", ctx, needs=("features.sla_clock_states",)):
    with st.expander("SLA configuration", expanded=False):
        st.text_input(
            "SLA configuration file",
            key=ui.SLA_CONFIG_KEY,
            placeholder=f"an sla.yml, or a repository checkout (its .github/sla.yml); default: ${ENV_VAR}",
            help="Targets are read with the SLA action's own configuration model (actions/sla/config.py).",
        )
    settings = ui.sla_settings()
    config = settings.config
    if settings.problem:
        st.warning(f"SLA configuration not used: {settings.problem}")
    if settings.defaults:
        st.info(
            "Targets: **defaults** of the SLA configuration model — no `sla.yml` is configured "
            f"(set `{ENV_VAR}` or the path above)."
        )
    else:
        st.caption(f"Targets {settings.origin}.")

    clocks = ui.sla_clocks(ctx, config)
    columns = st.columns(3)
    columns[0].metric("First-response compliance", ui.percent(data.sla_compliance(clocks, "response")))
    columns[1].metric("Resolution compliance", ui.percent(data.sla_compliance(clocks, "resolution")))
    open_now = data.open_clocks(clocks)
    columns[2].metric("Open clocks", f"{open_now.height:,}")
    if clocks.height:
        st.caption(
            f"Clocks as of {ui.utc_minute(clocks['as_of'].max())} UTC, the newest event in the warehouse: "
            "open clocks have run at least this long, and longer by now."
        )

    st.subheader("Compliance against the targets")
    by_priority = data.compliance_by_priority(clocks, config)
    health = ui.ci_health(ctx, config) if "core.ci_runs" in ctx.tables else None
    left, right = st.columns(2)
    with left:
        judged = by_priority.filter(pl.col("judged") > 0)
        if judged.height == 0:
            st.info("No judged SLA clocks in this selection.")
        else:
            st.altair_chart(charts.clock_compliance(judged), width="stretch")
            st.caption(
                "Share of judged clocks within their target, by priority; "
                "hover for the median and target hours."
            )
    with right:
        if health is None or health.height == 0:
            st.info("No completed workflow runs in this selection.")
        else:
            st.altair_chart(charts.health_against_targets(health), width="stretch")
            st.caption(
                f"Weekly CI success rate and availability (SLA engine, one-week windows); dashed: targets "
                f"{config.success_rate_target:.0%} and {config.availability_target:.0%}."
            )
    with st.expander("Targets", expanded=settings.defaults):
        st.dataframe(
            sla_config.target_hours(config).rename(
                {"response_target_hours": "first response (h)", "resolution_target_hours": "resolution (h)"}
            ),
            hide_index=True,
        )
        st.caption(
            f"Success-rate target {config.success_rate_target:.0%}, availability target "
            f"{config.availability_target:.0%}; items without a priority are held to "
            f"{config.default_priority}. " + ("(Defaults.)" if settings.defaults else f"({settings.origin})")
        )

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
            st.altair_chart(charts.open_clocks_by_priority(open_now, list(PRIORITIES)), width="stretch")
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
    reports = ui.post_mortems(ctx, config)
    if reports.is_empty():
        st.info(
            "None in this filter: the SLA action posts a post-mortem on its incident issue (label "
            f"`{config.incident_label}`) when the incident is resolved; the next sync brings it here."
        )
    for pm in reports.iter_rows(named=True):
        title = next(
            (line.lstrip("# ").strip() for line in pm["body"].splitlines() if line.startswith("#")), ""
        )
        with st.expander(f"{pm['repo']}#{pm['issue_number']}: {title or pm['issue_title']}"):
            st.caption(f"Posted {pm['posted_at']:%Y-%m-%d %H:%M} UTC · {pm['url'] or ''}")
            st.markdown(pm["body"])
