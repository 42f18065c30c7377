"""What rendering produces, shared by the renderers and the rendered-manifest cache (so neither
imports the other for its type).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RENDERER_VERSION = "3"  # bump when rendering changes, so cached results are not reused


@dataclass
class RenderResult:
    objects: list[dict[str, Any]]
    source_type: str  # "Directory" | "Kustomize" | "Helm"
    warnings: list[str] = field(default_factory=list)
