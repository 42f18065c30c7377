"""Container logs of sim pods (`pods/log`), consistent with each container's state.

A sim container has no process, so its log is derived: a start line naming the image, one line
per declared port, the effect of a `LOG_LEVEL` env value, a line every 30 s while it runs (plus
debug lines at `LOG_LEVEL=debug`), and for containers that exit (Job pods, crash loops) the end of
the run. Every line is a function of the pod's status and the sim time, so two readers agree and
a followed log grows as the sim clock moves. A container that never started has no log, and the
error is the one the apiserver and kubelet return (validateContainer, validateContainerLogStatus).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from console.cluster.api import BadRequest
from console.cluster.sim.clock import parse_rfc3339, rfc3339

Obj = dict[str, Any]
HEARTBEAT = 30.0
DEBUG_EVERY = 10.0
MAX_LINES = 2000  # a container's log is generated at most this far back
FOLLOW_POLL = 0.5


def select_container(pod: Obj, container: str | None) -> str:
    """The apiserver's validateContainer: the only container, or a valid name."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    all_names = [
        str(c.get("name", ""))
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(key) or []
    ]
    if not container:
        regular = spec.get("containers") or []
        if len(regular) == 1:
            return str(regular[0].get("name", ""))
        if not regular:
            raise BadRequest(f"a container name must be specified for pod {name}")
        raise BadRequest(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(all_names)}]"
        )
    if container not in all_names:
        raise BadRequest(f"container {container} is not valid for pod {name}")
    return container


def _status(pod: Obj, container: str) -> Obj | None:
    st = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for s in st.get(key) or []:
            if s.get("name") == container:
                return dict(s)
    return None


def instance(pod: Obj, container: str, previous: bool) -> Obj:
    """The container instance whose log is read (kubelet validateContainerLogStatus), as a
    {"startedAt", "finishedAt"?, "exitCode"?} dict; BadRequest with the kubelet's reason if none."""
    name = pod["metadata"]["name"]
    if not (pod.get("spec") or {}).get("nodeName"):
        raise BadRequest(f"pod {name} does not have a host assigned")
    status = _status(pod, container)
    if status is None:
        raise BadRequest(f'container "{container}" in pod "{name}" is not available')
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated")
    if previous:
        if not last or not last.get("containerID"):
            raise BadRequest(f'previous terminated container "{container}" in pod "{name}" not found')
        return dict(last)
    if state.get("running"):
        return dict(state["running"])
    if state.get("terminated"):
        return dict(state["terminated"])
    if last and last.get("containerID"):
        return dict(last)
    reason = (state.get("waiting") or {}).get("reason")
    if reason == "ErrImagePull":
        raise BadRequest(
            f'container "{container}" in pod "{name}" is waiting to start: image can\'t be pulled'
        )
    if reason == "ImagePullBackOff":
        raise BadRequest(
            f'container "{container}" in pod "{name}" is waiting to start: trying and failing to pull image'
        )
    if reason:
        raise BadRequest(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
    raise BadRequest(f'container "{container}" in pod "{name}" is waiting to start - no logs yet')


def _spec(pod: Obj, container: str) -> Obj:
    spec = pod.get("spec") or {}
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            if c.get("name") == container:
                return dict(c)
    return {}


def _num(*parts: str) -> int:
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:6], 16)


