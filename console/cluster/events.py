"""Kubernetes Events read the same way from both API versions and both backends.

A real apiserver stores one Event resource served as core/v1 and events.k8s.io/v1. Components
using the old recorder (kubelet, most of kube-controller-manager) write core/v1 fields
(`involvedObject`, `message`, `source`, `count`, `first/lastTimestamp`); those using the new one
(kube-scheduler) write events.k8s.io/v1 fields (`regarding`, `note`, `reportingController`,
`series`, `eventTime`), which read back through core/v1 as `eventTime`, `reportingComponent`,
`series` and an empty `source`. `EventRecord.of` accepts an object of either version in either
shape, so callers never care who wrote it or how it was listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.cluster.api import Cluster, Obj, split_api_version

CORE_API = "v1"
EVENTS_API = "events.k8s.io/v1"


@dataclass(frozen=True)
class InvolvedObject:
    kind: str
    namespace: str
    name: str
    uid: str = ""
    api_version: str = ""

    @property
    def group(self) -> str:
        return split_api_version(self.api_version)[0]


@dataclass(frozen=True)
class EventRecord:
    """One Event, version-independent. Times are UTC; `last` is when it was last seen."""

    namespace: str
    name: str
    type: str  # Normal | Warning
    reason: str
    message: str
    component: str  # who reported it: kubelet, default-scheduler, deployment-controller, ...
    host: str
    involved: InvolvedObject
    count: int
    first: datetime | None
    last: datetime | None
    action: str = ""

    @property
    def warning(self) -> bool:
        return self.type == "Warning"

    @classmethod
    def of(cls, obj: Obj) -> EventRecord:
        md = obj.get("metadata") or {}
        group, _ = split_api_version(str(obj.get("apiVersion") or CORE_API))
        new_api = group == "events.k8s.io"
        ref = _dict(obj.get("regarding") if new_api else obj.get("involvedObject"))
        source = _dict(obj.get("deprecatedSource") if new_api else obj.get("source"))
        series = _dict(obj.get("series"))
        message = obj.get("note") if new_api else obj.get("message")
        component = (
            obj.get("reportingController") if new_api else obj.get("reportingComponent")
        ) or source.get("component")
        host = source.get("host") or (obj.get("reportingInstance") or "")
        count = series.get("count") or obj.get("deprecatedCount" if new_api else "count") or 1
        first_raw = obj.get("deprecatedFirstTimestamp" if new_api else "firstTimestamp")
        last_raw = obj.get("deprecatedLastTimestamp" if new_api else "lastTimestamp")
        event_time = _time(obj.get("eventTime"))
        first = _time(first_raw) or event_time or _time(md.get("creationTimestamp"))
        last = _time(series.get("lastObservedTime")) or _time(last_raw) or event_time or first
        return cls(
            namespace=str(md.get("namespace") or ""),
            name=str(md.get("name") or ""),
            type=str(obj.get("type") or "Normal"),
            reason=str(obj.get("reason") or ""),
            message=str(message or ""),
            component=str(component or ""),
            host=str(host or ""),
            involved=InvolvedObject(
                kind=str(ref.get("kind") or ""),
                namespace=str(ref.get("namespace") or md.get("namespace") or ""),
                name=str(ref.get("name") or ""),
                uid=str(ref.get("uid") or ""),
                api_version=str(ref.get("apiVersion") or ""),
            ),
            count=_int(count),
            first=first,
            last=last,
            action=str(obj.get("action") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        """The `app events -o json` shape (stable keys)."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "type": self.type,
            "reason": self.reason,
            "message": self.message,
            "source": self.component,
            "host": self.host,
            "involvedObject": {
                "kind": self.involved.kind,
                "apiVersion": self.involved.api_version,
                "namespace": self.involved.namespace,
                "name": self.involved.name,
                "uid": self.involved.uid,
            },
            "count": self.count,
            "firstTimestamp": _rfc3339(self.first),
            "lastTimestamp": _rfc3339(self.last),
        }


def list_events(cluster: Cluster, namespace: str | None = None) -> list[EventRecord]:
    """Events of one namespace (None: all), oldest first by last occurrence.

    Read through core/v1, which serves every Event whichever version wrote it.
    """
    items = cluster.list(CORE_API, "Event", namespace).items
    out = [EventRecord.of(o) for o in items if isinstance(o, dict)]
    out.sort(key=sort_key)
    return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sort_key(e: EventRecord) -> tuple[datetime, datetime, str, str, str, str]:
    """Oldest first; ties (same second) by what they are about, never by random names."""
    return (e.last or _EPOCH, e.first or _EPOCH, e.involved.kind, e.involved.name, e.reason, e.message)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _time(value: Any) -> datetime | None:
    """metav1.Time (`...Z`) or MicroTime (`....123456Z`); None when absent or unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _rfc3339(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""
