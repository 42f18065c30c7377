"""ResourceQuota controller: `status.hard` mirrors `spec.hard`, `status.used` counts the objects
in the namespace for every object-count resource (see admission.py for what is modelled).
Admission bumps `used` on each create; this recount runs when a quota is written and when an
object in its namespace is deleted, as the real controller's monitors do."""

from __future__ import annotations

from typing import Any

from console.cluster.sim.admission import quota_keys
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import KCM, update_status
from console.cluster.sim.core import Core
from console.cluster.sim.discovery import KindInfo
from console.cluster.sim.store import Key

Obj = dict[str, Any]


def _counts(core: Core, ns: str, info: KindInfo) -> int:
    objs = core.store.list_objects(info.group, info.kind, ns)
    if (info.group, info.kind) == ("", "Pod"):  # terminal pods no longer use quota
        objs = [o for o in objs if ((o.get("status") or {}).get("phase")) not in ("Succeeded", "Failed")]
    return len(objs)


@register("", "ResourceQuota")
def reconcile(core: Core, key: Key) -> None:
    quota = core.find(*key)
    if quota is None or (quota.get("metadata") or {}).get("deletionTimestamp"):
        return
    hard: Obj = dict((quota.get("spec") or {}).get("hard") or {})
    by_key = {k: info for info in core.all_kinds() if info.namespaced for k in quota_keys(info)}
    used = {k: str(_counts(core, key[2], by_key[k])) for k in hard if k in by_key}
    update_status(core, quota, {"hard": hard, "used": used}, KCM)
