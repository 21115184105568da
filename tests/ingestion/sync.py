"""Test helpers: sync through the double and compare warehouses."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
from pydantic import SecretStr

from pipelines.sources.double import GitHubDouble
from pipelines.sources.github.settings import GitHubSettings
from pipelines.sources.github.source import GitHubSource
from pipelines.sources.ingest import land_repository
from tests.conftest import FAKE_TOKEN
from warehouse.db import CORE_TABLES, build_core, connect
from warehouse.landing import LandingZone
from warehouse.loader import load_landed

ROOT = Path(__file__).resolve().parents[2]


def cli_env(double: GitHubDouble, token: str = FAKE_TOKEN) -> dict[str, str]:
    """Environment for a `repopilot` subprocess that syncs the double's repositories."""
    env = dict(os.environ)
    env.update(
        GITHUB_API_URL=double.url,
        GITHUB_TOKEN=token,
        REPOPILOT_REPOS=",".join(double.recording.repos),
        PYTHONPATH=str(ROOT),
    )
    return env


def settings_for(double: GitHubDouble, repos: list[str], **overrides: Any) -> GitHubSettings:
    defaults: dict[str, Any] = {
        "api_url": double.url,
        "token": SecretStr(FAKE_TOKEN),
        "backoff_factor": 0.01,
        "timeout": 1.0,
        "max_attempts": 4,
        "jobs_for": "all",
    }
    defaults.update(overrides)
    return GitHubSettings(repos=repos, **defaults)


def sync(
    double: GitHubDouble, home: Path, repos: list[str] | None = None, **overrides: Any
) -> dict[str, int]:
    """One full sync: land every stream of every repository, load, rebuild core."""
    repos = repos or list(double.recording.repos)
    source = GitHubSource(settings_for(double, repos, **overrides))
    zone = LandingZone(home / "landing")
    try:
        for repo in repos:
            land_repository(source, repo, zone)
    finally:
        source.close()
    with connect(home / "warehouse.duckdb") as conn:
        load_landed(conn, zone)
        return build_core(conn)


def core_snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every core table's rows, sorted, for equality checks."""
    with duckdb.connect(str(db), read_only=True) as conn:
        return {
            table: conn.execute(f"SELECT * FROM core.{table} ORDER BY ALL").fetchall()
            for table in CORE_TABLES
        }


def raw_snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Raw rows without fetch times."""
    from pipelines.sources.streams import RAW_TABLES

    with duckdb.connect(str(db), read_only=True) as conn:
        return {
            table: conn.execute(
                f"SELECT repo, key, parent, version, data FROM raw.{table} ORDER BY repo, key"
            ).fetchall()
            for table in RAW_TABLES
        }
