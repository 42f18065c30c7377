"""Resource tracking: which Application owns a live object (argocd-features.md §5).

The owner is recorded in one annotation whose value is Argo CD's tracking id
`<app>:<group>/<kind>:<namespace>/<name>`. Keeping Argo's exact format (and parse rules) means a
cluster managed by Argo CD can be migrated by switching the annotation key to
`argocd.argoproj.io/tracking-id`, and objects copied by tools such as HNC (whose id names a
different object) are recognised as not ours and are never pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.cluster.api import split_api_version

DEFAULT_ANNOTATION = "trueup.dev/tracking-id"
ARGO_ANNOTATION = "argocd.argoproj.io/tracking-id"


@dataclass(frozen=True)
class TrackingInfo:
    """A parsed tracking id."""

    app: str
    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return tracking_id(self.app, self.group, self.kind, self.namespace, self.name)


def tracking_id(app: str, group: str, kind: str, namespace: str, name: str) -> str:
    """Argo's `BuildAppInstanceValue`: core group and cluster scope are empty strings."""
    return f"{app}:{group}/{kind}:{namespace}/{name}"


def parse_tracking_id(value: object) -> TrackingInfo | None:
    """Exactly Argo's `ParseAppInstanceValue`: 3 parts on ':', parts 2 and 3 each 2 parts on '/'.

    Anything else is not a tracking id (None), so a hand-edited or foreign annotation never makes
    an object look owned.
    """
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if len(parts) != 3:
        return None
    group_kind = parts[1].split("/")
    ns_name = parts[2].split("/")
    if len(group_kind) != 2 or len(ns_name) != 2:
        return None
    return TrackingInfo(parts[0], group_kind[0], group_kind[1], ns_name[0], ns_name[1])


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata")
    return md if isinstance(md, dict) else {}


def _annotation(obj: dict[str, Any], annotation: str) -> object:
    annotations = _metadata(obj).get("annotations")
    return annotations.get(annotation) if isinstance(annotations, dict) else None


def set_tracking(
    obj: dict[str, Any],
    app: str,
    *,
    annotation: str = DEFAULT_ANNOTATION,
    default_namespace: str = "",
    namespaced: bool = True,
) -> dict[str, Any]:
    """A copy of `obj` carrying the tracking annotation for `app`.

    The namespace in the id is the object's own, else the destination namespace the sync will
    place it in; cluster-scoped kinds always get an empty namespace (Argo: `app:/Namespace:/ns1`).
    Only the containers on the path to the annotation are copied; the rest is shared with `obj`.
    """
    group, _version = split_api_version(str(obj.get("apiVersion") or ""))
    md = dict(_metadata(obj))
    namespace = (md.get("namespace") or default_namespace) if namespaced else ""
    annotations = md.get("annotations")
    annotations = dict(annotations) if isinstance(annotations, dict) else {}
    annotations[annotation] = tracking_id(
        app, group, str(obj.get("kind") or ""), str(namespace or ""), str(md.get("name") or "")
    )
    md["annotations"] = annotations
    out = dict(obj)
    out["metadata"] = md
    return out


def tracking_of(obj: dict[str, Any], annotation: str = DEFAULT_ANNOTATION) -> TrackingInfo | None:
    """The parsed tracking id on `obj`, or None when absent or malformed."""
    return parse_tracking_id(_annotation(obj, annotation))


def app_of(obj: dict[str, Any], annotation: str = DEFAULT_ANNOTATION) -> str | None:
    """The app instance name recorded on `obj` (whether or not the id refers to `obj` itself)."""
    info = tracking_of(obj, annotation)
    return info.app if info else None


def is_self_referencing(obj: dict[str, Any], annotation: str = DEFAULT_ANNOTATION) -> bool:
    """Argo's `isSelfReferencedObj`: does the tracking id name this very object?

    An object without a (parsable) id cannot be judged and counts as self-referencing, as in Argo.
    A copy made by another controller keeps the original's id and fails this check, so it gets no
    sync status and is never pruned. The object may lack a namespace (cluster-scoped).
    """
    info = tracking_of(obj, annotation)
    if info is None:
        return True
    md = _metadata(obj)
    group, _version = split_api_version(str(obj.get("apiVersion") or ""))
    namespace = md.get("namespace") or ""
    return (
        (namespace == info.namespace or namespace == "")
        and md.get("name") == info.name
        and group == info.group
        and obj.get("kind") == info.kind
    )
