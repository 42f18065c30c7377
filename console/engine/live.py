"""A snapshot of one cluster's live objects, indexed for a refresh cycle.

Listing the whole cluster once per cycle and indexing it costs one pass; asking the cluster per app
would cost one list per app per kind (Argo keeps a watch-based cluster cache for the same reason).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from console.cluster.api import Cluster, NoKindMatch, Obj, ResourceKey, split_api_version
from console.engine import tracking

# Kinds never worth tracking: they churn and are not managed by GitOps.
_SKIP_KINDS = {
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("coordination.k8s.io", "Lease"),
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
}


@dataclass
class LiveState:
    cluster: Cluster
    objects: dict[ResourceKey, Obj] = field(default_factory=dict)
    by_app: dict[str, list[ResourceKey]] = field(default_factory=lambda: defaultdict(list))
    by_owner_uid: dict[str, list[ResourceKey]] = field(default_factory=lambda: defaultdict(list))
    namespaced: dict[tuple[str, str], bool] = field(default_factory=dict)

    @classmethod
    def load(cls, cluster: Cluster, annotation: str) -> LiveState:
        state = cls(cluster)
        for res in cluster.discovery():
            state.namespaced[(res.group, res.kind)] = res.namespaced
        fast = getattr(cluster, "list_all_objects", None)
        items: Iterable[Obj]
        if callable(fast):
            items = fast()
        else:
            items = state._list_everything()
        for obj in items:
            state.add(obj, annotation)
        return state

    def _list_everything(self) -> Iterable[Obj]:
        seen: set[tuple[str, str]] = set()
        for res in self.cluster.discovery():
            gk = (res.group, res.kind)
            if gk in seen or gk in _SKIP_KINDS or "list" not in res.verbs:
                continue
            seen.add(gk)
            try:
                result = self.cluster.list(res.api_version, res.kind)
            except NoKindMatch:
                continue
            for obj in result.items:
                obj.setdefault("apiVersion", res.api_version)
                obj.setdefault("kind", res.kind)
                yield obj

    def add(self, obj: Obj, annotation: str) -> None:
        key = ResourceKey.of(obj)
        if (key.group, key.kind) in _SKIP_KINDS:
            return
        self.objects[key] = obj
        app = tracking.app_of(obj, annotation)
        if app:
            self.by_app[app].append(key)
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            uid = ref.get("uid")
            if uid:
                self.by_owner_uid[uid].append(key)

    def get(self, key: ResourceKey) -> Obj | None:
        return self.objects.get(key)

    def is_namespaced(self, api_version: str, kind: str) -> bool | None:
        group, _ = split_api_version(api_version)
        return self.namespaced.get((group, kind))

    def children(self, obj: Obj) -> list[Obj]:
        uid = (obj.get("metadata") or {}).get("uid")
        if not uid:
            return []
        kids = [self.objects[k] for k in self.by_owner_uid.get(uid, []) if k in self.objects]
        return sorted(kids, key=lambda o: (o.get("kind", ""), o["metadata"].get("name", "")))
