"""The Events kube-scheduler and the kubelet write about a pod, derived from the pod's sim state.

Every call is idempotent for a given sim time: counts and times follow from how long the
container has been in its state (image pull retries back off 10 s doubling to 300 s, as the
kubelet's image manager does; crash-loop restarts follow the pod controller's schedule), so a
reconcile that runs twice writes nothing new. Messages are the kubelet's own wording.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from console.cluster.sim.controllers import events
from console.cluster.sim.controllers.util import NODE_NAME, full_image
from console.cluster.sim.core import Core

Obj = dict[str, Any]
SCHEDULER_INSTANCE = "default-scheduler-sim-control-plane"
PULL_BACKOFF_START, PULL_BACKOFF_MAX = 10.0, 300.0
PULL_BACKOFF_AFTER = 10.0  # the pod controller reports ImagePullBackOff from then on
CRASH_BACKOFF_START, CRASH_BACKOFF_MAX = 10.0, 300.0


def scheduled(core: Core, pod: Obj) -> None:
    md = pod["metadata"]
    note = f"Successfully assigned {md.get('namespace', 'default')}/{md['name']} to {NODE_NAME}"
    events.record_new_api(
        core, pod, events.NORMAL, "Scheduled", "Binding", note, "default-scheduler", SCHEDULER_INSTANCE
    )


def _schedule(elapsed: float, first: float, cap: float) -> list[float]:
    """Offsets (from the first attempt) of every attempt made by `elapsed`: 0, first, 3*first, ..."""
    times, t, delay = [0.0], 0.0, first
    while t + delay <= elapsed:
        t += delay
        times.append(t)
        delay = min(delay * 2, cap)
    return times


def _next_after(times: list[float], first: float, cap: float) -> float:
    delay = first
    for _ in times[1:]:
        delay = min(delay * 2, cap)
    return times[-1] + delay


def _go_seconds(ms: int) -> str:
    """Go's Duration.String for whole milliseconds: 1.2s, 850ms."""
    if ms < 1000:
        return f"{ms}ms"
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".") + "s"


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:8], 16)


def pull_error(image: str) -> str:
    ref = full_image(image)
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )


def _record(
    core: Core,
    pod: Obj,
    container: str,
    etype: str,
    reason: str,
    message: str,
    *,
    count: int,
    first: datetime,
    last: datetime,
) -> None:
    events.record(
        core,
        pod,
        etype,
        reason,
        message,
        "kubelet",
        host=NODE_NAME,
        container=container,
        count=count,
        first=first,
        last=last,
    )


def _pulled_message(core: Core, pod: Obj, c: Obj) -> str:
    image = str(c.get("image", ""))
    if c.get("imagePullPolicy") != "Always":
        return f'Container image "{image}" already present on machine'
    h = _digest(image, pod["metadata"].get("uid", ""))
    took = _go_seconds(400 + h % 2400)
    size = 20_000_000 + (h % 180_000_000)
    return (
        f'Successfully pulled image "{image}" in {took} ({took} including waiting). Image size: {size} bytes.'
    )


def containers(core: Core, pod: Obj, start: datetime, now: datetime, statuses: list[Obj]) -> float | None:
    """Kubelet events for every container as of `now` (`start`: when containers start); returns
    the sim time of the next image pull retry, when one is pending."""
    spec = pod.get("spec") or {}
    by_name = {s.get("name"): s for s in statuses}
    due: float | None = None
    elapsed = (now - start).total_seconds()
    if elapsed < 0:
        return None
    for c in spec.get("containers") or []:
        name = str(c.get("name", ""))
        st = by_name.get(name) or {}
        state = st.get("state") or {}
        image = str(c.get("image", ""))
        waiting = (state.get("waiting") or {}).get("reason")
        if waiting in ("ErrImagePull", "ImagePullBackOff"):
            times = _schedule(elapsed, PULL_BACKOFF_START, PULL_BACKOFF_MAX)
            last = start + timedelta(seconds=times[-1])
            n = len(times)
            _record(
                core,
                pod,
                name,
                events.NORMAL,
                "Pulling",
                f'Pulling image "{image}"',
                count=n,
                first=start,
                last=last,
            )
            msg = f'Failed to pull image "{image}": {pull_error(image)}'
            _record(core, pod, name, events.WARNING, "Failed", msg, count=n, first=start, last=last)
            _record(
                core,
                pod,
                name,
                events.WARNING,
                "Failed",
                "Error: ErrImagePull",
                count=n,
                first=start,
                last=last,
            )
            if elapsed >= PULL_BACKOFF_AFTER:
                since = start + timedelta(seconds=PULL_BACKOFF_AFTER)
                back = max(last, since)
                msg = f'Back-off pulling image "{image}"'
                _record(core, pod, name, events.NORMAL, "BackOff", msg, count=n, first=since, last=back)
                msg = "Error: ImagePullBackOff"
                _record(core, pod, name, events.WARNING, "Failed", msg, count=n, first=since, last=back)
            nxt = (
                start + timedelta(seconds=_next_after(times, PULL_BACKOFF_START, PULL_BACKOFF_MAX))
            ).timestamp()
            due = nxt if due is None else min(due, nxt)
            continue
        if not state or waiting == "ContainerCreating":
            continue
        restarts = int(st.get("restartCount") or 0)
        runs = (
            _schedule(elapsed, CRASH_BACKOFF_START, CRASH_BACKOFF_MAX)[: restarts + 1] if restarts else [0.0]
        )
        last_run = start + timedelta(seconds=runs[-1])
        count = len(runs)
        pulled = _pulled_message(core, pod, c)
        pulled_count = count if c.get("imagePullPolicy") != "Always" else 1
        pulled_last = last_run if pulled_count > 1 else start
        _record(
            core,
            pod,
            name,
            events.NORMAL,
            "Pulled",
            pulled,
            count=pulled_count,
            first=start,
            last=pulled_last,
        )
        _record(
            core,
            pod,
            name,
            events.NORMAL,
            "Created",
            f"Created container: {name}",
            count=count,
            first=start,
            last=last_run,
        )
        _record(
            core,
            pod,
            name,
            events.NORMAL,
            "Started",
            f"Started container {name}",
            count=count,
            first=start,
            last=last_run,
        )
        if waiting == "CrashLoopBackOff":
            md = pod["metadata"]
            msg = (
                f"Back-off restarting failed container {name} in pod "
                f"{md['name']}_{md.get('namespace', '')}({md.get('uid', '')})"
            )
            crash_at = last_run
            _record(
                core,
                pod,
                name,
                events.WARNING,
                "BackOff",
                msg,
                count=max(1, restarts),
                first=start,
                last=crash_at,
            )
    return due
