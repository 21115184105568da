"""repopilot dashboard: what the warehouse knows about the organisation, read-only.

Run with ``make dashboard`` (``streamlit run dashboards/app.py``); it reads the pipeline's reader
copy ``$REPOPILOT_HOME/reader.duckdb`` in place, or ``warehouse.duckdb`` through snapshots when
there is none (:mod:`dashboards.snapshot`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards.ui import READ_ERRORS, cannot_read, sidebar

VIEWS = Path(__file__).resolve().parent / "views"

PAGES = [
    st.Page(VIEWS / "overview.py", title="Organisation overview", icon=":material/dashboard:", default=True),
    st.Page(VIEWS / "ci.py", title="CI and predictions", icon=":material/model_training:", url_path="ci"),
    st.Page(VIEWS / "routing.py", title="Routing and workload", icon=":material/group:", url_path="routing"),
    st.Page(
        VIEWS / "maintenance.py", title="Maintenance", icon=":material/schedule:", url_path="maintenance"
    ),
    st.Page(VIEWS / "sla.py", title="SLA and incidents", icon=":material/timer:", url_path="sla"),
    st.Page(VIEWS / "model.py", title="Model card", icon=":material/description:", url_path="model"),
]

st.set_page_config(page_title="repopilot", page_icon=":material/flight:", layout="wide")
page = st.navigation(PAGES)
try:
    sidebar()
    page.run()
except READ_ERRORS as exc:  # a warehouse of an older schema: say so instead of a traceback
    cannot_read(exc)
