"""The only YAML entry point of the engine: safe loading with size, alias and depth limits.

PyYAML keeps aliases as shared references, so a 340-byte "billion laughs" document loads in
microseconds and explodes when serialised. We count alias events before constructing anything
and refuse documents above the limits with a clear `ManifestError`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_BYTES = 8 * 1024 * 1024  # one file; Argo's default max manifest size is far larger but rarely legit
MAX_ALIASES = 10_000
MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000  # nodes after expanding aliases; a 1 MB manifest has ~50k


class ManifestError(ValueError):
    """A manifest that cannot be accepted; message names the file and the reason."""


def _check_events(text: str, source: str, max_aliases: int) -> None:
    """Walk parser events and compute the alias-expanded size without building anything."""
    aliases = 0
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    stack: list[list[Any]] = [[None, 0]]  # frames of [anchor, node count]
    try:
        for event in yaml.parse(io.StringIO(text), Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > max_aliases:
                    raise ManifestError(f"{source}: refusing YAML with more than {max_aliases} aliases")
                stack[-1][1] += sizes.get(event.anchor or "", 1)
            elif isinstance(event, yaml.ScalarEvent):
                stack[-1][1] += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append([event.anchor, 1])
                if len(stack) > MAX_DEPTH:
                    raise ManifestError(f"{source}: YAML nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                anchor, count = stack.pop()
                if anchor:
                    sizes[anchor] = count
                stack[-1][1] += count
            elif isinstance(event, yaml.DocumentEndEvent):
                stack[0][1] = 0
            if stack[-1][1] > MAX_EXPANDED_NODES or stack[0][1] > MAX_EXPANDED_NODES:
                raise ManifestError(
                    f"{source}: YAML expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases "
                    "(alias bomb); refusing it"
                )
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: malformed YAML: {_short(exc)}") from None


def _short(exc: Exception) -> str:
    text = str(exc).strip().replace("\n", " ")
    return " ".join(text.split())[:300]


def _check_size(data: str | bytes, source: str, max_bytes: int) -> str:
    size = len(data)
    if size > max_bytes:
        raise ManifestError(
            f"{source}: {size / 1024 / 1024:.1f} MB exceeds the {max_bytes / 1024 / 1024:.0f} MB manifest limit"
        )
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ManifestError(f"{source}: not UTF-8 text") from None
    return data


def load_all(
    data: str | bytes, source: str = "<input>", *, max_bytes: int = MAX_BYTES, max_aliases: int = MAX_ALIASES
) -> list[Any]:
    """All documents of a YAML (or JSON) stream; empty documents are dropped."""
    text = _check_size(data, source, max_bytes)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            pass  # YAML flow style; fall through
        else:
            return [doc] if doc is not None else []
    _check_events(text, source, max_aliases)
    try:
        return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: malformed YAML: {_short(exc)}") from None


def load_one(data: str | bytes, source: str = "<input>", **kw: Any) -> Any:
    docs = load_all(data, source, **kw)
    if len(docs) != 1:
        raise ManifestError(f"{source}: expected one YAML document, found {len(docs)}")
    return docs[0]


def iter_objects(docs: list[Any], source: str) -> Iterator[dict[str, Any]]:
    """Flatten documents into Kubernetes objects (expanding `kind: List`), rejecting non-objects."""
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise ManifestError(
                f"{source}: document {i + 1} is a {type(doc).__name__}, not a Kubernetes object"
            )
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            yield from iter_objects(doc["items"], source)
            continue
        yield doc


def dump(obj: Any, *, ascii_only: bool = False) -> str:
    """`ascii_only` escapes every non-ASCII character (double-quoted scalars); still exact YAML."""
    return yaml.dump(
        obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=not ascii_only
    )


def dump_all(objs: list[Any], *, ascii_only: bool = False) -> str:
    return yaml.dump_all(
        objs, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=not ascii_only
    )
