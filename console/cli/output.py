"""Rendering for the CLI: json, yaml, name, aligned tables (kubectl/argocd style), and the
terminal guard every byte of text output passes through.

Terminal safety (DESIGN.md §5): strings from repositories and clusters may carry ESC/CSI/OSC
sequences, BEL, C1 controls or bidi overrides. `main()` runs every command inside
`guard_terminal()`, which wraps stdout and stderr so that whatever is written (tables, key/value
lines, diffs, progress, error messages, argparse's usage errors) has those characters made visible
(`\\x1b`, `\\u202e`; policy in `widgets.safe_text`). Table cells and one-line fields also escape
newlines and tabs so a value cannot break the layout or fake a row.

JSON and YAML stay exact: `json.dumps` escapes every control and non-ASCII character itself, and
YAML that would carry an unsafe character raw is re-emitted ASCII-only (`allow_unicode=False`,
double-quoted escapes), which parses back to the identical value. The guard then has nothing to
change in either.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from console.engine import yamlsafe
from widgets.safe_text import visible


class TerminalGuard(io.TextIOBase):
    """A text stream that escapes terminal-unsafe characters and writes to `inner`."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, s: str) -> int:
        self.inner.write(visible(s, keep_newlines=True))
        return len(s)

    def flush(self) -> None:
        self.inner.flush()

    def fileno(self) -> int:
        return self.inner.fileno()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.inner.errors


@contextmanager
def guard_terminal() -> Iterator[None]:
    """Route sys.stdout and sys.stderr through TerminalGuard for the duration (idempotent)."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, TerminalGuard):
        sys.stdout = TerminalGuard(sys.stdout)
    if not isinstance(sys.stderr, TerminalGuard):
        sys.stderr = TerminalGuard(sys.stderr)
    try:
        yield
    finally:
        for guard in (sys.stdout, sys.stderr):
            if isinstance(guard, TerminalGuard):
                try:
                    guard.flush()
                except (BrokenPipeError, ValueError):
                    pass
        sys.stdout, sys.stderr = saved


def cell(value: Any) -> str:
    """One table cell / one field value: unsafe characters and newlines/tabs made visible."""
    return "" if value is None else visible(value)


def emit_json(data: Any, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def yaml_text(data: Any, *, many: bool = False) -> str:
    """YAML that parses back to `data` exactly and carries no unsafe character raw."""
    dump = yamlsafe.dump_all if many else yamlsafe.dump
    text = dump(data)
    if visible(text, keep_newlines=True) == text:
        return text
    return dump(data, ascii_only=True)


def emit_yaml(data: Any, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(yaml_text(data))


def emit_yaml_all(docs: list[Any], out: TextIO | None = None) -> None:
    (out or sys.stdout).write(yaml_text(docs, many=True))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None) -> None:
    cells = [[cell(h) for h in headers]] + [[cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    w = out or sys.stdout
    for r in cells:
        w.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() + "\n")


def fields(pairs: Sequence[tuple[str, Any]], width: int = 15, out: TextIO | None = None) -> None:
    """`Key:           value` lines (argocd `app get` style), one line per field."""
    w = out or sys.stdout
    for key, value in pairs:
        w.write(f"{key + ':':<{width}}{cell(value)}".rstrip() + "\n")


def error(message: str) -> None:
    """The one-line `trueup: ...` error on stderr."""
    sys.stderr.write(f"trueup: {cell(message)}\n")


def one_line(text: str, limit: int = 80) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"
