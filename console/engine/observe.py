"""What the destination cluster says about one Application: its live resource tree, the Events of
those objects, and the containers whose logs can be read.

The tree is Argo's resource tree: the managed resources from `status.resources` (sync status and
health as the last refresh wrote them, Missing ones included) with their live children found
through ownerReferences (Deployment -> ReplicaSet -> Pod), health computed by the same checker a
refresh uses. Node ids are stable (`group/kind/namespace/name`), so a view can update a tree in
place. Nothing here renders Git: reading it costs one live snapshot of the destination cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from console.cluster.api import ClusterError, LogStream, Obj, ResourceKey
from console.cluster.events import EventRecord, list_events
from console.engine.health.checker import HealthChecker
from console.engine.live import LiveState
from console.engine.workspace import Workspace, WorkspaceError

MAX_DEPTH = 6


class ObserveError(Exception):
    """The app's destination cannot be read (unknown cluster, unreachable); one clear sentence."""


@dataclass
class TreeNode:
    id: str
    group: str
    kind: str
    namespace: str
    name: str
    uid: str = ""
    version: str = ""
    sync: str = ""  # managed resources only: Synced | OutOfSync | Unknown
    health: str = ""
    health_message: str = ""
    info: str = ""  # short live facts: "2/2 ready", "Running, 3 restarts", "ImagePullBackOff"
    managed: bool = False
    requires_pruning: bool = False
    created: str = ""
    live: Obj | None = field(default=None, repr=False)
    children: list[TreeNode] = field(default_factory=list)

    def walk(self) -> Iterator[TreeNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "group": self.group,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "health": {"status": self.health, "message": self.health_message} if self.health else None,
        }
        if self.managed:
            out["status"] = self.sync
            if self.requires_pruning:
                out["requiresPruning"] = True
        if self.info:
            out["info"] = self.info
        if self.uid:
            out["uid"] = self.uid
        out["children"] = [c.to_json() for c in self.children]
        return out


def node_id(group: str, kind: str, namespace: str, name: str) -> str:
    return f"{group}/{kind}/{namespace}/{name}"


def destination_cluster(ws: Workspace, app: Obj) -> str:
    dest = (app.get("spec") or {}).get("destination") or {}
    cfg = ws.cluster_for_destination(str(dest.get("server") or ""), str(dest.get("name") or ""))
    if cfg is None:
        target = dest.get("name") or dest.get("server") or "(none)"
        raise ObserveError(
            f"application {app['metadata']['name']}: destination cluster {target} is not configured"
        )
    return cfg.name


def load_live(ws: Workspace, app: Obj) -> LiveState:
    """One snapshot of the app's destination cluster (sim: one query; real: the watch cache)."""
    name = destination_cluster(ws, app)
    try:
        return LiveState.load(ws.open_cluster(name), ws.settings.tracking_annotation)
    except ClusterError as exc:
        raise ObserveError(f'cluster "{name}" is unreachable: {exc.message}') from None
    except WorkspaceError as exc:
        raise ObserveError(f'cluster "{name}" is unavailable: {exc}') from None


def health_checker(ws: Workspace) -> HealthChecker:
    """The refresh's checker: built-ins plus the workspace's `health.lua` customisations."""
    lua: dict[str, str] = {}
    for gk, cust in ws.settings.resource_customizations.items():
        if isinstance(cust, dict) and isinstance(cust.get("health.lua"), str):
            group, _, kind = gk.rpartition("/") if "/" in gk else ("", "", gk)
            if gk == "all":
                group, kind = "*", "*"
            lua[f"{group}/{kind}"] = cust["health.lua"]
    return HealthChecker(lua)


def _pod_info(pod: Obj) -> str:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    reasons = [
        str((s.get("state") or {}).get("waiting", {}).get("reason"))
        for s in statuses
        if (s.get("state") or {}).get("waiting", {}).get("reason")
    ]
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    parts = [reasons[0] if reasons else str(status.get("phase") or "Pending")]
    if statuses:
        parts.append(f"{ready}/{len(statuses)} ready")
    if restarts:
        parts.append(f"{restarts} restart{'s' if restarts != 1 else ''}")
    return ", ".join(parts)


def _info(obj: Obj) -> str:
    kind = obj.get("kind")
    st = obj.get("status") or {}
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return _pod_info(obj)
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        return f"{int(st.get('readyReplicas') or 0)}/{want} ready"
    if kind == "DaemonSet":
        return f"{int(st.get('numberReady') or 0)}/{int(st.get('desiredNumberScheduled') or 0)} ready"
    if kind == "Job":
        if st.get("succeeded"):
            return "Complete"
        if st.get("failed"):
            return f"{st['failed']} failed"
        return "Running" if st.get("active") else ""
    return ""


