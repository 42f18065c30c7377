"""Desired vs live for one resource: predict live after apply (`predict`), normalise, hash, explain.

Unchanged resources (nearly all of them on a refresh) cost one normalising copy-walk of live,
one merge walk over desired that also drops our stale fields, and an exact equality check that
only falls back to sha256 of canonical JSON when the quick one is inconclusive. The normalised
desired object is built lazily; only modified resources get a changed-path walk, drift
attribution and, on demand, a unified YAML diff.
"""

from __future__ import annotations

import difflib
import marshal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.cluster.schema import list_map_keys
from console.engine import yamlsafe
from console.engine.diff.attribution import FieldAttribution, attribute
from console.engine.diff.ignore import IgnoreRule, apply_rules, has_path_rules, matching_rules
from console.engine.diff.jsoncopy import json_copy
from console.engine.diff.managedfields import remove_manager_fields, same_value
from console.engine.diff.masking import is_core_secret, mask_annotations_many, mask_secrets
from console.engine.diff.normalize import builtin_normalize, finish, normalize, secret_nulls, stable_hash
from console.engine.diff.paths import Path, to_pointer
from console.engine.diff.predict import merge_into_live, own_fields, pair_items

Obj = dict[str, Any]


OWN_MANAGER = "trueup"


@dataclass
class ResourceDiff:
    """The comparison of one resource. Every object in it is normalised and secret-masked.

    `changed_paths` are JSON pointers into `live` (or into `predicted` for nodes live lacks).
    `live` and `predicted` share unchanged subtrees: treat them as read-only. For resources
    without secrets, `target` (and for unmodified ones also `live`/`predicted`) is built from
    the inputs on first read, so do not mutate objects after passing them to diff_resource.
    """

    modified: bool
    target: Obj | None
    live: Obj | None
    predicted: Obj | None
    changed_paths: list[str] = field(default_factory=list)
    attributions: list[FieldAttribution] = field(default_factory=list)

    # `target` is a property installed below the class: the normalised desired object is only
    # built when someone reads it, since a refresh reads `modified` of thousands of diffs.

    @property
    def missing(self) -> bool:
        """In Git, not in the cluster (needs create)."""
        return self.target is not None and self.live is None

    @property
    def extraneous(self) -> bool:
        """In the cluster, not in Git (prune candidate)."""
        return self.target is None and self.live is not None

    def unified(self, context: int = 3, names: tuple[str, str] = ("live", "desired")) -> str:
        """Unified diff of normalised live vs predicted live as sorted-key YAML ("" if unmodified)."""
        if not self.modified:
            return ""
        before = _yaml(self.live)
        after = _yaml(self.predicted)
        return "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=names[0],
                tofile=names[1],
                n=context,
            )
        )

    def changes(self) -> list[dict[str, Any]]:
        """Field-level changes of a modified object (live -> desired), rendered by DeepDiff.

        Only called for the few objects that changed (DeepDiff is ~60x slower than the hash walk
        that decided `modified`). Values come from the masked objects, so Secret data stays hidden.
        """
        if not self.modified or self.live is None or self.predicted is None:
            return []
        from deepdiff import DeepDiff

        tree = DeepDiff(self.live, self.predicted, verbose_level=2, ignore_order=False).tree
        out: list[dict[str, Any]] = []
        kinds = {
            "values_changed": "changed",
            "type_changes": "changed",
            "dictionary_item_added": "added",
            "iterable_item_added": "added",
            "dictionary_item_removed": "removed",
            "iterable_item_removed": "removed",
        }
        for kind, levels in tree.items():
            for level in levels:
                entry: dict[str, Any] = {
                    "op": kinds.get(kind, kind),
                    "path": _pointer(level.path(output_format="list")),
                }
                if entry["op"] != "added":
                    entry["live"] = level.t1
                if entry["op"] != "removed":
                    entry["desired"] = level.t2
                out.append(entry)
        return sorted(out, key=lambda e: e["path"])


