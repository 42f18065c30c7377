"""Jsonnet sources (Argo CD's `directory.jsonnet`) through the `jsonnet` Python binding.

Evaluation runs in a child process (`jsonnet_worker`) with a timeout and memory/CPU limits: the
binding evaluates in C++ with no way to interrupt it, and `std.range(1, 1e10)` in a repository
must not hang or exhaust the controller. Every import goes through a callback that resolves paths
only inside the repository, by confine.py's rules (lexical join, no escape through `..` or a
symlink); `libs` are repository directories searched after the importing file's own. Errors name
repo-relative paths only. The output passes the engine's JSON limits (yamlsafe.load_json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from console.engine import yamlsafe
from console.engine.sources.tools import TOOL_TIMEOUT

MAX_OUTPUT = 64 * 1024 * 1024


class JsonnetError(Exception):
    """Evaluation failed; one line naming the repo-relative file."""


def _pairs(items: Any, what: str, shown: str) -> tuple[dict[str, str], dict[str, str]]:
    """Argo's [{name, value, code}] -> (string vars, code vars)."""
    plain: dict[str, str] = {}
    code: dict[str, str] = {}
    for i, item in enumerate(items or []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item.get("name"):
            raise JsonnetError(f"{shown}: directory.jsonnet.{what}[{i}]: needs a name")
        value = item.get("value", "")
        (code if item.get("code") else plain)[item["name"]] = str(value)
    return plain, code


def evaluate(tree: Path, file: Path, shown: str, block: dict[str, Any]) -> list[Any]:
    """The documents a .jsonnet file produces (an array gives one document per element)."""
    ext_vars, ext_codes = _pairs(block.get("extVars"), "extVars", shown)
    tla_vars, tla_codes = _pairs(block.get("tlas"), "tlas", shown)
    libs = block.get("libs") or []
    if not isinstance(libs, list) or not all(isinstance(lib, str) for lib in libs):
        raise JsonnetError(f"{shown}: directory.jsonnet.libs: must be a list of repository paths")
    root = tree.resolve()
    request = {
        "root": str(root),
        "file": file.resolve().relative_to(root).as_posix(),
        "extVars": ext_vars,
        "extCodes": ext_codes,
        "tlaVars": tla_vars,
        "tlaCodes": tla_codes,
        "libs": libs,
    }
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(root)}
    try:
        proc = subprocess.run(  # noqa: S603 - argv list, our own interpreter and module
            [sys.executable, "-I", "-m", "console.engine.sources.jsonnet_worker"],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=TOOL_TIMEOUT,
            env=env,
            cwd=str(root),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise JsonnetError(f"{shown}: jsonnet evaluation timed out after {TOOL_TIMEOUT:g} s") from None
    if proc.returncode != 0:
        text = proc.stderr.decode("utf-8", "replace").replace(str(root) + "/", "").replace(str(root), ".")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if proc.returncode < 0 or not lines:
            lines = [f"evaluation was stopped (exceeded its memory or CPU limit, signal {-proc.returncode})"]
        raise JsonnetError(f"{shown}: jsonnet: {'; '.join(lines[:3])[:500]}")
    if len(proc.stdout) > MAX_OUTPUT:
        raise JsonnetError(f"{shown}: jsonnet output exceeds {MAX_OUTPUT >> 20} MB")
    try:
        value = yamlsafe.load_json(proc.stdout, shown, max_bytes=MAX_OUTPUT)
    except yamlsafe.ManifestError as exc:
        raise JsonnetError(str(exc)) from None
    return list(value) if isinstance(value, list) else [value]
