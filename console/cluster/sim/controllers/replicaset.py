"""ReplicaSet controller: keeps spec.replicas pods (`<rs>-<5 chars>`) and reports their state."""

from __future__ import annotations

from console.cluster.sim.controllers import events
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import (
    KCM,
    is_active,
    is_ready,
    owned,
    pod_from_template,
    update_status,
)
from console.cluster.sim.core import Core
from console.cluster.sim.labels import matches_label_selector
from console.cluster.sim.store import Key


@register("apps", "ReplicaSet")
def reconcile(core: Core, key: Key) -> None:
    rs = core.find(*key)
    if rs is None or rs["metadata"].get("deletionTimestamp"):
        return
    spec = rs.get("spec") or {}
    want = int(spec.get("replicas", 1))
    pods = [p for p in owned(core, rs, "Pod") if is_active(p)]
    ns = key[2]
    if len(pods) < want:
        template = spec.get("template") or {}
        for _ in range(want - len(pods)):
            pod = pod_from_template(template, ns, rs, generate_name=f"{rs['metadata']['name']}-")
            created = core.write_as(pod, KCM, create=True)
            pods.append(created)
            msg = f"Created pod: {created['metadata']['name']}"
            events.record(core, rs, events.NORMAL, "SuccessfulCreate", msg, "replicaset-controller")
    elif len(pods) > want:
        # Scale down: not-ready pods first, then the newest (the real controller's ranking, simplified).
        ranked = sorted(pods, key=lambda p: (is_ready(p), _neg(p["metadata"].get("creationTimestamp", ""))))
        doomed = sorted(ranked[: len(pods) - want], key=lambda p: p["metadata"]["name"])
        for p in doomed:
            core.delete_obj(p)
            msg = f"Deleted pod: {p['metadata']['name']}"
            events.record(core, rs, events.NORMAL, "SuccessfulDelete", msg, "replicaset-controller")
        pods = [p for p in pods if p not in doomed]
    pods = [core.find("", "Pod", ns, p["metadata"]["name"]) or p for p in pods]
    tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    ready = sum(1 for p in pods if is_ready(p))
    status = dict(rs.get("status") or {})
    status.update(
        {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(
                1
                for p in pods
                if matches_label_selector({"matchLabels": tlabels}, p["metadata"].get("labels") or {})
            ),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
    )
    for k in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
        if not status[k]:
            status.pop(k)
    update_status(core, rs, status)


def _neg(text: str) -> tuple[int, ...]:
    """Sort key that orders timestamps newest first."""
    return tuple(-ord(ch) for ch in text)
