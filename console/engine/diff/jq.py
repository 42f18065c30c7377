"""jq path expressions (`ignoreDifferences.jqPathExpressions`), bounded in time as Argo bounds them.

The `jq` binding holds the GIL and cannot be interrupted, so a thread cannot stop it. Expressions
in a linear fragment (field/index steps, `[]`, `?`, `|`, `select(...)` with comparisons and simple
string builtins, no iterators inside parentheses) cost O(input size) by construction and run in
process; anything else runs in a helper process that is killed when the timeout expires
(`ignore.normalizer.jq.timeout`, 1 s: the rule is then skipped for that object and a warning is
logged, as Argo skips a failing patch).
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import re
import select
import subprocess
import sys
import threading
import time
from typing import Any

from console.engine.diff.errors import IgnoreRuleError
from console.engine.diff.paths import delete_paths

log = logging.getLogger(__name__)


JQ_TIMEOUT_SECONDS = 1.0  # Argo's `ignore.normalizer.jq.timeout` default; callers may change it


@functools.lru_cache(maxsize=512)
def compile_jq(expr: str) -> Any:
    import jq  # imported lazily: only apps with jq rules pay for it

    try:
        return jq.compile(f"[path({expr})]")
    except ValueError as exc:
        raise IgnoreRuleError(f"invalid jqPathExpression {expr!r}: {exc}") from None


_JQ_TOKEN = re.compile(
    r"""\s+
    | (?P<str>"(?:[^"\\]|\\[^(])*")
    | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
    | (?P<dotdot>\.\.)
    | (?P<dot>\.)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|<|>|\||\[|\]|\(|\)|\?)
    """,
    re.X,
)


_JQ_SAFE_IDENTS = frozenset(
    {
        "select", "and", "or", "not", "true", "false", "null", "empty", "startswith", "endswith",
        "contains", "inside", "has", "type", "length", "keys", "any", "all", "ascii_downcase",
        "ascii_upcase", "ltrimstr", "rtrimstr", "tostring", "tonumber", "utf8bytelength",
    }
)  # fmt: skip


_JQ_POSTFIX = frozenset({"field", "dot", "str_index", "]", ")", "?"})


@functools.lru_cache(maxsize=512)
def jq_is_linear(expr: str) -> bool:
    """True if `expr` is in a fragment whose cost is linear in the input (safe to run in process).

    Every `[]` outside parentheses yields distinct paths of the input tree, `select` yields at most
    its input, and the builtins allowed are linear, so the output and work are bounded by the size
    of the object. Iterators inside parentheses, `..`, `,`, recursion, variables, arithmetic,
    regexes and string interpolation are excluded (they can multiply or loop).
    """
    pos, depth, prev = 0, 0, ""
    bracket: list[str] | None = None  # tokens inside an index bracket
    while pos < len(expr):
        m = _JQ_TOKEN.match(expr, pos)
        if m is None:
            return False
        pos = m.end()
        kind = m.lastgroup
        if kind is None:
            continue
        text = m.group(kind)
        if bracket is not None:
            if text == "]":
                if not bracket and depth > 0:
                    return False  # iterator inside parentheses: a generator that multiplies
                if len(bracket) > 1:
                    return False
                bracket, prev = None, "]"
                continue
            if kind not in ("num", "str"):
                return False
            bracket.append(text)
            continue
        if kind == "dotdot":
            return False
        if kind == "ident" and text not in _JQ_SAFE_IDENTS:
            return False
        if kind == "str" and prev == "dot":
            kind = "str_index"
        if kind == "op":
            if text == "[":
                if prev not in _JQ_POSTFIX:
                    return False  # array construction
                bracket = []
                continue
            if text == "(":
                depth += 1
            elif text == ")":
                depth -= 1
                if depth < 0:
                    return False
            prev = text
            continue
        prev = kind
    return depth == 0 and bracket is None


_WORKER_SRC = r"""
import json, sys
import jq
progs = {}
sys.stdout.write("ready\n"); sys.stdout.flush()
for line in sys.stdin:
    expr, doc = json.loads(line)
    try:
        prog = progs.get(expr)
        if prog is None:
            prog = progs[expr] = jq.compile("[path(" + expr + ")]")
        res = {"ok": prog.input_value(doc).first()}
    except Exception as exc:
        res = {"err": str(exc)[:300]}
    sys.stdout.write(json.dumps(res) + "\n"); sys.stdout.flush()
"""


class JqTimeout(Exception):
    """A jq expression ran longer than the configured timeout and its process was killed."""


class _JqWorker:
    """One helper process evaluating non-linear jq expressions; killed and restarted on timeout."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._buf = b""
        self._lock = threading.Lock()

    def _kill(self) -> None:
        proc, self._proc, self._buf = self._proc, None, b""
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    def _readline(self, deadline: float) -> bytes | None:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise RuntimeError("jq helper process exited")
                self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _WORKER_SRC],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        if self._readline(time.monotonic() + 30) != b"ready":
            self._kill()
            raise RuntimeError("jq helper process did not start")

    def paths(self, expr: str, doc: Any, timeout: float) -> list[Any]:
        with self._lock:
            try:
                if self._proc is None or self._proc.poll() is not None:
                    self._kill()
                    self._start()
                assert self._proc is not None and self._proc.stdin is not None
                self._proc.stdin.write(json.dumps([expr, doc], separators=(",", ":")).encode() + b"\n")
                self._proc.stdin.flush()
                line = self._readline(time.monotonic() + timeout)
            except (OSError, RuntimeError, ValueError):
                self._kill()
                raise
            if line is None:
                self._kill()
                raise JqTimeout(f"JQ patch execution timed out ({timeout:g}s)")
        result = json.loads(line)
        if "err" in result:
            raise ValueError(result["err"])
        paths = result.get("ok")
        return paths if isinstance(paths, list) else []

    def close(self) -> None:
        with self._lock:
            self._kill()


_WORKER = _JqWorker()


atexit.register(_WORKER.close)


def jq_paths(expr: str, obj: Any, timeout: float | None = None) -> list[list[Any]]:
    """Paths selected by `path(expr)` on `obj` (a JSON-clean value).

    Raises IgnoreRuleError for an invalid expression, ValueError for a runtime jq error and
    JqTimeout when a non-linear expression exceeds the timeout.
    """
    prog = compile_jq(expr)
    if jq_is_linear(expr):
        result = prog.input_value(obj).first()
    else:
        result = _WORKER.paths(expr, obj, JQ_TIMEOUT_SECONDS if timeout is None else timeout)
    return [p for p in result if isinstance(p, list)]


def delete_jq_paths(obj: Any, expr: str) -> None:
    try:
        paths = jq_paths(expr, obj)
    except IgnoreRuleError:
        raise
    except JqTimeout as exc:
        log.warning("ignoreDifferences jqPathExpression %r skipped: %s", expr, exc)
        return
    except (ValueError, RuntimeError, OSError) as exc:
        log.debug("ignoreDifferences jqPathExpression %r not applied: %s", expr, exc)
        return
    # slices ({"start":..}) are not deletable paths
    delete_paths(obj, [p for p in paths if all(isinstance(t, (str, int)) for t in p)])