def _pointer(parts: list[Any]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Lazy:
    """A value computed on first use and then kept (shared by several fields if passed to each)."""

    __slots__ = ("_fn", "_value", "_done")

    def __init__(self, fn: Callable[[], Obj | None]) -> None:
        self._fn: Callable[[], Obj | None] | None = fn
        self._value: Obj | None = None
        self._done = False

    def get(self) -> Obj | None:
        if not self._done:
            assert self._fn is not None
            self._value, self._done, self._fn = self._fn(), True, None
        return self._value


def _lazy_field(name: str) -> property:
    slot = "_" + name

    def get(self: ResourceDiff) -> Obj | None:
        value = self.__dict__[slot]
        if isinstance(value, Lazy):
            value = self.__dict__[slot] = value.get()
        return value

    def set_(self: ResourceDiff, value: Obj | None | Lazy) -> None:
        self.__dict__[slot] = value

    return property(get, set_)


# Unmodified resources, the bulk of a refresh, keep only their inputs: the normalised objects
# are rebuilt on first read. This saves both memory and garbage-collector time.
ResourceDiff.target = _lazy_field("target")  # type: ignore[assignment]


ResourceDiff.live = _lazy_field("live")  # type: ignore[assignment]


ResourceDiff.predicted = _lazy_field("predicted")  # type: ignore[assignment]


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _yaml(obj: Obj | None) -> str:
    return "" if obj is None else yamlsafe.dump(_sorted(obj))


def _changes(
    pred: Any, live: Any, kind: str, names: tuple[str, ...], tokens: Path, out: list[tuple[Path, bool]]
) -> None:
    """Collect (path, exists-in-live) for every difference; list indices are live's when it has the item."""
    if isinstance(pred, dict) and isinstance(live, dict):
        for k, lv in live.items():
            if k in pred:
                _changes(pred[k], lv, kind, names + (k,), tokens + (k,), out)
            else:
                out.append((tokens + (k,), True))
        for k in pred:
            if k not in live:
                out.append((tokens + (k,), False))
        return
    if isinstance(pred, list) and isinstance(live, list):
        keys = list_map_keys(kind, list(names)) if names else None
        pairs = pair_items(pred, live, keys) if keys else None
        if pairs is not None:
            for li, lv in enumerate(live):
                if li in pairs:
                    _changes(pred[pairs[li]], lv, kind, names, tokens + (li,), out)
                else:
                    out.append((tokens + (li,), True))
            used = set(pairs.values())
            out.extend((tokens + (pi,), False) for pi in range(len(pred)) if pi not in used)
            return
        if len(pred) == len(live):
            for i, (pv, lv) in enumerate(zip(pred, live, strict=True)):
                _changes(pv, lv, kind, names, tokens + (i,), out)
            return
        out.append((tokens, True))
        return
    if not same_value(pred, live):
        out.append((tokens, True))


def changed_paths(predicted: Obj, live: Obj) -> list[tuple[str, bool]]:
    """JSON pointers where `predicted` and `live` differ, each with whether live has that node."""
    found: list[tuple[Path, bool]] = []
    kind = live.get("kind") if isinstance(live.get("kind"), str) else ""
    _changes(predicted, live, str(kind), (), (), found)
    return [(to_pointer(p), in_live) for p, in_live in found]


def _masked(objs: list[Obj | None], sensitive_annotations: Sequence[str]) -> list[Obj | None]:
    out = mask_secrets(objs)
    if sensitive_annotations:
        out = mask_annotations_many(out, sensitive_annotations)
    return out


def _same_json(a: Obj, b: Obj) -> bool:
    """stable_hash(a) == stable_hash(b), with a fast path for the common identical case.

    Equal marshal (format 2: no back-references) bytes of JSON-clean objects mean identical types,
    values and order, hence identical canonical JSON; `==` alone would confuse True with 1. Otherwise fall back to the hashes
    (which also settle key-order differences).
    """
    if a == b:
        try:
            if marshal.dumps(a, 2) == marshal.dumps(b, 2):
                return True
        except ValueError:
            pass
    return stable_hash(a) == stable_hash(b)


def diff_resource(
    target: Obj | None,
    live: Obj | None,
    *,
    rules: Sequence[IgnoreRule] = (),
    own_manager: str = OWN_MANAGER,
    ignore_status: bool = True,
    sensitive_annotations: Sequence[str] = (),
) -> ResourceDiff:
    """Compare desired `target` with `live` (either may be None, not both).

    `modified` is decided by comparing the canonical JSON (stable_hash) of normalised predicted
    live and normalised live, so fields ignored by `rules` never count, whichever side has them.
    Secret data (and the listed annotations) are masked in everything returned.
    """
    if target is None and live is None:
        raise ValueError("diff_resource needs a target or a live object")
    ref = target if target is not None else live
    assert ref is not None
    matched = matching_rules(ref, rules)
    managers = [m for r in matched for m in r.managed_fields_managers]
    if managers and live is not None:
        target = remove_manager_fields(target, live, managers)
        stripped_live = remove_manager_fields(live, live, managers)
    else:
        stripped_live = live

    if stripped_live is None:
        assert target is not None
        n_target = normalize(target, rules, ignore_status=ignore_status)
        t, p = _masked([n_target, json_copy(n_target)], sensitive_annotations)
        return ResourceDiff(True, t, None, p, [""], [])
    if target is None:
        n_live = normalize(stripped_live, rules, ignore_status=ignore_status)
        (lv,) = _masked([n_live], sensitive_annotations)
        return ResourceDiff(True, None, lv, None, [""], [])
    assert live is not None

    # live normalised without rules is the base predicted shares subtrees with. Path rules
    # (jsonPointers/jq) are applied to each side once, BEFORE the merge, so ignored elements of an
    # atomic list cannot shift the element-wise alignment of what remains.
    target = secret_nulls(target)  # as normalize does, so both sides fold Secret nulls alike
    base = normalize(stripped_live, (), ignore_status=ignore_status)
    path_rules = has_path_rules(target, rules) or has_path_rules(base, rules)
    if path_rules:
        merge_target = json_copy(target)
        apply_rules(merge_target, rules)
        n_live = json_copy(base)
        apply_rules(n_live, rules)
        finish(n_live)
    else:
        merge_target = target
        n_live = base
    n_pred = merge_into_live(
        merge_target, n_live, str(ref.get("kind") or ""), own_fields=own_fields(live, own_manager)
    )
    builtin_normalize(n_pred, ignore_status=ignore_status)
    finish(n_pred)
    modified = not _same_json(n_pred, n_live)
    paths: list[str] = []
    attributions: list[FieldAttribution] = []
    if modified:
        found = changed_paths(n_pred, n_live)
        paths = [p for p, _ in found]
        attributions = attribute(
            live, [p for p, in_live in found if in_live], resolve_in=n_live, own_managers=(own_manager,)
        )
    if sensitive_annotations or is_core_secret(target) or is_core_secret(live):
        n_target = normalize(target, rules, ignore_status=ignore_status)
        t, lv, p = _masked([n_target, n_live, n_pred], sensitive_annotations)
        return ResourceDiff(modified, t, lv, p, paths, attributions)
    desired = target
    lazy_target = Lazy(lambda: normalize(desired, rules, ignore_status=ignore_status))
    if modified:
        return ResourceDiff(modified, lazy_target, n_live, n_pred, paths, attributions)  # type: ignore[arg-type]
    # unmodified: predicted is canonically equal to live, so both read the same normalised live
    source = stripped_live
    lazy_live = Lazy(lambda: normalize(source, rules, ignore_status=ignore_status))
    return ResourceDiff(False, lazy_target, lazy_live, lazy_live, [], [])  # type: ignore[arg-type]


def diff_many(
    pairs: Iterable[tuple[Obj | None, Obj | None]],
    *,
    rules: Sequence[IgnoreRule] = (),
    own_manager: str = OWN_MANAGER,
    ignore_status: bool = True,
    sensitive_annotations: Sequence[str] = (),
) -> list[ResourceDiff]:
    """`diff_resource` over (target, live) pairs, in order."""
    return [
        diff_resource(
            t,
            lv,
            rules=rules,
            own_manager=own_manager,
            ignore_status=ignore_status,
            sensitive_annotations=sensitive_annotations,
        )
        for t, lv in pairs
    ]
