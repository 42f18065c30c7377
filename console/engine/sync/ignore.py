"""`RespectIgnoreDifferences=true`: before applying, copy the live values of ignored fields into
the target, so a sync does not revert what `ignoreDifferences` says someone else owns (Argo's
`normalizeTargetResources`). Only for objects that already exist; new objects apply Git as is.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from console.cluster.api import Obj, ResourceKey
from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.jq import jq_paths
from console.engine.diff.jsoncopy import json_copy
from console.engine.diff.paths import delete_path, parse_pointer, step

_MISSING = object()


def _get(obj: Any, path: Sequence[str | int]) -> Any:
    node = obj
    for token in path:
        ok, key = step(node, token)
        if not ok:
            return _MISSING
        node = node[key]
    return node


def _set(obj: Any, path: Sequence[str | int], value: Any) -> bool:
    """Set an existing parent's child (dict keys may be new; list indexes must exist)."""
    if not path:
        return False
    node = obj
    for token in path[:-1]:
        ok, key = step(node, token)
        if not ok:
            return False
        node = node[key]
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = copy.deepcopy(value)
        return True
    ok, key = step(node, last)
    if ok:
        node[key] = copy.deepcopy(value)
    return ok


def respect_ignore_differences(target: Obj, live: Obj | None, rules: Sequence[IgnoreRule]) -> Obj:
    """A copy of `target` whose ignored paths hold the live values (or are absent when live has
    none). managedFieldsManagers rules are left to the diff: they name owners, not paths."""
    if live is None:
        return target
    key = ResourceKey.of(target)
    matching = [r for r in rules if r.matches(key.group, key.kind, key.namespace, key.name)]
    if not matching:
        return target
    out = copy.deepcopy(target)
    live_doc = json_copy(live)
    for rule in matching:
        paths: list[list[Any]] = [list(parse_pointer(p)) for p in rule.json_pointers]
        for expr in rule.jq_path_expressions:
            try:
                paths += jq_paths(expr, live_doc)
                paths += jq_paths(expr, json_copy(out))
            except ValueError:
                continue
        for path in paths:
            if not path:
                continue
            value = _get(live_doc, path)
            if value is _MISSING:
                delete_path(out, path)
            else:
                _set(out, path, value)
    return out
