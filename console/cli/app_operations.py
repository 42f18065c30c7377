"""`trueup app sync|wait|terminate-op|history|rollback|delete`: request an operation and, unless
`--async`, run it to completion in the foreground (see `foreground`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli import governance as gov
from console.cli.args import fmt, history_id, timeout, with_workspace
from console.cli.context import get_app, operation_holder
from console.cli.errors import CommandError
from console.cli.foreground import (
    Signalled,
    finish_termination,
    follower,
    interrupted,
    interrupts,
    print_operation,
    state_text,
)
from console.cli.output import emit_json, one_line, table
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
    gov.add_break_glass_flags(
        sync, "sync through an active deny window or while auto-sync is on (suspends it 1h)"
    )
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
    term = app_sub.add_parser("terminate-op", help="terminate the running operation (break-glass)")
    term.add_argument("app", metavar="APP", help="application name")
    gov.add_break_glass_flags(term, "terminating an operation is break-glass", required=True)
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
    gov.add_break_glass_flags(rb, "roll back while auto-sync is on (suspends it 1h) or through a deny window")
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
    dele.add_argument("--reason", metavar="TEXT", default="", help="why (recorded in the audit record)")
    dele.set_defaults(run=with_workspace(cmd_app_delete))
    conf = app_sub.add_parser(
        "confirm-deletion",
        help="approve the Prune=confirm / Delete=confirm deletions waiting in APP (break-glass)",
    )
    conf.add_argument("app", metavar="APP", help="application name")
    gov.add_break_glass_flags(conf, "approving deletions is break-glass", required=True)
    conf.set_defaults(run=with_workspace(cmd_app_confirm_deletion))


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


def _operation_result(ws: Workspace, args: argparse.Namespace, result: Any, requested: str) -> int:
    gov.finish(result)
    if args.async_:
        print(requested)
        return 0
    app = result.value if isinstance(result.value, dict) else get_app(ws, args.app)
    return print_operation(app, getattr(args, "output", None))


def cmd_app_sync(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.gate import actions

    get_app(ws, args.app)
    resources = [_parse_resource(r) for r in args.resource or []]
    holder = operation_holder()
    try:
        result = actions.sync(
            gov.gate(ws, args),
            args.app,
            revision=args.revision,
            prune=args.prune,
            dry_run=args.dry_run,
            force=args.force,
            resources=resources or None,
            reason=args.reason,
            break_glass=args.break_glass,
            confirm=args.confirm,
            follow=None if args.async_ else follower(ws, args.app, args, holder),
        )
    except Signalled as sig:
        return interrupted(ws, args.app, holder, sig.signum)
    return _operation_result(
        ws,
        args,
        result,
        f"sync of {args.app} requested; follow it with `trueup app wait {args.app} --operation`",
    )


def cmd_app_rollback(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.gate import actions

    get_app(ws, args.app)
    holder = operation_holder()
    try:
        result = actions.rollback(
            gov.gate(ws, args),
            args.app,
            args.id,
            dry_run=args.dry_run,
            prune=args.prune,
            reason=args.reason,
            break_glass=args.break_glass,
            confirm=args.confirm,
            follow=None if args.async_ else follower(ws, args.app, args, holder),
        )
    except Signalled as sig:
        return interrupted(ws, args.app, holder, sig.signum)
    return _operation_result(ws, args, result, f"rollback of {args.app} to history id {args.id} requested")


def cmd_app_terminate_op(ws: Workspace, args: argparse.Namespace) -> int:
    """Argo's TerminateOperation (break-glass), then the termination itself when no live
    controller holds the operation, so it never waits for a controller that is not running."""
    from console.engine.gate import actions
    from console.engine.sync import lease
    from console.engine.sync.operation import is_in_progress

    get_app(ws, args.app)
    store = AppStore(ws.control())
    result = actions.terminate(
        gov.gate(ws, args),
        args.app,
        reason=args.reason,
        break_glass=args.break_glass,
        confirm=args.confirm,
        finish=lambda: finish_termination(ws, args.app, operation_holder()),
    )
    gov.finish(result)
    app = result.value if isinstance(result.value, dict) else store.get_app(args.app)
    if is_in_progress(app):
        owner = lease.holder_of(store.cluster, args.app) or "its executor"
        print(f"Application '{args.app}' operation terminating; {owner} finishes it")
    else:
        print(f"Application '{args.app}' operation terminated ({state_text(app)})")
    return 0


def cmd_app_set_auto_sync(ws: Workspace, args: argparse.Namespace) -> int:
    """governance's part of `app set`: --auto-sync on|off [--for] (break-glass to suspend)."""
    from console.engine.gate import actions
    from console.engine.governance import breakglass

    get_app(ws, args.app)
    if args.auto_sync is None:
        raise CommandError(
            f"nothing to set on {args.app}: give --auto-sync on|off (see `trueup app set --help`)"
        )
    if args.auto_sync == "on" and (args.for_ or args.self_heal_only):
        raise CommandError("--for and --self-heal-only go with --auto-sync off")
    try:
        span = breakglass.parse_for(args.for_)
    except breakglass.BreakGlassError as exc:
        raise CommandError(str(exc)) from None
    result = actions.set_auto_sync(
        gov.gate(ws, args),
        args.app,
        args.auto_sync == "on",
        scope=breakglass.SCOPE_SELF_HEAL if args.self_heal_only else breakglass.SCOPE_AUTO_SYNC,
        duration=span,
        reason=args.reason,
        break_glass=args.break_glass,
        confirm=args.confirm,
    )
    gov.finish(result)
    print(f"{args.app}: {result.message} (audit record {result.audit_seq})")
    return 0


