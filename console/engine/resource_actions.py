"""Resource actions Argo CD offers on live objects of an Application (`argocd app actions run`).

Built in: `restart` on Deployments, StatefulSets and DaemonSets, done exactly as
`kubectl rollout restart` does it (the pod template's `kubectl.kubernetes.io/restartedAt`
annotation set to now), with the RBAC action `action/<group>/<kind>/restart`. Only a resource
the Application tracks (listed in its status) can be acted on: a name typed on the command line
never reaches an object another team owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.cluster.api import Obj
from console.engine.workspace import Workspace

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
FIELD_MANAGER = "trueup-resource-action"
ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("restart",),
    ("apps", "StatefulSet"): ("restart",),
    ("apps", "DaemonSet"): ("restart",),
}


class ActionRefused(ValueError):
    """An action that does not exist for the kind, or a resource the app does not track."""


@dataclass(frozen=True)
class ResourceRef:
    group: str
    kind: str
    namespace: str
    name: str

    @property
    def text(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.group or 'core'}/{self.kind} {ns}{self.name}"


def actions_for(group: str, kind: str) -> tuple[str, ...]:
    return ACTIONS.get((group, kind), ())


def permission(ref: ResourceRef, action: str) -> str:
    """The RBAC action on `applications, <project>/<app>` (Argo: action/<group>/<kind>/<action>)."""
    return f"action/{ref.group}/{ref.kind}/{action}"


def candidates(app: Obj) -> list[ResourceRef]:
    """The app's tracked resources that have an action, in status order."""
    out = []
    for r in (app.get("status") or {}).get("resources") or []:
        if not isinstance(r, dict) or r.get("hook"):
            continue
        ref = ResourceRef(
            str(r.get("group") or ""),
            str(r.get("kind") or ""),
            str(r.get("namespace") or ""),
            str(r.get("name") or ""),
        )
        if actions_for(ref.group, ref.kind) and ref.name:
            out.append(ref)
    return out


def find(app: Obj, kind: str, name: str, namespace: str = "", group: str | None = None) -> ResourceRef:
    """The tracked resource named on the command line; ActionRefused when there is none (or two)."""
    found = [
        r
        for r in candidates(app)
        if r.kind == kind
        and r.name == name
        and (not namespace or r.namespace == namespace)
        and (group is None or r.group == group)
    ]
    app_name = (app.get("metadata") or {}).get("name")
    if not found:
        known = ", ".join(f"{r.kind}/{r.name}" for r in candidates(app)) or "none"
        raise ActionRefused(
            f"application {app_name} has no {kind} {name!r} with actions (resources with actions: {known})"
        )
    if len(found) > 1:
        raise ActionRefused(f"{kind} {name!r} of {app_name} is in several namespaces: give --namespace")
    return found[0]


def run(ws: Workspace, app: Obj, ref: ResourceRef, action: str, now: datetime) -> str:
    """Run `action` on the live object in the app's destination cluster; returns one line."""
    if action not in actions_for(ref.group, ref.kind):
        offered = ", ".join(actions_for(ref.group, ref.kind)) or "none"
        raise ActionRefused(f"{ref.kind} has no action {action!r} (actions: {offered})")
    dest = (app.get("spec") or {}).get("destination") or {}
    cfg = ws.cluster_for_destination(str(dest.get("server") or ""), str(dest.get("name") or ""))
    if cfg is None:
        raise ActionRefused(
            f"the destination cluster of {(app.get('metadata') or {}).get('name')} is not in trueup.yaml"
        )
    cluster = ws.open_cluster(cfg.name)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    patch: dict[str, Any] = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    api_version = f"{ref.group}/v1" if ref.group else "v1"
    cluster.patch(api_version, ref.kind, ref.namespace, ref.name, patch, field_manager=FIELD_MANAGER)
    return f"{ref.text} restarted (pod template restartedAt {stamp})"
