"""Helpers shared by the simulated controllers: owner references, conditions, pod templates, hashes."""

from __future__ import annotations

import copy
import fnmatch
import json
import math
from datetime import datetime, timedelta
from typing import Any

from console.cluster.sim.clock import parse_rfc3339
from console.cluster.sim.core import Core
from console.cluster.sim.objects import NAME_ALPHABET, owner_refs

Obj = dict[str, Any]
KCM = "kube-controller-manager"
KUBELET = "kubelet"
NODE_NAME = "sim-node-1"
NODE_IP = "172.18.0.2"


def controller_ref(owner: Obj) -> Obj:
    md = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": md["name"],
        "uid": md["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controlled_by(obj: Obj, owner: Obj) -> bool:
    uid = owner["metadata"]["uid"]
    return any(r.get("uid") == uid and r.get("controller") for r in owner_refs(obj))


def owned(core: Core, owner: Obj, kind: str) -> list[Obj]:
    return [
        d
        for d in core.dependents(owner["metadata"]["uid"])
        if d.get("kind") == kind and controlled_by(d, owner)
    ]


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: the alphabet real pod-template-hash values are drawn from."""
    return "".join(NAME_ALPHABET[ord(ch) % len(NAME_ALPHABET)] for ch in text)


def template_hash(template: Obj, collision_count: int = 0) -> str:
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def ts(text: str | None) -> datetime | None:
    return parse_rfc3339(text) if text else None


def is_ready(pod: Obj) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def is_active(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not (
        pod.get("metadata") or {}
    ).get("deletionTimestamp")


def set_condition(
    conditions: list[Obj] | None,
    ctype: str,
    status: str,
    reason: str,
    message: str,
    now: str,
    *,
    update_time: bool = False,
    probe_time: bool = False,
) -> list[Obj]:
    """SetCondition semantics: lastTransitionTime changes only when status changes; an identical
    condition is left untouched; a changed one moves to the end (as the real helpers do)."""
    conditions = [copy.deepcopy(c) for c in conditions or []]
    cur = next((c for c in conditions if c.get("type") == ctype), None)
    if cur and cur.get("status") == status and cur.get("reason") == reason and cur.get("message") == message:
        return conditions
    new: Obj = {"type": ctype, "status": status}
    if update_time:
        new["lastUpdateTime"] = now
    new["lastTransitionTime"] = (
        cur["lastTransitionTime"]
        if cur and cur.get("status") == status and cur.get("lastTransitionTime")
        else now
    )
    if probe_time:
        new["lastProbeTime"] = now
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    return [c for c in conditions if c.get("type") != ctype] + [new]


def get_condition(obj: Obj, ctype: str) -> Obj | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    text = str(value or "0")
    if text.endswith("%"):
        pct = int(text[:-1] or 0)
        raw = pct * total / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(text)


def pod_from_template(
    template: Obj,
    namespace: str,
    owner: Obj,
    *,
    name: str | None = None,
    generate_name: str | None = None,
    extra_labels: dict[str, str] | None = None,
) -> Obj:
    tmd = copy.deepcopy(template.get("metadata") or {})
    md: Obj = {"namespace": namespace, "ownerReferences": [controller_ref(owner)]}
    if name:
        md["name"] = name
    if generate_name:
        md["generateName"] = generate_name
    labels = dict(tmd.get("labels") or {})
    labels.update(extra_labels or {})
    if labels:
        md["labels"] = labels
    if tmd.get("annotations"):
        md["annotations"] = tmd["annotations"]
    if tmd.get("finalizers"):
        md["finalizers"] = tmd["finalizers"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def unpullable(core: Core, image: str) -> bool:
    patterns = core.store.meta_get("unpullable_images", []) or []
    return any(fnmatch.fnmatchcase(image, str(p)) for p in patterns)


def later(base: datetime, seconds: float) -> float:
    return (base + timedelta(seconds=seconds)).timestamp()


def update_status(core: Core, obj: Obj, status: Obj, manager: str = KCM) -> Obj:
    """Write `status` through the status subresource if it differs from what is stored."""
    if (obj.get("status") or {}) == status:
        return obj
    new = copy.deepcopy(obj)
    new["status"] = status
    return core.write_as(new, manager, subresource="status")


def full_image(image: str) -> str:
    """docker.io/library normalisation, as containerd reports images."""
    name = image.split("@", 1)[0]
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name
