"""Watch-based cache of a real cluster's live objects, feeding the engine's LiveState.

Listing every kind each refresh cycle costs ~50 requests and seconds on a big cluster; Argo CD keeps
a watch-based cluster cache for the same reason. Each tracked kind is listed once, then a daemon
thread watches from that resourceVersion (relist on 410 Gone, capped exponential backoff on errors).

Memory: objects are kept as compact JSON bytes (exactly what the server sent, managedFields included,
since drift attribution needs them), not as Python dicts. Measured with tracemalloc (CPython 3.11):
10,000 Deployments of ~3 KB JSON (managedFields + status) hold ~32 MB packed versus ~220 MB as dicts;
10,000 small ConfigMaps (~0.5 KB) ~6 MB. Roughly 1.1x the JSON size, so ~1 GB per ~300k Deployments.
`list_all_objects()` materialises fresh dicts per call (~7x JSON size, freed with the snapshot).
`max_kinds` (default 300) bounds threads and connections: one watch connection per tracked kind.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterable
from typing import Protocol

from console.cluster.api import (
    APIResource,
    ClusterError,
    Forbidden,
    Gone,
    ListResult,
    NotFound,
    Obj,
    Unavailable,
)
from console.cluster.kube.discovery import Discovery
from console.cluster.kube.watch import WatchStream


class CacheSource(Protocol):
    """What the cache needs from a cluster client (KubeCluster implements it). A Protocol, so the
    client may own a cache without the cache depending on the client: one direction, no cycle."""

    name: str
    discovery_cache: Discovery

    def discovery(self) -> list[APIResource]: ...

    def list_resource(
        self, res: APIResource, namespace: str | None = None, *, label_selector: str | None = None
    ) -> ListResult: ...

    def watch_resource(
        self,
        res: APIResource,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        timeout_seconds: float = 30.0,
    ) -> WatchStream: ...


log = logging.getLogger(__name__)

# Churning or non-object kinds GitOps never manages (same spirit as the engine's skip list).
DEFAULT_EXCLUDE: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "Event"),
        ("events.k8s.io", "Event"),
        ("coordination.k8s.io", "Lease"),
        ("coordination.k8s.io", "LeaseCandidate"),
        ("", "Endpoints"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("", "ComponentStatus"),
        ("", "Binding"),
        ("authentication.k8s.io", "TokenReview"),
        ("authentication.k8s.io", "SelfSubjectReview"),
        ("authorization.k8s.io", "SubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectRulesReview"),
        ("authorization.k8s.io", "LocalSubjectAccessReview"),
    }
)
_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
_API_SERVICE = ("apiregistration.k8s.io", "APIService")
_MAX_BACKOFF = 30.0
_STALE_GRACE = 5.0  # a kind failing for longer than this with Unavailable makes objects() raise
_RESYNC_WINDOW = 10.0  # after a CRD event, re-read discovery on reads for this long (lagging discovery)


def tracked_kinds(
    resources: Iterable[APIResource], exclude: Iterable[tuple[str, str]] | None = None, max_kinds: int = 300
) -> list[APIResource]:
    """One entry per group/kind (the preferred version: discovery lists it first), list+watch only."""
    skip = set(DEFAULT_EXCLUDE if exclude is None else exclude)
    seen: set[tuple[str, str]] = set()
    out: list[APIResource] = []
    for r in resources:
        gk = (r.group, r.kind)
        if gk in seen or gk in skip or "list" not in r.verbs or "watch" not in r.verbs:
            continue
        seen.add(gk)
        out.append(r)
    if len(out) > max_kinds:
        log.warning("live cache: %d kinds served, tracking the first %d", len(out), max_kinds)
    return out[:max_kinds]


def list_everything(cluster: CacheSource, exclude: Iterable[tuple[str, str]] | None = None) -> list[Obj]:
    """One full list of every tracked kind (no cache); kinds we may not list are skipped."""
    out: list[Obj] = []
    for res in tracked_kinds(cluster.discovery(), exclude):
        try:
            out += cluster.list_resource(res).items
        except ClusterError as exc:
            if getattr(exc, "transport", False):
                raise  # Forbidden / NotFound for one kind must not hide the others
            log.info("live list of %s/%s skipped: %s", res.group, res.kind, exc.message)
    return out


def _key(obj: Obj) -> tuple[str, str]:
    md = obj.get("metadata") or {}
    return str(md.get("namespace") or ""), str(md.get("name") or "")


def _pack(obj: Obj, res: APIResource) -> bytes:
    obj.setdefault("apiVersion", res.api_version)
    obj.setdefault("kind", res.kind)
    return json.dumps(obj, separators=(",", ":")).encode()


class _KindWatcher:
    """The objects of one kind plus the thread keeping them current."""

    def __init__(self, cache: ObjectCache, res: APIResource) -> None:
        self.cache = cache
        self.res = res
        self.lock = threading.Lock()
        self.items: dict[tuple[str, str], bytes] = {}
        self.rv = ""
        self.error: ClusterError | None = None
        self.error_since = 0.0
        self.stream: WatchStream | None = None
        self.halt = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"live-{cache.cluster.name}-{res.group or 'core'}-{res.kind}", daemon=True
        )

    def relist(self) -> None:
        listed = self.cache.cluster.list_resource(self.res)
        fresh = {_key(o): _pack(o, self.res) for o in listed.items}
        with self.lock:
            self.items = fresh
            self.rv = listed.resource_version

    def _apply(self, etype: str, obj: Obj) -> None:
        rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        with self.lock:
            if etype in ("ADDED", "MODIFIED"):
                self.items[_key(obj)] = _pack(obj, self.res)
            elif etype == "DELETED":
                self.items.pop(_key(obj), None)
            if rv:
                self.rv = rv
        if (self.res.group, self.res.kind) in (_CRD, _API_SERVICE):
            self.cache.kinds_changed()

    def _run(self) -> None:
        stop = self.halt
        delay = 0.5
        while not stop.is_set():
            try:
                if not self.rv:
                    self.relist()
                stream = self.cache.cluster.watch_resource(
                    self.res, None, resource_version=self.rv, timeout_seconds=random.uniform(240, 300)
                )
                self.stream = stream
                if stop.is_set():
                    stream.close()
                    return
                self.error = None
                for ev in stream:
                    self._apply(ev.type, ev.object)
                delay = 0.5
            except Gone:
                self.rv = ""  # history compacted: list again, then watch from the new version
            except ClusterError as exc:
                if self.error is None:
                    self.error_since = time.monotonic()
                self.error = exc
                if isinstance(exc, NotFound):  # kind went away (CRD deleted): discovery decides
                    self.cache.kinds_changed()
                stop.wait(delay)
                delay = min(delay * 2, _MAX_BACKOFF)
            except Exception as exc:  # never let a watcher die silently: log, back off, retry
                log.exception("live cache watcher %s/%s crashed", self.res.group, self.res.kind)
                self.error = Unavailable(f"live cache watcher failed: {exc}")
                self.error_since = time.monotonic()
                stop.wait(delay)
                delay = min(delay * 2, _MAX_BACKOFF)

    def shutdown(self) -> None:
        self.halt.set()
        stream = self.stream
        if stream is not None:
            stream.close()

    def snapshot(self) -> list[bytes]:
        with self.lock:
            return list(self.items.values())


class ObjectCache:
    """Live objects of every tracked kind of one cluster, kept current by watches."""

    def __init__(
        self,
        cluster: CacheSource,
        *,
        exclude: Iterable[tuple[str, str]] | None = None,
        max_kinds: int = 300,
    ) -> None:
        self.cluster = cluster
        self.exclude = set(DEFAULT_EXCLUDE if exclude is None else exclude)
        self.max_kinds = max_kinds
        self.stop = threading.Event()
        self.watchers: dict[tuple[str, str], _KindWatcher] = {}
        self.skipped: dict[tuple[str, str], str] = {}  # kinds we may not list (RBAC), with the reason
        self._lock = threading.Lock()
        self._kinds_changed_at = 0.0
        self._synced_at = 0.0
        self._generation = -1

    def start(self) -> None:
        """List every tracked kind now (raises Unavailable if the cluster is down), then watch."""
        self._sync_kinds(force=True)

    def kinds_changed(self) -> None:
        self._kinds_changed_at = time.monotonic()

    def _sync_kinds(self, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            recent = now - self._kinds_changed_at < _RESYNC_WINDOW and now - self._synced_at > 0.2
            disc = self.cluster.discovery_cache
            if not (force or recent or disc.generation != self._generation):
                return
            if recent:
                disc.invalidate()
            resources = disc.resources()
            self._generation = disc.generation
            self._synced_at = now
            wanted = {(r.group, r.kind): r for r in tracked_kinds(resources, self.exclude, self.max_kinds)}
            for gk in [gk for gk in self.watchers if gk not in wanted]:
                self.watchers.pop(gk).shutdown()
            for gk, res in wanted.items():
                if gk in self.watchers or gk in self.skipped:
                    continue
                w = _KindWatcher(self, res)
                try:
                    w.relist()
                except (Forbidden, NotFound) as exc:
                    self.skipped[gk] = exc.message
                    log.info("live cache: %s/%s not tracked: %s", res.group, res.kind, exc.message)
                    continue
                except ClusterError as exc:
                    if getattr(exc, "transport", False):
                        raise
                    # e.g. "storage is (re)initializing" for a brand-new CRD: the thread relists
                    log.info("live cache: %s/%s listed later: %s", res.group, res.kind, exc.message)
                self.watchers[gk] = w
                w.thread.start()

    def objects(self) -> list[Obj]:
        """Fresh dicts (callers may mutate them). Raises Unavailable when watches have been unable to
        reach the server for more than a few seconds: stale data must not look live."""
        if self.stop.is_set():
            raise Unavailable(f'cluster "{self.cluster.name}": live cache is closed')
        self._sync_kinds()
        now = time.monotonic()
        for w in list(self.watchers.values()):
            err = w.error
            if err is not None and getattr(err, "transport", False) and now - w.error_since > _STALE_GRACE:
                raise Unavailable(err.message)
        out: list[Obj] = []
        for w in list(self.watchers.values()):
            out += [json.loads(b) for b in w.snapshot()]
        return out

    def close(self) -> None:
        self.stop.set()
        for w in list(self.watchers.values()):
            w.shutdown()
        for w in list(self.watchers.values()):
            w.thread.join(timeout=2.0)
