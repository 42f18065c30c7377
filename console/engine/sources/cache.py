"""Rendered-manifest cache: one compact JSON file per (commit SHA, path, tool block, app, namespace).

Rendering is a pure function of those inputs once the revision is a commit SHA, so a warm refresh
of a thousand Applications is a thousand small file reads instead of a thousand helm/kustomize
runs. Branch names are never keys: their content moves.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from console.engine.sources.result import RENDERER_VERSION, RenderResult

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


class ManifestCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(
        *,
        revision: str,
        path: str,
        source_type: str,
        tool: dict[str, Any],
        app_name: str,
        namespace: str,
        kube_version: str | None = None,
    ) -> str | None:
        """Cache key, or None when `revision` is not a full commit SHA (nothing is cached then)."""
        if not _FULL_SHA.match(revision or ""):
            return None
        material = [RENDERER_VERSION, revision, path, source_type, tool, app_name, namespace, kube_version]
        canonical = json.dumps(
            material, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str | None) -> RenderResult | None:
        if not key:
            return None
        try:
            data = json.loads(self._path(key).read_bytes())
            return RenderResult(objects=data["o"], source_type=data["t"], warnings=data["w"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, OSError):
            self._path(key).unlink(missing_ok=True)  # torn or foreign file: render again
            return None

    def put(self, key: str | None, result: RenderResult) -> None:
        if not key:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {"o": result.objects, "t": result.source_type, "w": result.warnings},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
