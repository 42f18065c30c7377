"""The last stage of every write: a global resourceVersion, the watch event, the ownerReference
index, and the reconcile queue of the simulated controllers (and the garbage collector).
"""

from __future__ import annotations

import json

from console.cluster.api import (
    Obj,
    split_api_version,
)
from console.cluster.sim.discovery import (
    KindInfo,
)
from console.cluster.sim.fastcopy import fast_copy
from console.cluster.sim.kinds import CoreBase
from console.cluster.sim.objects import (
    CRD_GROUP,
    CRD_KIND,
    owner_refs,
)
from console.cluster.sim.store import Key

GC_KIND = "__gc"


# Kinds with a simulated controller; writes to them enqueue a reconcile.
CONTROLLED: set[tuple[str, str]] = set()


class Persistence(CoreBase):
    def _commit(self, info: KindInfo, key: Key, old: Obj | None, new: Obj, dry_run: bool) -> Obj:
        md = new.setdefault("metadata", {})
        if dry_run:
            if old is not None:
                md["resourceVersion"] = (old.get("metadata") or {}).get("resourceVersion", "")
            else:
                md.pop("resourceVersion", None)
            return new
        rv = self.store.next_rv()
        md["resourceVersion"] = str(rv)
        body = json.dumps(new, separators=(",", ":"))
        self.store.put(key, str(md.get("uid")), rv, body)
        self.store.add_event(rv, "ADDED" if old is None else "MODIFIED", key, body)
        new_refs = owner_refs(new)
        if (old is None and new_refs) or (old is not None and owner_refs(old) != new_refs):
            self.store.set_owners(key, [str(r.get("uid")) for r in new_refs])
            for r in new_refs:
                if self.store.key_by_uid(str(r.get("uid"))) is None:
                    self.enqueue_gc(str(r.get("uid")))
        self._after_write(info, key, old, new)
        return new

    def _remove(self, info: KindInfo, key: Key, obj: Obj) -> None:
        rv = self.store.next_rv()
        obj = fast_copy(obj)
        obj.setdefault("metadata", {})["resourceVersion"] = str(rv)
        self.store.remove(key)
        self.store.add_event(rv, "DELETED", key, json.dumps(obj, separators=(",", ":")))
        md = obj["metadata"]
        self.enqueue_gc(str(md.get("uid")))
        for r in owner_refs(obj):
            self.enqueue_gc(str(r.get("uid")))
        self._after_write(info, key, obj, None)

    def enqueue(self, key: Key, at: float | None = None) -> None:
        self.store.enqueue(key, self.now_ts() if at is None else at)

    def enqueue_gc(self, uid: str) -> None:
        self.store.enqueue(("", GC_KIND, "", uid), self.now_ts())

    def _after_write(self, info: KindInfo, key: Key, old: Obj | None, new: Obj | None) -> None:
        group, kind, ns, _name = key
        if (group, kind) in CONTROLLED:
            self.enqueue(key)
        for obj in (old, new):
            for r in owner_refs(obj or {}):
                og, _ = split_api_version(str(r.get("apiVersion") or ""))
                oinfo = self.storage(og, str(r.get("kind") or ""))
                ons = ns if (oinfo is None or oinfo.namespaced) else ""
                if (og, r.get("kind")) in CONTROLLED:
                    self.enqueue((og, str(r.get("kind")), ons, str(r.get("name"))))
        if group == CRD_GROUP and kind == CRD_KIND:
            self._bump_crd_epoch()
        if new is None and ns:
            self.enqueue(("", "Namespace", "", ns))
            if kind != "ResourceQuota" or group:
                for quota in self.store.list_objects("", "ResourceQuota", ns):  # recount usage
                    self.enqueue(("", "ResourceQuota", ns, quota["metadata"]["name"]))
        if new is None and (group, kind) == ("", "PersistentVolumeClaim"):
            volume = ((old or {}).get("spec") or {}).get("volumeName")
            if volume:
                self.enqueue(("", "PersistentVolume", "", volume))
        if new is not None and (new.get("metadata") or {}).get("deletionTimestamp"):
            self.enqueue_gc(str(new["metadata"].get("uid")))
        if new is None and (group, kind) == ("", "Pod"):
            for vol in ((old or {}).get("spec") or {}).get("volumes") or []:
                claim = ((vol or {}).get("persistentVolumeClaim") or {}).get("claimName")
                if claim:
                    self.enqueue(("", "PersistentVolumeClaim", ns, claim))
        if (group, kind) in (("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet")) and ns:
            old_r = ((old or {}).get("spec") or {}).get("replicas")
            new_r = ((new or {}).get("spec") or {}).get("replicas")
            if old is None or new is None or old_r != new_r:
                for hpa in self.store.list_objects("autoscaling", "HorizontalPodAutoscaler", ns):
                    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
                    if ref.get("kind") == kind and ref.get("name") == key[3]:
                        # The HPA does not watch its target; it notices changes on its 15 s resync.
                        self.enqueue(
                            ("autoscaling", "HorizontalPodAutoscaler", ns, hpa["metadata"]["name"]),
                            self.now_ts() + 15,
                        )
