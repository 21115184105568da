"""Architecture rules: Dagster only in the wiring; actions stay light."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_wiring_imports_dagster() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("pipelines", "warehouse", "actions")
        for path in (ROOT / folder).rglob("*.py")
        if "dagster" in _imports(path)
        and path.relative_to(ROOT).parts[:2] != ("pipelines", "defs")
        and path.relative_to(ROOT) != Path("pipelines/definitions.py")
    ]
    checked = list((ROOT / "pipelines" / "defs").rglob("*.py"))
    assert any("dagster" in _imports(p) for p in checked), "the rule would pass vacuously"
    assert offenders == []


def test_actions_import_neither_dagster_polars_nor_duckdb() -> None:
    heavy = {"dagster", "polars", "duckdb"}
    for path in (ROOT / "actions").rglob("*.py"):
        assert not (_imports(path) & heavy), path
