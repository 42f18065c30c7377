"""Deployment controller: ReplicaSets per pod template, rolling update / recreate, status and the
Available/Progressing conditions with the real reasons, messages and progress-deadline timing."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from console.cluster.sim.clock import rfc3339
from console.cluster.sim.controllers import events
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import (
    KCM,
    controller_ref,
    owned,
    resolve_int_or_percent,
    template_hash,
    ts,
    update_status,
)
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
HASH = "pod-template-hash"
REV = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"


def _strip_hash(template: Obj) -> Obj:
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH, None)
    return t


def _revision(rs: Obj) -> int:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REV, "0"))
    except ValueError:
        return 0


def _replicas(rs: Obj) -> int:
    return int((rs.get("spec") or {}).get("replicas", 0))


def _st(rs: Obj | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field, 0) or 0)


def _max_unavailable(d: Obj) -> int:
    spec = d["spec"]
    strat = spec.get("strategy") or {}
    replicas = int(spec.get("replicas", 1))
    if strat.get("type") != "RollingUpdate" or replicas == 0:
        return 0
    ru = strat.get("rollingUpdate") or {}
    surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
    unavail = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavail == 0:
        unavail = 1
    return min(unavail, replicas)


def _scale(core: Core, rs: Obj, d: Obj, replicas: int) -> Obj:
    ann = rs["metadata"].get("annotations") or {}
    d_replicas = int(d["spec"].get("replicas", 1))
    surge = 0
    strat = d["spec"].get("strategy") or {}
    if strat.get("type") == "RollingUpdate":
        surge = resolve_int_or_percent(
            (strat.get("rollingUpdate") or {}).get("maxSurge", "25%"), d_replicas, True
        )
    want_ann = {DESIRED: str(d_replicas), MAX: str(d_replicas + surge)}
    if _replicas(rs) == replicas and all(ann.get(k) == v for k, v in want_ann.items()):
        return rs
    old = _replicas(rs)
    new = copy.deepcopy(rs)
    new["spec"]["replicas"] = replicas
    new["metadata"].setdefault("annotations", {}).update(want_ann)
    out = core.write_as(new, KCM)
    if old != replicas:
        way = "up" if replicas > old else "down"
        msg = f"Scaled {way} replica set {rs['metadata']['name']} from {old} to {replicas}"
        events.record(core, d, events.NORMAL, "ScalingReplicaSet", msg, "deployment-controller")
    return out


def _set(
    conds: list[Obj], ctype: str, status: str, reason: str, msg: str, now: str, *, force: bool = False
) -> list[Obj]:
    """deploymentutil.SetDeploymentCondition (no-op when status and reason are unchanged)."""
    cur = next((c for c in conds if c.get("type") == ctype), None)
    if cur and cur.get("status") == status and cur.get("reason") == reason and not force:
        return conds
    new = {
        "type": ctype,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": cur["lastTransitionTime"] if cur and cur.get("status") == status else now,
        "reason": reason,
        "message": msg,
    }
    return [c for c in conds if c.get("type") != ctype] + [new]


@register("apps", "Deployment")
def reconcile(core: Core, key: Key) -> None:
    d = core.find(*key)
    if d is None or d["metadata"].get("deletionTimestamp"):
        return
    now = core.now()
    now_s = rfc3339(now)
    spec = d["spec"]
    name = d["metadata"]["name"]
    ns = key[2]
    replicas = int(spec.get("replicas", 1))
    template = spec.get("template") or {}
    paused = bool(spec.get("paused"))
    old_status = copy.deepcopy(d.get("status") or {})
    conds: list[Obj] = list(old_status.get("conditions") or [])
    rss = owned(core, d, "ReplicaSet")
    new_rs = next(
        (rs for rs in rss if _strip_hash((rs.get("spec") or {}).get("template") or {}) == template), None
    )
    max_rev = max((_revision(rs) for rs in rss), default=0)
    if new_rs is None and not paused:
        collision = int(old_status.get("collisionCount", 0) or 0)
        h = template_hash(template, collision)
        rs_template = copy.deepcopy(template)
        rs_template.setdefault("metadata", {}).setdefault("labels", {})[HASH] = h
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH] = h
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[HASH] = h
        start = 0 if any(_replicas(rs) for rs in rss) else replicas
        rs_obj: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{name}-{h}",
                "namespace": ns,
                "labels": labels,
                "annotations": {REV: str(max_rev + 1), DESIRED: str(replicas), MAX: str(replicas)},
                "ownerReferences": [controller_ref(d)],
            },
            "spec": {"replicas": start, "selector": selector, "template": rs_template},
        }
        if spec.get("minReadySeconds"):
            rs_obj["spec"]["minReadySeconds"] = spec["minReadySeconds"]
        new_rs = core.write_as(rs_obj, KCM, create=True)
        if start:
            msg = f"Scaled up replica set {new_rs['metadata']['name']} from 0 to {start}"
            events.record(core, d, events.NORMAL, "ScalingReplicaSet", msg, "deployment-controller")
        rss.append(new_rs)
        conds = _set(
            conds,
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            f'Created new replica set "{new_rs["metadata"]["name"]}"',
            now_s,
        )
    elif new_rs is not None:
        if _revision(new_rs) < max_rev:
            bumped = copy.deepcopy(new_rs)
            bumped["metadata"].setdefault("annotations", {})[REV] = str(max_rev + 1)
            new_rs = core.write_as(bumped, KCM)
            rss = [new_rs if rs["metadata"]["uid"] == new_rs["metadata"]["uid"] else rs for rs in rss]
        if not any(c.get("type") == "Progressing" for c in conds) and spec.get("progressDeadlineSeconds"):
            conds = _set(
                conds,
                "Progressing",
                "True",
                "FoundNewReplicaSet",
                f'Found new replica set "{new_rs["metadata"]["name"]}"',
                now_s,
            )
    old_rss = [rs for rs in rss if new_rs is None or rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]

    # Revision annotation on the Deployment, written through /status (UpdateStatus), as the real
    # controller does: it lands in the status entry of managedFields and bumps no generation.
    if new_rs is not None:
        rev = str(_revision(new_rs))
        if ((d["metadata"].get("annotations") or {}).get(REV)) != rev:
            annotated = copy.deepcopy(d)
            annotated["metadata"].setdefault("annotations", {})[REV] = rev
            d = core.write_as(annotated, KCM, subresource="status")

    if not paused and new_rs is not None:
        new_rs, old_rss = _rollout(core, d, new_rs, old_rss, replicas)
    elif paused and new_rs is not None and not any(_replicas(rs) for rs in old_rss):
        new_rs = _scale(core, new_rs, d, replicas)
    _cleanup(core, d, old_rss)

    all_rs = [
        core.find("apps", "ReplicaSet", ns, rs["metadata"]["name"]) or rs
        for rs in ([new_rs] if new_rs else []) + old_rss
    ]
    new_rs_live = all_rs[0] if new_rs else None
    available = sum(_st(rs, "availableReplicas") for rs in all_rs)
    total_spec = sum(_replicas(rs) for rs in all_rs)
    status: Obj = {
        "observedGeneration": d["metadata"].get("generation", 1),
        "replicas": sum(_st(rs, "replicas") for rs in all_rs),
        "updatedReplicas": _st(new_rs_live, "replicas"),
        "readyReplicas": sum(_st(rs, "readyReplicas") for rs in all_rs),
        "availableReplicas": available,
        "unavailableReplicas": max(0, total_spec - available),
    }
    if old_status.get("collisionCount"):
        status["collisionCount"] = old_status["collisionCount"]
    if available >= replicas - _max_unavailable(d):
        conds = _set(
            conds,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now_s,
        )
    else:
        conds = _set(
            conds,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now_s,
        )
    deadline = spec.get("progressDeadlineSeconds")
    rs_name = new_rs_live["metadata"]["name"] if new_rs_live else None
    cur = next((c for c in conds if c.get("type") == "Progressing"), None)
    if paused:
        if not cur or cur.get("reason") != "DeploymentPaused":
            conds = _set(conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now_s)
    elif cur and cur.get("reason") == "DeploymentPaused":
        conds = _set(conds, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now_s)
    elif deadline is not None:
        complete = (
            status["updatedReplicas"] == replicas and status["replicas"] == replicas and available == replicas
        )
        old_old = int(old_status.get("replicas", 0)) - int(old_status.get("updatedReplicas", 0))
        new_old = status["replicas"] - status["updatedReplicas"]
        progressing = (
            status["updatedReplicas"] > int(old_status.get("updatedReplicas", 0))
            or new_old < old_old
            or status["readyReplicas"] > int(old_status.get("readyReplicas", 0))
            or available > int(old_status.get("availableReplicas", 0))
        )
        what = f'ReplicaSet "{rs_name}"' if rs_name else f'Deployment "{d["metadata"]["name"]}"'
        if complete:
            conds = _set(
                conds,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f"{what} has successfully progressed.",
                now_s,
            )
        elif progressing:
            conds = _set(
                conds,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f"{what} is progressing.",
                now_s,
                force=True,
            )
        elif cur and cur.get("reason") != "NewReplicaSetAvailable":
            last = ts(cur.get("lastUpdateTime"))
            if cur.get("reason") == "ProgressDeadlineExceeded" or (
                last and last + timedelta(seconds=int(deadline)) < now
            ):
                conds = _set(
                    conds,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f"{what} has timed out progressing.",
                    now_s,
                )
        cur = next((c for c in conds if c.get("type") == "Progressing"), None)
        if cur and cur.get("status") == "True" and cur.get("reason") != "NewReplicaSetAvailable":
            last = ts(cur.get("lastUpdateTime")) or now
            core.enqueue(key, (last + timedelta(seconds=int(deadline) + 1)).timestamp())
    status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
    if conds:
        status["conditions"] = conds
    update_status(core, d, status)


def _rollout(core: Core, d: Obj, new_rs: Obj, old_rss: list[Obj], replicas: int) -> tuple[Obj, list[Obj]]:
    spec = d["spec"]
    strat = spec.get("strategy") or {}
    if strat.get("type") == "Recreate":
        old_rss = [_scale(core, rs, d, 0) if _replicas(rs) else rs for rs in old_rss]
        if not any(
            _st(
                core.find("apps", "ReplicaSet", rs["metadata"]["namespace"], rs["metadata"]["name"]),
                "replicas",
            )
            for rs in old_rss
        ):
            new_rs = _scale(core, new_rs, d, replicas)
        return new_rs, old_rss
    ru = strat.get("rollingUpdate") or {}
    surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
    max_unavail = _max_unavailable(d)
    # Scale up the new ReplicaSet within maxSurge.
    total = _replicas(new_rs) + sum(_replicas(rs) for rs in old_rss)
    if _replicas(new_rs) > replicas:
        new_rs = _scale(core, new_rs, d, replicas)
    elif _replicas(new_rs) < replicas:
        room = max(0, replicas + surge - total)
        new_rs = _scale(core, new_rs, d, min(replicas, _replicas(new_rs) + room))
    elif not old_rss:
        new_rs = _scale(core, new_rs, d, replicas)
    # Scale down old ReplicaSets as far as availability allows (unhealthy replicas first).
    min_available = replicas - max_unavail
    live_new = (
        core.find("apps", "ReplicaSet", new_rs["metadata"]["namespace"], new_rs["metadata"]["name"]) or new_rs
    )
    new_unavailable = _replicas(live_new) - _st(live_new, "availableReplicas")
    all_pods = _replicas(live_new) + sum(_replicas(rs) for rs in old_rss)
    budget = max(0, all_pods - min_available - new_unavailable)
    out = []
    for rs in sorted(old_rss, key=lambda r: r["metadata"].get("creationTimestamp", "")):
        unhealthy = max(0, _replicas(rs) - _st(rs, "availableReplicas"))
        cut = min(unhealthy, budget)
        budget -= cut
        if cut:
            rs = _scale(core, rs, d, _replicas(rs) - cut)
        out.append(rs)
    available = _st(live_new, "availableReplicas") + sum(_st(rs, "availableReplicas") for rs in out)
    budget = max(0, available - min_available)
    final = []
    for rs in out:
        cut = min(_replicas(rs), budget)
        budget -= cut
        if cut:
            rs = _scale(core, rs, d, _replicas(rs) - cut)
        final.append(rs)
    return new_rs, final


def _cleanup(core: Core, d: Obj, old_rss: list[Obj]) -> None:
    limit = int(d["spec"].get("revisionHistoryLimit", 10))
    idle = [rs for rs in old_rss if not _replicas(rs) and not _st(rs, "replicas")]
    idle.sort(key=_revision)
    for rs in idle[: max(0, len(idle) - limit)]:
        core.delete_obj(rs)
