"""``repopilot benchmark dashboard``: how long each page takes to render on a warehouse.

Renders the real entry point with Streamlit's AppTest (the script run a browser session
triggers, without the browser): imports are timed apart, then the first page cold (empty
caches, so the reader copy is opened, or the snapshot copied when there is none, and every query
runs) and warm, then every other page warm (after the overview) and opened directly with its
queries cold (the server holds its open file,
no query of the page has run yet: the first reader of a page after a pipeline run). For each
page it also counts what the charts send to the browser (rows and Arrow bytes), which grows
with the history when a chart is handed rows instead of counts.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from pathlib import Path
from typing import Any

from warehouse.reader import READER_FILE

APP = Path(__file__).resolve().parent / "app.py"
PAGES = ("views/ci.py", "views/routing.py", "views/maintenance.py", "views/sla.py", "views/model.py")


def run_dashboard_benchmark(home: Path, json_path: Path | None = None, *, repeats: int = 5) -> dict[str, Any]:
    """Time the renders, print them, and write them as JSON when ``json_path`` is given.

    Raises:
        ValueError: when ``home`` has no warehouse.
        RuntimeError: when a page raises.
    """
    if not (home / "warehouse.duckdb").exists():
        raise ValueError(f"no warehouse in {home}: run `repopilot run` (or `make demo`) first")
    started = time.perf_counter()
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import dashboards.charts
    import dashboards.ui  # noqa: F401 - timed with the other imports

    imports = time.perf_counter() - started
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # AppTest's bare-mode warnings are noise here
    os.environ["REPOPILOT_HOME"] = str(home)
    st.cache_data.clear()
    st.cache_resource.clear()

    payload: dict[str, dict[str, int]] = {}

    def render(page: str | None = None, *, direct: bool = False) -> float:
        at = AppTest.from_file(str(APP), default_timeout=120)
        if direct and page is not None:
            at.switch_page(page)  # opened by its URL: the overview does not run first
        begin = time.perf_counter()
        at.run()
        if page is not None and not direct:
            begin = time.perf_counter()
            at.switch_page(page).run()
        seconds = time.perf_counter() - begin
        if at.exception:
            raise RuntimeError(f"{page or 'overview'}: {at.exception[0].value}")
        payload[_name(page)] = _chart_data(at)
        return seconds

    cold = render()
    warm = [render() for _ in range(repeats)]
    pages = {_name(page): render(page) for page in PAGES}
    direct = {}
    for page in ("views/overview.py", *PAGES):
        st.cache_data.clear()  # the snapshot, connection and model stay: queries run cold
        direct[_name(page)] = render(page, direct=True)
    reader = home / READER_FILE
    figures: dict[str, Any] = {
        "warehouse": str(home / "warehouse.duckdb"),
        "warehouse_mb": round((home / "warehouse.duckdb").stat().st_size / 1e6, 1),
        "reader": str(reader) if reader.exists() else None,
        "reader_mb": round(reader.stat().st_size / 1e6, 1) if reader.exists() else None,
        "imports_seconds": round(imports, 3),
        "first_page_cold_seconds": round(cold, 3),
        "first_page_warm_median_seconds": round(statistics.median(warm), 3),
        "pages_seconds": {k: round(v, 3) for k, v in pages.items()},
        "pages_cold_queries_seconds": {k: round(v, 3) for k, v in direct.items()},
        "chart_data": payload,
        "target_seconds": 2.0,
    }
    print(f"warehouse: {figures['warehouse']} ({figures['warehouse_mb']} MB)")
    if figures["reader"] is None:
        print(f"reader copy: none ({READER_FILE} not written yet): pages read a snapshot of the warehouse")
    else:
        print(f"reader copy: {figures['reader']} ({figures['reader_mb']} MB), read in place")
    opened = "snapshot" if figures["reader"] is None else "reader copy"
    print(f"imports (once per server process):       {imports:6.2f} s")
    print(f"first page, cold ({opened} + queries): {cold:6.2f} s   target < 2 s")
    print(
        f"first page, warm (median of {repeats}):          {figures['first_page_warm_median_seconds']:6.2f} s"
    )
    for name, seconds in pages.items():
        print(f"page {name:<12} (warm server):          {seconds:6.2f} s")
    for name, seconds in direct.items():
        data = payload[name]
        print(
            f"page {name:<12} (opened, queries cold): {seconds:6.2f} s   "
            f"charts send {data['rows']:,} rows, {data['bytes'] / 1e3:,.0f} kB"
        )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures


def _name(page: str | None) -> str:
    return "overview" if page is None else page.removeprefix("views/").removesuffix(".py")


def _chart_data(at: Any) -> dict[str, int]:
    """Rows and bytes of the Arrow data of every chart on the page (what goes to the browser)."""
    import pyarrow as pa

    rows = size = 0
    for chart in at.get("vega_lite_chart"):
        blobs = [d.data.data for d in chart.proto.datasets]
        if chart.proto.HasField("data"):
            blobs.append(chart.proto.data.data)
        for blob in blobs:
            if blob:
                size += len(blob)
                rows += pa.ipc.open_stream(blob).read_all().num_rows
    return {"charts": len(at.get("vega_lite_chart")), "rows": rows, "bytes": size}
