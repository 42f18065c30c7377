"""Normalisation before diff: strip server-owned noise and ignored fields, then hash.

A refresh compares tens of thousands of objects, almost all unchanged, so the hot path is one
direct copy-walk (which also gives JSON round-trip semantics: 1.0 == 1, non-string keys become
strings, nulls in maps vanish as the apiserver drops them) followed by `stable_hash`. Rules follow
Argo CD's normalizers (argocd-features.md §3.1, §3.3): Secret `stringData` folding, empty Role
rules, then `ignoreDifferences` jsonPointers / jqPathExpressions / managedFieldsManagers.

jq expressions are bounded in time as Argo bounds them (`ignore.normalizer.jq.timeout`, 1 s):
the `jq` binding holds the GIL and cannot be interrupted, so a thread cannot stop it. Expressions
in a linear fragment (field/index steps, `[]`, `?`, `|`, `select(...)` with comparisons and simple
string builtins, no iterators inside parentheses) cost O(input size) by construction and run in
process; anything else runs in a helper process that is killed when the timeout expires (the rule
is then skipped for that object and a warning is logged, as Argo skips a failing patch).
"""

from __future__ import annotations

import atexit
import base64
import datetime as _dt
import fnmatch
import functools
import hashlib
import json
import logging
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from console.cluster.api import split_api_version
from console.engine import yamlsafe

log = logging.getLogger(__name__)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
JQ_TIMEOUT_SECONDS = 1.0  # Argo's `ignore.normalizer.jq.timeout` default; callers may change it
_METADATA_DROPPED = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionGracePeriodSeconds",
)
_METADATA_DROPPED_SET = frozenset(_METADATA_DROPPED)
_RBAC_GROUP = "rbac.authorization.k8s.io"

Path = tuple[str | int, ...]


class IgnoreRuleError(ValueError):
    """An ignoreDifferences entry that cannot be used (bad shape or invalid jq expression)."""


# --------------------------------------------------------------------------------------------
# ignoreDifferences rules


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str] | None:
    """Compiled glob, or None when the pattern has no wildcard (plain equality is faster)."""
    if not any(c in pattern for c in "*?["):
        return None
    return re.compile(fnmatch.translate(pattern))


