"""The SLA targets the dashboard judges against: the SLA action's own configuration model.

Targets come from an ``sla.yml`` read with :func:`actions.common.config.load_config` into
:class:`actions.sla.config.SlaConfig`, the model the SLA action validates, so the dashboard and
the action never disagree on a target. Where the file is found, in order:

1. the path typed into the SLA page's settings (a file, or a repository checkout whose
   ``.github/sla.yml`` is read);
2. ``REPOPILOT_SLA_CONFIG`` (same meaning);
3. nowhere: the model's defaults, which every page labels as defaults.

A file that is missing or invalid falls back to the defaults too, with the reason shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from actions.common.config import CONFIG_DIR, load_config
from actions.common.errors import InputError
from actions.sla.config import PRIORITIES, SlaConfig

ENV_VAR = "REPOPILOT_SLA_CONFIG"
FILENAME = "sla.yml"


@dataclass(frozen=True)
class SlaSettings:
    """The SLA configuration in force and where it came from.

    Attributes:
        config: the validated configuration (the defaults when ``path`` is None).
        path: the file read, or None for the defaults.
        problem: why a configured file was not used (missing, invalid), else None.
    """

    config: SlaConfig
    path: Path | None = None
    problem: str | None = None

    @property
    def defaults(self) -> bool:
        """Whether the targets are the model's defaults rather than a file's."""
        return self.path is None

    @property
    def origin(self) -> str:
        """Where the targets come from, for captions."""
        return f"from `{self.path}`" if self.path is not None else "defaults (no SLA configuration file)"


def config_path(value: str | None) -> Path | None:
    """The ``sla.yml`` a setting names: the file itself, or ``.github/sla.yml`` in a checkout."""
    if not value or not value.strip():
        return None
    path = Path(value.strip()).expanduser()
    return path / CONFIG_DIR / FILENAME if path.is_dir() else path


def load_sla_settings(value: str | None = None, environ: Mapping[str, str] | None = None) -> SlaSettings:
    """The SLA configuration named by ``value``, else by ``REPOPILOT_SLA_CONFIG``, else the defaults."""
    env = os.environ if environ is None else environ
    path = config_path(value) or config_path(env.get(ENV_VAR))
    if path is None:
        return SlaSettings(SlaConfig())
    if not path.is_file():
        return SlaSettings(SlaConfig(), problem=f"`{path}` does not exist; using the defaults")
    try:
        return SlaSettings(load_config(path, FILENAME, SlaConfig), path)
    except InputError as exc:
        return SlaSettings(SlaConfig(), problem=f"{exc}; using the defaults")


def target_hours(config: SlaConfig) -> pl.DataFrame:
    """Response and resolution targets in hours, one row per priority (most urgent first)."""
    return pl.DataFrame(
        {
            "priority": list(PRIORITIES),
            "response_target_hours": [float(config.targets[p].response_hours) for p in PRIORITIES],
            "resolution_target_hours": [float(config.targets[p].resolution_hours) for p in PRIORITIES],
        }
    )
