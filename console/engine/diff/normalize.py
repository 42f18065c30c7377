"""Normalisation before diff: strip server-owned noise and ignored fields, then hash.

A refresh compares tens of thousands of objects, almost all unchanged, so the hot path is one
direct copy-walk (`jsoncopy`, which skips what normalisation drops anyway) followed by
`stable_hash`. Rules follow Argo CD's normalizers (argocd-features.md §3.1, §3.3): Secret
`stringData` folding, empty Role rules, then `ignoreDifferences` (see `ignore`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from console.engine.diff.ignore import IgnoreRule, apply_rules, identity
from console.engine.diff.jsoncopy import json_copy, json_key

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


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
    group, kind, _namespace, _name = identity(obj)
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
    group, kind, _namespace, _name = identity(obj)
    _finish(obj, group, kind)
    return obj


_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(obj: Any) -> str:
    return _encoder.encode(obj)


def stable_hash(obj: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no whitespace): equal iff the JSON is equal."""
    return hashlib.sha256(_encoder.encode(obj).encode("utf-8", "surrogatepass")).hexdigest()
