"""What an on-call engineer reads per Application in the fleet view, as plain values.

One `AppFacts` per Application, computed from the object alone (status written by refresh and
operations) plus its project's sync windows: no Git, no cluster reads, so 5,000 of them cost a few
milliseconds each and a watch event re-derives one row. The console, the benchmark and the tests
share this; `overall` is the single word for "is it OK", problems ranked first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.engine import model
from console.engine.governance import windows

Obj = dict[str, Any]

# overall status word -> rank (lower: a bigger problem, listed first)
RANK = {
    "Error": 0,
    "Degraded": 1,
    "SyncFailed": 2,
    "Missing": 3,
    "OutOfSync": 4,
    "Syncing": 5,
    "Terminating": 5,
    "Progressing": 6,
    "Unknown": 7,
    "Suspended": 8,
    "Healthy": 9,
}
PROBLEMS = frozenset(w for w, r in RANK.items() if r <= RANK["OutOfSync"]) | {"Unknown"}


@dataclass(frozen=True)
class AppFacts:
    project: str
    name: str
    overall: str
    sync: str
    health: str
    health_since: str  # RFC 3339 of the last health transition ("" unknown)
    cluster: str
    namespace: str
    revision: str  # the SHA the app is compared to ("" unknown)
    synced_revision: str  # the SHA of the last successful sync
    target_revision: str
    repo: str
    path: str
    last_sync: str  # RFC 3339 when the last operation finished (or started, while running)
    last_sync_phase: str
    operation: str  # phase of an operation in progress ("" none)
    auto_sync: str  # "off" | "on" | "on, prune" | "on, prune, self-heal" ...
    window: str  # "" (no window) | windows.STATE_* ("Sync Allowed", "Manual Allowed", "Sync Denied")
    message: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.project, self.name)

    @property
    def rank(self) -> int:
        return RANK.get(self.overall, 7)

    @property
    def problem(self) -> bool:
        return self.overall in PROBLEMS


def _source(spec: Obj) -> Obj:
    src = spec.get("source")
    if isinstance(src, dict):
        return src
    sources = spec.get("sources") or []
    return sources[0] if sources and isinstance(sources[0], dict) else {}


def _auto(spec: Obj) -> str:
    automated = (spec.get("syncPolicy") or {}).get("automated")
    if not isinstance(automated, dict) or automated.get("enabled") is False:
        return "off"
    parts = ["on"]
    if automated.get("prune"):
        parts.append("prune")
    if automated.get("selfHeal"):
        parts.append("self-heal")
    return ", ".join(parts)


def _resource_cause(status: Obj, health: str) -> str:
    """The first resource in the app's health state, with its own message (more telling than the
    aggregate "Caused by ..." line)."""
    for r in status.get("resources") or []:
        h = (r.get("health") or {}) if isinstance(r, dict) else {}
        if h.get("status") == health and h.get("message"):
            group = f"{r.get('group')}/" if r.get("group") else ""
            where = f"{r.get('namespace')}/" if r.get("namespace") else ""
            return f"{group}{r.get('kind')} {where}{r.get('name')}: {h['message']}"
    return ""


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def overall_of(sync: str, health: str, op_phase: str, last_phase: str, errors: bool) -> str:
    if op_phase in ("Running", "Terminating"):
        return "Syncing" if op_phase == "Running" else "Terminating"
    if errors:
        return "Error"
    if health in ("Degraded", "Missing"):
        return health
    if last_phase in ("Failed", "Error") and sync != "Synced":
        return "SyncFailed"
    if sync == "OutOfSync":
        return "OutOfSync"
    if health in ("Progressing", "Suspended"):
        return health
    if sync == "Unknown" or health == "Unknown":
        return "Unknown"
    return "Healthy"


class WindowIndex:
    """Parsed sync windows per project (parsed once; most projects have none)."""

    def __init__(self, projects: Mapping[str, Obj]) -> None:
        self._windows: dict[str, list[model.SyncWindow]] = {}
        for name, obj in projects.items():
            raw = (obj.get("spec") or {}).get("syncWindows") or []
            if not raw:
                continue
            try:
                self._windows[name] = list(model.parse_project(obj).spec.sync_windows)
            except model.SpecError:
                continue

    def state(self, project: str, app: str, namespace: str, cluster: str, server: str, now: datetime) -> str:
        wins = [
            w
            for w in self._windows.get(project, ())
            if windows.window_matches(w, app, namespace, cluster, server)
        ]
        if not wins:
            return ""
        active = [w for w in wins if windows.is_active(w, now)]
        inactive_allow = [w for w in wins if w.kind == "allow" and w not in active]
        return windows.can_sync(active, inactive_allow, manual=True)[1]


def facts(
    app: Obj,
    *,
    cluster_by_server: Mapping[str, str],
    windows_index: WindowIndex | None = None,
    now: datetime | None = None,
) -> AppFacts:
    md = app.get("metadata") or {}
    spec = app.get("spec") or {}
    status = app.get("status") or {}
    dest = spec.get("destination") or {}
    src = _source(spec)
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    op = status.get("operationState") or {}
    op_phase = str(op.get("phase") or "")
    in_progress = bool(app.get("operation")) or op_phase in ("Running", "Terminating")
    current = ("Terminating" if op_phase == "Terminating" else "Running") if in_progress else ""
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    errors = [c for c in conditions if str(c.get("type", "")).endswith("Error")]
    sync_status = str(sync.get("status") or "Unknown")
    health_status = str(health.get("status") or "Unknown")
    cluster = str(
        dest.get("name") or cluster_by_server.get(str(dest.get("server") or ""), dest.get("server") or "")
    )
    name = str(md.get("name") or "")
    project = str(spec.get("project") or "default")
    namespace = str(dest.get("namespace") or "")
    window = ""
    if windows_index is not None and now is not None:
        window = windows_index.state(project, name, namespace, cluster, str(dest.get("server") or ""), now)
    history = [h for h in status.get("history") or [] if isinstance(h, dict)]
    synced = str((history[-1].get("revision") if history else "") or "")
    message = ""
    if op_phase in ("Running", "Terminating") or (
        op_phase in ("Failed", "Error") and sync_status != "Synced"
    ):
        message = str(op.get("message") or "")
    if not message:
        message = str(health.get("message") or "")
        if health_status not in ("Healthy", "Unknown") and (not message or message.startswith("Caused by")):
            message = _resource_cause(status, health_status) or message
    if not message and conditions:
        message = "; ".join(f"{c.get('type')}: {c.get('message', '')}" for c in conditions)
    if not message and app.get("operation") and not op_phase:
        message = "operation requested"
    return AppFacts(
        project=project,
        name=name,
        overall=overall_of(sync_status, health_status, current, op_phase, bool(errors)),
        sync=sync_status,
        health=health_status,
        health_since=str(health.get("lastTransitionTime") or ""),
        cluster=cluster,
        namespace=namespace,
        revision=str(sync.get("revision") or (sync.get("revisions") or [""])[0] or ""),
        synced_revision=synced,
        target_revision=str(src.get("targetRevision") or "HEAD"),
        repo=str(src.get("repoURL") or ""),
        path=str(src.get("path") or src.get("chart") or ""),
        last_sync=str(
            op.get("finishedAt")
            or op.get("startedAt")
            or (history[-1].get("deployedAt") if history else "")
            or ""
        ),
        last_sync_phase=op_phase,
        operation=current,
        auto_sync=_auto(spec),
        window=window,
        message=one_line(message),
    )
