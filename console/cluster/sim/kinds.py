"""The base of the sim's Core: its store, clock and request identity, kind resolution (built-in kinds
plus established CRDs, cached per CRD epoch) and plain reads.
"""

from __future__ import annotations

from datetime import datetime

from console.cluster.api import (
    NotFound,
    Obj,
    split_api_version,
)
from console.cluster.sim import admission
from console.cluster.sim import convert as conv
from console.cluster.sim.clock import SimClock, rfc3339
from console.cluster.sim.discovery import (
    BUILTINS,
    KindInfo,
    builtin,
    crd_established,
    kinds_of_crd,
    no_kind_match,
    storage_info,
)
from console.cluster.sim.objects import (
    CRD_GROUP,
    CRD_KIND,
)
from console.cluster.sim.store import Key, Store


class CoreBase:
    def __init__(self, store: Store, clock: SimClock, cluster_name: str) -> None:
        self.store = store
        self.clock = clock
        self.cluster_name = cluster_name
        self._crd_cache: tuple[int, list[KindInfo]] = (-1, [])
        self._now: datetime | None = None
        self.request_user = "admin"  # who the current API request is from (CEL request.userInfo)
        self.request_groups: tuple[str, ...] = admission.ADMIN_GROUPS

    # --- time

    def now(self) -> datetime:
        return self._now or self.clock.now()

    def now_str(self) -> str:
        return rfc3339(self.now())

    def now_ts(self) -> float:
        return self.now().timestamp()

    # --- kinds (discovery)

    def crd_kinds(self) -> list[KindInfo]:
        row = self.store.conn.execute("SELECT value FROM meta WHERE key='crd_epoch'").fetchone()
        epoch = int(row[0]) if row else 0
        if self._crd_cache[0] != epoch:
            infos: list[KindInfo] = []
            for crd in self.store.list_objects(CRD_GROUP, CRD_KIND, ""):
                if crd_established(crd):
                    infos.extend(kinds_of_crd(crd))
            self._crd_cache = (epoch, infos)
        return self._crd_cache[1]

    def all_kinds(self) -> list[KindInfo]:
        return list(BUILTINS) + self.crd_kinds()

    def info(self, api_version: str, kind: str) -> KindInfo:
        group, version = split_api_version(api_version)
        found = builtin(group, version, kind)
        if found:
            return found
        for k in self.crd_kinds():
            if k.group == group and k.resource.version == version and k.kind == kind:
                return k
        raise no_kind_match(api_version, kind)

    def storage(self, group: str, kind: str) -> KindInfo | None:
        found = storage_info(group, kind)
        if found:
            return found
        for k in self.crd_kinds():
            if k.group == group and k.kind == kind:
                return k
        return None

    def _bump_crd_epoch(self) -> None:
        self.store.conn.execute(
            "INSERT INTO meta(key, value) VALUES('crd_epoch', '1') "
            "ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER)+1"
        )

    # --- reads

    def key_for(self, info: KindInfo, namespace: str | None, name: str) -> Key:
        ns = (namespace or "default") if info.namespaced else ""
        return (info.group, info.kind, ns, name)

    def get_raw(self, key: Key) -> Obj | None:
        return self.store.get(key)

    def get(self, info: KindInfo, namespace: str, name: str) -> Obj:
        key = self.key_for(info, namespace, name)
        obj = self.store.get(key)
        if obj is None:
            raise NotFound(f'{info.qualified_resource} "{name}" not found')
        return conv.convert(obj, info.resource.api_version)

    def find(self, group: str, kind: str, namespace: str, name: str) -> Obj | None:
        return self.store.get((group, kind, namespace, name))

    def dependents(self, uid: str) -> list[Obj]:
        out = []
        for key in self.store.dependents(uid):
            obj = self.store.get(key)
            if obj is not None:
                out.append(obj)
        return out
