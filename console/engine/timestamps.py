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
