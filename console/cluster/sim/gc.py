"""Garbage collector: ownerReferences, as the real GC processes them.

Queue items are owner uids (enqueued when an object is deleted or marked for deletion, and when a
dependent points at an owner that does not exist).
- owner gone: dependents whose other owners are all gone are deleted (background); dependents that
  still have a live owner just lose the dangling reference.
- owner deleting with `orphan`: ownerReferences to it are removed from dependents, then the finalizer.
- owner deleting with `foregroundDeletion`: dependents are deleted (foreground, recursively); the
  finalizer is removed once no dependent with blockOwnerDeletion=true is left.
"""

from __future__ import annotations

from console.cluster.sim.core import Core
from console.cluster.sim.fastcopy import fast_copy
from console.cluster.sim.objects import owner_refs


def _without_ref(obj: dict, uid: str) -> dict:
    new = fast_copy(obj)
    md = new["metadata"]
    refs = [r for r in md.get("ownerReferences") or [] if r.get("uid") != uid]
    if refs:
        md["ownerReferences"] = refs
    else:
        md.pop("ownerReferences", None)
    return new


def _drop_finalizer(core: Core, obj: dict, finalizer: str) -> None:
    new = fast_copy(obj)
    md = new["metadata"]
    fins = [f for f in md.get("finalizers") or [] if f != finalizer]
    if fins:
        md["finalizers"] = fins
    else:
        md.pop("finalizers", None)
    core.system_update(new)


def reconcile(core: Core, uid: str) -> None:
    owner_key = core.store.key_by_uid(uid)
    owner = core.store.get(owner_key) if owner_key else None
    deps = core.dependents(uid)
    if owner is None:
        for dep in deps:
            others = [r for r in owner_refs(dep) if r.get("uid") != uid]
            if any(core.store.key_by_uid(str(r.get("uid"))) for r in others):
                core.system_update(_without_ref(dep, uid))
            elif not dep["metadata"].get("deletionTimestamp"):
                core.delete_obj(dep, "Background")
        return
    md = owner.get("metadata") or {}
    if not md.get("deletionTimestamp"):
        return
    fins = md.get("finalizers") or []
    if "orphan" in fins:
        for dep in deps:
            core.system_update(_without_ref(dep, uid))
        _drop_finalizer(core, owner, "orphan")
        return
    if "foregroundDeletion" in fins:
        blocking = False
        for dep in deps:
            ref = next((r for r in owner_refs(dep) if r.get("uid") == uid), {})
            dmd = dep["metadata"]
            if not dmd.get("deletionTimestamp"):
                core.delete_obj(dep, "Foreground")
            still = core.find(*_key(core, dep))
            if still is not None and ref.get("blockOwnerDeletion"):
                blocking = True
        if not blocking:
            current = core.store.get(owner_key) if owner_key else None
            if current is not None:
                _drop_finalizer(core, current, "foregroundDeletion")


def _key(core: Core, obj: dict) -> tuple[str, str, str, str]:
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    md = obj["metadata"]
    return (group, str(obj.get("kind")), md.get("namespace", "") or "", md["name"])
