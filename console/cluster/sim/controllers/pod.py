"""Scheduler + kubelet for pods, on the sim clock.

- binds to `sim-node-1` at once; containers start 2 s after creation (podIP 10.244.x.y, data only)
- an image matching meta `unpullable_images` stays Waiting: ErrImagePull, then ImagePullBackOff
- restartPolicy Never/OnFailure (Job pods) terminate 3 s after creation: exit 0, or exit 1 when the
  command/args contain `exit 1` (OnFailure is treated like Never: the pod fails instead of restarting)
- restartPolicy Always with `exit 1`: CrashLoopBackOff with growing restartCount (10 s, 20 s, ... 300 s)
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from typing import Any

from console.cluster.sim.clock import rfc3339
from console.cluster.sim.controllers import kubelet_events as kev
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import (
    KUBELET,
    NODE_IP,
    NODE_NAME,
    full_image,
    later,
    set_condition,
    ts,
    unpullable,
    update_status,
)
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
START_AFTER = 2.0
JOB_RUN_FOR = 3.0
PULL_BACKOFF_AFTER = 10.0


def _hex(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def fails(container: Obj) -> bool:
    words = " ".join(str(x) for x in (container.get("command") or []) + (container.get("args") or []))
    return "exit 1" in words


def _pod_ip(core: Core) -> str:
    n = int(core.store.meta_get("pod_ip_next", 0))
    core.store.meta_set("pod_ip_next", n + 1)
    return f"10.244.{n // 250}.{n % 250 + 2}"


def _crash_restarts(elapsed: float) -> tuple[int, float]:
    """Restarts done after `elapsed` s of CrashLoopBackOff, and seconds until the next one."""
    count, t, delay = 0, 0.0, 10.0
    while t + delay <= elapsed:
        t += delay
        count += 1
        delay = min(delay * 2, 300.0)
    return count, t + delay - elapsed


@register("", "Pod")
def reconcile(core: Core, key: Key) -> None:
    pod = core.find(*key)
    if pod is None or pod["metadata"].get("deletionTimestamp"):
        return
    status: Obj = copy.deepcopy(pod.get("status") or {})
    if status.get("phase") in ("Succeeded", "Failed"):
        return
    spec = pod.get("spec") or {}
    if not spec.get("nodeName"):
        bound = copy.deepcopy(pod)
        bound["spec"]["nodeName"] = NODE_NAME
        pod = core.system_update(bound)
        spec = pod["spec"]
        kev.scheduled(core, pod)
    now = core.now()
    now_s = rfc3339(now)
    created = ts(pod["metadata"].get("creationTimestamp")) or now
    start = later(created, START_AFTER)
    conds = status.get("conditions")
    conds = set_condition(conds, "PodScheduled", "True", "", "", now_s, probe_time=False)
    status["hostIP"] = NODE_IP
    status["hostIPs"] = [{"ip": NODE_IP}]
    status.setdefault("startTime", now_s)
    containers = spec.get("containers") or []
    names = [c.get("name", "") for c in containers]
    if now.timestamp() < start:
        status["phase"] = "Pending"
        conds = set_condition(conds, "PodReadyToStartContainers", "False", "", "", now_s)
        conds = set_condition(conds, "Initialized", "True", "", "", now_s)
        msg = f"containers with unready status: [{' '.join(names)}]"
        conds = set_condition(conds, "Ready", "False", "ContainersNotReady", msg, now_s)
        conds = set_condition(conds, "ContainersReady", "False", "ContainersNotReady", msg, now_s)
        status["containerStatuses"] = [_waiting(c, "ContainerCreating", "") for c in containers]
        status["conditions"] = _order(conds)
        update_status(core, pod, status, KUBELET)
        core.enqueue(key, start)
        return
    if not status.get("podIP"):
        ip = _pod_ip(core)
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    conds = set_condition(conds, "PodReadyToStartContainers", "True", "", "", now_s)
    conds = set_condition(conds, "Initialized", "True", "", "", now_s)
    start_dt = datetime.fromtimestamp(start, tz=now.tzinfo)
    started_s = rfc3339(start_dt)
    uid = pod["metadata"]["uid"]
    restart = spec.get("restartPolicy", "Always")
    statuses: list[Obj] = []
    next_due: float | None = None
    for c in containers:
        image = str(c.get("image", ""))
        if unpullable(core, image):
            pulled_for = now.timestamp() - start
            if pulled_for < PULL_BACKOFF_AFTER:
                err = (
                    f'rpc error: code = NotFound desc = failed to pull and unpack image "{full_image(image)}": '
                    f'failed to resolve reference "{full_image(image)}": {full_image(image)}: not found'
                )
                statuses.append(_waiting(c, "ErrImagePull", err))
                next_due = start + PULL_BACKOFF_AFTER
            else:
                err = (
                    f'Back-off pulling image "{image}": ErrImagePull: rpc error: code = NotFound desc = '
                    f'failed to pull and unpack image "{full_image(image)}": not found'
                )
                statuses.append(_waiting(c, "ImagePullBackOff", err))
            continue
        cid = "containerd://" + _hex(uid, c.get("name", ""))
        image_id = full_image(image).rsplit(":", 1)[0] + "@sha256:" + _hex(image)
        base = {
            "containerID": cid,
            "image": full_image(image),
            "imageID": image_id,
            "name": c.get("name", ""),
        }
        if restart != "Always":
            done_at = later(created, JOB_RUN_FOR)
            if now.timestamp() < done_at:
                statuses.append(
                    {
                        **base,
                        "lastState": {},
                        "ready": True,
                        "restartCount": 0,
                        "started": True,
                        "state": {"running": {"startedAt": started_s}},
                    }
                )
                next_due = done_at if next_due is None else min(next_due, done_at)
            else:
                code = 1 if fails(c) else 0
                statuses.append(
                    {
                        **base,
                        "lastState": {},
                        "ready": False,
                        "restartCount": 0,
                        "started": False,
                        "state": {
                            "terminated": {
                                "containerID": cid,
                                "exitCode": code,
                                "finishedAt": rfc3339(datetime.fromtimestamp(done_at, tz=now.tzinfo)),
                                "reason": "Error" if code else "Completed",
                                "startedAt": started_s,
                            }
                        },
                    }
                )
            continue
        if fails(c):
            count, wait = _crash_restarts(now.timestamp() - start)
            delay = min(10 * 2 ** max(count - 1, 0), 300)
            msg = (
                f"back-off {delay}s restarting failed container={c.get('name')} pod={pod['metadata']['name']}_"
                f"{pod['metadata'].get('namespace', '')}({uid})"
            )
            statuses.append(
                {
                    **base,
                    "lastState": {
                        "terminated": {
                            "containerID": cid,
                            "exitCode": 1,
                            "finishedAt": now_s,
                            "reason": "Error",
                            "startedAt": started_s,
                        }
                    },
                    "ready": False,
                    "restartCount": count,
                    "started": False,
                    "state": {"waiting": {"message": msg, "reason": "CrashLoopBackOff"}},
                }
            )
            due = now.timestamp() + wait
            next_due = due if next_due is None else min(next_due, due)
            continue
        statuses.append(
            {
                **base,
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": started_s}},
            }
        )
    status["containerStatuses"] = statuses
    pull_due = kev.containers(core, pod, start_dt, now, statuses)
    if pull_due is not None:
        next_due = pull_due if next_due is None else min(next_due, pull_due)
    terminated = [s for s in statuses if "terminated" in (s.get("state") or {})]
    if containers and len(terminated) == len(containers):
        failed = any(s["state"]["terminated"]["exitCode"] for s in terminated)
        status["phase"] = "Failed" if failed else "Succeeded"
        reason = "PodFailed" if failed else "PodCompleted"
        conds = set_condition(conds, "PodReadyToStartContainers", "False", "", "", now_s)
        conds = set_condition(conds, "Initialized", "True", "PodCompleted", "", now_s)
        conds = set_condition(conds, "Ready", "False", reason, "", now_s)
        conds = set_condition(conds, "ContainersReady", "False", reason, "", now_s)
    else:
        waiting = [s["name"] for s in statuses if not s.get("ready")]
        status["phase"] = (
            "Running"
            if any("running" in (s.get("state") or {}) or s.get("restartCount") for s in statuses)
            else "Pending"
        )
        if waiting:
            msg = f"containers with unready status: [{' '.join(waiting)}]"
            conds = set_condition(conds, "Ready", "False", "ContainersNotReady", msg, now_s)
            conds = set_condition(conds, "ContainersReady", "False", "ContainersNotReady", msg, now_s)
        else:
            conds = set_condition(conds, "Ready", "True", "", "", now_s)
            conds = set_condition(conds, "ContainersReady", "True", "", "", now_s)
    status["conditions"] = _order(conds)
    status["observedGeneration"] = pod["metadata"].get("generation", 1)
    update_status(core, pod, status, KUBELET)
    if next_due is not None:
        core.enqueue(key, next_due)


_ORDER = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]


def _order(conds: list[Obj]) -> list[Obj]:
    return sorted(conds, key=lambda c: _ORDER.index(c["type"]) if c.get("type") in _ORDER else 99)


def _waiting(c: Obj, reason: str, message: str) -> Obj:
    waiting: Obj = {"reason": reason}
    if message:
        waiting["message"] = message
    return {
        "image": str(c.get("image", "")),
        "imageID": "",
        "lastState": {},
        "name": c.get("name", ""),
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": waiting},
    }
