"""Where auto-merge and revert automation read ``.github/auto-merge.yml`` from (kept light to import)."""

from __future__ import annotations

import os
from pathlib import Path

from github.Repository import Repository

from actions.common.config import load_config, load_repo_config
from actions.merging.config import AutoMergeConfig

CONFIG_FILE = "auto-merge.yml"


def read_config(args_config: Path | None, repo: Repository) -> AutoMergeConfig:
    """The configuration: an explicit file, the checkout's, or the default branch's through the API."""
    if args_config is not None:
        return load_config(args_config, CONFIG_FILE, AutoMergeConfig)
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and (Path(workspace) / ".github" / CONFIG_FILE).is_file():
        return load_config(Path(workspace), CONFIG_FILE, AutoMergeConfig)
    return load_repo_config(repo, CONFIG_FILE, AutoMergeConfig)
