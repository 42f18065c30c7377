"""`trueup app sync|wait|terminate-op|history|rollback|delete`: request an operation and, unless
`--async`, run it to completion in the foreground (see `foreground`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli.args import fmt, history_id, timeout, with_workspace
from console.cli.context import get_app, initiated_by, operation_holder
from console.cli.errors import CommandError
from console.cli.foreground import (
    Signalled,
    finish_termination,
    interrupted,
    interrupts,
    run_to_completion,
    state_text,
)
from console.cli.output import emit_json, table
from console.cluster.api import Obj
from console.engine.appstore import AppStore
from console.engine.refresh import refresh
from console.engine.workspace import Workspace


def register(app_sub: argparse._SubParsersAction[Any]) -> None:
    sync = app_sub.add_parser("sync", help="sync an application to Git (exit 0 ok, 1 failed, 4 in progress)")
    sync.add_argument("app", metavar="APP", help="application name")
    sync.add_argument("--dry-run", action="store_true", help="server-side dry run; nothing is changed")
    sync.add_argument("--prune", action="store_true", help="delete resources that are no longer in Git")
    sync.add_argument(
        "--force", action="store_true", help="delete and re-create resources that cannot be updated"
    )
    sync.add_argument("--revision", help="sync to this revision instead of targetRevision")
    sync.add_argument(
        "--resource",
        action="append",
        metavar="GROUP:KIND:NS/NAME",
        help="selective sync (repeatable): hooks are skipped and no history is recorded",
    )
    sync.add_argument("--async", dest="async_", action="store_true", help="request the sync and return")
    timeout(sync, "terminate the operation after this long")
    sync.add_argument("-o", "--output", **fmt(["json"]))
    sync.set_defaults(run=with_workspace(cmd_app_sync))
    wait = app_sub.add_parser(
        "wait", help="wait until the application is synced/healthy/idle (exit 1 on timeout)"
    )
    wait.add_argument("app", metavar="APP", help="application name")
    wait.add_argument("--sync", action="store_true", help="wait for sync status Synced")
    wait.add_argument("--health", action="store_true", help="wait for health Healthy")
    wait.add_argument("--operation", action="store_true", help="wait for the running operation to finish")
    timeout(wait, "give up after this long")
    wait.set_defaults(run=with_workspace(cmd_app_wait))
    term = app_sub.add_parser("terminate-op", help="terminate the running operation")
    term.add_argument("app", metavar="APP", help="application name")
    term.set_defaults(run=with_workspace(cmd_app_terminate_op))
    hist = app_sub.add_parser("history", help="deployment history")
    hist.add_argument("app", metavar="APP", help="application name")
    hist.add_argument("-o", "--output", **fmt(["json"]))
    hist.set_defaults(run=with_workspace(cmd_app_history))
    rb = app_sub.add_parser(
        "rollback", help="sync to a history entry (hooks skipped; refused with auto-sync on)"
    )
    rb.add_argument("app", metavar="APP", help="application name")
    rb.add_argument("id", type=history_id, metavar="ID", help="history id (see `trueup app history APP`)")
    rb.add_argument("--dry-run", action="store_true", help="server-side dry run; nothing is changed")
    rb.add_argument("--prune", action="store_true", help="delete resources that are not in that revision")
    rb.add_argument("--async", dest="async_", action="store_true", help="request the rollback and return")
    timeout(rb, "terminate the operation after this long")
    rb.add_argument("-o", "--output", **fmt(["json"]))
    rb.set_defaults(run=with_workspace(cmd_app_rollback))
    dele = app_sub.add_parser("delete", help="delete an application (and, cascading, its resources)")
    dele.add_argument("app", metavar="APP", help="application name")
    dele.add_argument(
        "--cascade",
        choices=["foreground", "background", "orphan"],
        default="foreground",
        help="foreground (default): resources first; background: the app first; orphan: keep resources",
    )
    dele.add_argument("--yes", action="store_true", help="do not ask for the typed application name")
    timeout(dele, "give up waiting for the deletion after this long")
    dele.set_defaults(run=with_workspace(cmd_app_delete))


def _parse_resource(spec: str) -> dict[str, str]:
    """argocd's `GROUP:KIND:NAME` or `GROUP:KIND:NAMESPACE/NAME` (group empty for core kinds)."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise CommandError(
            f"--resource {spec!r}: expected GROUP:KIND:NAMESPACE/NAME or GROUP:KIND:NAME "
            "(e.g. apps:Deployment:payments/payments-api, :ConfigMap:payments/app-config)"
        )
    group, kind, rest = parts
    namespace, _, name = rest.rpartition("/")
    if not name:
        raise CommandError(f"--resource {spec!r}: the resource name is empty")
    return {"group": group, "kind": kind, "namespace": namespace, "name": name}


