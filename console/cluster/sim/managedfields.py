"""managedFields in the real apiserver's format (FieldsV1), computed the way structured-merge-diff does.

A field set is a Python set of paths; a path is a tuple of FieldsV1 path elements exactly as they
appear as JSON keys: `f:spec`, `k:{"name":"web"}` (list-map item, keys sorted, compact JSON),
`v:"foregroundDeletion"` (set item). A path in the set means that node is owned; FieldsV1 writes
an owned node that also has owned children as `.: {}`.

Update (PUT/patch): Compare(old, new) gives added/modified/removed paths, where non-leaf nodes
are "added"/"removed" when they appear/disappear (this is where `.: {}` comes from; struct fields
that exist in the Go zero value are pre-seeded from `KindInfo.skeleton` so they never count as added).
Apply: the applier's set is exactly ToFieldSet(config).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from console.cluster.api import Conflict, StatusCause
from console.cluster.schema import SET_LISTS, item_key, list_map_keys
from console.cluster.sim.discovery import KindInfo
from console.cluster.sim.fastcopy import fast_copy

PathT = tuple[str, ...]
FieldSet = set[PathT]
Obj = dict[str, Any]

_MISSING: Any = object()

# Struct/map fields the OpenAPI schema marks atomic (x-kubernetes-map-type: atomic): owned as one leaf.
# The *Ref ones are env var sources (ObjectFieldSelector & co. are `+structType=atomic`).
_ATOMIC_MAPS = frozenset(
    {
        "selector",
        "podSelector",
        "namespaceSelector",
        "nodeSelector",
        "labelSelector",
        "fieldRef",
        "resourceFieldRef",
        "configMapKeyRef",
        "secretKeyRef",
    }
)
_STRIP_META = frozenset(
    {
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    }
)


def _atomic_map(fpath: PathT) -> bool:
    return bool(fpath) and fpath[-1] in _ATOMIC_MAPS and fpath[0] != "metadata"


def _jkey(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _list_kind(kind: str, fpath: PathT, items: list[Any]) -> tuple[str, tuple[str, ...]]:
    """('set', ()) | ('map', keys) | ('atomic', ())."""
    if fpath and fpath[-1] in SET_LISTS and all(not isinstance(i, dict | list) for i in items):
        return "set", ()
    keys = list_map_keys(kind, fpath)
    if keys and all(isinstance(i, dict) and item_key(i, keys) is not None for i in items):
        if all(None not in (item_key(i, keys) or (None,)) for i in items):
            return "map", keys
    return "atomic", ()


def _item_element(item: Obj, keys: tuple[str, ...]) -> str:
    vals = item_key(item, keys) or ()
    return "k:" + _jkey(dict(zip(keys, vals, strict=True)))


# ------------------------------------------------------------------ FieldsV1 <-> set


def to_fieldsv1(paths: Iterable[PathT]) -> Obj:
    root: Obj = {}
    members: set[int] = set()
    for p in paths:
        node = root
        for el in p:
            node = node.setdefault(el, {})
        members.add(id(node))

    def emit(node: Obj) -> Obj:
        out: Obj = {}
        if id(node) in members and node:
            out["."] = {}
        for k in sorted(node):
            out[k] = emit(node[k])
        return out

    return emit(root)


def from_fieldsv1(tree: Obj, prefix: PathT = ()) -> FieldSet:
    out: FieldSet = set()
    for k, child in (tree or {}).items():
        if k == ".":
            continue
        p = (*prefix, k)
        if not child or "." in child:
            out.add(p)
        if child:
            out |= from_fieldsv1(child, p)
    return out


def path_string(path: PathT) -> str:
    """structured-merge-diff's Path.String(): `.spec.template.spec.containers[name="web"].image`."""
    out = []
    for el in path:
        tag, body = el[:2], el[2:]
        if tag == "f:":
            out.append("." + body)
        elif tag == "k:":
            kv = json.loads(body)
            out.append("[" + ",".join(f"{k}={json.dumps(kv[k])}" for k in sorted(kv)) + "]")
        elif tag == "v:":
            out.append(f"[={body}]")
        else:
            out.append(f"[{body}]")
    return "".join(out)


# ------------------------------------------------------------------ ToFieldSet and Compare


def field_set(value: Obj, kind: str) -> FieldSet:
    """ToFieldSet: leaves, list items, empty maps and atomic values (what an applier owns)."""
    out: FieldSet = set()
    _walk(value, kind, (), (), out)
    return out


