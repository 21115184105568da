"""The models in service: ``models/current``, replaced by a promoted candidate in two renames.

``current`` moves aside to ``previous``, then the copied candidate moves in. A process stopped
between the two renames leaves no ``current``: the models in service are then the ``previous``
ones, put back by whoever looks for them next (the exports, the next promotion).
"""

from __future__ import annotations

import shutil
from pathlib import Path


def models_in_service(models: Path) -> Path | None:
    """``models/current``, restored from ``models/previous`` after an interrupted promotion; None if none."""
    current, previous = models / "current", models / "previous"
    if not current.is_dir() and previous.is_dir():
        previous.rename(current)
    return current if current.is_dir() else None


def promote(models: Path) -> Path:
    """Put ``models/candidate`` in service, keeping the replaced models as ``models/previous``.

    Returns:
        The models in service (``models/current``).
    """
    current, previous, staging = models / "current", models / "previous", models / "promoting"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(models / "candidate", staging)
    if models_in_service(models) is not None:
        shutil.rmtree(previous, ignore_errors=True)
        current.rename(previous)
    staging.rename(current)
    return current
