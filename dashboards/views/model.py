"""The model card of the promoted failure and duration models."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, ui
from dashboards.models import card_markdown, metric_comparison

ctx = ui.context()
st.title("Model card")
report = ui.report(ctx)
if report is None:
    st.info(
        "No promoted model yet — run `make demo` to train one (the promotion gate may also have refused it)."
    )
else:
    if ctx.source.synthetic:
        st.warning(
            "Trained and judged on the synthetic sample organisation: "
            "these figures are not a claim about model quality."
        )
    failure = report["failure"]
    columns = st.columns(4)
    columns[0].metric("ROC-AUC", f"{failure['roc_auc']:.3f}")
    columns[1].metric("PR-AUC (failure)", f"{failure['pr_auc']:.3f}")
    columns[2].metric("Balanced accuracy", f"{failure['balanced_accuracy']:.3f}")
    columns[3].metric("ECE", f"{failure['ece']:.3f}")
    left, right = st.columns(2)
    with left:
        st.subheader("Against the naive baselines")
        st.altair_chart(charts.metric_bars(metric_comparison(report)), width="stretch")
    with right:
        st.subheader("Feature importance")
        importance = pl.DataFrame(report.get("feature_importance", []))
        if importance.height:
            st.altair_chart(
                charts.bars(importance, "feature", "gain_share", title="share of gain"),
                width="stretch",
            )
        st.subheader("Balanced accuracy by repository")
        by_repo = pl.DataFrame(report.get("by_repository", []))
        if by_repo.height:
            st.altair_chart(
                charts.bars(
                    by_repo.with_columns(pl.col("repo").str.split("/").list.last()),
                    "repo",
                    "balanced_accuracy",
                    title="balanced accuracy",
                ),
                width="stretch",
            )
    markdown = card_markdown(ctx.home)
    if markdown:
        with st.expander("Full model card", expanded=False):
            st.markdown(markdown)
