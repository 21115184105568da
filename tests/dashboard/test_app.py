"""Every page of the dashboard, on the demo warehouse and on an empty data directory (AppTest)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from actions.sla.github_data import MARKER
from tests.dashboard.conftest import PAGES

SUBHEADERS = {
    "overview": ["CI success rate by week"],
    "ci": [
        "Predicted failure risk",
        "Reliability of the predictions",
        "Failures by class",
        "Unsuccessful attempts by conclusion",
        "Failing steps",
        "Flaky workflows",
        "Slowest workflows",
    ],
    "routing": ["Review load per person", "Median hours to first review", "Who knows which paths"],
    "maintenance": ["Activity by hour of week (UTC)", "Next quiet windows"],
    "sla": [
        "Compliance against the targets",
        "Breaches by week opened",
        "Open clocks by priority",
        "Post-mortems",
    ],
    "model": ["Against the naive baselines", "Feature importance", "Balanced accuracy by repository"],
}

METRICS = {
    "overview": [
        "CI success rate (last 4 weeks)",
        "SLA compliance (first response)",
        "Open SLA clocks",
        "High-risk runs (last 7 days)",
    ],
    "sla": ["First-response compliance", "Resolution compliance", "Open clocks"],
    "model": ["ROC-AUC", "PR-AUC (failure)", "Balanced accuracy", "ECE"],
}


def _charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_the_demo_with_charts_and_the_synthetic_label(
    app: Callable[[Path, str], AppTest], demo_home: Path, page: str
) -> None:
    at = app(demo_home, page)
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [PAGES[page][1]]
    assert set(SUBHEADERS[page]) <= {s.value for s in at.subheader}
    assert _charts(at) >= 1
    warnings = " ".join(w.value for w in at.warning)
    assert "ynthetic" in warnings  # the page and the sidebar both say the sample is synthetic
    for label in METRICS.get(page, []):
        metric = next(m for m in at.metric if m.label == label)
        assert metric.value not in ("", "—"), label
    assert not [i.value for i in at.info if "make demo" in i.value]


def test_overview_figures_come_from_the_warehouse(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    import duckdb

    at = app(demo_home, "overview")
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        runs, failed = conn.execute("SELECT sum(runs), sum(failures) FROM marts.ci_weekly").fetchone()
    caption = " ".join(c.value for c in at.caption)
    assert f"{runs:,} completed runs, {failed:,} failed" in caption


def test_the_repository_filter_narrows_every_figure(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    at = app(demo_home, "overview")
    everything = " ".join(c.value for c in at.caption)
    repos = at.multiselect(key="repos").options
    assert len(repos) == 4
    at.multiselect(key="repos").select(repos[0]).run()
    assert not at.exception
    narrowed = " ".join(c.value for c in at.caption)
    total = int(everything.split(" completed runs")[0].split()[-1].replace(",", ""))
    part = int(narrowed.split(" completed runs")[0].split()[-1].replace(",", ""))
    assert 0 < part < total


def test_the_time_filter_narrows_the_runs(app: Callable[[Path, str], AppTest], demo_home: Path) -> None:
    at = app(demo_home, "overview")
    first, _last = at.date_input(key="time_range").value
    before = " ".join(c.value for c in at.caption)
    at.date_input(key="time_range").set_value((first, first.replace(day=min(28, first.day + 14)))).run()
    assert not at.exception
    after = " ".join(c.value for c in at.caption)
    assert after != before and int(after.split(" completed")[0].split()[-1].replace(",", "")) > 0


@pytest.mark.parametrize("page", list(PAGES))
def test_an_empty_home_says_there_is_no_data_yet(
    app: Callable[[Path, str], AppTest], home: Path, page: str
) -> None:
    at = app(home, page)
    assert not at.exception, [e.value for e in at.exception]
    messages = [i.value for i in at.info]
    assert any("make demo" in m for m in messages), messages
    assert _charts(at) == 0


def test_a_warehouse_without_a_model_says_so_and_shows_the_rest(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    shutil.copyfile(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    at = app(home, "ci")
    assert not at.exception
    assert any("No promoted model yet" in i.value for i in at.info)
    assert _charts(at) >= 4  # conclusions, steps, flaky and slow workflows still draw
    at = app(home, "model")
    assert any("No promoted model yet" in i.value for i in at.info)


def _comment(conn: duckdb.DuckDBPyConnection, repo: str, number: int, comment_id: int, body: str) -> None:
    document = {
        "id": comment_id,
        "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
        "created_at": "2026-10-30T12:00:00Z",
        "user": {"login": "repopilot-bot", "type": "Bot"},
        "body": body,
    }
    conn.execute(
        "INSERT INTO raw.issue_comments BY NAME "
        "SELECT ? AS repo, ? AS key, ?::JSON AS data, now() AS version, now() AS fetched_at",
        [repo, str(comment_id), json.dumps(document)],
    )


def test_post_mortems_posted_on_incident_issues_are_listed(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    shutil.copyfile(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    at = app(home, "sla")
    assert not at.exception, [e.value for e in at.exception]
    assert any(i.value.startswith("None in this filter") for i in at.info)

    report = "# Post-mortem: SLA incident repopilot-sla/x\n\nRunners were unavailable for 40 minutes.\n"
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        repo, incident, other = conn.execute(
            "SELECT repo, min(number), max(number) FROM core.issues WHERE NOT is_pull_request "
            "GROUP BY repo ORDER BY repo LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE core.issues SET labels = list_append(labels, 'repopilot-incident') "
            "WHERE repo = ? AND number = ?",
            [repo, incident],
        )
        _comment(conn, repo, incident, 9_100_001, f"{MARKER}\n{report}")
        _comment(conn, repo, incident, 9_100_002, f"{MARKER}\nMitigation: labelled #12 (repopilot SLA watch)")
        _comment(conn, repo, incident, 9_100_003, report)  # someone quoting it: no marker
        _comment(conn, repo, other, 9_100_004, f"{MARKER}\n{report}")  # not an incident issue
    at = app(home, "sla")
    assert not at.exception, [e.value for e in at.exception]
    assert [e.label for e in at.expander if "Post-mortem" in e.label] == [
        f"{repo}#{incident}: Post-mortem: SLA incident repopilot-sla/x"
    ]
    assert any("Runners were unavailable" in m.value for m in at.markdown)


def test_a_warehouse_that_cannot_be_copied_yet_says_it_is_being_written(
    app: Callable[[Path, str], AppTest], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboards import snapshot

    source = home / "warehouse.duckdb"
    source.write_bytes(b"not a database yet")  # as a copy mid-checkpoint might read
    real_copy = snapshot.shutil.copyfile

    def copy_during_a_checkpoint(src: str, dst: str) -> object:
        result = real_copy(src, dst)
        source.write_bytes(source.read_bytes() + b".")  # the writer moved on while we copied
        return result

    monkeypatch.setattr(snapshot.shutil, "copyfile", copy_during_a_checkpoint)
    monkeypatch.setattr(snapshot.time, "sleep", lambda _: None)
    at = app(home, "overview")
    assert not at.exception
    assert any("writing the warehouse" in i.value for i in at.info)
