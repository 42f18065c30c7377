"""Deployment history (status.history) and rollback (argocd-features.md §2.8).

History is appended only by the executor, when a sync succeeded, was not a dry run and was not
selective; ids grow by one from the last entry (the first is 0) and the list keeps the newest
`spec.revisionHistoryLimit` entries (default 10). A rollback is a new sync operation to an entry's
revision with the apply strategy, so hooks do not run.
"""

from __future__ import annotations

import copy
from typing import Any

from console.cluster.api import Obj
from console.engine import model
from console.engine.appstore import AppStore
from console.engine.refresh import UnknownApplication
from console.engine.sync.operation import request_sync

MSG_AUTO_SYNC = "rollback cannot be initiated when auto-sync is enabled"


class RollbackRefused(Exception):
    """Rollback not allowed (auto-sync on, unknown id, application deleting)."""


def entries(app: Obj) -> list[Obj]:
    history = (app.get("status") or {}).get("history") or []
    return [h for h in history if isinstance(h, dict)]


def history_limit(app: Obj) -> int:
    limit = (app.get("spec") or {}).get("revisionHistoryLimit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
        return limit
    return model.DEFAULT_REVISION_HISTORY_LIMIT


def append_history(status: Obj, app: Obj, state: Obj, operation: Obj, *, deployed_at: str) -> None:
    """Add the entry for a completed operation to `status` in place (AC persistRevisionHistory)."""
    history = [h for h in status.get("history") or [] if isinstance(h, dict)]
    next_id = int(history[-1].get("id", -1)) + 1 if history else 0
    result = state.get("syncResult") or {}
    entry: dict[str, Any] = {"id": next_id}
    if result.get("revisions") and len(result["revisions"]) > 1:
        entry["revisions"] = list(result["revisions"])
    else:
        entry["revision"] = str(result.get("revision") or (operation.get("sync") or {}).get("revision") or "")
    spec = app.get("spec") or {}
    if result.get("sources") or spec.get("sources"):
        entry["sources"] = copy.deepcopy(result.get("sources") or spec.get("sources"))
    else:
        entry["source"] = copy.deepcopy(result.get("source") or spec.get("source") or {})
    entry["deployedAt"] = deployed_at
    if state.get("startedAt"):
        entry["deployStartedAt"] = state["startedAt"]
    if operation.get("initiatedBy"):
        entry["initiatedBy"] = copy.deepcopy(operation["initiatedBy"])
    if operation.get("info"):  # `argocd app sync --info`: the reason (incident) shows in history
        entry["info"] = copy.deepcopy(operation["info"])
    history.append(entry)
    limit = history_limit(app)
    status["history"] = history[-limit:] if limit > 0 else []


def _automated(app: Obj) -> bool:
    automated = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
    return isinstance(automated, dict) and automated.get("enabled") is not False


def rollback(
    store: AppStore,
    name: str,
    history_id: int,
    *,
    initiated_by: dict[str, Any],
    dry_run: bool = False,
    prune: bool = False,
    allow_automated: bool = False,
    info: list[dict[str, Any]] | None = None,
) -> Obj:
    """Request a sync to history entry `history_id` (hooks skipped). Raises RollbackRefused, or
    OperationInProgress when an operation is running. `allow_automated`: a break-glass rollback
    (auto-sync was suspended for it by the governance gate)."""
    try:
        app = store.get_app(name)
    except Exception as exc:  # NotFound
        raise UnknownApplication(f"application {name!r} not found (see `trueup app list`)") from exc
    if (app.get("metadata") or {}).get("deletionTimestamp"):
        raise RollbackRefused(f"application {name} is being deleted")
    if _automated(app) and not allow_automated:
        raise RollbackRefused(MSG_AUTO_SYNC)
    entry = next((h for h in entries(app) if h.get("id") == history_id), None)
    if entry is None:
        ids = ", ".join(str(h.get("id")) for h in entries(app)) or "none"
        raise RollbackRefused(
            f"application {name} does not have deployment with id {history_id} (ids: {ids}; "
            f"see `trueup app history {name}`)"
        )
    revision = entry.get("revision") or (entry.get("revisions") or [""])[0]
    return request_sync(
        store,
        name,
        revision=str(revision),
        prune=prune,
        dry_run=dry_run,
        apply_strategy=True,
        initiated_by=initiated_by,
        source=entry.get("source"),
        info=info,
    )
