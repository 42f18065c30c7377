"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

Strategic merge, supported subset: maps merge recursively and `null` deletes; associative lists
(console.cluster.schema.list_map_keys, e.g. containers by name, ports by port+protocol) merge item
by item; `metadata.finalizers` merges as a set; other lists are replaced. Directives honoured:
`$patch: replace|delete` on maps and list items, `$retainKeys`, `$deleteFromPrimitiveList/<f>`;
`$setElementOrder/<f>` is accepted and ignored (order of merged lists: live order, then new items).
"""

from __future__ import annotations

from typing import Any

from console.cluster.api import Invalid
from console.cluster.schema import SET_LISTS, item_key, list_map_keys
from console.cluster.sim.fastcopy import fast_copy

PathT = tuple[str, ...]


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return fast_copy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ------------------------------------------------------------------ RFC 6902


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise Invalid(f'invalid JSON pointer "{path}"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    node = doc
    for p in parts[:-1]:
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            raise Invalid(f'doc is missing path: "{path}": missing value')
    return node, parts[-1]


def _get(doc: Any, path: str) -> Any:
    node = doc
    for p in _pointer(path):
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            raise Invalid(f'doc is missing path: "{path}": missing value')
    return node


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(doc, parts, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise Invalid(f'add operation does not apply: doc is missing path: "{path}": missing value')
    else:
        raise Invalid(f'doc is missing path: "{path}": missing value')
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent, last = _parent(doc, parts, path)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise Invalid(f'remove operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def json_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    doc = fast_copy(doc)
    if not isinstance(ops, list):
        raise Invalid("json patch must be a list of operations")
    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, fast_copy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            doc = _remove(doc, path) if path else doc
            doc = _add(doc, path, fast_copy(op.get("value")))
        elif kind in ("move", "copy"):
            value = fast_copy(_get(doc, op.get("from", "")))
            if kind == "move":
                doc = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise Invalid(f"testing value {path} failed: test operation failed")
        else:
            raise Invalid(f"Unexpected kind: {kind}")
    return doc


# ------------------------------------------------------------------ strategic merge


def strategic_merge_patch(target: Any, patch: Any, kind: str, fpath: PathT = ()) -> Any:
    if not isinstance(patch, dict):
        return fast_copy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: fast_copy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [x for x in out[field] if x not in (v or [])]
            continue
        if v is None:
            out.pop(k, None)
            continue
        cur = out.get(k)
        sub = (*fpath, k)
        if isinstance(v, dict):
            merged = strategic_merge_patch(cur, v, kind, sub)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
        elif isinstance(v, list):
            out[k] = _merge_list(cur if isinstance(cur, list) else [], v, kind, sub)
        else:
            out[k] = v
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(cur: list[Any], patch: list[Any], kind: str, fpath: PathT) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [fast_copy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    if fpath and fpath[-1] in SET_LISTS:
        return list(cur) + [fast_copy(i) for i in patch if i not in cur]
    keys = list_map_keys(kind, fpath)
    if not keys or not all(isinstance(i, dict) for i in patch):
        return [fast_copy(i) for i in patch]
    out = [fast_copy(i) for i in cur]
    for item in patch:
        k = item_key(item, keys)
        idx = next((n for n, c in enumerate(out) if isinstance(c, dict) and item_key(c, keys) == k), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            out.append(strategic_merge_patch({}, item, kind, fpath))
        else:
            out[idx] = strategic_merge_patch(out[idx], item, kind, fpath)
    return out
