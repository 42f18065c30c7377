"""Sync windows on the sync path: the verdict for an app now, and on an operation in flight (Argo's `syncWindowPreventsSync` on every operation pass).

An operation whose sync a window blocks stays Running with "Sync operation blocked by sync window"
until the window allows it (syncOverrun: from when it started). A manual operation passes while
the windows allow manual syncs; a break-glass one passes when its `operation.info` names an audit
record that really is the break-glass intent for this application (so a hand-written `info` entry
does not open a window).
"""

from __future__ import annotations

from datetime import datetime

from console.cluster.api import ClusterError, NotFound, Obj
from console.engine import model
from console.engine.appstore import AppStore
from console.engine.audit import crd
from console.engine.audit.record import PHASE_INTENT, parse_time, record_hash
from console.engine.governance import breakglass, windows
from console.engine.governance.projects import destination_identity
from console.engine.governance.windows import MSG_BLOCKED_BY_WINDOW
from console.engine.workspace import Workspace

__all__ = [
    "MSG_BLOCKED_BY_WINDOW",
    "app_project",
    "break_glass_record",
    "operation_blocked",
    "window_verdict",
]


def app_project(app: Obj) -> str:
    return str((app.get("spec") or {}).get("project") or model.DEFAULT_PROJECT)


def window_verdict(
    ws: Workspace,
    store: AppStore,
    app: Obj,
    now: datetime,
    *,
    manual: bool,
    op_started_at: datetime | None = None,
    project: model.AppProject | None = None,
) -> windows.WindowVerdict | None:
    """The sync-window verdict for `app` now (None: app or project unreadable; compare reports those).
    Pass the parsed `project` when evaluating many apps (`app list`)."""
    try:
        parsed = model.parse_application(app)
        proj = project or model.parse_project(store.get_project(app_project(app)))
    except (model.SpecError, NotFound):
        return None
    dest = parsed.spec.destination
    ident = destination_identity(dest.server, dest.name, ws.server_by_name())
    return windows.evaluate(
        proj,
        parsed,
        now,
        manual=manual,
        op_started_at=op_started_at,
        cluster_name=ident.name,
        cluster_server=ident.server,
    )


def break_glass_record(store: AppStore, app: Obj, operation: Obj) -> dict[str, object] | None:
    """The audit intent record a break-glass operation names, if it is genuine for this app."""
    seq_text = next(
        (
            str(i.get("value"))
            for i in operation.get("info") or []
            if isinstance(i, dict) and i.get("name") == breakglass.INFO_BREAK_GLASS
        ),
        "",
    )
    if not seq_text.isdigit():
        return None
    try:
        obj = store.cluster.get(
            crd.API_VERSION, crd.RECORD_KIND, crd.NAMESPACE, crd.record_name(int(seq_text))
        )
    except (NotFound, ClusterError):
        return None
    rec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
    if not rec or rec.get("hash") != record_hash(rec):
        return None
    name = (app.get("metadata") or {}).get("name")
    if rec.get("app") != name or not rec.get("breakGlass") or rec.get("phase") != PHASE_INTENT:
        return None
    if rec.get("action") not in ("sync", "rollback"):
        return None
    return rec


def operation_blocked(ws: Workspace, store: AppStore, app: Obj, state: Obj, now: datetime) -> bool:
    """Whether the windows block this operation pass now."""
    op = state.get("operation") or app.get("operation") or {}
    if not isinstance(op, dict) or not op.get("sync"):
        return False
    manual = not bool((op.get("initiatedBy") or {}).get("automated"))
    verdict = window_verdict(
        ws, store, app, now, manual=manual, op_started_at=parse_time(state.get("startedAt"))
    )
    if verdict is None or verdict.allowed:
        return False
    return break_glass_record(store, app, op) is None
