"""Child process of sources.jsonnet: evaluate one file with imports confined to the repository.

Reads a JSON request on stdin, writes the evaluated JSON on stdout; errors go to stderr with
repo-relative paths (jsonnet sees only repo-relative file names: the callback maps them).
"""

from __future__ import annotations

import json
import posixpath
import resource
import sys
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 2 * 1024 * 1024 * 1024
CPU_SECONDS = 60


def _limit() -> None:
    for res, value in ((resource.RLIMIT_AS, MEMORY_LIMIT), (resource.RLIMIT_CPU, CPU_SECONDS)):
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass


def _resolver(root: Path, libs: list[str]) -> Any:
    def inside(rel: str) -> Path | None:
        """The real file for repo-relative `rel`, if it stays in the repository (confine.py's rule)."""
        lexical = posixpath.normpath(rel)
        if lexical.startswith("/") or lexical == ".." or lexical.startswith("../"):
            return None
        real = (root / lexical).resolve()
        if not (real == root or real.is_relative_to(root)):
            return None
        return real

    def callback(base: str, rel: str) -> tuple[str, bytes]:
        if rel.startswith("/"):
            raise RuntimeError(
                f"import {rel!r}: absolute paths are not allowed (imports stay inside the repository)"
            )
        outside = False
        for directory in [base, *libs]:
            candidate = posixpath.join(directory.rstrip("/"), rel) if directory else rel
            real = inside(candidate)
            if real is None:
                outside = True
                continue
            if real.is_file():
                shown = real.relative_to(root).as_posix()
                return shown, real.read_bytes()
        if outside:
            raise RuntimeError(f"import {rel!r} points outside the repository")
        raise RuntimeError(f"import {rel!r} not found in the repository")

    return callback


def main() -> int:
    _limit()
    import _jsonnet

    req = json.loads(sys.stdin.buffer.read())
    root = Path(req["root"])
    libs = [posixpath.normpath(lib.lstrip("/")) for lib in req.get("libs") or []]
    for lib in libs:
        if lib == ".." or lib.startswith("../"):
            print(f"libs entry {lib!r} points outside the repository", file=sys.stderr)
            return 2
    rel = req["file"]
    try:
        out = _jsonnet.evaluate_snippet(
            rel,
            (root / rel).read_text(),
            ext_vars=req.get("extVars") or {},
            ext_codes=req.get("extCodes") or {},
            tla_vars=req.get("tlaVars") or {},
            tla_codes=req.get("tlaCodes") or {},
            import_callback=_resolver(root, libs),
            max_stack=500,
            max_trace=10,
        )
    except RuntimeError as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 1
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
