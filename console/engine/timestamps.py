"""RFC 3339 times as Kubernetes and Argo CD write them (UTC, `Z`), parsed leniently: a value that
is not a time is None, never an exception (status fields come from cluster objects anyone may edit)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def rfc3339(at: datetime) -> str:
    """Seconds precision, as metav1.Time."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cluster_time(cluster: object) -> datetime:
    """The time as `cluster` sees it: a sim cluster's persisted (shared, freezable) clock, else
    UTC now. Status times and audit records are written on the control cluster's clock."""
    clock = getattr(cluster, "clock", None)
    now = getattr(clock, "now", None)
    if callable(now):
        value = now()
        if isinstance(value, datetime):
            return value.astimezone(UTC)
    return datetime.now(UTC)
