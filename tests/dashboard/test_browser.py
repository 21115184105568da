"""A real browser: headless Chromium loads the app served by `streamlit run` on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.dashboard.browser import Browser, chromium_path
from tests.dashboard.conftest import APP

RENDERED = (
    'document.querySelectorAll(\'[data-testid="stVegaLiteChart"] canvas, '
    '[data-testid="stVegaLiteChart"] svg\').length > 0 '
    "&& document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 4 "
    "&& !document.querySelector('[data-testid=\"stStatusWidget\"]')"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def chromium() -> str:
    found = chromium_path()
    if found is None:
        message = "chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def served(demo_home: Path, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "REPOPILOT_HOME": str(demo_home), "HOME": str(tmp_path)}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.port", str(port),
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "streamlit did not start"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=20)


def test_chromium_renders_the_overview_and_saves_a_screenshot(
    chromium: str, served: str, tmp_path: Path
) -> None:
    shot = tmp_path / "dashboard.png"
    with Browser(tmp_path / "profile") as browser:
        browser.call("Page.navigate", url=served)
        assert browser.wait_for(RENDERED, timeout=90), browser.evaluate("document.body.innerText")
        time.sleep(1.0)  # let the charts finish their first paint
        browser.screenshot(shot)
        title = browser.evaluate("document.title")
        headings = browser.evaluate("Array.from(document.querySelectorAll('h1')).map(e => e.innerText)")
        text = browser.evaluate("document.body.innerText")
    assert title == "repopilot"
    assert headings == ["Organisation overview"]
    assert "Synthetic" in text and "CI success rate" in text
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(shot) as image:
        assert image.size == (1400, 1000)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200  # text, metrics and chart lines, not a blank page
    # Most of the page is background, but not all of it.
    assert max(count for count, _ in colours) < 0.95 * 1400 * 1000
