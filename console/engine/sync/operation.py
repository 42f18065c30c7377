"""Requesting and terminating operations on an Application (Argo's SetAppOperation / Terminate).

Persisted format (Argo CD's schema, argocd-features.md §1.3), all in the Application object:

* ``operation`` (top-level field, written through the main resource with ``resourceVersion``
  optimistic concurrency)::

      sync:
        revision: <ref or SHA, "" = the source's targetRevision>
        prune: bool
        dryRun: bool
        syncStrategy: {hook: {force: bool}} | {apply: {force: bool}}   # apply = hooks skipped
        resources: [{group, kind, namespace, name}]                    # selective sync
        syncOptions: [..]                                              # validated on request
        autoHealAttemptsCount: int                                     # self-heal attempts
      initiatedBy: {username: str, automated: bool}
      info: [{name, value}]
      retry: {limit, backoff: {duration, factor, maxDuration}, refresh}

* ``status.operationState`` (status subresource; written by whoever executes the operation after
  every step)::

      operation: <copy of the operation>
      phase: Running | Terminating | Failed | Error | Succeeded
      message: str
      startedAt: RFC3339                 # also seeds generated hook names, so it never changes
      finishedAt: RFC3339                # set when completed, and on every retry scheduling
      retryCount: int
      syncResult:
        revision: <resolved SHA>         # pinned on the first pass; resumes use it
        source: <the source synced>
        resources: [{group, version, kind, namespace, name, status, message,
                     hookType, hookPhase, syncPhase}]
          # status   = result code Synced | SyncFailed | Pruned | PruneSkipped ("" while pending)
          # hookPhase = the task's own phase Running | Succeeded | Failed | Error (for every task,
          #             as GE does); syncPhase = PreSync | Sync | PostSync | SyncFail

An operation is *in progress* while ``operation`` is set or ``operationState`` is not completed;
only then may a new one be requested. The executor sets ``operation`` back to null when the phase
becomes completed (Failed, Error, Succeeded).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from console.cluster.api import Cluster, Conflict, NotFound, Obj
from console.engine.appstore import AppStore
from console.engine.compare import cluster_time
from console.engine.refresh import UnknownApplication
from console.engine.sync import options as so
from console.engine.timestamps import parse_time as parse_time
from console.engine.timestamps import rfc3339 as rfc3339

COMPLETED_PHASES = ("Failed", "Error", "Succeeded")
MSG_IN_PROGRESS = "another operation is already in progress"
MSG_NO_OPERATION = "Unable to terminate operation. No operation is in progress"

_ATTEMPTS = 8


class OperationInProgress(Exception):
    """A second operation was requested while one exists (CLI exit 4)."""

    def __init__(self, message: str = MSG_IN_PROGRESS) -> None:
        super().__init__(message)


class NoOperation(Exception):
    """Terminate asked for while nothing runs."""

    def __init__(self, message: str = MSG_NO_OPERATION) -> None:
        super().__init__(message)


# --- time ----------------------------------------------------------------------------------------


def cluster_now(cluster: Cluster) -> datetime:
    """Wall time as the control cluster sees it: the sim's (freezable, shared) clock, else UTC now.

    Everything an operation records (startedAt, retry times, lease renewals) uses this one clock,
    so several processes and the tests agree on it (and refresh writes status times on it too).
    """
    return cluster_time(cluster)


# --- predicates ----------------------------------------------------------------------------------


def operation_state(app: Obj) -> Obj | None:
    state = (app.get("status") or {}).get("operationState")
    return state if isinstance(state, dict) else None


def is_completed(state: Obj | None) -> bool:
    return state is not None and state.get("phase") in COMPLETED_PHASES


def is_in_progress(app: Obj) -> bool:
    """Argo: `operation` set, or an operationState that is not completed."""
    if app.get("operation"):
        return True
    state = operation_state(app)
    return state is not None and not is_completed(state)


# --- writes --------------------------------------------------------------------------------------


def _get(store: AppStore, name: str) -> Obj:
    try:
        return store.get_app(name)
    except NotFound:
        raise UnknownApplication(f"application {name!r} not found (see `trueup app list`)") from None


def update_status(store: AppStore, name: str, mutate: Callable[[Obj], Obj | None]) -> Obj:
    """Read-modify-write of `status` with resourceVersion; `mutate(status)` edits in place (or
    returns a replacement) and sees the freshest status on every retry, so concurrent writers of
    other status fields (refresh) are not overwritten."""
    for i in range(_ATTEMPTS):
        live = _get(store, name)
        new = copy.deepcopy(live)
        status = new.setdefault("status", {})
        out = mutate(status)
        if out is not None:
            new["status"] = out
        if new.get("status") == live.get("status"):
            return live
        try:
            return store.cluster.update(new, field_manager=store.field_manager, subresource="status")
        except Conflict:
            time.sleep(0.005 * (2**i))
    raise Conflict(f'could not write status of application "{name}": too many concurrent writers')


def update_app(store: AppStore, name: str, mutate: Callable[[Obj], None]) -> Obj:
    """Read-modify-write of the main resource (operation, metadata) with resourceVersion."""
    for i in range(_ATTEMPTS):
        live = _get(store, name)
        new = copy.deepcopy(live)
        mutate(new)
        if new == live:
            return live
        try:
            return store.cluster.update(new, field_manager=store.field_manager)
        except Conflict:
            time.sleep(0.005 * (2**i))
    raise Conflict(f'could not update application "{name}": too many concurrent writers')


def build_operation(
    *,
    revision: str | None = None,
    prune: bool = False,
    dry_run: bool = False,
    force: bool = False,
    resources: list[dict[str, Any]] | None = None,
    sync_options: list[str] | None = None,
    apply_strategy: bool = False,
    initiated_by: dict[str, Any],
    retry: dict[str, Any] | None = None,
    info: list[dict[str, Any]] | None = None,
    self_heal_attempts: int = 0,
    source: dict[str, Any] | None = None,
) -> Obj:
    """The `operation` object (Argo's Operation schema); sync options validated here so a typo is
    refused at request time instead of failing the operation later."""
    if sync_options:
        so.SyncOptions.parse(sync_options, where="the operation's syncOptions")
    strategy_kind = "apply" if apply_strategy else "hook"
    sync: Obj = {
        "revision": revision or "",
        "prune": bool(prune),
        "dryRun": bool(dry_run),
        "syncStrategy": {strategy_kind: {"force": True} if force else {}},
    }
    if resources:
        sync["resources"] = [
            {
                "group": str(r.get("group") or ""),
                "kind": str(r.get("kind") or ""),
                "namespace": str(r.get("namespace") or ""),
                "name": str(r.get("name") or ""),
            }
            for r in resources
        ]
    if sync_options:
        sync["syncOptions"] = list(sync_options)
    if self_heal_attempts:
        sync["autoHealAttemptsCount"] = int(self_heal_attempts)
    if source:
        sync["source"] = copy.deepcopy(source)
    op: Obj = {"sync": sync, "initiatedBy": dict(initiated_by)}
    if info:
        op["info"] = [dict(i) for i in info]
    if retry:
        op["retry"] = copy.deepcopy(retry)
    return op


def request_sync(
    store: AppStore,
    name: str,
    *,
    revision: str | None = None,
    prune: bool = False,
    dry_run: bool = False,
    force: bool = False,
    resources: list[dict[str, Any]] | None = None,
    sync_options: list[str] | None = None,
    apply_strategy: bool = False,
    initiated_by: dict[str, Any],
    retry: dict[str, Any] | None = None,
    info: list[dict[str, Any]] | None = None,
    self_heal_attempts: int = 0,
    source: dict[str, Any] | None = None,
) -> Obj:
    """Set `operation` (refused with OperationInProgress while one exists) and reset
    `status.operationState` to a fresh Running state. Returns the Application as written."""
    op = build_operation(
        revision=revision,
        prune=prune,
        dry_run=dry_run,
        force=force,
        resources=resources,
        sync_options=sync_options,
        apply_strategy=apply_strategy,
        initiated_by=initiated_by,
        retry=retry,
        info=info,
        self_heal_attempts=self_heal_attempts,
        source=source,
    )
    for i in range(_ATTEMPTS):
        live = _get(store, name)
        if is_in_progress(live):
            raise OperationInProgress()
        new = copy.deepcopy(live)
        new["operation"] = op
        try:
            written = store.cluster.update(new, field_manager=store.field_manager)
        except Conflict:
            time.sleep(0.005 * (2**i))
            continue
        break
    else:
        raise Conflict(f'could not set the operation of application "{name}": too many concurrent writers')
    del written
    started = rfc3339(cluster_now(store.cluster))

    def fresh(status: Obj) -> None:
        st = status.get("operationState")
        if isinstance(st, dict) and not is_completed(st) and st.get("operation") == op:
            return  # an executor already started this very operation (ensure_operation_state)
        status["operationState"] = {"operation": copy.deepcopy(op), "phase": "Running", "startedAt": started}

    return update_status(store, name, fresh)


def request_terminate(store: AppStore, name: str) -> Obj:
    """Argo TerminateOperation: phase := Terminating; the executor deletes running hooks and ends
    the operation Failed "Operation terminated"."""
    live = _get(store, name)
    state = operation_state(live)
    if not live.get("operation") or state is None or is_completed(state):
        raise NoOperation()

    def terminate(status: Obj) -> None:
        st = status.get("operationState")
        if not isinstance(st, dict) or st.get("phase") in COMPLETED_PHASES:
            raise NoOperation()
        st["phase"] = "Terminating"

    return update_status(store, name, terminate)


def ensure_operation_state(store: AppStore, app: Obj) -> Obj:
    """An `operation` without (or with a stale completed) operationState, e.g. written by kubectl or
    by Argo tooling: start a fresh Running state the way the controller does."""
    name = app["metadata"]["name"]
    op = app.get("operation")
    state = operation_state(app)
    if not op or (state is not None and not is_completed(state) and state.get("operation") == op):
        return app
    if state is not None and not is_completed(state):
        return app
    started = rfc3339(cluster_now(store.cluster))

    def fresh(status: Obj) -> None:
        st = status.get("operationState")
        if isinstance(st, dict) and not is_completed(st):
            return
        status["operationState"] = {"operation": copy.deepcopy(op), "phase": "Running", "startedAt": started}

    return update_status(store, name, fresh)
