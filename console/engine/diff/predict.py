"""Predicted live: desired merged INTO live, as the apiserver would keep it after our apply.

Argo CD's default diff is a three-way merge against last-applied-configuration. We use the
apiserver's own bookkeeping instead: fields only the server or other controllers set (defaults
such as Service port protocol, Deployment strategy, imagePullPolicy, clusterIP) survive and never
show as drift, while fields our field manager applied before and Git has since removed are taken
out of the prediction (a real diff).
"""

from __future__ import annotations

from typing import Any

from console.cluster.schema import SET_LISTS, item_key, list_map_keys
from console.engine.diff.jsoncopy import json_copy, json_key
from console.engine.diff.managedfields import collect_owned, managed_fields, parse_fields_key, same_value
from console.engine.diff.paths import Path, delete_paths

Obj = dict[str, Any]


def merge_into_live(desired: Any, live: Any, kind: str, *, own_fields: dict[str, Any] | None = None) -> Any:
    """`desired` applied onto `live`: maps merge, keyed lists merge by key, the rest desired wins.

    Null in desired means "not set" (the apiserver drops it). Keyed lists keep live's order for
    the items both sides have (an order-only difference is not drift) and drop live-only items
    (Git is authoritative for membership); set lists (finalizers) are a union, as server-side
    apply keeps other managers' elements. `own_fields` is our manager's FieldsV1 tree in live:
    fields it owns that desired no longer has are left out (we applied them, Git removed them).

    Every container desired contributes to is new and JSON-clean; subtrees only live has are
    shared with `live` (pass a clean `live`). Our-field removal walks along with the merge, so
    it costs one dict lookup per desired key instead of a second walk.
    """
    return _merge(desired, live, kind, (), own_fields or None)


def _subset(desired: Any, live: Any) -> bool:
    """Every field desired sets is present in live with an equal value (live may add fields)."""
    if type(desired) is dict:
        return type(live) is dict and all(
            v is None or (k in live and _subset(v, live[k])) for k, v in desired.items()
        )
    if type(desired) is list:
        return (
            type(live) is list
            and len(desired) == len(live)
            and all(_subset(d, x) for d, x in zip(desired, live, strict=True))
        )
    return same_value(desired, live)


def _merge(desired: Any, live: Any, kind: str, path: tuple[str, ...], own: dict[str, Any] | None) -> Any:
    td = type(desired)
    if td is dict and type(live) is dict:
        out = dict(live)
        for k, dv in desired.items():
            if type(k) is not str:
                k = json_key(k)
            if dv is None:
                if own is not None and k in live:
                    _drop_owned(out, k, own.get("f:" + k))
                continue
            tv = type(dv)
            if tv is str or tv is int or tv is bool:
                out[k] = dv
                continue
            lv = live.get(k)
            if lv is None:
                out[k] = json_copy(dv)
            else:
                child = own.get("f:" + k) if own is not None else None
                out[k] = _merge(dv, lv, kind, path + (k,), child if type(child) is dict and child else None)
        if own is not None:
            for k in live.keys() - desired.keys():
                _drop_owned(out, k, own.get("f:" + k))
        return out
    if td is list and type(live) is list and path:
        keys = list_map_keys(kind, path)
        if keys:
            merged = _merge_keyed(desired, live, keys, kind, path, own)
            if merged is not None:
                return merged
        elif path[-1] in SET_LISTS:
            wanted = json_copy(desired)
            out_list = [
                x
                for x in live
                if any(same_value(x, w) for w in wanted) or not (own is not None and _owns_value(own, x))
            ]
            for item in wanted:
                if not any(same_value(item, x) for x in out_list):
                    out_list.append(item)
            return out_list
        elif len(desired) == len(live):
            # Atomic list: the server defaults fields inside its elements too (NetworkPolicy
            # ports[].protocol, Ingress pathType...). Argo gets this from scheme defaulting; here an
            # element whose every desired field is present and equal in its live twin is taken as
            # live (the extra fields are server-added), anything else stays as desired.
            return [x if _subset(d, x) else json_copy(d) for d, x in zip(desired, live, strict=True)]
    return desired if td is str or td is int or td is bool else json_copy(desired)


