"""StatefulSet controller: pods `<name>-0..n-1` (OrderedReady or Parallel), PVCs from
volumeClaimTemplates, ControllerRevisions, rolling update from the highest ordinal down."""

from __future__ import annotations

import copy
from typing import Any

from console.cluster.sim.controllers import events
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import (
    KCM,
    controller_ref,
    is_active,
    is_ready,
    owned,
    pod_from_template,
    template_hash,
    update_status,
)
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
REV_LABEL = "controller-revision-hash"


def _ordinal(pod: Obj, name: str) -> int | None:
    suffix = pod["metadata"]["name"][len(name) + 1 :]
    return int(suffix) if suffix.isdigit() else None


def _ensure_revision(core: Core, ss: Obj, rev_name: str) -> None:
    ns = ss["metadata"]["namespace"]
    if core.find("apps", "ControllerRevision", ns, rev_name):
        return
    existing = owned(core, ss, "ControllerRevision")
    revision = max((int(r.get("revision", 0)) for r in existing), default=0) + 1
    tpl = copy.deepcopy(ss["spec"].get("template") or {})
    tpl["$patch"] = "replace"
    core.write_as(
        {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": rev_name,
                "namespace": ns,
                "ownerReferences": [controller_ref(ss)],
                "labels": dict((ss["spec"].get("selector") or {}).get("matchLabels") or {})
                | {REV_LABEL: rev_name.rsplit("-", 1)[-1]},
            },
            "data": {"spec": {"template": tpl}},
            "revision": revision,
        },
        KCM,
        create=True,
    )


def _create_pod(core: Core, ss: Obj, i: int, rev_name: str) -> Obj:
    name = ss["metadata"]["name"]
    ns = ss["metadata"]["namespace"]
    spec = ss["spec"]
    pod_name = f"{name}-{i}"
    pod = pod_from_template(
        spec.get("template") or {},
        ns,
        ss,
        name=pod_name,
        extra_labels={
            REV_LABEL: rev_name,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(i),
        },
    )
    pod["spec"]["hostname"] = pod_name
    if spec.get("serviceName"):
        pod["spec"]["subdomain"] = spec["serviceName"]
    volumes = pod["spec"].setdefault("volumes", [])
    for vct in spec.get("volumeClaimTemplates") or []:
        vname = (vct.get("metadata") or {}).get("name", "")
        claim = f"{vname}-{name}-{i}"
        if core.find("", "PersistentVolumeClaim", ns, claim) is None:
            labels = dict((spec.get("selector") or {}).get("matchLabels") or {})
            core.write_as(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim, "namespace": ns, "labels": labels},
                    "spec": copy.deepcopy(vct.get("spec") or {}),
                },
                KCM,
                create=True,
            )
        volumes[:] = [v for v in volumes if v.get("name") != vname]
        volumes.append({"name": vname, "persistentVolumeClaim": {"claimName": claim}})
    if not volumes:
        del pod["spec"]["volumes"]
    created = core.write_as(pod, KCM, create=True)
    msg = f"create Pod {pod_name} in StatefulSet {name} successful"
    events.record(core, ss, events.NORMAL, "SuccessfulCreate", msg, "statefulset-controller")
    return created


def _delete_pod(core: Core, ss: Obj, pod: Obj) -> None:
    core.delete_obj(pod)
    msg = f"delete Pod {pod['metadata']['name']} in StatefulSet {ss['metadata']['name']} successful"
    events.record(core, ss, events.NORMAL, "SuccessfulDelete", msg, "statefulset-controller")


@register("apps", "StatefulSet")
def reconcile(core: Core, key: Key) -> None:
    ss = core.find(*key)
    if ss is None or ss["metadata"].get("deletionTimestamp"):
        return
    spec = ss["spec"]
    name = ss["metadata"]["name"]
    replicas = int(spec.get("replicas", 1))
    update_rev = f"{name}-{template_hash(spec.get('template') or {})}"
    _ensure_revision(core, ss, update_rev)
    ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
    pods: dict[int, Obj] = {}
    for p in owned(core, ss, "Pod"):
        i = _ordinal(p, name)
        if i is not None and is_active(p):
            pods[i] = p
    for i in range(replicas):
        if i not in pods:
            pods[i] = _create_pod(core, ss, i, update_rev)
            if ordered:
                break
        elif ordered and not is_ready(pods[i]):
            break
    extra = sorted((i for i in pods if i >= replicas), reverse=True)
    for i in extra:
        if ordered and not all(is_ready(pods[j]) for j in pods if j < i):
            break
        _delete_pod(core, ss, pods.pop(i))
        if ordered:
            break
    partition = int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0))
    if (
        (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
        and len(pods) == replicas
        and all(is_ready(p) for p in pods.values())
    ):
        stale = [
            i
            for i, p in pods.items()
            if i >= partition and (p["metadata"].get("labels") or {}).get(REV_LABEL) != update_rev
        ]
        if stale:
            _delete_pod(core, ss, pods.pop(max(stale)))
    live = [core.find("", "Pod", key[2], p["metadata"]["name"]) or p for p in pods.values()]
    old_status = ss.get("status") or {}
    current_rev = old_status.get("currentRevision") or update_rev
    revs = [(p["metadata"].get("labels") or {}).get(REV_LABEL) for p in live]
    updated = sum(1 for r in revs if r == update_rev)
    if updated == replicas and len(live) == replicas:
        current_rev = update_rev
    ready = sum(1 for p in live if is_ready(p))
    status: Obj = {
        "observedGeneration": ss["metadata"].get("generation", 1),
        "replicas": len(live),
        "readyReplicas": ready,
        "currentReplicas": sum(1 for r in revs if r == current_rev),
        "updatedReplicas": updated,
        "currentRevision": current_rev,
        "updateRevision": update_rev,
        "collisionCount": 0,
        "availableReplicas": ready,
    }
    status = {
        k: v
        for k, v in status.items()
        if v or k in ("replicas", "observedGeneration", "collisionCount", "availableReplicas")
    }
    update_status(core, ss, status)
