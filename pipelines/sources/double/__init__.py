"""An HTTP double of the GitHub REST and GraphQL APIs, serving a :class:`Recording` on loopback."""

from __future__ import annotations

from pipelines.sources.double.server import (
    FAULT_KINDS,
    FaultKind,
    GitHubDouble,
    RequestRecord,
)

__all__ = ["FAULT_KINDS", "FaultKind", "GitHubDouble", "RequestRecord"]
