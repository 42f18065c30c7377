"""Service controller: LoadBalancer services get `status.loadBalancer.ingress` ~1 s after creation.

Addresses are data only and never routable elsewhere: `<lb_ip_prefix>N` (default 127.0.0.N) or,
with meta `lb_hostnames` true, `lb-N.<cluster>.sim.invalid`.
"""

from __future__ import annotations

from typing import Any

from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import later, ts, update_status
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
LB_DELAY = 1.0
CCM = "cloud-controller-manager"


def allocate_address(core: Core) -> Obj:
    n = int(core.store.meta_get("lb_next", 1)) + 1
    core.store.meta_set("lb_next", n)
    if core.store.meta_get("lb_hostnames", False):
        return {"hostname": f"lb-{n - 1}.{core.cluster_name}.sim.invalid"}
    prefix = str(core.store.meta_get("lb_ip_prefix", "127.0.0."))
    if not prefix.endswith("."):
        prefix += "."
    return {"ip": f"{prefix}{(n - 2) % 254 + 1}"}


@register("", "Service")
def reconcile(core: Core, key: Key) -> None:
    svc = core.find(*key)
    if svc is None or svc["metadata"].get("deletionTimestamp"):
        return
    status = svc.get("status") or {}
    ingress = (status.get("loadBalancer") or {}).get("ingress")
    if (svc.get("spec") or {}).get("type") != "LoadBalancer":
        if ingress:
            update_status(core, svc, {"loadBalancer": {}}, CCM)
        return
    if ingress:
        return
    now = core.now()
    due = later(ts(svc["metadata"].get("creationTimestamp")) or now, LB_DELAY)
    if now.timestamp() < due:
        core.enqueue(key, due)
        return
    addr = allocate_address(core)
    if "ip" in addr:
        addr["ipMode"] = "VIP"
    update_status(core, svc, {"loadBalancer": {"ingress": [addr]}}, CCM)
