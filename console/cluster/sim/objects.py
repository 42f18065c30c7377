"""Pure helpers of the write path over stored objects: cleaning, owner references, no-op detection."""

from __future__ import annotations

import random
from typing import Any

from console.cluster.api import Obj
from console.cluster.sim.discovery import (
    KindInfo,
)

# CRD_GROUP, CRD_KIND, SYSTEM_META, bare, clean, owner_refs, qos_class, rand_suffix, sans_rv, sans_rv_and_times, spec_part


NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


SYSTEM_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")


CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"


CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def rand_suffix(n: int = 5) -> str:
    return "".join(random.choice(NAME_ALPHABET) for _ in range(n))


def clean(value: Any) -> Any:
    """Deep copy without nulls (typed decoding drops them)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def owner_refs(obj: Obj) -> list[Obj]:
    return [r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if isinstance(r, dict)]


def sans_rv(obj: Obj) -> Obj:
    out = dict(obj)
    md = dict(out.get("metadata") or {})
    md.pop("resourceVersion", None)
    out["metadata"] = md
    return out


def sans_rv_and_times(obj: Obj) -> Obj:
    """The object as the apiserver's no-op detection sees it: no resourceVersion, and managedFields
    without their timestamps (IgnoreManagedFieldsTimestampsTransformer)."""
    out = sans_rv(obj)
    md = out["metadata"]
    if isinstance(md.get("managedFields"), list):
        md["managedFields"] = [
            {k: v for k, v in e.items() if k != "time"} if isinstance(e, dict) else e
            for e in md["managedFields"]
        ]
    return out


def spec_part(obj: Obj, info: KindInfo) -> Obj:
    """What a generation bump looks at: everything but metadata (and status where it is separate)."""
    skip = {"metadata", "apiVersion", "kind"}
    if info.status_subresource or info.builtin:
        skip.add("status")
    return {k: v for k, v in obj.items() if k not in skip}


def bare(info: KindInfo) -> KindInfo:
    """Same kind without skeleton: apply configs own only what they contain."""
    return KindInfo(info.resource, info.status_subresource, info.generation, info.name_rule, (), info.builtin)


def qos_class(pod: Obj) -> str:
    containers = ((pod.get("spec") or {}).get("containers") or []) + (
        (pod.get("spec") or {}).get("initContainers") or []
    )
    any_set = False
    guaranteed = True
    for c in containers:
        res = (c or {}).get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and req[r] != lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
