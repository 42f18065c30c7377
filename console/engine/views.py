"""Plain-data views of engine objects, shared by the CLI (json/yaml/table) and the console."""

from __future__ import annotations

from typing import Any

from console.cluster.api import Obj
from console.engine.compare import Comparison
from console.engine.health.checker import HealthChecker
from console.engine.live import LiveState


def app_summary(app: Obj, cluster_by_server: dict[str, str] | None = None) -> dict[str, Any]:
    """One Application as the `app list -o json` row (stable keys scripts rely on)."""
    spec = app.get("spec") or {}
    status = app.get("status") or {}
    dest = spec.get("destination") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    automated = (spec.get("syncPolicy") or {}).get("automated")
    auto = automated is not None and automated.get("enabled", True) is not False
    cluster = dest.get("name") or (cluster_by_server or {}).get(
        dest.get("server", ""), dest.get("server", "")
    )
    op = status.get("operationState") or {}
    return {
        "name": app["metadata"]["name"],
        "project": spec.get("project", ""),
        "cluster": cluster,
        "namespace": dest.get("namespace", ""),
        "repoURL": ((spec.get("source") or (spec.get("sources") or [{}])[0]) or {}).get("repoURL", ""),
        "path": ((spec.get("source") or (spec.get("sources") or [{}])[0]) or {}).get("path", ""),
        "targetRevision": ((spec.get("source") or (spec.get("sources") or [{}])[0]) or {}).get(
            "targetRevision", "HEAD"
        ),
        "sync": {
            "status": sync.get("status", "Unknown"),
            "revision": sync.get("revision") or (sync.get("revisions") or [""])[0],
        },
        "health": {"status": health.get("status", "Unknown"), "message": health.get("message", "")},
        "conditions": [
            {"type": c.get("type", ""), "message": c.get("message", "")}
            for c in status.get("conditions") or []
        ],
        "autoSync": auto,
        "selfHeal": bool(auto and (automated or {}).get("selfHeal")),
        "prune": bool(auto and (automated or {}).get("prune")),
        "operation": {"phase": op.get("phase", ""), "message": op.get("message", "")} if op else None,
        "reconciledAt": status.get("reconciledAt", ""),
    }


def resource_tree(cmp: Comparison, live: LiveState | None, checker: HealthChecker) -> list[dict[str, Any]]:
    """Managed resources with their live children through ownerReferences (Deployment -> RS -> Pod)."""

    def node(obj: Obj, depth: int) -> dict[str, Any]:
        md = obj.get("metadata") or {}
        h = checker.resource_health(obj)
        kids = live.children(obj) if live is not None and depth < 6 else []
        return {
            "kind": obj.get("kind", ""),
            "group": (obj.get("apiVersion", "").split("/")[0] if "/" in obj.get("apiVersion", "") else ""),
            "namespace": md.get("namespace", ""),
            "name": md.get("name", ""),
            "health": {"status": h.status, "message": h.message} if h else None,
            "children": [node(k, depth + 1) for k in kids],
        }

    out = []
    for r in cmp.resources:
        if not r.listed:
            continue
        if r.live is not None:
            n = node(r.live, 0)
        else:
            n = {
                "kind": r.key.kind,
                "group": r.key.group,
                "namespace": r.key.namespace,
                "name": r.key.name,
                "health": {"status": "Missing", "message": ""},
                "children": [],
            }
        n["status"] = r.status
        out.append(n)
    return out