def _walk(v: Any, kind: str, path: PathT, fpath: PathT, out: FieldSet) -> None:
    if isinstance(v, dict):
        if _atomic_map(fpath):
            out.add(path)
            return
        for k, child in v.items():
            cp, cf = (*path, "f:" + k), (*fpath, k)
            if child is None or child == {}:
                out.add(cp)
            _walk(child, kind, cp, cf, out)
    elif isinstance(v, list):
        mode, keys = _list_kind(kind, fpath, v)
        if mode == "set":
            out.update((*path, "v:" + _jkey(i)) for i in v)
        elif mode == "map":
            for item in v:
                ip = (*path, _item_element(item, keys))
                out.add(ip)
                _walk(item, kind, ip, fpath, out)
        else:
            out.add(path)
    elif path:
        out.add(path)


@dataclass
class Comparison:
    added: FieldSet = field(default_factory=set)
    modified: FieldSet = field(default_factory=set)
    removed: FieldSet = field(default_factory=set)

    def filter(self, keep: Any) -> Comparison:
        return Comparison(
            {p for p in self.added if keep(p)},
            {p for p in self.modified if keep(p)},
            {p for p in self.removed if keep(p)},
        )

    @property
    def changed(self) -> FieldSet:
        return self.added | self.modified

    def empty(self) -> bool:
        return not (self.added or self.modified or self.removed)


def compare(lhs: Any, rhs: Any, kind: str) -> Comparison:
    c = Comparison()
    _cmp(lhs, rhs, kind, (), (), c)
    return c


def _shape(v: Any, fpath: PathT) -> str:
    if isinstance(v, dict):
        return "leaf" if _atomic_map(fpath) else "map"
    if isinstance(v, list):
        return "list"
    return "leaf"


def _cmp(lhs: Any, rhs: Any, kind: str, path: PathT, fpath: PathT, c: Comparison) -> None:
    ls = None if lhs is _MISSING else _shape(lhs, fpath)
    rs = None if rhs is _MISSING else _shape(rhs, fpath)
    shape = rs if ls is None else ls if rs is None else (ls if ls == rs else "leaf")
    if shape == "list":
        items = (lhs if ls else []) + (rhs if rs else [])
        mode, keys = _list_kind(kind, fpath, items)
        if mode == "atomic":
            shape = "leaf"
    if shape == "leaf":
        if lhs is _MISSING:
            c.added.add(path)
        elif rhs is _MISSING:
            c.removed.add(path)
        elif lhs != rhs:
            c.modified.add(path)
        return
    if shape == "map":
        ld = lhs if ls else {}
        rd = rhs if rs else {}
        for k in list(ld) + [k for k in rd if k not in ld]:
            _cmp(ld.get(k, _MISSING), rd.get(k, _MISSING), kind, (*path, "f:" + k), (*fpath, k), c)
    elif mode == "set":
        lset = {_jkey(i) for i in (lhs if ls else [])}
        rset = {_jkey(i) for i in (rhs if rs else [])}
        c.added.update((*path, "v:" + v) for v in rset - lset)
        c.removed.update((*path, "v:" + v) for v in lset - rset)
    else:
        lm = {_item_element(i, keys): i for i in (lhs if ls else [])}
        rm = {_item_element(i, keys): i for i in (rhs if rs else [])}
        for k in list(lm) + [k for k in rm if k not in lm]:
            _cmp(lm.get(k, _MISSING), rm.get(k, _MISSING), kind, (*path, k), fpath, c)
    if path:
        if lhs is _MISSING:
            c.added.add(path)
        elif rhs is _MISSING:
            c.removed.add(path)


# ------------------------------------------------------------------ views


def view(obj: Obj | None, info: KindInfo, subresource: str | None) -> Obj:
    """The object as the field manager sees it: system metadata stripped, status handled per
    subresource, Go zero-value structs present."""
    obj = obj or {}
    out: Obj = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _STRIP_META}
    out["metadata"] = md
    for sk in info.skeleton:
        node = out
        for part in sk:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
    if subresource is None and info.status_subresource:
        out.pop("status", None)
    return out


