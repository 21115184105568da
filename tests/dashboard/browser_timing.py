"""Time each dashboard page in a real headless Chromium: ``python -m tests.dashboard.browser_timing HOME``.

Serves the app with ``streamlit run`` on loopback over the warehouse in HOME, opens every page by
its URL in a fresh tab state and prints the seconds until the page has drawn (title shown, no
script running, every chart painted), twice: the first load runs the page's queries, the second
is served from the caches. A measurement, not a test: nothing is asserted about the times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.dashboard.browser import Browser, chromium_path
from tests.dashboard.conftest import APP
from tests.dashboard.test_browser import _free_port

PAGES = {"overview": "", "ci": "ci", "routing": "routing", "maintenance": "maintenance", "sla": "sla"}

DRAWN = """(() => {
  const charts = document.querySelectorAll('[data-testid="stVegaLiteChart"]');
  const painted = document.querySelectorAll(
    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg');
  return document.querySelector('h1') !== null && charts.length > 0 && painted.length >= charts.length
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]');
})()"""


def _serve(home: Path, port: int, scratch: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "REPOPILOT_HOME": str(home), "HOME": str(scratch)}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("streamlit did not start")


def measure(home: Path) -> dict[str, list[float]]:
    """Seconds to draw each page: first load (queries run) and second (cached)."""
    if chromium_path() is None:
        raise RuntimeError("chromium is not installed")
    port = _free_port()
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="repopilot-timing-") as scratch:
        server = _serve(home, port, Path(scratch))
        try:
            with Browser(Path(scratch) / "profile") as browser:
                for name, path in PAGES.items():
                    figures[name] = []
                    for _ in range(2):
                        browser.call("Page.navigate", url="about:blank")
                        begin = time.perf_counter()
                        browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/{path}")
                        if not browser.wait_for(DRAWN, timeout=120):
                            raise RuntimeError(f"{name} did not draw within 120 s")
                        figures[name].append(round(time.perf_counter() - begin, 2))
        finally:
            server.terminate()
            server.communicate(timeout=20)
    return figures


if __name__ == "__main__":
    result = measure(Path(sys.argv[1]).resolve())
    for page, (first, second) in result.items():
        print(f"{page:<12} first load {first:6.2f} s   cached {second:6.2f} s")
    print(json.dumps(result))
