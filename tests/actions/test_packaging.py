"""The actions as a repository uses them: composite action.yml files, example workflows, a light import."""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = sorted((ROOT / "actions").glob("*/action.yml"))
WORKFLOWS = sorted((ROOT / "actions" / "workflows").glob("*.yml"))


def test_there_are_actions_and_workflows() -> None:
    assert [p.parent.name for p in ACTIONS] and WORKFLOWS


def test_composite_actions_never_splice_inputs_into_commands() -> None:
    for path in ACTIONS:
        action = yaml.safe_load(path.read_text())
        assert action["runs"]["using"] == "composite", path
        steps = action["runs"]["steps"]
        ids = {s.get("id") for s in steps}
        for name, output in action.get("outputs", {}).items():
            step = re.search(r"steps\.([a-z-]+)\.outputs", output["value"])
            assert step and step.group(1) in ids, (path, name)
        for step in steps:
            if "run" in step:
                # an input spliced into a script is a command injection; inputs go through env
                assert "${{" not in step["run"], (path, step.get("name"))
                assert step.get("shell") == "bash", path
        module = path.parent.name
        assert (ROOT / "actions" / f"{module}.py").is_file(), f"actions/{module}.py is missing"


def test_example_workflows_ask_for_least_privilege() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        permissions = workflow.get("permissions")
        assert isinstance(permissions, dict) and permissions, f"{path.name}: no explicit permissions block"
        assert "write-all" not in str(permissions) and permissions.get("contents") in {"read", None}, (
            path.name
        )
        uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
        for target in uses:
            match = re.match(r"^[^/]+/repopilot/actions/([a-z_-]+)@", target)
            if match:
                assert (ROOT / "actions" / match.group(1) / "action.yml").is_file(), target


def test_requirements_stay_light() -> None:
    names = {
        re.split(r"[<>=\[ ]", line)[0].lower()
        for line in (ROOT / "actions" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert names and not names & {"dagster", "polars", "duckdb", "scikit-learn", "streamlit"}


def test_an_action_starts_without_the_heavy_libraries() -> None:
    probe = (
        "import sys, actions.predict, actions.route, actions.automerge; "
        "heavy = sorted(m for m in ('dagster', 'polars', 'duckdb') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == ""
    helptext = subprocess.run(
        [sys.executable, "-m", "actions.predict", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "--run-id" in helptext.stdout


def test_the_revert_action_starts_light_and_its_workflow_only_acts_on_default_branch_failures() -> None:
    probe = (
        "import sys, actions.revert; "
        "heavy = sorted(m for m in ('dagster', 'polars', 'duckdb', 'lightgbm') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == ""
    workflow = yaml.safe_load((ROOT / "actions" / "workflows" / "repopilot-revert.yml").read_text())
    trigger = workflow[True]["workflow_run"]  # YAML reads the key `on` as True
    assert trigger["types"] == ["completed"] and trigger["workflows"]
    job = workflow["jobs"]["revert"]
    for condition in ("conclusion == 'failure'", "event == 'push'", "default_branch", "head_repository"):
        assert condition in job["if"], condition
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "read", "actions": "read"}
    assert job["steps"][0]["with"]["dry-run"] == "true"


def test_the_predict_workflow_posts_the_risk_status_with_only_statuses_write() -> None:
    action = yaml.safe_load((ROOT / "actions" / "predict" / "action.yml").read_text())
    assert action["inputs"]["post-status"]["default"] == "false"  # opt in: it needs statuses: write
    assert action["inputs"]["status-context"]["default"] == "repopilot/risk"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "predict")
    assert step["env"]["POST_STATUS"] == "${{ inputs.post-status }}"
    assert step["env"]["DRY_RUN"] == "${{ inputs.dry-run }}"
    assert "--post-status" in step["run"] and "--dry-run" in step["run"]
    workflow = yaml.safe_load((ROOT / "actions" / "workflows" / "repopilot-predict.yml").read_text())
    writes = {name for name, level in workflow["permissions"].items() if level == "write"}
    assert writes == {"statuses"}
    assert workflow["jobs"]["predict"]["steps"][0]["with"]["post-status"] == "true"
    # the option is off in a plain run of the program: posting is asked for, never implied
    from actions.predict import _parser

    assert _parser().parse_args([]).post_status is False
    assert {"--post-status", "--status-context", "--dry-run"} <= set(_parser()._option_string_actions)


def _written_outputs(module: Path) -> set[str]:
    """The step outputs an action's CLI writes: the keys of its ``write_outputs({...})`` calls."""
    from actions.common.freshness import age_outputs

    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "write_outputs":
            (outputs,) = node.args
            assert isinstance(outputs, ast.Dict), module
            for key, value in zip(outputs.keys, outputs.values, strict=True):
                if key is None:  # **age_outputs(age), the only spread the actions use
                    assert isinstance(value, ast.Call) and getattr(value.func, "id", None) == "age_outputs"
                    names |= set(age_outputs(None))
                else:
                    assert isinstance(key, ast.Constant) and isinstance(key.value, str), module
                    names.add(key.value)
    return names


def test_every_output_an_action_writes_is_declared_and_every_declared_one_written() -> None:
    """A composite action exposes only the outputs its action.yml declares: any other is lost."""
    for path in ACTIONS:
        module = ROOT / "actions" / f"{path.parent.name}.py"
        declared = set(yaml.safe_load(path.read_text()).get("outputs", {}))
        written = _written_outputs(module)
        assert written, module
        assert written == declared, (path.parent.name, sorted(written ^ declared))


@pytest.mark.parametrize("module", ["revert", "sla_watch"])
def test_the_actions_that_read_no_exports_do_not_offer_them(module: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", f"actions.{module}"]
    helptext = subprocess.run([*command, "--help"], capture_output=True, text=True, env=env, check=True)
    assert "--dry-run" in helptext.stdout
    assert "--exports" not in helptext.stdout and "--cache-dir" not in helptext.stdout
    refused = subprocess.run(
        [*command, "--exports", "github:octo/data", "--dry-run"], capture_output=True, text=True, env=env
    )
    assert refused.returncode == 2 and "unrecognized arguments: --exports" in refused.stderr


def test_the_actions_that_read_exports_offer_them() -> None:
    for module in ("automerge", "heal", "maintain", "predict", "route"):
        helptext = importlib.import_module(f"actions.{module}")._parser().format_help()
        assert "--exports" in helptext and "--cache-dir" in helptext, module
