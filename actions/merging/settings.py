"""Where auto-merge and revert automation read ``.github/auto-merge.yml`` from (kept light to import)."""

from __future__ import annotations

from pathlib import Path

from github.Repository import Repository

from actions.common.config import read_action_config
from actions.merging.config import AutoMergeConfig

CONFIG_FILE = "auto-merge.yml"


def read_config(args_config: Path | None, repo: Repository) -> AutoMergeConfig:
    """``.github/auto-merge.yml``: an explicit file, the checkout's, or the default branch's."""
    return read_action_config(args_config, repo, CONFIG_FILE, AutoMergeConfig)