def lines_until(pod: Obj, container: str, run: Obj, until: datetime) -> list[tuple[datetime, str]]:
    """Every line the container instance `run` has written by `until`, oldest first."""
    c = _spec(pod, container)
    started = parse_rfc3339(str(run.get("startedAt")))
    finished = parse_rfc3339(str(run["finishedAt"])) if run.get("finishedAt") else None
    end = min(until, finished) if finished else until
    image = str(c.get("image", ""))
    env = {str(e.get("name")): str(e.get("value", "")) for e in c.get("env") or [] if "value" in e}
    level = env.get("LOG_LEVEL", "info").lower()
    out: list[tuple[datetime, str]] = []

    def say(at: datetime, lvl: str, text: str) -> None:
        if at <= end:
            out.append((at, f"{rfc3339(at)} {lvl} {text}"))

    say(started, "INFO", f"starting {container} (image {image})")
    if "LOG_LEVEL" in env:
        say(started, "INFO", f"log level set to {level} from LOG_LEVEL")
    command = " ".join(str(x) for x in (c.get("command") or []) + (c.get("args") or []))
    restart = (pod.get("spec") or {}).get("restartPolicy", "Always")
    one_shot = restart != "Always" or "exit 1" in command
    if one_shot:
        if command:
            say(started, "INFO", f"running: {command}")
        if finished is not None or "exit 1" in command:
            code = int(run.get("exitCode", 1 if "exit 1" in command else 0))
            at = finished or started + timedelta(seconds=1)
            say(at, "ERROR" if code else "INFO", f"exiting with status {code}")
        return out
    for i, p in enumerate(c.get("ports") or []):
        port = p.get("containerPort")
        label = f" ({p['name']})" if p.get("name") else ""
        say(started + timedelta(seconds=1 + i), "INFO", f"listening on :{port}{label}")
    step = DEBUG_EVERY if level == "debug" else HEARTBEAT
    first = started + timedelta(seconds=step)
    total = int((end - started).total_seconds() // step)
    skip = max(0, total - MAX_LINES)
    uid = str(pod["metadata"].get("name", ""))  # the name, not the uid: reproducible in a seeded sim
    for k in range(skip, total):
        at = first + timedelta(seconds=k * step)
        if level == "debug":
            say(at, "DEBUG", f"GET /ready 200 ({1 + _num(uid, container, str(k)) % 9}ms)")
        if level != "debug" or (k + 1) % 3 == 0:
            served = 40 + _num(uid, container, "req", str(k)) % 160
            say(at, "INFO", f"healthy: served {served} requests in the last {int(HEARTBEAT)}s")
    return out


class SimLogStream:
    """Iterates a container's log; with `follow`, keeps yielding as the sim clock moves until the
    container stops, the pod goes away or `close()` is called."""

    def __init__(
        self,
        read_pod: Callable[[], Obj | None],
        now: Callable[[], datetime],
        pod: Obj,
        container: str,
        run: Obj,
        *,
        tail: int | None,
        follow: bool,
    ) -> None:
        self._read_pod = read_pod
        self._now = now
        self._pod = pod
        self._container = container
        self._run = run
        self._tail = tail
        self._follow = follow
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()

    def __iter__(self) -> Iterator[str]:
        lines = lines_until(self._pod, self._container, self._run, self._now())
        if self._tail is not None:
            lines = lines[-self._tail :] if self._tail > 0 else []
        last: datetime | None = None
        seen = 0
        for _at, text in lines:
            if self._closed.is_set():
                return
            yield text
        if lines:
            last = lines[-1][0]
            seen = sum(1 for at, _ in lines if at == last)
        if not self._follow:
            return
        while not self._closed.wait(FOLLOW_POLL):
            pod = self._read_pod()
            if pod is None or pod["metadata"].get("uid") != self._pod["metadata"].get("uid"):
                return
            now = self._now()
            fresh = lines_until(pod, self._container, self._run, now)
            if last is not None:
                same = [x for x in fresh if x[0] == last][seen:]
                fresh = same + [x for x in fresh if x[0] > last]
            for at, text in fresh:
                if self._closed.is_set():
                    return
                if last is None or at > last:
                    last, seen = at, 0
                seen += 1
                yield text
            if self._run.get("finishedAt"):
                return
            try:
                current = instance(pod, self._container, False)
            except BadRequest:
                return
            if current.get("startedAt") != self._run.get("startedAt") or current.get("finishedAt"):
                self._run = current
                if current.get("finishedAt"):
                    continue