def cmd_app_confirm_deletion(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.gate import actions

    get_app(ws, args.app)
    result = actions.confirm_deletion(
        gov.gate(ws, args), args.app, reason=args.reason, break_glass=args.break_glass, confirm=args.confirm
    )
    gov.finish(result)
    print(f"{args.app}: {result.message} (audit record {result.audit_seq})")
    return 0


def cmd_app_history(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.sync.history import entries

    history = entries(_readable(ws, args, args.app))
    if args.output == "json":
        emit_json(history)
        return 0
    table(
        ["ID", "DATE", "REVISION", "INITIATED BY", "REASON"],
        [
            [
                h.get("id", ""),
                h.get("deployedAt", ""),
                h.get("revision") or ",".join(h.get("revisions") or []),
                (h.get("initiatedBy") or {}).get("username", "")
                + (" (automated)" if (h.get("initiatedBy") or {}).get("automated") else ""),
                _history_reason(h),
            ]
            for h in reversed(history)
        ],
    )
    return 0


def _history_reason(entry: Obj) -> str:
    """The `operation.info` reason (and break-glass audit record) a deployment was made under."""
    from console.engine.governance import breakglass

    info = {str(i.get("name")): str(i.get("value")) for i in entry.get("info") or [] if isinstance(i, dict)}
    text = info.get(breakglass.INFO_REASON, "")
    if breakglass.INFO_BREAK_GLASS in info:
        text += f" [break-glass, audit record {info[breakglass.INFO_BREAK_GLASS]}]"
    return one_line(text.strip(), 60) or "-"


def _readable(ws: Workspace, args: argparse.Namespace, name: str) -> Obj:
    app = get_app(ws, name)
    gov.require_get(ws, args, app)
    return app


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

    _readable(ws, args, args.app)
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
    from console.engine.gate import actions

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

    result = actions.delete(
        gov.gate(ws, args),
        args.app,
        cascade=args.cascade,
        timeout=args.timeout,
        progress=progress,
        reason=args.reason,
    )
    gov.finish(result)
    if not result.ok:
        raise CommandError(result.message, result.code)
    print(f"application '{args.app}' deleted")
    return 0
