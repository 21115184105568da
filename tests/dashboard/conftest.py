"""Dashboard fixtures: AppTest on the real entry point, pointed at a data directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"

PAGES = {
    "overview": ("views/overview.py", "Organisation overview"),
    "ci": ("views/ci.py", "CI and predictions"),
    "routing": ("views/routing.py", "Routing and workload"),
    "maintenance": ("views/maintenance.py", "Maintenance windows"),
    "sla": ("views/sla.py", "SLA and incidents"),
    "model": ("views/model.py", "Model card"),
}


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, str], AppTest]:
    """Run the app on ``home`` and switch to a page; returns the finished AppTest."""

    def run(home: Path, page: str = "overview") -> AppTest:
        monkeypatch.setenv("REPOPILOT_HOME", str(home))
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        if page != "overview":
            at.switch_page(PAGES[page][0]).run()
        return at

    return run
