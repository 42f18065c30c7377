"""Volume controllers: dynamic provisioning and binding (~1 s after the claim is created),
pvc-protection / pv-protection finalizers, and the reclaim policy when a claim goes away."""

from __future__ import annotations

import copy
from typing import Any

from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import KCM, later, ts, update_status
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
BIND_DELAY = 1.0
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


def _drop_finalizer(core: Core, obj: Obj, name: str) -> None:
    new = copy.deepcopy(obj)
    fins = [f for f in new["metadata"].get("finalizers") or [] if f != name]
    if fins:
        new["metadata"]["finalizers"] = fins
    else:
        new["metadata"].pop("finalizers", None)
    core.write_as(new, KCM)


def _in_use(core: Core, ns: str, claim: str) -> bool:
    for pod in core.store.list_objects("", "Pod", ns):
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            if ((vol or {}).get("persistentVolumeClaim") or {}).get("claimName") == claim:
                return True
    return False


@register("", "PersistentVolumeClaim")
def reconcile(core: Core, key: Key) -> None:
    pvc = core.find(*key)
    if pvc is None:
        return
    md = pvc["metadata"]
    if md.get("deletionTimestamp"):
        if PVC_PROTECTION in (md.get("finalizers") or []) and not _in_use(core, key[2], key[3]):
            _drop_finalizer(core, pvc, PVC_PROTECTION)
        return
    if (pvc.get("status") or {}).get("phase") == "Bound":
        return
    now = core.now()
    due = later(ts(md.get("creationTimestamp")) or now, BIND_DELAY)
    if now.timestamp() < due:
        core.enqueue(key, due)
        return
    spec = pvc.get("spec") or {}
    sc_name = spec.get("storageClassName")
    sc = core.find("storage.k8s.io", "StorageClass", "", sc_name) if sc_name else None
    pv_name = spec.get("volumeName") or f"pvc-{md['uid']}"
    pv = core.find("", "PersistentVolume", "", pv_name)
    if pv is None:
        if sc is None:
            return  # no class to provision from: stays Pending, as on a real cluster
        provisioner = str(sc.get("provisioner", ""))
        pv = core.write_as(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {
                    "name": pv_name,
                    "annotations": {"pv.kubernetes.io/provisioned-by": provisioner},
                    "finalizers": [PV_PROTECTION],
                },
                "spec": {
                    "accessModes": list(spec.get("accessModes") or []),
                    "capacity": {
                        "storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
                    },
                    "claimRef": {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "name": md["name"],
                        "namespace": md["namespace"],
                        "resourceVersion": md.get("resourceVersion"),
                        "uid": md["uid"],
                    },
                    "hostPath": {
                        "path": f"/var/local-path-provisioner/{pv_name}_{md['namespace']}_{md['name']}",
                        "type": "DirectoryOrCreate",
                    },
                    "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                    "storageClassName": sc_name,
                    "volumeMode": spec.get("volumeMode", "Filesystem"),
                },
            },
            provisioner or KCM,
            create=True,
        )
    update_status(core, pv, {"phase": "Bound"})
    bound = copy.deepcopy(pvc)
    bound["spec"]["volumeName"] = pv_name
    ann = bound["metadata"].setdefault("annotations", {})
    ann.update({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"})
    if sc is not None:
        ann["volume.beta.kubernetes.io/storage-provisioner"] = str(sc.get("provisioner", ""))
        ann["volume.kubernetes.io/storage-provisioner"] = str(sc.get("provisioner", ""))
    pvc = core.write_as(bound, KCM)
    update_status(
        core,
        pvc,
        {
            "phase": "Bound",
            "accessModes": list((pv.get("spec") or {}).get("accessModes") or []),
            "capacity": dict((pv.get("spec") or {}).get("capacity") or {}),
        },
    )


@register("", "PersistentVolume")
def reconcile_pv(core: Core, key: Key) -> None:
    pv = core.find(*key)
    if pv is None:
        return
    md = pv["metadata"]
    ref = (pv.get("spec") or {}).get("claimRef") or {}
    claim = (
        core.find("", "PersistentVolumeClaim", ref.get("namespace", ""), ref.get("name", "")) if ref else None
    )
    claim_gone = bool(ref) and (claim is None or claim["metadata"].get("uid") != ref.get("uid"))
    if md.get("deletionTimestamp"):
        if PV_PROTECTION in (md.get("finalizers") or []) and (not ref or claim_gone):
            _drop_finalizer(core, pv, PV_PROTECTION)
        return
    if claim_gone:
        if (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete":
            core.delete_obj(pv)
        else:
            update_status(core, pv, {"phase": "Released"})
    elif not ref and (pv.get("status") or {}).get("phase") != "Available":
        update_status(core, pv, {"phase": "Available"})