def _glob_match(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    rx = _glob(pattern)
    return value == pattern if rx is None else rx.match(value) is not None


@dataclass(frozen=True)
class IgnoreRule:
    """One `ignoreDifferences` item (application spec or system-level customisation)."""

    group: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()

    def matches(self, group: str, kind: str, namespace: str, name: str) -> bool:
        """Argo's match: globs on group/kind; empty name/namespace match any object."""
        return (
            _glob_match(self.group, group)
            and _glob_match(self.kind, kind)
            and (not self.name or self.name == name)
            and (not self.namespace or self.namespace == namespace)
        )

    @classmethod
    def from_spec(cls, spec: object) -> IgnoreRule:
        """Parse Argo's camelCase item; jq expressions are compiled now so typos surface at load."""
        if not isinstance(spec, dict):
            raise IgnoreRuleError(f"ignoreDifferences entry must be a mapping, got {type(spec).__name__}")

        def text(key: str) -> str:
            value = spec.get(key)
            if value is None:
                return ""
            if not isinstance(value, str):
                raise IgnoreRuleError(f"ignoreDifferences.{key} must be a string, got {value!r}")
            return value

        def strings(key: str) -> tuple[str, ...]:
            value = spec.get(key)
            if value is None:
                return ()
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise IgnoreRuleError(f"ignoreDifferences.{key} must be a list of strings, got {value!r}")
            return tuple(value)

        rule = cls(
            group=text("group"),
            kind=text("kind"),
            name=text("name"),
            namespace=text("namespace"),
            json_pointers=strings("jsonPointers"),
            jq_path_expressions=strings("jqPathExpressions"),
            managed_fields_managers=strings("managedFieldsManagers"),
        )
        for pointer in rule.json_pointers:
            if pointer and not pointer.startswith("/"):
                raise IgnoreRuleError(f"ignoreDifferences jsonPointer {pointer!r} must start with '/'")
        for expr in rule.jq_path_expressions:
            _compile_jq(expr)
        return rule


def matching_rules(obj: dict[str, Any], rules: Sequence[IgnoreRule]) -> list[IgnoreRule]:
    """The rules that apply to `obj` (by its group, kind, namespace and name)."""
    if not rules:
        return []
    group, kind, namespace, name = _identity(obj)
    return [r for r in rules if r.matches(group, kind, namespace, name)]


def _identity(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    api_version = obj.get("apiVersion")
    group = split_api_version(api_version)[0] if isinstance(api_version, str) else ""
    md = obj.get("metadata")
    md = md if isinstance(md, dict) else {}
    kind = obj.get("kind")
    return (
        group,
        kind if isinstance(kind, str) else "",
        str(md.get("namespace") or ""),
        str(md.get("name") or ""),
    )


# --------------------------------------------------------------------------------------------
# copy-walk with JSON round-trip semantics


def json_key(key: object) -> str:
    if isinstance(key, str):
        return key
    return json.dumps(key) if isinstance(key, (bool, int, float)) or key is None else str(key)


def _scalar(value: object) -> object:
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, _dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def json_copy(value: Any) -> Any:
    """Deep copy as a JSON round trip would produce it (maps drop null values; lists keep them)."""
    t = type(value)
    if t is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                k = json_key(k)
            tv = type(v)
            if tv is str or tv is int or tv is bool:
                out[k] = v
            elif v is not None:
                out[k] = json_copy(v)
        return out
    if t is list or t is tuple:
        return [v if type(v) in (str, int, bool) or v is None else json_copy(v) for v in value]
    if t is str or t is int or t is bool or value is None:
        return value
    if isinstance(value, dict):
        return json_copy(dict(value))
    return _scalar(value)


# --------------------------------------------------------------------------------------------
# path deletion (JSON pointers, jq paths, managed-field paths)


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901 reference tokens (`~1` is '/', `~0` is '~'); "" is the whole document."""
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def to_pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _step(container: Any, token: str | int) -> tuple[bool, Any]:
    """Resolve one token; list tokens may arrive as strings (pointers) or ints (jq)."""
    if isinstance(container, dict):
        if isinstance(token, str) and token in container:
            return True, token
        return False, None
    if isinstance(container, list):
        if isinstance(token, bool):
            return False, None
        if isinstance(token, str):
            if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
                return False, None
            token = int(token)
        if isinstance(token, int) and 0 <= token < len(container):
            return True, token
    return False, None


def delete_path(obj: Any, path: Sequence[str | int]) -> bool:
    """Delete the node at `path`; a missing path (or the root) is a no-op. True if deleted."""
    if not path:
        return False
    node = obj
    for token in path[:-1]:
        ok, key = _step(node, token)
        if not ok:
            return False
        node = node[key]
    ok, key = _step(node, path[-1])
    if not ok:
        return False
    del node[key]
    return True


def _path_order(path: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) and not isinstance(p, bool) else (1, str(p)) for p in path)


def delete_paths(obj: Any, paths: Iterable[Sequence[str | int]]) -> None:
    """Delete several paths at once like jq `delpaths`: deepest and highest indices first."""
    unique = {tuple(p) for p in paths}
    for path in sorted(unique, key=_path_order, reverse=True):
        delete_path(obj, path)


# --------------------------------------------------------------------------------------------
# jq path expressions


@functools.lru_cache(maxsize=512)
def _compile_jq(expr: str) -> Any:
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
    prog = _compile_jq(expr)
    if jq_is_linear(expr):
        result = prog.input_value(obj).first()
    else:
        result = _WORKER.paths(expr, obj, JQ_TIMEOUT_SECONDS if timeout is None else timeout)
    return [p for p in result if isinstance(p, list)]


def _apply_jq(obj: Any, expr: str) -> None:
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


# --------------------------------------------------------------------------------------------
# managedFields (FieldsV1)


def managed_fields(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The FieldsV1 managedFields entries of `obj` (malformed entries are skipped)."""
    if not isinstance(obj, dict):
        return []
    md = obj.get("metadata")
    entries = md.get("managedFields") if isinstance(md, dict) else None
    if not isinstance(entries, list):
        return []
    return [
        e
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("fieldsV1"), dict)
        and e.get("fieldsType", "FieldsV1") == "FieldsV1"
    ]


@functools.lru_cache(maxsize=4096)
def parse_fields_key(key: str) -> tuple[str, Any]:
    """('f', name) | ('k', {keys}) | ('v', value) | ('i', index) | ('.', None) | ('?', None)."""
    if key == ".":
        return ".", None
    prefix, sep, rest = key.partition(":")
    if not sep:
        return "?", None
    if prefix == "f":
        return "f", rest
    if prefix in ("k", "v", "i"):
        try:  # cluster content (managedFields): the manifest size and depth limits apply
            value = yamlsafe.load_json(rest, "managedFields key")
        except ValueError:
            return "?", None
        if prefix == "k" and not isinstance(value, dict):
            return "?", None
        return prefix, value
    return "?", None


def same_value(a: object, b: object) -> bool:
    """Equality without Python's True == 1 (numbers compare by value across int/float)."""
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is not tb:
        return ta in (int, float) and tb in (int, float) and a == b
    return a == b


def key_matches(item: dict[str, Any], keys: dict[str, Any]) -> bool:
    for field, want in keys.items():
        have = item.get(field)
        if have is None and field == "protocol":
            have = "TCP"  # the apiserver defaults it; desired manifests often omit it
        if not same_value(have, want):
            return False
    return True


def fields_children(container: Any, kind: str, arg: Any) -> list[tuple[str | int, Any]]:
    """Concrete children of `container` that a parsed FieldsV1 key designates."""
    if kind == "f":
        if isinstance(container, dict) and arg in container:
            return [(arg, container[arg])]
        return []
    if not isinstance(container, list):
        return []
    if kind == "k":
        return [(i, e) for i, e in enumerate(container) if isinstance(e, dict) and key_matches(e, arg)]
    if kind == "v":
        return [(i, e) for i, e in enumerate(container) if same_value(e, arg)]
    if kind == "i" and isinstance(arg, int) and 0 <= arg < len(container):
        return [(arg, container[arg])]
    return []


def _claimed(tree: dict[str, Any], keys: Sequence[str]) -> bool:
    node: Any = tree
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def collect_owned(
    value: Any,
    node: dict[str, Any],
    prefix: Path,
    keys: tuple[str, ...],
    others: list[dict[str, Any]],
    out: list[Path],
) -> None:
    for key, child in node.items():
        kind, arg = parse_fields_key(key)
        if kind in (".", "?"):
            continue
        for step, sub in fields_children(value, kind, arg):
            path = prefix + (step,)
            if not isinstance(child, dict) or not child or kind == "v":
                out.append(path)
            elif kind in ("k", "i") and "." in child and not any(_claimed(o, keys + (key,)) for o in others):
                out.append(path)  # an item only these managers ever touched: drop it whole
            else:
                collect_owned(sub, child, path, keys + (key,), others, out)


def owned_paths(obj: Any, live: dict[str, Any] | None, managers: Iterable[str]) -> list[Path]:
    """Concrete paths in `obj` of the fields `live`'s managedFields gives to `managers`."""
    wanted = set(managers)
    entries = managed_fields(live)
    mine = [e["fieldsV1"] for e in entries if e.get("manager") in wanted]
    others = [e["fieldsV1"] for e in entries if e.get("manager") not in wanted]
    out: list[Path] = []
    for tree in mine:
        collect_owned(obj, tree, (), (), others, out)
    return out


def remove_manager_fields(
    obj: dict[str, Any] | None, live: dict[str, Any] | None, managers: Iterable[str]
) -> dict[str, Any] | None:
    """A copy of `obj` without the fields that `managers` own in `live` (managedFieldsManagers).

    Leaf fields owned by a manager go; a list item that only those managers ever touched (e.g. a
    sidecar injected by a webhook) goes whole; items co-owned with others keep the others' fields.
    """
    if obj is None:
        return None
    out: dict[str, Any] = json_copy(obj)
    delete_paths(out, owned_paths(out, live, managers))
    return out


# --------------------------------------------------------------------------------------------
# normalize


def secret_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    """Secret data/stringData nulls become "" before the copy-walk would drop them (Argo #5584)."""
    if obj.get("kind") != "Secret":
        return obj
    out = None
    for field in ("data", "stringData"):
        values = obj.get(field)
        if isinstance(values, dict) and any(v is None for v in values.values()):
            out = dict(obj) if out is None else out
            out[field] = {k: "" if v is None else v for k, v in values.items()}
    return obj if out is None else out


def fold_secret(obj: dict[str, Any]) -> None:
    """Argo's NormalizeSecret: stringData folded into base64 data; null values become ""."""
    string_data = obj.pop("stringData", None)
    data = obj.get("data")
    if isinstance(string_data, dict):
        data = dict(data) if isinstance(data, dict) else {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(v.encode()).decode("ascii") if isinstance(v, str) else v
        obj["data"] = data
    elif string_data is not None:
        obj["stringData"] = string_data  # not a map: keep it visible rather than lose it
    if isinstance(data, dict) and any(v is None for v in data.values()):
        obj["data"] = {k: "" if v is None else v for k, v in data.items()}  # copy: data may be shared


def _finish(obj: dict[str, Any], group: str, kind: str) -> None:
    """The clean-ups that must run after rules delete fields, so normalize stays idempotent."""
    md = obj.get("metadata")
    if isinstance(md, dict):
        for key in ("annotations", "labels"):
            if key in md and not md[key]:
                del md[key]
    if group == "" and kind == "Secret":
        if obj.get("data") == {}:
            del obj["data"]
    elif group == _RBAC_GROUP and kind in ("Role", "ClusterRole"):
        if not obj.get("rules"):
            obj["rules"] = None


def _copy_object(obj: dict[Any, Any], ignore_status: bool) -> dict[str, Any]:
    """json_copy of a top-level object that skips what normalisation drops anyway.

    managedFields is often as large as the spec, so not copying it halves the cost of the walk.
    """
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if type(k) is not str:
            k = json_key(k)
        if v is None or (ignore_status and k == "status"):
            continue
        if k == "metadata" and type(v) is dict:
            v = {mk: mv for mk, mv in v.items() if mk not in _METADATA_DROPPED_SET}
        out[k] = v if type(v) in (str, int, bool) else json_copy(v)
    return out


def builtin_normalize(obj: dict[str, Any], *, ignore_status: bool = True) -> None:
    """The rule-independent normalisations, in place on a JSON-clean object.

    Only containers this step changes are touched, so it is safe on an object whose untouched
    subtrees are shared with an already normalised one (diff relies on this).
    """
    group, kind, _namespace, _name = _identity(obj)
    if ignore_status:
        obj.pop("status", None)
    md = obj.get("metadata")
    if isinstance(md, dict):
        for key in _METADATA_DROPPED:
            if key in md:
                del md[key]
        annotations = md.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            del annotations[LAST_APPLIED]
    if group == "" and kind == "Secret":
        fold_secret(obj)


def apply_rules(obj: dict[str, Any], rules: Sequence[IgnoreRule]) -> None:
    """Remove, in place, the fields that matching rules' jsonPointers and jqPathExpressions select."""
    for rule in matching_rules(obj, rules):
        for pointer in rule.json_pointers:
            delete_path(obj, parse_pointer(pointer))
        for expr in rule.jq_path_expressions:
            _apply_jq(obj, expr)


def has_path_rules(obj: dict[str, Any], rules: Sequence[IgnoreRule]) -> bool:
    """Whether any rule would delete paths from `obj` (so a private copy is needed first)."""
    return any(r.json_pointers or r.jq_path_expressions for r in matching_rules(obj, rules))


def normalize(
    obj: dict[str, Any], rules: Sequence[IgnoreRule] = (), *, ignore_status: bool = True
) -> dict[str, Any]:
    """A normalised copy of `obj` (the input is never modified); idempotent.

    Positional rules (a pointer or jq path to list index N) apply once, as in Argo: a second
    pass would delete the next element, so only rules that name their target are idempotent.
    """
    if not isinstance(obj, dict):
        raise TypeError(f"normalize expects an object, got {type(obj).__name__}")
    out = _copy_object(secret_nulls(obj), ignore_status)
    builtin_normalize(out, ignore_status=ignore_status)
    if rules:
        apply_rules(out, rules)
    return finish(out)


def finish(obj: dict[str, Any]) -> dict[str, Any]:
    """Re-run the post-rule clean-ups on an already normalised object after more deletions."""
    group, kind, _namespace, _name = _identity(obj)
    _finish(obj, group, kind)
    return obj


_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(obj: Any) -> str:
    return _encoder.encode(obj)


def stable_hash(obj: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no whitespace): equal iff the JSON is equal."""
    return hashlib.sha256(_encoder.encode(obj).encode("utf-8", "surrogatepass")).hexdigest()
