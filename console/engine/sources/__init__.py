"""Git acquisition (bare mirrors, trees by SHA, exported without following links) and manifest rendering
(Directory, Kustomize, Helm) confined to the repository tree."""

from __future__ import annotations

from console.engine.sources.cache import ManifestCache
from console.engine.sources.git import (
    CommitInfo,
    GitCache,
    RefNotFound,
    RepoError,
    redact_url,
    validate_repo_url,
    validate_revision,
)
from console.engine.sources.render import (
    RenderError,
    detect_source_type,
    glob_match,
    render,
)
from console.engine.sources.result import RenderResult
from console.engine.sources.tools import find_tool

__all__ = [
    "CommitInfo",
    "GitCache",
    "ManifestCache",
    "RefNotFound",
    "RenderError",
    "RenderResult",
    "RepoError",
    "detect_source_type",
    "find_tool",
    "glob_match",
    "redact_url",
    "render",
    "validate_repo_url",
    "validate_revision",
]
