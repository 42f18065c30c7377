"""managedFields (FieldsV1) read from unstructured objects: which concrete paths of an object a set
of field managers owns, for `managedFieldsManagers` rules, predicted live and drift attribution.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from console.engine import yamlsafe
from console.engine.diff.jsoncopy import json_copy
from console.engine.diff.paths import Path, delete_paths


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
