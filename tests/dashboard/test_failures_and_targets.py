"""Failures by class on the CI page; SLA targets read from the SLA configuration on the SLA page."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from actions.sla.config import SlaConfig, Target
from dashboards import data
from dashboards.sla_config import ENV_VAR, load_sla_settings

CUSTOM_SLA = """\
targets:
  P0: {response_hours: 0.5, resolution_hours: 8}
  P1: {response_hours: 2, resolution_hours: 48}
  P2: {response_hours: 12, resolution_hours: 240}
  P3: {response_hours: 48, resolution_hours: 480}
success_rate_target: 0.9
availability_target: 0.97
"""


def _texts(at: AppTest) -> str:
    parts = [*at.caption, *at.info, *at.warning, *at.markdown]
    return " ".join(str(p.value) for p in parts)


def test_ci_page_shows_failures_by_class_from_the_warehouse(
    app: Callable[[Path, str], AppTest], demo_home: Path
) -> None:
    at = app(demo_home, "ci")
    assert not at.exception, [e.value for e in at.exception]
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        total, classified = conn.execute(
            "SELECT count(*), count(failure_class) FROM features.failure_classes"
        ).fetchone()  # type: ignore[misc]
    assert classified > 0
    assert f"{total:,} failed attempts, {classified:,} classified" in _texts(at)
    box = at.selectbox(key="failure_class")
    assert set(box.options) <= set(data.FAILURE_CLASS_ORDER) and len(box.options) >= 2
    drill = at.dataframe[0].value  # pandas, as Streamlit hands it back
    assert "reason lines" in drill.columns and len(drill) > 0
    assert (drill["reason lines"].str.len() > 0).all()
    other = next(option for option in box.options if option != box.value)
    box.select(other).run()
    assert not at.exception
    assert len(at.dataframe[0].value) > 0


def test_ci_page_says_when_failure_classes_are_missing(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    shutil.copyfile(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute("DROP TABLE features.failure_classes")
    at = app(home, "ci")
    assert not at.exception
    assert any("No failure classes yet" in i.value for i in at.info)


def test_sla_page_labels_default_targets(
    app: Callable[[Path, str], AppTest], demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    at = app(demo_home, "sla")
    assert not at.exception, [e.value for e in at.exception]
    assert any("**defaults**" in i.value for i in at.info)
    targets = at.dataframe[0].value
    assert targets["first response (h)"].to_list() == [1.0, 4.0, 24.0, 72.0]
    assert len(at.get("vega_lite_chart")) >= 3  # compliance, CI health, breaches (and open clocks)


def test_sla_page_reads_targets_from_the_configured_file(
    app: Callable[[Path, str], AppTest], demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "repo"
    (checkout / ".github").mkdir(parents=True)
    (checkout / ".github" / "sla.yml").write_text(CUSTOM_SLA, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(checkout))
    at = app(demo_home, "sla")
    assert not at.exception, [e.value for e in at.exception]
    assert not any("**defaults**" in i.value for i in at.info)
    assert "sla.yml" in _texts(at) and "90%" in _texts(at) and "97%" in _texts(at)
    assert at.dataframe[0].value["first response (h)"].to_list() == [0.5, 2.0, 12.0, 48.0]
    strict = next(m for m in at.metric if m.label == "First-response compliance").value

    # The page's own setting overrides the environment; an invalid file falls back, saying why.
    broken = tmp_path / "broken.yml"
    broken.write_text("targets: {P0: {response_hours: -1, resolution_hours: 2}}\n", encoding="utf-8")
    at.text_input(key="sla_config_path").set_value(str(broken)).run()
    assert not at.exception
    assert any("not used" in w.value and "response_hours" in w.value for w in at.warning)
    assert any("**defaults**" in i.value for i in at.info)
    default = next(m for m in at.metric if m.label == "First-response compliance").value
    assert strict != default  # the stricter targets do change the compliance shown


def test_load_sla_settings_order_and_fallbacks(tmp_path: Path) -> None:
    file = tmp_path / "sla.yml"
    file.write_text(CUSTOM_SLA, encoding="utf-8")
    assert load_sla_settings(None, {}).defaults
    from_env = load_sla_settings(None, {ENV_VAR: str(file)})
    assert from_env.path == file and from_env.config.success_rate_target == 0.9
    assert load_sla_settings(str(file), {ENV_VAR: str(tmp_path / "nope.yml")}).path == file
    missing = load_sla_settings(None, {ENV_VAR: str(tmp_path / "nope.yml")})
    assert missing.defaults and missing.problem is not None and "does not exist" in missing.problem


def test_clocks_are_judged_against_the_given_targets() -> None:
    clocks = pl.DataFrame(
        {
            "priority": ["P0", "P0", None],
            "created_at": [datetime(2024, 5, 6, tzinfo=UTC)] * 3,
            "time_to_first_response_hours": [0.8, 0.2, 10.0],
            "response_clock_open": [False, False, False],
            "response_open_hours": [None, None, None],
            "time_to_resolution_hours": [None, None, None],
            "resolution_clock_open": [True, False, False],
            "resolution_open_hours": [9.0, None, None],
        },
        schema_overrides={"response_open_hours": pl.Float64, "time_to_resolution_hours": pl.Float64},
    )
    default = data.judge_sla(clocks, SlaConfig())
    assert default["response_breached"].to_list() == [False, False, False]  # P0 1 h; P3 (default) 72 h
    targets = {**SlaConfig().targets, "P0": Target(response_hours=0.5, resolution_hours=8)}
    strict = data.judge_sla(clocks, SlaConfig(targets=targets, default_priority="P0"))
    assert strict["response_breached"].to_list() == [True, False, True]
    assert strict["resolution_breached"].to_list() == [True, None, None]
    table = data.compliance_by_priority(strict, SlaConfig(targets=targets, default_priority="P0"))
    p0 = table.filter((pl.col("priority") == "P0") & (pl.col("clock") == "response")).row(0, named=True)
    assert p0 == {
        "priority": "P0",
        "clock": "response",
        "judged": 3,
        "compliance": pytest.approx(1 / 3),
        "median_hours": 0.8,
        "target_hours": 0.5,
    }


def test_weekly_ci_health_matches_the_sla_engine_by_hand() -> None:
    monday = datetime(2024, 5, 6, tzinfo=UTC)
    runs = pl.DataFrame(
        {
            "repo": ["o/a"] * 4,
            "workflow": ["ci"] * 4,
            "completed_at": [monday.replace(day=d, hour=h) for d, h in ((6, 0), (6, 12), (7, 0), (13, 0))],
            "conclusion": ["success", "failure", "success", "success"],
        }
    )
    health = data.weekly_ci_health(runs, SlaConfig(success_rate_target=0.9))
    first = {r["measure"]: r for r in health.filter(pl.col("week") == date(2024, 5, 6)).iter_rows(named=True)}
    assert first["success rate"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    assert first["success rate"]["target"] == 0.9
    assert first["availability"]["value"] == pytest.approx(
        1 - 12 / (7 * 24), abs=1e-4
    )  # down 12 h of the week
    second = health.filter((pl.col("week") == date(2024, 5, 13)) & (pl.col("measure") == "success rate"))
    assert second["value"].to_list() == [1.0]
    assert data.weekly_ci_health(runs.clear(), SlaConfig()).height == 0
