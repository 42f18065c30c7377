"""Kubernetes Events (`events.k8s.io/v1`) for audited actions, on the Application they concern.

Events are a notification channel, not the audit store (they expire after the apiserver's
--event-ttl, 1 h by default): the chain is the record, the Event lets `kubectl get events` and
event exporters see the action. Named `<app>.<unix-nanos hex>` like Argo CD's audit events; a
failure to write one (no permission, events API not served) never fails the action.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from console.cluster.api import Cluster, ClusterError, Obj
from console.engine.audit import crd
from console.engine.audit.record import (
    BLOCKED,
    DENIED,
    ERROR,
    FAILED,
    PHASE_INTENT,
    rfc3339_micro,
)

EVENTS_API = "events.k8s.io/v1"
REPORTING_CONTROLLER = "trueup.dev/trueup"
NOTE_LIMIT = 1024


def reporting_instance() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[:128]


def reason_for(rec: dict[str, Any]) -> tuple[str, str]:
    """(reason, type) for a record."""
    outcome = rec.get("outcome")
    if outcome == DENIED:
        return "PermissionDenied", "Warning"
    if outcome == BLOCKED:
        return "Blocked", "Warning"
    if rec.get("phase") == PHASE_INTENT:
        return ("BreakGlass" if rec.get("breakGlass") else "ActionRequested"), (
            "Warning" if rec.get("breakGlass") else "Normal"
        )
    if outcome in (FAILED, ERROR):
        return "ActionFailed", "Warning"
    return "ActionCompleted", "Normal"


def note_for(rec: dict[str, Any]) -> str:
    actor = (rec.get("actor") or {}).get("user") or "?"
    verified = "" if (rec.get("actor") or {}).get("verified") else " (unverified)"
    text = f"{actor}{verified} {rec.get('action')} {rec.get('phase')}: {rec.get('outcome')}"
    if rec.get("reason"):
        text += f"; reason: {rec['reason']}"
    if rec.get("message"):
        text += f"; {rec['message']}"
    text += f" (audit record {rec.get('seq')})"
    return text[: NOTE_LIMIT - 1] + "…" if len(text) > NOTE_LIMIT else text


def event_for(rec: dict[str, Any], app: Obj | None, at: datetime) -> Obj:
    name = rec.get("app") or "trueup"
    md = (app or {}).get("metadata") or {}
    regarding: Obj = {
        "apiVersion": crd.API_VERSION,
        "kind": "Application",
        "name": rec.get("app") or "",
        "namespace": crd.NAMESPACE,
    }
    if md.get("uid"):
        regarding["uid"] = md["uid"]
    reason, etype = reason_for(rec)
    nanos = int(at.timestamp() * 1_000_000_000) + int(rec.get("seq") or 0)
    return {
        "apiVersion": EVENTS_API,
        "kind": "Event",
        "metadata": {
            "name": f"{name}.{nanos:x}",
            "namespace": crd.NAMESPACE,
            "annotations": {"trueup.dev/audit-seq": str(rec.get("seq"))},
        },
        "eventTime": rfc3339_micro(at),
        "reportingController": REPORTING_CONTROLLER,
        "reportingInstance": reporting_instance(),
        "action": str(rec.get("action") or "Unknown")[:128],
        "reason": reason,
        "regarding": regarding,
        "note": note_for(rec),
        "type": etype,
    }


def emit(cluster: Cluster, rec: dict[str, Any], app: Obj | None, at: datetime) -> str | None:
    """Create the Event; returns a warning sentence when it could not be written."""
    if not rec.get("app"):
        return None
    try:
        cluster.create(event_for(rec, app, at), field_manager="trueup-audit")
    except ClusterError as exc:
        return f"could not record a Kubernetes Event for audit record {rec.get('seq')}: {exc.message}"
    return None
