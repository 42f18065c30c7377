"""Watch-driven refresh for the controller: Applications in the control cluster, tracked kinds in
the workload clusters.

One daemon thread per (cluster, kind), each with its own watch stream resumed from the last
resourceVersion (relist on 410 Gone), exactly how an informer works. Threads only record *which*
app needs a refresh and wake the loop; all comparing and writing happens on the controller's
thread, so events arriving in a burst cost one refresh.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from console.cluster.api import Cluster, ClusterError, Gone, Obj, ResourceKey
from console.engine import tracking

REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
APP_API_VERSION = "trueup.dev/v1alpha1"


def spec_fingerprint(app: Obj) -> str:
    """What makes an Application event worth a refresh: its spec (status writes are our own)."""
    return json.dumps(app.get("spec") or {}, sort_keys=True, default=str)


@dataclass
class RefreshRequests:
    """Thread-safe set of apps to refresh (value: hard refresh requested) plus a wake-up event."""

    wake: threading.Event = field(default_factory=threading.Event)
    _pending: dict[str, bool] = field(default_factory=dict)
    _first: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, app: str, *, hard: bool = False) -> None:
        with self._lock:
            self._pending[app] = self._pending.get(app, False) or hard
            if self._first is None:
                self._first = time.monotonic()
        self.wake.set()

    def poke(self) -> None:
        """Wake the loop without naming an app (e.g. an operation was requested)."""
        self.wake.set()

    def age(self) -> float | None:
        with self._lock:
            return None if self._first is None else time.monotonic() - self._first

    def drain(self) -> dict[str, bool]:
        with self._lock:
            out, self._pending, self._first = self._pending, {}, None
        return out


class _KindWatch:
    """One informer-like watch loop for one kind of one cluster."""

    def __init__(
        self,
        cluster: Cluster,
        api_version: str,
        kind: str,
        namespace: str | None,
        on_event: Callable[[str, Obj], None],
        stop: threading.Event,
        *,
        timeout: float,
        on_error: Callable[[str], None],
    ) -> None:
        self.cluster = cluster
        self.api_version = api_version
        self.kind = kind
        self.namespace = namespace
        self.on_event = on_event
        self.stop = stop
        self.timeout = timeout
        self.on_error = on_error
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"watch-{cluster.name}-{kind}", daemon=True)

    def _loop(self) -> None:
        rv: str | None = None
        backoff = 0.5
        while not self.stop.is_set():
            try:
                if rv is None:
                    rv = self.cluster.list(self.api_version, self.kind, self.namespace).resource_version
                    self.ready.set()
                for ev in self.cluster.watch(
                    self.api_version,
                    self.kind,
                    self.namespace,
                    resource_version=rv,
                    timeout_seconds=self.timeout,
                ):
                    if ev.type == "ERROR":
                        rv = None  # 410 Gone delivered in-stream: relist
                        break
                    new_rv = (ev.object.get("metadata") or {}).get("resourceVersion")
                    if new_rv:
                        rv = str(new_rv)
                    if ev.type != "BOOKMARK":
                        self.on_event(ev.type, ev.object)
                    if self.stop.is_set():
                        return
                backoff = 0.5
            except Gone:
                rv = None
            except (ClusterError, OSError) as exc:
                self.ready.set()
                self.on_error(f"watch {self.kind} on cluster {self.cluster.name}: {exc}")
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)


class Watchers:
    """Starts and stops the watch threads; maps events to the Applications they concern."""

    def __init__(
        self,
        open_cluster: Callable[[str], Cluster],
        requests: RefreshRequests,
        *,
        control_cluster: str,
        namespace: str,
        tracking_annotation: str,
        timeout: float = 2.0,
        on_error: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.open_cluster = open_cluster
        self.requests = requests
        self.control_cluster = control_cluster
        self.namespace = namespace
        self.annotation = tracking_annotation
        self.timeout = timeout
        self.on_error = on_error
        self.stop_event = threading.Event()
        self._watches: dict[tuple[str, str, str], _KindWatch] = {}
        self._specs: dict[str, str] = {}
        # ResourceKey -> apps whose status lists it, per cluster (replaced whole, read by threads)
        self.index: dict[str, dict[ResourceKey, tuple[str, ...]]] = {}

    # --- lifecycle -------------------------------------------------------------------------------
    def start_control(self) -> None:
        self._start(self.control_cluster, APP_API_VERSION, "Application", self.namespace, self._on_app)

    def ensure(self, cluster_name: str, kinds: set[tuple[str, str]]) -> None:
        """Watch every (apiVersion, kind) of `kinds` on `cluster_name` (new ones start threads)."""
        for api_version, kind in sorted(kinds):
            key = (cluster_name, api_version, kind)
            if key in self._watches:
                continue

            def handler(etype: str, obj: Obj, _c: str = cluster_name) -> None:
                self._on_object(_c, etype, obj)

            self._start(cluster_name, api_version, kind, None, handler)

    def _start(
        self,
        cluster_name: str,
        api_version: str,
        kind: str,
        namespace: str | None,
        handler: Callable[[str, Obj], None],
    ) -> None:
        key = (cluster_name, api_version, kind)
        try:
            cluster = self.open_cluster(cluster_name)
        except Exception as exc:  # noqa: BLE001 - an unknown/unreachable cluster: periodic refresh covers it
            self.on_error(f"cannot watch cluster {cluster_name}: {exc}")
            return
        w = _KindWatch(
            cluster,
            api_version,
            kind,
            namespace,
            handler,
            self.stop_event,
            timeout=self.timeout,
            on_error=self.on_error,
        )
        self._watches[key] = w
        w.thread.start()

    def wait_ready(self, timeout: float = 5.0) -> None:
        """Block until every watch has listed once (tests measure latency from a known start)."""
        deadline = time.monotonic() + timeout
        for w in list(self._watches.values()):
            w.ready.wait(max(0.0, deadline - time.monotonic()))

    def close(self, join: float = 0.5) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + join
        for w in self._watches.values():
            w.thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def count(self) -> int:
        return len(self._watches)

    # --- event routing -----------------------------------------------------------------------
    def _on_app(self, etype: str, app: Obj) -> None:
        md = app.get("metadata") or {}
        name = str(md.get("name") or "")
        if not name:
            return
        if etype == "DELETED":
            self._specs.pop(name, None)
            self.requests.poke()
            return
        annotations = md.get("annotations") or {}
        refresh = annotations.get(REFRESH_ANNOTATION)
        fp = spec_fingerprint(app)
        known = self._specs.get(name)
        self._specs[name] = fp
        changed = known is not None and known != fp  # first sight: the loop compares specs itself
        if refresh is not None:
            self.requests.add(name, hard=str(refresh) == "hard")
        elif changed:
            self.requests.add(name)
        elif known is None or app.get("operation") or md.get("deletionTimestamp"):
            self.requests.poke()

    def _on_object(self, cluster_name: str, etype: str, obj: Obj) -> None:
        apps: set[str] = set()
        owner = tracking.app_of(obj, self.annotation)
        if owner:
            apps.add(owner)
        try:
            key = ResourceKey.of(obj)
        except (KeyError, TypeError, ValueError):
            key = None
        if key is not None:
            apps.update(self.index.get(cluster_name, {}).get(key, ()))
        for app in apps:
            self.requests.add(app)