def cmd_app_sync(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.sync import options as so
    from console.engine.sync.operation import OperationInProgress, request_sync

    get_app(ws, args.app)
    resources = [_parse_resource(r) for r in args.resource or []]
    try:
        request_sync(
            AppStore(ws.control()),
            args.app,
            revision=args.revision,
            prune=args.prune,
            dry_run=args.dry_run,
            force=args.force,
            resources=resources or None,
            initiated_by=initiated_by(),
        )
    except OperationInProgress as exc:
        raise CommandError(f"cannot sync {args.app}: {exc}", 4) from None
    except so.UnsupportedSyncOption as exc:
        raise CommandError(str(exc)) from None
    if args.async_:
        print(f"sync of {args.app} requested; follow it with `trueup app wait {args.app} --operation`")
        return 0
    return run_to_completion(ws, args.app, args)


def cmd_app_rollback(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.sync.history import MSG_AUTO_SYNC, RollbackRefused, rollback
    from console.engine.sync.operation import OperationInProgress

    get_app(ws, args.app)
    try:
        rollback(
            AppStore(ws.control()),
            args.app,
            args.id,
            initiated_by=initiated_by(),
            dry_run=args.dry_run,
            prune=args.prune,
        )
    except OperationInProgress as exc:
        raise CommandError(f"cannot roll back {args.app}: {exc}", 4) from None
    except RollbackRefused as exc:
        raise CommandError(str(exc), 4 if str(exc) == MSG_AUTO_SYNC else 2) from None
    if args.async_:
        print(f"rollback of {args.app} to history id {args.id} requested")
        return 0
    return run_to_completion(ws, args.app, args)


def cmd_app_terminate_op(ws: Workspace, args: argparse.Namespace) -> int:
    """Argo's TerminateOperation, then the termination itself when no live controller holds the
    operation, so it never waits for a controller that is not running."""
    from console.engine.sync import lease
    from console.engine.sync.operation import NoOperation, is_in_progress, request_terminate

    get_app(ws, args.app)
    store = AppStore(ws.control())
    try:
        request_terminate(store, args.app)
    except NoOperation as exc:
        raise CommandError(f"{exc} (application {args.app})") from None
    app = finish_termination(ws, args.app, operation_holder())
    if is_in_progress(app):
        owner = lease.holder_of(store.cluster, args.app) or "its executor"
        print(f"Application '{args.app}' operation terminating; {owner} finishes it")
    else:
        print(f"Application '{args.app}' operation terminated ({state_text(app)})")
    return 0


def cmd_app_history(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.sync.history import entries

    history = entries(get_app(ws, args.app))
    if args.output == "json":
        emit_json(history)
        return 0
    table(
        ["ID", "DATE", "REVISION", "INITIATED BY"],
        [
            [
                h.get("id", ""),
                h.get("deployedAt", ""),
                h.get("revision") or ",".join(h.get("revisions") or []),
                (h.get("initiatedBy") or {}).get("username", "")
                + (" (automated)" if (h.get("initiatedBy") or {}).get("automated") else ""),
            ]
            for h in reversed(history)
        ],
    )
    return 0


def _wait_reasons(app: Obj, want_sync: bool, want_health: bool, want_op: bool) -> list[str]:
    from console.engine.sync.operation import is_in_progress

    status = app.get("status") or {}
    reasons = []
    if want_sync and (status.get("sync") or {}).get("status") != "Synced":
        reasons.append(f"sync status {(status.get('sync') or {}).get('status') or 'Unknown'}")
    if want_health and (status.get("health") or {}).get("status") != "Healthy":
        reasons.append(f"health {(status.get('health') or {}).get('status') or 'Unknown'}")
    if want_op and is_in_progress(app):
        reasons.append("operation in progress")
    return reasons


def cmd_app_wait(ws: Workspace, args: argparse.Namespace) -> int:
    """Poll (refreshing) until the conditions hold. An operation in progress is driven from here
    when no other executor holds its Lease, so waiting works without a running controller."""
    import time

    get_app(ws, args.app)
    want_sync, want_health, want_op = args.sync, args.health, args.operation
    if not (want_sync or want_health or want_op):
        want_sync = want_health = want_op = True
    store = AppStore(ws.control())
    deadline = time.monotonic() + args.timeout if args.timeout is not None else None
    holder = operation_holder()
    try:
        with interrupts():
            return _wait_loop(ws, store, args, holder, deadline, (want_sync, want_health, want_op))
    except Signalled as sig:
        return interrupted(ws, args.app, holder, sig.signum, waiting=True)


def _wait_loop(
    ws: Workspace,
    store: AppStore,
    args: argparse.Namespace,
    holder: str,
    deadline: float | None,
    wanted: tuple[bool, bool, bool],
) -> int:
    import time

    from console.engine.sync.executor import process_operation, tick_sim_clusters
    from console.engine.sync.operation import is_in_progress

    want_sync, want_health, want_op = wanted
    while True:
        app = store.get_app(args.app)
        if is_in_progress(app):
            process_operation(ws, args.app, holder=holder)
        else:
            refresh(ws, [args.app])
        app = store.get_app(args.app)
        reasons = _wait_reasons(app, want_sync, want_health, want_op)
        if not reasons:
            status = app.get("status") or {}
            print(
                f"{args.app}: {(status.get('sync') or {}).get('status', '')}, "
                f"{(status.get('health') or {}).get('status', '')}"
            )
            return 0
        if deadline is not None and time.monotonic() > deadline:
            raise CommandError(
                f"timed out ({args.timeout:g}s) waiting for application {args.app}: still {', '.join(reasons)}",
                1,
            )
        time.sleep(0.25)
        tick_sim_clusters(ws, app)


def cmd_app_delete(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.sync.deletion import DeletionRefused, delete_app

    get_app(ws, args.app)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError(
                f"refusing to delete application {args.app} without confirmation: pass --yes "
                "or run interactively and type the application name"
            )
        typed = input(f"Delete application {args.app} (cascade: {args.cascade})? Type its name to confirm: ")
        if typed.strip() != args.app:
            raise CommandError(f"confirmation did not match {args.app!r}; nothing was deleted")

    def progress(step: Any) -> None:
        print(step.message, file=sys.stderr)

    from console.engine.manage import attempt

    try:
        attempt(  # the governance gate wraps this one call (authorise, audit intent, run, audit result)
            ws,
            "delete",
            "applications",
            args.app,
            lambda: delete_app(ws, args.app, cascade=args.cascade, timeout=args.timeout, progress=progress),
        )
    except DeletionRefused as exc:
        raise CommandError(str(exc)) from None
    except TimeoutError as exc:
        raise CommandError(str(exc), 1) from None
    print(f"application '{args.app}' deleted")
    return 0
