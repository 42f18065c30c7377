"""DaemonSet controller for the sim's single node: one pod, replaced when the template changes."""

from __future__ import annotations

from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import (
    KCM,
    NODE_NAME,
    is_active,
    is_ready,
    owned,
    pod_from_template,
    template_hash,
    update_status,
)
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

REV_LABEL = "controller-revision-hash"


@register("apps", "DaemonSet")
def reconcile(core: Core, key: Key) -> None:
    ds = core.find(*key)
    if ds is None or ds["metadata"].get("deletionTimestamp"):
        return
    spec = ds["spec"]
    h = template_hash(spec.get("template") or {})
    gen = str(ds["metadata"].get("generation", 1))
    pods = [p for p in owned(core, ds, "Pod") if is_active(p)]
    for p in pods:
        if (p["metadata"].get("labels") or {}).get(REV_LABEL) != h:
            core.delete_obj(p)
    pods = [p for p in pods if (p["metadata"].get("labels") or {}).get(REV_LABEL) == h]
    if not pods:
        pod = pod_from_template(
            spec.get("template") or {},
            key[2],
            ds,
            generate_name=f"{ds['metadata']['name']}-",
            extra_labels={REV_LABEL: h, "pod-template-generation": gen},
        )
        pod["spec"]["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [NODE_NAME]}]}
                    ]
                }
            }
        }
        pods = [core.write_as(pod, KCM, create=True)]
    live = [core.find("", "Pod", key[2], p["metadata"]["name"]) or p for p in pods]
    ready = sum(1 for p in live if is_ready(p))
    status = {
        "currentNumberScheduled": len(live),
        "desiredNumberScheduled": 1,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "numberUnavailable": 1 - ready,
        "observedGeneration": ds["metadata"].get("generation", 1),
        "updatedNumberScheduled": len(live),
    }
    status = {
        k: v
        for k, v in status.items()
        if v or k in ("currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled", "numberReady")
    }
    update_status(core, ds, status)
