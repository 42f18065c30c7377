"""Ingress controller: every Ingress gets the (single, shared) ingress controller address ~1 s after
creation, written with the field manager ingress-nginx uses."""

from __future__ import annotations

from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.service import allocate_address
from console.cluster.sim.controllers.util import later, ts, update_status
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

LB_DELAY = 1.0
MANAGER = "nginx-ingress-controller"


@register("networking.k8s.io", "Ingress")
def reconcile(core: Core, key: Key) -> None:
    ing = core.find(*key)
    if ing is None or ing["metadata"].get("deletionTimestamp"):
        return
    if ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
        return
    now = core.now()
    due = later(ts(ing["metadata"].get("creationTimestamp")) or now, LB_DELAY)
    if now.timestamp() < due:
        core.enqueue(key, due)
        return
    addr = core.store.meta_get("ingress_address")
    if not addr:
        addr = allocate_address(core)
        core.store.meta_set("ingress_address", addr)
    update_status(core, ing, {"loadBalancer": {"ingress": [dict(addr)]}}, MANAGER)
