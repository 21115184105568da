"""What README.md and .env.example tell an adopting team holds against the code.

Each test reads the documentation as text and checks one kind of claim against the code it describes:
environment variables, ``repopilot`` command lines, the exports, the core tables, the actions' outputs
and the permissions their example workflows need.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from pipelines.cli import _parser
from warehouse.db import CORE_TABLES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
CODE_DIRS = ("pipelines", "actions", "dashboards", "warehouse")

NOT_SETTINGS = {"REPOPILOT_TOKEN"}
"""Named in the code only to be redacted should a team use it for a secret; nothing reads it."""


def _section(title: str) -> str:
    """The text of the README section whose heading starts with ``title``, up to the next one."""
    match = re.search(rf"^(#+) {re.escape(title)}.*?$(.*?)(?=^#{{1,3}} |\Z)", README, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(2)


def _code_variables() -> set[str]:
    names: set[str] = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            names.update(re.findall(r"\"(REPOPILOT_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    return names - NOT_SETTINGS


def test_every_variable_the_code_reads_is_in_the_configuration_table() -> None:
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", _section("Configuration"), re.M))
    missing = _code_variables() - table
    assert not missing, f"read by the code but not in README's Configuration table: {sorted(missing)}"


def test_every_variable_the_documentation_names_is_read_by_the_code() -> None:
    read = _code_variables() | {"GITHUB_TOKEN", "GITHUB_API_URL"}
    shared = {"REPOPILOT_SHARED_DATA"}  # read by tests/conftest.py: where the real data lives
    in_example = set(re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE, re.M))
    in_readme = set(re.findall(r"`\$?(REPOPILOT_[A-Z_]+)", README))
    assert in_example and in_example <= read, sorted(in_example - read)
    assert in_readme - read <= shared, sorted(in_readme - read - shared)
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", _section("Configuration"), re.M))
    assert in_example <= table, (
        f".env.example sets what README does not explain: {sorted(in_example - table)}"
    )


def _readme_commands() -> list[list[str]]:
    text = re.sub(r"\\\n\s*", " ", README)
    commands = []
    for line in re.findall(
        r"(?:\.venv/bin/)?\brepopilot (?:--home \S+ )?(?:run|ingest|benchmark)\b[^`#\n]*", text
    ):
        # "..." stands for arguments given elsewhere in the text
        words = [word for word in shlex.split(line.strip()) if word not in {"...", "…"}]
        commands.append(words[1:])
    return commands


def test_every_repopilot_command_in_the_readme_parses() -> None:
    commands = _readme_commands()
    assert len(commands) >= 10
    parser = _parser()
    for words in commands:
        try:
            parser.parse_args(words)
        except SystemExit:
            pytest.fail(f"README's `repopilot {' '.join(words)}` is not a valid command")


def test_every_benchmark_is_in_the_readme() -> None:
    named = {words[words.index("benchmark") + 1] for words in _readme_commands() if "benchmark" in words}
    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    kinds = next(a for a in commands.choices["benchmark"]._actions if a.dest == "benchmark")
    assert set(kinds.choices) <= named, sorted(set(kinds.choices) - named)


def test_the_source_help_names_every_source_kind() -> None:
    run = next(a for a in _parser()._actions if a.dest == "command").choices["run"]
    text = run.format_help()
    for kind in ("github", "sample", "snapshot:DIR", "travistorrent:PATH"):
        assert kind in text, kind


def test_the_exports_table_lists_every_exported_document() -> None:
    rows = "\n".join(
        line for line in _section("Exports and the predict action").splitlines() if line.startswith("| `")
    )
    for schema in sorted((ROOT / "actions" / "schemas").glob("*.schema.json")):
        name = schema.name.removesuffix(".schema.json")
        assert f"`{name}.json`" in rows, f"{name}.json is exported but not in README's exports table"


def test_the_data_flow_names_every_core_table() -> None:
    flow = _section("Data flow")
    missing = [table for table in CORE_TABLES if not re.search(rf"\b{table}\b", flow)]
    assert not missing, missing


def _action_yml(module: str) -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, object]] = yaml.safe_load(
        (ROOT / "actions" / module / "action.yml").read_text()
    )
    return loaded


def test_the_outputs_the_readme_lists_are_the_actions_outputs() -> None:
    sections = re.split(r"^#{2,3} ", README, flags=re.M)
    checked = []
    for text in sections:
        listed = re.search(r"(?:Outputs:|step outputs \()\s*((?:`[a-z-]+`,?\s*)+)", text)
        module = re.search(r"`actions/([a-z_]+)\.py`", text)
        if not (listed and module):
            continue
        names = set(re.findall(r"`([a-z-]+)`", listed.group(1)))
        declared = set(_action_yml(module.group(1))["outputs"])
        assert names == declared, (module.group(1), sorted(names ^ declared))
        checked.append(module.group(1))
    assert {"predict", "route", "heal", "maintain"} <= set(checked), checked


def test_every_action_input_and_output_is_described() -> None:
    for path in sorted((ROOT / "actions").glob("*/action.yml")):
        action = _action_yml(path.parent.name)
        for kind in ("inputs", "outputs"):
            for name, spec in action.get(kind, {}).items():
                assert isinstance(spec, dict) and str(spec.get("description", "")).strip(), (path, name)


def _permissions(text: str) -> dict[str, str]:
    return dict(re.findall(r"`?([a-z-]+): (read|write)`?", text))


def test_the_permissions_table_matches_the_example_workflows() -> None:
    table = re.findall(r"^\| [a-z_]+ \(`(repopilot-[a-z]+\.yml)`\) \|.*\| ([^|]*) \|$", README, re.M)
    workflows = sorted((ROOT / "actions" / "workflows").glob("*.yml"))
    assert {name for name, _ in table} == {path.name for path in workflows}
    for name, cell in table:
        text = (ROOT / "actions" / "workflows" / name).read_text()
        workflow = yaml.safe_load(text)
        block = {key: str(value) for key, value in workflow["permissions"].items()}
        steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
        if any(step.get("with", {}).get("dry-run") == "true" for step in steps):
            # a dry run writes nothing, so the example only reads; its closing comment gives the live block
            assert "write" not in block.values(), (name, block)
            live = re.search(r"^#\s+permissions: \{(.*)\}$", text, re.M)
            assert live, f"{name}: no closing comment giving the permissions for when dry-run is off"
            expected = _permissions(live.group(1))
        else:
            expected = block
        assert _permissions(cell) == expected, (name, _permissions(cell), expected)


SETTINGS_MODELS = {
    "actions/merging/config.py": "AutoMergeConfig",
    "actions/routing/config.py": "RoutingConfig",
    "actions/healing/config.py": "SelfHealingConfig",
    "actions/maintenance/config.py": "MaintenanceConfig",
    "actions/sla/config.py": "SlaConfig",
}


@pytest.mark.parametrize("path", sorted(SETTINGS_MODELS))
def test_the_settings_examples_the_readme_points_to_are_valid(path: str) -> None:
    import importlib
    import textwrap

    assert f"`{path}`" in _section("Adopting the actions"), f"README does not point adopters to {path}"
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    docstring = module.__doc__ or ""
    example = re.search(r"Example[^\n]*::\n\n((?:    .*\n|\n)+)", docstring + "\n")
    assert example, f"{path} has no example settings file"
    settings = yaml.safe_load(textwrap.dedent(example.group(1)))
    getattr(module, SETTINGS_MODELS[path]).model_validate(settings)