def _node(obj: Obj, checker: HealthChecker, live: LiveState, depth: int) -> TreeNode:
    key = ResourceKey.of(obj)
    md = obj.get("metadata") or {}
    h = checker.resource_health(obj)
    n = TreeNode(
        id=node_id(key.group, key.kind, key.namespace, key.name),
        group=key.group,
        kind=key.kind,
        namespace=key.namespace,
        name=key.name,
        uid=str(md.get("uid") or ""),
        version=str(obj.get("apiVersion", "")).rsplit("/", 1)[-1],
        health=h.status if h else "",
        health_message=h.message if h else "",
        info=_info(obj),
        created=str(md.get("creationTimestamp") or ""),
        live=obj,
    )
    if depth < MAX_DEPTH:
        n.children = [_node(k, checker, live, depth + 1) for k in live.children(obj)]
    return n


def resource_tree(app: Obj, live: LiveState | None, checker: HealthChecker) -> list[TreeNode]:
    """Managed resources (as `status.resources` lists them) with their live children."""
    out = []
    for r in (app.get("status") or {}).get("resources") or []:
        if not isinstance(r, dict) or not r.get("kind"):
            continue
        group, kind = str(r.get("group") or ""), str(r.get("kind"))
        ns, name = str(r.get("namespace") or ""), str(r.get("name") or "")
        obj = live.get(ResourceKey(group, kind, ns, name)) if live is not None else None
        if obj is not None:
            n = _node(obj, checker, live, 0)  # type: ignore[arg-type]
        else:
            n = TreeNode(id=node_id(group, kind, ns, name), group=group, kind=kind, namespace=ns, name=name)
        h = r.get("health") or {}
        if h.get("status"):
            n.health, n.health_message = str(h["status"]), str(h.get("message") or n.health_message)
        elif obj is None:
            n.health = "Missing"
        n.version = str(r.get("version") or n.version)
        n.sync = str(r.get("status") or "")
        n.managed = True
        n.requires_pruning = bool(r.get("requiresPruning"))
        out.append(n)
    return out


def walk(tree: list[TreeNode]) -> Iterator[TreeNode]:
    for n in tree:
        yield from n.walk()


def app_events(ws: Workspace, app: Obj, tree: list[TreeNode]) -> list[EventRecord]:
    """Events about any object of the app's tree (by uid, else by kind/namespace/name)."""
    nodes = list(walk(tree))
    uids = {n.uid for n in nodes if n.uid}
    keys = {(n.kind, n.namespace, n.name) for n in nodes}
    namespaces = sorted({n.namespace for n in nodes if n.namespace})
    if not namespaces:
        return []
    cluster = ws.open_cluster(destination_cluster(ws, app))
    out: list[EventRecord] = []
    for ns in namespaces:
        try:
            events = list_events(cluster, ns)
        except ClusterError as exc:
            raise ObserveError(f"cannot read events in namespace {ns}: {exc.message}") from None
        for e in events:
            inv = e.involved
            if (inv.uid and inv.uid in uids) or (inv.kind, inv.namespace, inv.name) in keys:
                out.append(e)
    from console.cluster.events import sort_key

    out.sort(key=sort_key)
    return out


def pods(tree: list[TreeNode]) -> list[TreeNode]:
    return [n for n in walk(tree) if n.kind == "Pod" and n.group == ""]


def containers(pod: TreeNode) -> list[str]:
    spec = (pod.live or {}).get("spec") or {}
    return [str(c.get("name")) for key in ("initContainers", "containers") for c in spec.get(key) or []]


def pods_of(tree: list[TreeNode], kind: str | None = None, name: str | None = None) -> list[TreeNode]:
    """Pods of the app, or of one of its resources (`--kind Deployment --name web`): the pod
    itself, or every pod below that resource in the tree."""
    if not kind and not name:
        return pods(tree)
    matches = [
        n for n in walk(tree) if (not kind or n.kind.lower() == kind.lower()) and (not name or n.name == name)
    ]
    out: list[TreeNode] = []
    for m in matches:
        for n in m.walk():
            if n.kind == "Pod" and n.group == "" and n not in out:
                out.append(n)
    return out


def open_log(
    ws: Workspace,
    app: Obj,
    pod: TreeNode,
    container: str | None = None,
    *,
    tail: int | None = None,
    follow: bool = False,
    previous: bool = False,
) -> LogStream:
    cluster = ws.open_cluster(destination_cluster(ws, app))
    return cluster.logs(pod.namespace, pod.name, container, tail=tail, follow=follow, previous=previous)
