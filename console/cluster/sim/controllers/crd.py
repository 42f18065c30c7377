"""CustomResourceDefinition controllers (they run inside kube-apiserver in a real cluster): accept
names and mark the CRD Established (its kinds join discovery), and on deletion remove every
custom resource before dropping the `customresourcecleanup.apiextensions.k8s.io` finalizer."""

from __future__ import annotations

import copy
from typing import Any

from console.cluster.sim.clock import rfc3339
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import set_condition, update_status
from console.cluster.sim.core import Core
from console.cluster.sim.discovery import crd_established
from console.cluster.sim.objects import CRD_FINALIZER
from console.cluster.sim.store import Key

Obj = dict[str, Any]
MANAGER = "kube-apiserver"


@register("apiextensions.k8s.io", "CustomResourceDefinition")
def reconcile(core: Core, key: Key) -> None:
    crd = core.find(*key)
    if crd is None:
        return
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    group, kind = spec.get("group", ""), names.get("kind", "")
    now_s = rfc3339(core.now())
    status: Obj = copy.deepcopy(crd.get("status") or {})
    conds = status.get("conditions")
    if crd["metadata"].get("deletionTimestamp"):
        crs = core.store.list_objects(group, kind, None)
        for cr in crs:
            if not cr["metadata"].get("deletionTimestamp"):
                core.delete_obj(cr)
        left = core.store.list_objects(group, kind, None)
        if left:
            conds = set_condition(
                conds,
                "Terminating",
                "True",
                "InstanceDeletionInProgress",
                "CustomResource deletion is in progress",
                now_s,
            )
            status["conditions"] = conds
            update_status(core, crd, status, MANAGER)
            core.enqueue(key, core.now_ts() + 1)
            return
        final = copy.deepcopy(core.find(*key) or crd)
        fins = [f for f in final["metadata"].get("finalizers") or [] if f != CRD_FINALIZER]
        if fins:
            final["metadata"]["finalizers"] = fins
        else:
            final["metadata"].pop("finalizers", None)
        core.system_update(final)
        return
    names.setdefault("singular", kind.lower())
    names.setdefault("listKind", f"{kind}List")
    conds = set_condition(conds, "NamesAccepted", "True", "NoConflicts", "no conflicts found", now_s)
    conds = set_condition(
        conds, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted", now_s
    )
    storage = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
    stored = list(status.get("storedVersions") or [])
    for v in storage:
        if v not in stored:
            stored.append(v)
    if not crd_established(crd):
        # The kind's watch history starts now, as a real apiserver's new watch cache does: a watch
        # from an older resourceVersion gets 410 Gone (SimCluster.watch).
        core.store.meta_set(served_since_key(group, kind), core.store.current_rv())
    status.update({"acceptedNames": names, "conditions": conds, "storedVersions": stored})
    update_status(core, crd, status, MANAGER)


def served_since_key(group: str, kind: str) -> str:
    return f"served_since:{group}/{kind}"
