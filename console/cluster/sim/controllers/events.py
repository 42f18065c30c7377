"""The Events the sim's controllers emit, as a real cluster's components write them (core/v1).

Aggregation follows client-go's legacy recorder (EventCorrelator's EventLogger): an event equal to
one already recorded (same involved object, type, reason, message and source) is not created again;
its `count` and `lastTimestamp` are updated. Names are `<involved name>.<16 hex>`, the real
shape; the hex here is derived from the aggregation key instead of the first timestamp, so the
correlator's lookup is one keyed read. Components on the new events API (kube-scheduler) write
the fields that API leaves in core/v1 (`eventTime`, `reportingComponent`, `action`, no `source`,
`count` or first/last timestamps), so readers see both shapes as on a real cluster.

Events expire an hour after they were last seen (the apiserver's default `--event-ttl`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from console.cluster.sim.clock import parse_rfc3339, rfc3339
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
EVENT_TTL = 3600.0
NORMAL, WARNING = "Normal", "Warning"
# the field manager each reporting component writes Events as
_MANAGERS = {"kubelet": "kubelet", "default-scheduler": "kube-scheduler"}


def _involved(obj: Obj) -> Obj:
    md = obj.get("metadata") or {}
    ref: Obj = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": md.get("name", ""),
        "uid": md.get("uid", ""),
    }
    if md.get("namespace"):
        ref["namespace"] = md["namespace"]
    if md.get("resourceVersion"):
        ref["resourceVersion"] = md["resourceVersion"]
    return ref


def _field_path(ref: Obj, container: str) -> Obj:
    """kubelet events about one container name it: `spec.containers{name}`."""
    if container:
        ref = {**ref, "fieldPath": f"spec.containers{{{container}}}"}
    return ref


def record(
    core: Core,
    obj: Obj,
    etype: str,
    reason: str,
    message: str,
    component: str,
    *,
    host: str = "",
    container: str = "",
    count: int | None = None,
    first: datetime | None = None,
    last: datetime | None = None,
) -> Obj:
    """Record (or aggregate into) a core/v1 Event about `obj`, written by `component`.

    `count`/`first`/`last` set the aggregate directly (a controller that knows how often a thing
    happened, e.g. image pull retries, stays idempotent across reconciles); by default one more
    occurrence is added at the current sim time.
    """
    md = obj.get("metadata") or {}
    ns = md.get("namespace") or "default"
    ref = _field_path(_involved(obj), container)
    digest = hashlib.sha256(
        "\x00".join(
            (str(ref.get("uid")), ref.get("fieldPath", ""), etype, reason, message, component)
        ).encode()
    ).hexdigest()[:16]
    name = f"{md.get('name', 'object')}.{digest}"
    now = core.now()
    last_at = last or now
    existing = core.find("", "Event", ns, name)
    manager = _MANAGERS.get(component, "kube-controller-manager")
    if existing is not None:
        new_count = count if count is not None else int(existing.get("count") or 1) + 1
        stamp = rfc3339(last_at)
        if existing.get("count") == new_count and existing.get("lastTimestamp") == stamp:
            return existing
        updated = {**existing, "count": new_count, "lastTimestamp": stamp, "involvedObject": ref}
        return core.write_as(updated, manager)
    source: Obj = {"component": component}
    if host:
        source["host"] = host
    event: Obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": rfc3339(first or last_at),
        "lastTimestamp": rfc3339(last_at),
        "count": count or 1,
        "type": etype,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }
    return core.write_as(event, manager, create=True)


def record_new_api(
    core: Core, obj: Obj, etype: str, reason: str, action: str, note: str, controller: str, instance: str
) -> Obj:
    """An event written through events.k8s.io/v1 by a new-API recorder, stored as core/v1 shows it."""
    md = obj.get("metadata") or {}
    ns = md.get("namespace") or "default"
    ref = _involved(obj)
    digest = hashlib.sha256(
        "\x00".join((str(ref.get("uid")), etype, reason, note, controller)).encode()
    ).hexdigest()[:16]
    name = f"{md.get('name', 'object')}.{digest}"
    existing = core.find("", "Event", ns, name)
    if existing is not None:
        return existing
    now = core.now()
    event: Obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": ref,
        "reason": reason,
        "message": note,
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "type": etype,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "action": action,
        "reportingComponent": controller,
        "reportingInstance": instance,
    }
    return core.write_as(event, _MANAGERS.get(controller, "kube-controller-manager"), create=True)


@register("", "Event")
def expire(core: Core, key: Key) -> None:
    """Delete an Event an hour after it was last seen; otherwise look again then."""
    event = core.find(*key)
    if event is None:
        return
    seen = event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
    try:
        at = parse_rfc3339(str(seen))
    except ValueError:
        return
    due = at + timedelta(seconds=EVENT_TTL)
    if due.timestamp() <= core.now_ts():
        core.delete_obj(event)
    else:
        core.enqueue(key, due.timestamp())