def keep_for(info: KindInfo, subresource: str | None) -> Any:
    """Which paths a write through this (sub)resource may own (the strategy's reset fields)."""
    if subresource == "status":
        if (info.group, info.kind) == ("apps", "Deployment"):  # annotations go through /status too
            return lambda p: bool(p) and (p[0] == "f:status" or p[:2] == ("f:metadata", "f:annotations"))
        return lambda p: bool(p) and p[0] == "f:status"
    if subresource == "scale":
        return lambda p: p[:2] == ("f:spec", "f:replicas")
    if info.status_subresource:
        return lambda p: p != ("f:metadata",) and (not p or p[0] != "f:status")
    return lambda p: p != ("f:metadata",)


# ------------------------------------------------------------------ entries


@dataclass
class Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str
    time: str
    fields: FieldSet

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (
            self.manager,
            self.operation,
            self.subresource,
            self.api_version if self.operation == "Update" else "",
        )

    def encode(self) -> Obj:
        out: Obj = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fieldsv1(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def describe(self) -> str:
        """printManager(): `"kubectl-edit" using apps/v1` for updaters, `"argocd"` for appliers."""
        s = json.dumps(self.manager)
        if self.subresource:
            s += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            s += f" using {self.api_version}"
        return s


def decode(entries: list[Obj] | None) -> list[Entry]:
    out = []
    for e in entries or []:
        out.append(
            Entry(
                str(e.get("manager", "")),
                str(e.get("operation", "Update")),
                str(e.get("apiVersion", "")),
                str(e.get("subresource", "") or ""),
                str(e.get("time", "")),
                from_fieldsv1(e.get("fieldsV1") or {}),
            )
        )
    return out


def encode(entries: list[Entry]) -> list[Obj]:
    def order(e: Entry) -> tuple[str, str, str, str, str]:
        return (e.operation, e.time, e.manager, e.api_version, e.subresource)

    return [e.encode() for e in sorted((e for e in entries if e.fields), key=order)]


def record_update(
    entries: list[Entry], cmp: Comparison, manager: str, api_version: str, subresource: str, now: str
) -> list[Entry]:
    """An Update by `manager`: it takes what it changed; others lose changed and removed fields."""
    changed, removed = cmp.changed, cmp.removed
    ident = (manager, "Update", subresource, api_version)
    own: Entry | None = None
    out = []
    for e in entries:
        e = Entry(e.manager, e.operation, e.api_version, e.subresource, e.time, e.fields - changed - removed)
        if e.identity == ident:
            own = e
        elif e.fields:
            out.append(e)
    if changed:
        prev = own.fields if own else set()
        out.append(Entry(manager, "Update", api_version, subresource, now, prev | changed))
    elif own and own.fields:
        out.append(own)
    return out


def apply_conflicts(
    entries: list[Entry], cmp: Comparison, manager: str, subresource: str
) -> dict[tuple[str, str, str, str], FieldSet]:
    ident = (manager, "Apply", subresource, "")
    out = {}
    for e in entries:
        if e.identity == ident:
            continue
        hit = e.fields & cmp.changed
        if hit:
            out[e.identity] = hit
    return out


def conflict_error(entries: list[Entry], conflicts: dict[tuple[str, str, str, str], FieldSet]) -> Conflict:
    by_id = {e.identity: e for e in entries}
    rows: list[tuple[str, str]] = []
    for ident in sorted(conflicts, key=lambda i: by_id[i].describe()):
        who = by_id[ident].describe()
        for p in sorted(conflicts[ident], key=path_string):
            rows.append((who, path_string(p)))
    causes = [
        StatusCause(field=fp, message=f"conflict with {who}", reason="FieldManagerConflict")
        for who, fp in rows
    ]
    if len(rows) == 1:
        msg = f"Apply failed with 1 conflict: conflict with {rows[0][0]}: {rows[0][1]}"
    else:
        lines: list[str] = []
        last = None
        for who, fp in rows:
            if who != last:
                lines.append(f"conflicts with {who}:")
                last = who
            lines.append(f"- {fp}")
        msg = f"Apply failed with {len(rows)} conflicts: " + "\n".join(lines)
    return Conflict(msg, causes=causes)


def record_apply(
    entries: list[Entry],
    cmp: Comparison,
    config_set: FieldSet,
    manager: str,
    api_version: str,
    subresource: str,
    force: bool,
    now: str,
    object_changed: bool,
) -> list[Entry]:
    """An Apply: conflicts (unless force), then the applier's set becomes exactly `config_set`."""
    conflicts = apply_conflicts(entries, cmp, manager, subresource)
    if conflicts and not force:
        raise conflict_error(entries, conflicts)
    ident = (manager, "Apply", subresource, "")
    prev_time = now
    out = []
    for e in entries:
        if e.identity == ident:
            prev_time = e.time
            continue
        fields = e.fields - conflicts.get(e.identity, set()) - cmp.removed
        if fields:
            out.append(Entry(e.manager, e.operation, e.api_version, e.subresource, e.time, fields))
    if config_set:
        out.append(
            Entry(
                manager,
                "Apply",
                api_version,
                subresource,
                now if object_changed else prev_time,
                set(config_set),
            )
        )
    return out


# ------------------------------------------------------------------ server-side apply merge / prune


def ssa_merge(live: Any, config: Any, kind: str, fpath: PathT = ()) -> Any:
    """Merge an apply configuration into the live object (maps recurse, list-maps merge by key,
    sets union, everything else is replaced)."""
    if isinstance(live, dict) and isinstance(config, dict) and not _atomic_map(fpath):
        out = dict(live)
        for k, v in config.items():
            out[k] = ssa_merge(live[k], v, kind, (*fpath, k)) if k in live else fast_copy(v)
        return out
    if isinstance(live, list) and isinstance(config, list):
        mode, keys = _list_kind(kind, fpath, live + config)
        if mode == "set":
            seen = [_jkey(i) for i in live]
            return list(live) + [fast_copy(i) for i in config if _jkey(i) not in seen]
        if mode == "map":
            cfg = {_item_element(i, keys): i for i in config}
            out_list = []
            for item in live:
                el = _item_element(item, keys)
                out_list.append(ssa_merge(item, cfg.pop(el), kind, fpath) if el in cfg else item)
            out_list.extend(fast_copy(i) for i in config if _item_element(i, keys) in cfg)
            return out_list
    return fast_copy(config)


def prune(obj: Obj, remove: FieldSet, owned: FieldSet, kind: str) -> Obj:
    """Drop fields the applier no longer applies and nobody else owns; then drop maps left empty."""
    obj = fast_copy(obj)
    owned_prefixes = {p[:i] for p in owned for i in range(1, len(p) + 1)}
    # Shallow paths first: a list-map item must go before its key fields do, or it can no longer
    # be found by its key (the item would stay behind as a nameless remnant of defaults).
    for p in sorted(remove, key=len):
        if p in owned_prefixes and p not in owned:
            continue
        if p in owned:
            continue
        _remove_path(obj, p, kind, owned_prefixes)
    return obj


def _remove_path(obj: Obj, path: PathT, kind: str, owned_prefixes: set[PathT]) -> None:
    chain: list[tuple[Any, Any]] = []
    node: Any = obj
    fpath: PathT = ()
    for el in path[:-1]:
        nxt, fpath = _step(node, el, kind, fpath)
        if nxt is _MISSING:
            return
        chain.append((node, el))
        node = nxt
    _delete_child(node, path[-1], kind, fpath)
    # Maps/lists left empty by the prune disappear unless someone owns them.
    for depth in range(len(chain) - 1, -1, -1):
        parent, el = chain[depth]
        child, _ = _step(parent, el, kind, fpath)
        if child in ({}, []) and path[: depth + 1] not in owned_prefixes:
            _delete_child(parent, el, kind, fpath)
        else:
            break


def _step(node: Any, el: str, kind: str, fpath: PathT) -> tuple[Any, PathT]:
    if el.startswith("f:") and isinstance(node, dict):
        return node.get(el[2:], _MISSING), (*fpath, el[2:])
    if el.startswith("k:") and isinstance(node, list):
        want = json.loads(el[2:])
        for item in node:
            if isinstance(item, dict):
                keys = tuple(sorted(want))
                if dict(zip(keys, item_key(item, keys) or (), strict=False)) == want:
                    return item, fpath
    return _MISSING, fpath


def _delete_child(node: Any, el: str, kind: str, fpath: PathT) -> None:
    if el.startswith("f:") and isinstance(node, dict):
        node.pop(el[2:], None)
    elif el.startswith("v:") and isinstance(node, list):
        val = json.loads(el[2:])
        while val in node:
            node.remove(val)
    elif el.startswith("k:") and isinstance(node, list):
        want = json.loads(el[2:])
        keys = tuple(sorted(want))
        node[:] = [
            i
            for i in node
            if not (isinstance(i, dict) and dict(zip(keys, item_key(i, keys) or (), strict=False)) == want)
        ]
