"""Structured log lines for the controller: one JSON object per line (default) or plain text.

Log lines carry names, revisions and Argo's messages only — never object bodies — so a secret value
cannot reach the log through them. Values are still passed through `_scrub` as a last line of defence
against a caller handing over a dict.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

LEVELS = ("debug", "info", "warning", "error")


def _scrub(value: Any) -> Any:
    """Only scalars and lists of scalars are logged; mappings (objects) are replaced by a marker."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value if not isinstance(v, dict)]
    return "<omitted>"


class ControllerLog:
    """Writes `{"time", "level", "msg", ...fields}` lines; thread-safe (watch threads log too)."""

    def __init__(self, stream: TextIO | None = None, *, fmt: str = "json", level: str = "info") -> None:
        if fmt not in ("json", "text"):
            raise ValueError(f"unknown log format {fmt!r} (expected json or text)")
        self.stream = stream if stream is not None else sys.stderr
        self.fmt = fmt
        self.min_level = LEVELS.index(level)
        self._lock = threading.Lock()

    def log(self, level: str, msg: str, **fields: Any) -> None:
        if LEVELS.index(level) < self.min_level:
            return
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        clean = {k: _scrub(v) for k, v in fields.items() if v is not None and v != ""}
        if self.fmt == "json":
            line = json.dumps({"time": now, "level": level, "msg": msg, **clean}, default=str)
        else:
            extra = " ".join(
                f"{k}={json.dumps(v) if isinstance(v, str) and ' ' in v else v}" for k, v in clean.items()
            )
            line = f"{now} {level.upper():<7} {msg}" + (f" {extra}" if extra else "")
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed stderr must not stop the controller

    def debug(self, msg: str, **fields: Any) -> None:
        self.log("debug", msg, **fields)

    def info(self, msg: str, **fields: Any) -> None:
        self.log("info", msg, **fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self.log("warning", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.log("error", msg, **fields)
