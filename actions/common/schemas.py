"""The JSON Schemas of the exports (``actions/schemas``) and validation against them."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_VERSION = "1.0"
"""The exports schema version this code writes and reads; a different major version is refused."""

SCHEMA_NAMES: tuple[str, ...] = (
    "manifest",
    "feature_spec",
    "scores",
    "reviewers",
    "activity",
    "rerun_priors",
    "failure_classifier",
)


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of the export called ``name`` (one of :data:`SCHEMA_NAMES`).

    Raises:
        KeyError: for an unknown schema name.
    """
    if name not in SCHEMA_NAMES:
        raise KeyError(f"no export schema called {name!r}; known: {', '.join(SCHEMA_NAMES)}")
    text = resources.files("actions").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def problems(name: str, document: Any) -> list[str]:
    """Every way ``document`` breaks the schema ``name``, as ``path: message`` lines (empty if valid)."""
    found = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in found]


def supported(version: str) -> bool:
    """Whether a schema version can be read by this code: the same major version."""
    return version.split(".", 1)[0] == SCHEMA_VERSION.split(".", 1)[0]


def newer(version: str) -> bool:
    """Whether ``version`` (``MAJOR.MINOR``) is newer than :data:`SCHEMA_VERSION` (what this code reads)."""
    try:
        return tuple(int(p) for p in version.split(".")) > tuple(int(p) for p in SCHEMA_VERSION.split("."))
    except ValueError:
        return False
