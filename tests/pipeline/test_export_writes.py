"""Writing the exports: a failure at any point leaves the previous exports valid, and readable."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from actions.common.exports import verify
from pipelines.exports.documents import scores_document
from pipelines.exports.rerun_priors import rerun_priors_document
from pipelines.exports.writer import SourceInfo, write_exports

WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def _write(target: Path, generated_at: datetime, priors: dict[str, Any] | None = None) -> Path:
    return write_exports(
        target,
        models_dir=None,
        source=SourceInfo("sample", True, WHEN, ("org/repo",)),
        documents={"rerun_priors": priors or rerun_priors_document([], None, generated_at=generated_at)},
        scores=lambda models: scores_document(pl.DataFrame(), models, generated_at=generated_at),
        generated_at=generated_at,
    ).root


def _generated_at(target: Path) -> str:
    return str(verify(target).manifest["generated_at"])


def test_the_exports_folder_is_as_readable_as_any_other_folder(tmp_path: Path) -> None:
    """Actions may run as another user than the pipeline (a shared runner, a web server)."""
    umask = os.umask(0o022)
    try:
        root = _write(tmp_path / "exports", WHEN)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "manifest.json").stat().st_mode) == 0o644


def test_a_document_breaking_its_schema_keeps_the_previous_exports(tmp_path: Path) -> None:
    target = tmp_path / "exports"
    _write(target, WHEN)
    with pytest.raises(ValueError, match="breaks its schema"):
        _write(target, datetime(2026, 11, 2, tzinfo=UTC), priors={"not": "a rerun_priors document"})
    assert _generated_at(target) == "2026-11-01T00:00:00Z"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports"]  # no staging folder left


def test_a_failed_swap_puts_the_previous_exports_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "exports"
    _write(target, WHEN)
    rename = Path.rename

    def full_disk(self: Path, destination: Any) -> Path:
        if self.name.startswith(".exports-"):
            raise OSError(28, "No space left on device")
        return rename(self, destination)

    monkeypatch.setattr(Path, "rename", full_disk)
    with pytest.raises(OSError, match="No space left"):
        _write(target, datetime(2026, 11, 2, tzinfo=UTC))
    assert _generated_at(target) == "2026-11-01T00:00:00Z"


def test_exports_left_aside_by_an_interrupted_swap_are_restored(tmp_path: Path) -> None:
    target = tmp_path / "exports"
    _write(target, WHEN)
    target.rename(tmp_path / "exports.previous")  # killed between moving the old aside and the new in
    with pytest.raises(ValueError, match="breaks its schema"):
        _write(target, datetime(2026, 11, 2, tzinfo=UTC), priors={"not": "a rerun_priors document"})
    assert _generated_at(target) == "2026-11-01T00:00:00Z"
    _write(target, datetime(2026, 11, 3, tzinfo=UTC))
    assert _generated_at(target) == "2026-11-03T00:00:00Z"
    assert not (tmp_path / "exports.previous").exists()
