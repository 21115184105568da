"""Exports a manifest could point outside of, or at a schema this code does not know: refused (exit 3)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from actions.common.errors import ExportError
from actions.common.exports import verify
from actions.common.schemas import SCHEMA_VERSION


def _folder(root: Path, files: dict[str, dict[str, Any]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": "2026-11-01T00:00:00Z",
        "source": {"kind": "sample", "synthetic": True, "data_as_of": None, "repositories": []},
        "model": None,
        "files": files,
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def _entry(path: Path, relative: str, schema: str | None = None) -> dict[str, Any]:
    data = path.read_bytes()
    entry: dict[str, Any] = {"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    return entry | ({"schema": schema} if schema else {})


@pytest.mark.parametrize("relative", ["../secret.json", "inner/../../secret.json", "./../secret.json"])
def test_a_listed_path_outside_the_folder_is_refused(tmp_path: Path, relative: str) -> None:
    """The checksum is the manifest's own: it proves nothing about a file the manifest chose."""
    secret = tmp_path / "secret.json"
    secret.write_text('{"token": "not for the action"}', encoding="utf-8")
    root = _folder(tmp_path / "exports", {"activity": _entry(secret, relative)})
    (root / "inner").mkdir()
    with pytest.raises(ExportError, match=r"manifest\.json at .* is invalid: files/activity/path"):
        verify(root)


def test_a_schema_this_code_does_not_know_is_an_export_error(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    root.mkdir()
    (root / "reviewers.json").write_text("{}", encoding="utf-8")
    _folder(root, {"reviewers": _entry(root / "reviewers.json", "reviewers.json", "reviewers_v2")})
    with pytest.raises(ExportError, match="names the schema 'reviewers_v2', which this action does not know"):
        verify(root)


def test_exports_of_a_newer_minor_version_that_break_the_schemas_say_so(tmp_path: Path) -> None:
    """1.1 is read by a 1.0 action when it fits; when not, the reason given is the version, not damage."""
    root = tmp_path / "exports"
    root.mkdir()
    _folder(root, {})
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["schema_version"] = "1.1"
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert verify(root).manifest["schema_version"] == "1.1"
    manifest["signature"] = "added in 1.1"
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match=r"written with schema version 1\.1, newer than the 1\.0 this"):
        verify(root)
    manifest["schema_version"] = SCHEMA_VERSION
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="is invalid") as same:
        verify(root)
    assert "written with schema version" not in str(same.value)
