"""The only YAML (and manifest JSON) entry point of the engine: safe loading with limits.

PyYAML keeps aliases as shared references, so a 340-byte "billion laughs" document loads in
microseconds and explodes when serialised. Each document is composed once (libyaml via
CSafeLoader) and its node graph is checked before anything is constructed: expanded nesting depth
(aliases count where they are used, so a chain of anchors cannot nest deeper than the limit),
alias count and alias expansion across the stream, recursive anchors, and duplicate mapping keys
(rejected with file and line as kubectl and kustomize do; PyYAML would silently keep the last).
JSON (`.json` manifests, annotations holding JSON) gets the same size, depth and duplicate-key
rules through `load_all` / `load_json`. Violations raise `ManifestError` with the file and reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_BYTES = 8 * 1024 * 1024  # one file; Argo's default max manifest size is far larger but rarely legit
MAX_ALIASES = 10_000
MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000  # nodes added by expanding aliases, per stream; a 1 MB manifest has ~50k
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_BUSY = (-1, -1)  # memo marker: this node is being measured (an alias to it would recurse)


class ManifestError(ValueError):
    """A manifest that cannot be accepted; message names the file and the reason."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line  # 1-based line in the stream when known (duplicate keys)


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


def _quote_key(key: str) -> str:
    return '"' + key.encode("unicode_escape").decode("ascii").replace('"', '\\"')[:200] + '"'


class _Check:
    """Measures one stream's node graphs: (expanded size, height) per node, memoised by identity."""

    def __init__(self, loader: Any, source: str, max_aliases: int) -> None:
        self.loader = loader
        self.source = source
        self.max_aliases = max_aliases
        self.aliases = 0
        self.surplus = 0  # nodes added by alias expansion, whole stream
        self.memo: dict[int, tuple[int, int]] = {}

    def document(self, node: Node) -> None:
        self.memo = {}  # anchors never cross documents
        self.measure(node, 1)

    def measure(self, node: Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise ManifestError(f"{self.source}: YAML nesting deeper than {MAX_DEPTH} levels")
        seen = self.memo.get(id(node))
        if seen is not None:
            if seen is _BUSY:
                raise ManifestError(f"{self.source}: recursive YAML alias (an anchor used inside itself)")
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise ManifestError(f"{self.source}: refusing YAML with more than {self.max_aliases} aliases")
            size, height = seen
            if depth + height > MAX_DEPTH:
                raise ManifestError(
                    f"{self.source}: YAML nesting deeper than {MAX_DEPTH} levels (through aliases)"
                )
            self.surplus += size
            if self.surplus > MAX_EXPANDED_NODES:
                raise ManifestError(
                    f"{self.source}: YAML expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases "
                    "(alias bomb); refusing it"
                )
            return seen
        kind = type(node)
        if kind is ScalarNode:
            result = (1, 0)
            self.memo[id(node)] = result
            return result
        self.memo[id(node)] = _BUSY
        size, height = 1, 0
        if kind is MappingNode:
            self.duplicates(node)  # type: ignore[arg-type]  # kind is MappingNode
            children: list[Node] = [n for pair in node.value for n in pair]
        elif kind is SequenceNode:
            children = node.value
        else:  # pragma: no cover - libyaml only makes the three kinds
            children = []
        for child in children:
            child_size, child_height = self.measure(child, depth + 1)
            size += child_size
            if child_height + 1 > height:
                height = child_height + 1
        result = (size, height)
        self.memo[id(node)] = result
        return result

    def duplicates(self, node: MappingNode) -> None:
        """kubectl's rule: a mapping key defined twice is an error (merge keys `<<` excepted)."""
        first: dict[str, int] = {}
        for key_node, _ in node.value:
            if type(key_node) is not ScalarNode or key_node.tag == _MERGE_TAG:
                continue
            if key_node.tag == _STR_TAG:
                key = key_node.value
            else:  # 1 and "1", true and "true" collide once the object becomes JSON
                value = self.loader.construct_object(key_node)
                key = value if isinstance(value, str) else json.dumps(value, default=str)
            line = key_node.start_mark.line + 1
            if key in first:
                raise ManifestError(
                    f"{self.source}: line {line}: mapping key {_quote_key(key)} already defined at line {first[key]}",
                    line=line,
                )
            first[key] = line


class _DuplicateJSONKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateJSONKey(key)
            seen.add(key)
    return obj


_JSON = json.JSONDecoder(object_pairs_hook=_unique_pairs)  # built once: json.loads(**kw) builds one per call


def _json_height_ok(root: Any) -> bool:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        kind = type(node)
        values = node.values() if kind is dict else node if kind is list else ()
        for value in values:
            t = type(value)
            if t is dict or t is list:
                stack.append((value, depth + 1))
    return True


def _load_json(text: str, source: str) -> Any:
    """JSON with the YAML limits; raises ManifestError, or JSONDecodeError when `text` is not JSON."""
    try:
        doc = _JSON.decode(text)
    except RecursionError:
        raise ManifestError(f"{source}: JSON nesting deeper than {MAX_DEPTH} levels") from None
    except _DuplicateJSONKey as dup:
        try:  # JSON is YAML: the YAML path knows the line
            _load_yaml(text, source, MAX_ALIASES)
        except ManifestError as exc:
            if exc.line is not None:
                raise
        raise ManifestError(f"{source}: mapping key {_quote_key(dup.key)} already defined") from None
    if len(text) > 2 * MAX_DEPTH and not _json_height_ok(doc):  # shorter text cannot nest that deep
        raise ManifestError(f"{source}: JSON nesting deeper than {MAX_DEPTH} levels")
    return doc


def load_json(data: str | bytes, source: str = "<input>", *, max_bytes: int = MAX_BYTES) -> Any:
    """One JSON value from untrusted content (e.g. an annotation), with the manifest limits."""
    text = _check_size(data, source, max_bytes)
    try:
        return _load_json(text, source)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{source}: malformed JSON: {_short(exc)}") from None


def _load_yaml(text: str, source: str, max_aliases: int) -> list[Any]:
    loader = _Loader(text)
    check = _Check(loader, source, max_aliases)
    docs: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            check.document(node)
            doc = loader.construct_document(node)
            if doc is not None:
                docs.append(doc)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: malformed YAML: {_short(exc)}") from None
    except RecursionError:  # defensive: the depth check runs first
        raise ManifestError(f"{source}: YAML nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return docs


def load_all(
    data: str | bytes, source: str = "<input>", *, max_bytes: int = MAX_BYTES, max_aliases: int = MAX_ALIASES
) -> list[Any]:
    """All documents of a YAML (or JSON) stream; empty documents are dropped."""
    text = _check_size(data, source, max_bytes)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            doc = _load_json(text, source)
        except json.JSONDecodeError:
            pass  # YAML flow style; fall through
        else:
            return [doc] if doc is not None else []
    return _load_yaml(text, source, max_aliases)


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