def _owns_value(own: dict[str, Any], value: Any) -> bool:
    for key in own:
        kind, arg = parse_fields_key(key)
        if kind == "v" and same_value(arg, value):
            return True
    return False


def _drop_owned(out: dict[str, Any], k: str, child: Any) -> None:
    """Remove from `out[k]` (a live-only value) what our manager owns there, copying on write."""
    if child is None:
        return
    if type(child) is not dict or not child:
        out.pop(k, None)
        return
    value = out.get(k)
    paths: list[Path] = []
    collect_owned(value, child, (), (), [], paths)
    if paths:
        value = json_copy(value)
        delete_paths(value, paths)
        out[k] = value


def pair_items(desired: list[Any], live: list[Any], keys: tuple[str, ...]) -> dict[int, int] | None:
    """live index -> desired index, pairing the n-th occurrence of a key on each side."""
    for x in desired:
        if type(x) is not dict:
            return None
    for x in live:
        if type(x) is not dict:
            return None
    try:
        by_key: dict[tuple[Any, ...], list[int]] = {}
        for di, de in enumerate(desired):
            by_key.setdefault(item_key(de, keys) or (), []).append(di)
        seen: dict[tuple[Any, ...], int] = {}
        pairs: dict[int, int] = {}
        for li, le in enumerate(live):
            k = item_key(le, keys) or ()
            n = seen.get(k, 0)
            seen[k] = n + 1
            candidates = by_key.get(k)
            if candidates and n < len(candidates):
                pairs[li] = candidates[n]
    except TypeError:  # unhashable key values: treat the list as atomic
        return None
    return pairs


def _own_items(own: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    """Our manager's `k:{...}` children of a keyed list, by item key tuple."""
    out: dict[Any, dict[str, Any]] = {}
    if not own:
        return out
    for key, child in own.items():
        kind, arg = parse_fields_key(key)
        if kind == "k" and type(child) is dict and child:
            try:
                out[tuple(arg.get(f, "TCP" if f == "protocol" else None) for f in keys)] = child
            except TypeError:
                continue
    return out


def _merge_keyed(
    desired: list[Any],
    live: list[Any],
    keys: tuple[str, ...],
    kind: str,
    path: tuple[str, ...],
    own: dict[str, Any] | None,
) -> list[Any] | None:
    pairs = pair_items(desired, live, keys)
    if pairs is None:
        return None
    owned = _own_items(own, keys)
    if owned:
        out = [
            _merge(desired[di], live[li], kind, path, owned.get(item_key(live[li], keys) or ()))
            for li, di in pairs.items()
        ]
    else:
        out = [_merge(desired[di], live[li], kind, path, None) for li, di in pairs.items()]
    used = set(pairs.values())
    out.extend(json_copy(de) for di, de in enumerate(desired) if di not in used)
    return out


def own_fields(live: Obj, manager: str) -> dict[str, Any] | None:
    """The FieldsV1 tree `manager` applied in `live` (several entries are united).

    Only server-side *Apply* entries count: an Apply set is exactly the applied configuration, so a
    field in it that Git no longer has was really removed from Git. An *Update* entry (create, PUT,
    client-side apply) also owns every field the server defaulted, so it cannot tell "removed from
    Git" from "defaulted by the apiserver" and is ignored here.
    """
    trees = [
        e["fieldsV1"]
        for e in managed_fields(live)
        if e.get("manager") == manager and e.get("operation", "Apply") == "Apply" and not e.get("subresource")
    ]
    if not trees:
        return None
    if len(trees) == 1:
        return trees[0]
    merged: dict[str, Any] = {}
    for tree in trees:
        _unite(merged, tree)
    return merged


def _unite(into: dict[str, Any], tree: dict[str, Any]) -> None:
    """Union of FieldsV1 trees; a leaf (whole field owned) absorbs partial ownership below it."""
    for key, child in tree.items():
        if key in into and not into[key]:
            continue
        if isinstance(child, dict) and child:
            existing = into.get(key)
            if not isinstance(existing, dict):
                existing = into[key] = {}
            _unite(existing, child)
        else:
            into[key] = {}
