"""The conclusion sets of actions/common/conclusions.py, and the SQL and workflow lists spelling them out."""

from __future__ import annotations

import re
from pathlib import Path

from actions.common.conclusions import FAILED_CONCLUSIONS, HEALABLE_CONCLUSIONS, RUN_CONCLUSIONS

ROOT = Path(__file__).resolve().parents[2]
SQL = ROOT / "warehouse" / "sql"

# Every SQL list naming timed_out, file by file in order: a new one must be declared here.
EXPECTED: dict[str, list[frozenset[str]]] = {
    "core/00_macros.sql": [RUN_CONCLUSIONS],
    "core/21_ci_jobs.sql": [frozenset({"failure", "timed_out"})],  # a job's failed step, not a run
    "dashboard/ci_weekly.sql": [FAILED_CONCLUSIONS],
    "dashboard/failed_steps.sql": [FAILED_CONCLUSIONS],
    "dashboard/flaky_workflows.sql": [FAILED_CONCLUSIONS],
    "exports/rerun_history.sql": [HEALABLE_CONCLUSIONS],
    "exports/rerun_history_by_class.sql": [HEALABLE_CONCLUSIONS],
    "features/failure_inputs.sql": [FAILED_CONCLUSIONS],
    "features/run_inputs.sql": [FAILED_CONCLUSIONS],
    "marts/ci_weekly.sql": [FAILED_CONCLUSIONS, FAILED_CONCLUSIONS | {"success"}],
}


def _lists(text: str) -> list[frozenset[str]]:
    """The ``IN (...)`` lists of quoted values that name timed_out, in order."""
    found = [frozenset(re.findall(r"'([a-z_]+)'", body)) for body in re.findall(r"\bIN\s*\(([^)]*)\)", text)]
    return [values for values in found if "timed_out" in values]


def test_the_named_sets_nest() -> None:
    assert HEALABLE_CONCLUSIONS < FAILED_CONCLUSIONS < RUN_CONCLUSIONS


def test_the_sql_lists_agree_with_the_named_sets() -> None:
    found = {
        str(path.relative_to(SQL)): _lists(path.read_text(encoding="utf-8"))
        for path in sorted(SQL.rglob("*.sql"))
        if "timed_out" in path.read_text(encoding="utf-8")
    }
    assert found == EXPECTED


def test_the_heal_workflow_triggers_on_the_conclusions_heal_re_runs() -> None:
    workflow = (ROOT / "actions" / "workflows" / "repopilot-heal.yml").read_text(encoding="utf-8")
    assert set(re.findall(r"workflow_run\.conclusion == '([a-z_]+)'", workflow)) == HEALABLE_CONCLUSIONS
