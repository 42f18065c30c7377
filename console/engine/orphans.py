"""Orphaned resources (AppProject `orphanedResources`, AC:controller/appcontroller.go).

An orphan is a top-level namespaced resource in the Application's destination namespace that no
existing Application tracks, with its owned descendants (Argo iterates each orphan's hierarchy and
counts every node). Always excluded: Service `kubernetes` in `default`, ServiceAccount `default`,
ConfigMap `kube-root-ca.crt` (isKnownOrphanedResourceExclusion), the project's `ignore` entries
and kinds the project does not permit. With `warn: true` the app gets Argo's
`OrphanedResourceWarning` "Application has N orphaned resources".
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from console.cluster.api import Obj, ResourceKey
from console.engine import tracking
from console.engine.governance import projects
from console.engine.governance.projects import glob_match
from console.engine.live import LiveState

CONDITION = "OrphanedResourceWarning"
MESSAGE = "Application has %d orphaned resources"


def _known_exclusion(key: ResourceKey, project: Any) -> bool:
    if key.group == "" and key.kind == "Service" and key.name == "kubernetes" and key.namespace == "default":
        return True
    if key.group == "" and key.kind == "ServiceAccount" and key.name == "default":
        return True
    if key.group == "" and key.kind == "ConfigMap" and key.name == "kube-root-ca.crt":
        return True
    orphaned = project.spec.orphaned_resources
    for item in (orphaned.ignore if orphaned is not None else None) or []:
        if item.kind and not glob_match(item.kind, key.kind):
            continue
        if not glob_match(item.group or "", key.group):
            continue
        if item.name and not glob_match(item.name, key.name):
            continue
        return True
    return False


def orphaned_resources(
    live: LiveState, namespace: str, project: Any, known_apps: Collection[str], annotation: str
) -> list[Obj]:
    """Orphans of `namespace` (top-level objects first-level sorted, each followed by its descendants)."""
    if project is None or project.spec.orphaned_resources is None or not namespace:
        return []
    out: list[Obj] = []
    for key in sorted(live.objects, key=str):
        obj = live.objects[key]
        md = obj.get("metadata") or {}
        if key.namespace != namespace or md.get("ownerReferences"):
            continue
        if live.namespaced.get((key.group, key.kind)) is False:
            continue
        owner = tracking.app_of(obj, annotation)
        if owner and owner in known_apps:
            continue
        if _known_exclusion(key, project) or not projects.is_resource_permitted(
            project, key.group, key.kind, key.name, True
        ):
            continue
        out.append(obj)
        stack = list(reversed(live.children(obj)))
        seen = {md.get("uid")}
        while stack:
            child = stack.pop()
            uid = (child.get("metadata") or {}).get("uid")
            if uid in seen:
                continue
            seen.add(uid)
            out.append(child)
            stack.extend(reversed(live.children(child)))
    return out


def warns(project: Any) -> bool:
    orphaned = project.spec.orphaned_resources if project is not None else None
    return bool(orphaned is not None and orphaned.warn)
