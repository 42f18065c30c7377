"""`SimCluster`: the Cluster protocol over one SQLite file, with controllers run lazily.

There is no daemon: every API call first reconciles whatever is due at the current sim time, and
every write is followed by the same, so any process that opens the file sees a consistent world.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from console.cluster.api import (
    APIResource,
    Gone,
    ListResult,
    NotFound,
    Obj,
    PropagationPolicy,
    WatchEvent,
)
from console.cluster.sim import admission, eventsv1, rbac
from console.cluster.sim import convert as conv
from console.cluster.sim import logs as simlogs
from console.cluster.sim.clock import SimClock
from console.cluster.sim.controllers import run_due
from console.cluster.sim.controllers.crd import served_since_key
from console.cluster.sim.controllers.registry import ERRORS_KEY
from console.cluster.sim.core import Core
from console.cluster.sim.discovery import KindInfo
from console.cluster.sim.labels import parse_selector
from console.cluster.sim.logs import SimLogStream
from console.cluster.sim.store import Store

SERVER_VERSION = "v1.36.3-sim"
_POLL_MIN, _POLL_MAX = 0.02, 0.2


class SimCluster:
    """A simulated Kubernetes cluster persisted in `path` (created and seeded when missing)."""

    def __init__(
        self,
        path: Path | str,
        name: str,
        server: str,
        clock: SimClock | None = None,
        *,
        user: str | None = None,
        groups: Sequence[str] = (),
        label: str | None = None,
        must_exist: bool = False,
    ) -> None:
        """`user`/`groups`: act as that identity, authorized by the RBAC objects stored in the sim
        (see rbac.py); without `user`, as the cluster admin. `label` names the file in errors;
        `must_exist`: open an existing cluster only (an empty file is damage, not a new cluster)."""
        self.path = Path(path)
        self.name = name
        self.server = server
        self.identity = rbac.Identity(user, tuple(groups)) if user else None
        self.store = Store(self.path, label=label, must_exist=must_exist)
        self.clock = clock or SimClock(self.store)
        self.core = Core(self.store, self.clock, name)
        self.events_v1 = eventsv1.EventsV1(self)  # events.k8s.io/v1: core Event storage, converted
        self._seed()

    @classmethod
    def create_db(
        cls,
        path: Path | str,
        name: str,
        server: str,
        clock: SimClock | None = None,
        *,
        clock_offset: float = 0.0,
        frozen_at: datetime | None = None,
    ) -> SimCluster:
        """Create a new cluster file; refuses to overwrite an existing one. `clock_offset` starts
        the persisted clock that many seconds from wall time (negative: in the past) before the
        seed objects are created, so a demo can stage history and still end at "now";
        `frozen_at` instead freezes it at that instant (a reproducible world, for tests)."""
        if Path(path).exists():
            raise FileExistsError(f"sim cluster database {path} already exists")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if (clock_offset or frozen_at) and clock is None:
            store = Store(Path(path))
            try:
                if frozen_at is not None:
                    SimClock(store).freeze(frozen_at)
                else:
                    SimClock(store).advance(clock_offset)
            finally:
                store.close()
        return cls(path, name, server, clock)

    def close(self) -> None:
        self.store.close()

    def backup_to(self, dest: Path | str) -> None:
        """Copy the cluster's whole state (objects, clock, events, queues) to `dest` (drills' baseline)."""
        self.store.backup_to(Path(dest))

    def restore_from(self, src: Path | str) -> None:
        """Put the cluster back exactly as a `backup_to` copy holds it (`trueup scenario reset`)."""
        self.store.restore_from(Path(src))

    # ------------------------------------------------------------------ settings

    def get_meta(self, key: str, default: Any = None) -> Any:
        """Sim settings: `unpullable_images` (fnmatch globs), `lb_ip_prefix`, `lb_hostnames`, ..."""
        return self.store.meta_get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        self.store.meta_set(key, value)

    def controller_errors(self) -> builtins.list[str]:
        """Tracebacks of simulated controllers that crashed (empty when the sim is healthy)."""
        return list(self.store.meta_get(ERRORS_KEY, []) or [])

    # ------------------------------------------------------------------ controllers

    def tick(self) -> int:
        """Run the simulated controllers until nothing is due at the current sim time."""
        return run_due(self.core)

    def _sync(self) -> None:
        state, next_due = self.store.probe()
        if next_due is None:
            return
        if self.clock.store is self.store:
            now = SimClock.from_state(state if isinstance(state, dict) else {})
        else:
            now = self.clock.now()
        if next_due <= now.timestamp():
            self.tick()

    # ------------------------------------------------------------------ Cluster protocol

    def discovery(self) -> builtins.list[APIResource]:
        self._sync()
        with self.store.read():
            return [k.resource for k in self.core.all_kinds()] + [eventsv1.INFO.resource]

    def resource_for(self, api_version: str, kind: str) -> APIResource:
        if eventsv1.handles(api_version, kind):
            return eventsv1.INFO.resource
        return self._info(api_version, kind).resource

    def _info(self, api_version: str, kind: str) -> KindInfo:
        self._sync()  # a CRD created elsewhere becomes established here
        with self.store.read():
            return self.core.info(api_version, kind)

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        if eventsv1.handles(api_version, kind):
            return self.events_v1.get(namespace, name)
        self._sync()
        with self.store.read():
            info = self.core.info(api_version, kind)
            self._authorize("get", info, namespace, name)
            return self.core.get(info, namespace, name)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
    ) -> ListResult:
        if eventsv1.handles(api_version, kind):
            return self.events_v1.list(namespace, label_selector)
        matcher = parse_selector(label_selector)
        self._sync()
        with self.store.read():
            info = self.core.info(api_version, kind)
            self._authorize("list", info, namespace or None)
            ns = (namespace or None) if info.namespaced else ""
            rows = self.store.list_objects(info.group, info.kind, ns)
            rv = self.store.current_rv()
        items = [
            conv.convert(o, info.resource.api_version)
            for o in rows
            if matcher((o.get("metadata") or {}).get("labels") or {})
        ]
        return ListResult(items=items, resource_version=str(rv))

    def _write(self, fn: Any, dry_run: bool) -> Any:
        self._sync()
        with self.store.write():
            self.core._now = self.clock.now()  # one clock read per request, like one request time
            self.core.request_user = self.identity.user if self.identity else "admin"
            self.core.request_groups = self.identity.all_groups if self.identity else admission.ADMIN_GROUPS
            try:
                out = fn()
            finally:
                self.core._now = None
                self.core.request_user = "admin"
                self.core.request_groups = admission.ADMIN_GROUPS
        if not dry_run:
            self._sync()
        return out

    def _authorize(
        self, verb: str, info: KindInfo, namespace: str | None, name: str = "", sub: str | None = None
    ) -> None:
        if self.identity is not None:
            ns = (namespace or "default") if (namespace is not None and info.namespaced) else namespace
            with self.store.read():
                rbac.authorize(self.store, self.identity, verb, info, ns, name, sub)

    def _authorize_obj(self, verb: str, obj: Obj, sub: str | None = None) -> None:
        if self.identity is None:
            return
        md = obj.get("metadata") or {}
        info = self.core.info(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))
        name = "" if verb == "create" else str(md.get("name") or "")
        self._authorize(verb, info, md.get("namespace") or "", name, sub)
        if verb == "patch" and sub is None:  # server-side apply of a missing object creates it
            key = self.core.key_for(info, md.get("namespace"), str(md.get("name") or ""))
            if self.store.get(key) is None:
                self._authorize("create", info, md.get("namespace") or "")

    def create(self, obj: Obj, *, field_manager: str, dry_run: bool = False) -> Obj:
        if eventsv1.handles(str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")):
            return self.events_v1.create(obj, field_manager, dry_run)

        def run() -> Obj:
            self._authorize_obj("create", obj)
            return self.core.create(obj, field_manager=field_manager, dry_run=dry_run)

        return self._write(run, dry_run)

    def create_many(self, objs: builtins.list[Obj], *, field_manager: str) -> builtins.list[Obj]:
        """Create several objects in one transaction (all or nothing): seeding demo fleets and
        incident scenarios without paying one commit per object."""

        def run() -> builtins.list[Obj]:
            for o in objs:
                self._authorize_obj("create", o)
            return [self.core.create(o, field_manager=field_manager) for o in objs]

        return self._write(run, False)

    def update(
        self, obj: Obj, *, field_manager: str, dry_run: bool = False, subresource: str | None = None
    ) -> Obj:
        if eventsv1.handles(str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")) and not subresource:
            return self.events_v1.update(obj, field_manager, dry_run)

        def run() -> Obj:
            self._authorize_obj("update", obj, subresource)
            return self.core.update(
                obj, field_manager=field_manager, dry_run=dry_run, subresource=subresource
            )

        return self._write(run, dry_run)

    def apply(
        self,
        obj: Obj,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        if eventsv1.handles(str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")) and not subresource:
            return self.events_v1.apply(obj, field_manager, force, dry_run)

        def run() -> Obj:
            self._authorize_obj("patch", obj, subresource)
            return self.core.apply(
                obj, field_manager=field_manager, force=force, dry_run=dry_run, subresource=subresource
            )

        return self._write(run, dry_run)

    def patch(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        patch: Obj | builtins.list[Obj],
        *,
        patch_type: Literal["merge", "json", "strategic"] = "merge",
        field_manager: str,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        if eventsv1.handles(api_version, kind) and not subresource:
            return self.events_v1.patch(namespace, name, patch, patch_type, field_manager, dry_run)

        def run() -> Obj:
            self._authorize("patch", self.core.info(api_version, kind), namespace, name, subresource)
            return self.core.patch(
                api_version,
                kind,
                namespace,
                name,
                patch,
                patch_type=patch_type,
                field_manager=field_manager,
                dry_run=dry_run,
                subresource=subresource,
            )

        return self._write(run, dry_run)

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        *,
        propagation_policy: PropagationPolicy = "Background",
        dry_run: bool = False,
        resource_version: str | None = None,
    ) -> Obj | None:
        if eventsv1.handles(api_version, kind):
            return self.events_v1.delete(namespace, name, propagation_policy, dry_run, resource_version)

        def run() -> Obj | None:
            info = self.core.info(api_version, kind)
            self._authorize("delete", info, namespace, name)
            return self.core.delete(
                info,
                namespace,
                name,
                propagation_policy=propagation_policy,
                dry_run=dry_run,
                resource_version=resource_version,
            )

        return self._write(run, dry_run)

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        timeout_seconds: float = 30.0,
    ) -> Iterator[WatchEvent]:
        """Events after `resource_version` (none/"0": the current state as ADDED first), polling the
        shared event table so writes from other processes are seen; Gone when history is pruned."""
        if eventsv1.handles(api_version, kind):
            return self.events_v1.watch(namespace, resource_version, timeout_seconds)
        info = self._info(api_version, kind)
        self._authorize("watch", info, namespace or None)
        ns = (namespace or None) if info.namespaced else None
        initial: builtins.list[WatchEvent] = []
        if resource_version in (None, "", "0"):
            listed = self.list(api_version, kind, namespace)
            initial = [WatchEvent("ADDED", o) for o in listed.items]
            start = int(listed.resource_version)
        else:
            start = int(str(resource_version))
            self._check_gone(info, start)
        return self._watch_iter(info, ns, start, initial, timeout_seconds)

    def _check_gone(self, info: KindInfo, rv: int) -> None:
        """Gone when the history is pruned past rv, or (custom resources) rv predates the kind:
        a real apiserver starts a new kind's watch cache at the revision it was established."""
        with self.store.read():
            floor = self.store.events_pruned_upto()
            since = (
                0 if info.builtin else int(self.store.meta_get(served_since_key(info.group, info.kind), 0))
            )
        if rv < floor:
            raise Gone(f"too old resource version: {rv} ({floor + 1})")
        if rv < since:
            raise Gone(f"too old resource version: {rv} ({since})")

    def _watch_iter(
        self, info: KindInfo, ns: str | None, start: int, initial: builtins.list[WatchEvent], timeout: float
    ) -> Iterator[WatchEvent]:
        yield from initial
        deadline = time.monotonic() + timeout
        last = start
        delay = _POLL_MIN
        api_version = info.resource.api_version
        while True:
            self._sync()
            with self.store.read():
                floor = self.store.events_pruned_upto()
                events = self.store.events_after(last, info.group, info.kind, ns)
            if last < floor:  # raised, not an ERROR event: KubeCluster's streams do the same
                raise Gone(f"too old resource version: {last} ({floor + 1})")
            for rv, etype, body in events:
                last = rv
                yield WatchEvent(etype, conv.convert(body, api_version))  # type: ignore[arg-type]
            if events:
                delay = _POLL_MIN
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, _POLL_MAX)

    def self_subject_review(self) -> Obj:
        """The identity this SimCluster acts as (the real apiserver's answer for the same cert)."""
        if self.identity is None:
            return {"username": "admin", "groups": list(admission.ADMIN_GROUPS)}
        return {"username": self.identity.user, "groups": list(self.identity.all_groups)}

    def access_review(
        self, verb: str, resource: str, *, group: str = "", namespace: str = "", name: str = ""
    ) -> bool:
        if self.identity is None:
            return True
        with self.store.read():
            return rbac.allowed(self.store, self.identity, verb, group, resource, "", namespace, name)

    def logs(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        *,
        tail: int | None = None,
        follow: bool = False,
        previous: bool = False,
    ) -> SimLogStream:
        """A container's log as the sim derives it (see logs.py); errors raise here, as a real
        apiserver answers them before streaming."""
        ns = namespace or "default"
        info = self._info("v1", "Pod")
        self._authorize("get", info, ns, pod, "log")
        obj = self.get("v1", "Pod", ns, pod)
        name = simlogs.select_container(obj, container)
        run = simlogs.instance(obj, name, previous)

        def read_pod() -> Obj | None:
            try:
                return self.get("v1", "Pod", ns, pod)
            except NotFound:
                return None

        return simlogs.SimLogStream(read_pod, self.clock.now, obj, name, run, tail=tail, follow=follow)

    def server_version(self) -> str:
        return SERVER_VERSION

    # ------------------------------------------------------------------ fast paths

    def list_all_objects(self) -> builtins.list[Obj]:
        """Every stored object (storage versions) in one query, for the engine's live-state cache."""
        self._sync()
        with self.store.read():
            return self.store.all_bodies()

    def count(self) -> int:
        with self.store.read():
            return self.store.count()

    def current_resource_version(self) -> str:
        with self.store.read():
            return str(self.store.current_rv())

    # ------------------------------------------------------------------ bootstrap

    def _seed(self) -> None:
        from console.cluster.sim.seed import seed

        with self.store.write():
            if self.store.meta_get("seeded"):
                return
            self.store.meta_set("cluster", {"name": self.name, "server": self.server})
            seed(self.core)
            self.store.meta_set("seeded", True)
        self.tick()
