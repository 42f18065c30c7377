"""Subcommand implementations. Each returns an exit code; errors raise CommandError(message, code)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from console.cli import governance as gov
from console.cli.output import emit_json, emit_yaml, emit_yaml_all, one_line, table
from console.cli.output import fields as emit_fields
from console.cluster.api import NotFound, Obj
from console.engine import views
from console.engine.appstore import AppStore
from console.engine.attribution import describe
from console.engine.attribution import label as drift_label
from console.engine.refresh import compare_one, refresh
from console.engine.workspace import Workspace, open_workspace

DEFAULT_DEMO_DIR = Path.home() / "trueup-demo"


class CommandError(Exception):
    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "demo":
        return cmd_demo(args)
    if cmd == "console":
        return cmd_console(args)
    if cmd == "rbac" and args.policy_file:
        return gov.cmd_rbac_can(None, args)  # a policy file needs no workspace
    ws = open_workspace(args.workspace)
    if cmd == "whoami":
        return gov.cmd_whoami(ws, args)
    if cmd == "rbac":
        return gov.cmd_rbac_can(ws, args)
    if cmd == "audit":
        return gov.cmd_audit(ws, args)
    if cmd == "install":
        return cmd_install(ws, args)
    if cmd == "refresh":
        return cmd_refresh(ws, args)
    if cmd == "app":
        return {
            "list": cmd_app_list,
            "get": cmd_app_get,
            "diff": cmd_app_diff,
            "manifests": cmd_app_manifests,
            "sync": cmd_app_sync,
            "wait": cmd_app_wait,
            "terminate-op": cmd_app_terminate_op,
            "history": cmd_app_history,
            "rollback": cmd_app_rollback,
            "delete": cmd_app_delete,
            "set": cmd_app_set,
            "confirm-deletion": cmd_app_confirm_deletion,
        }[args.app_command](ws, args)
    if cmd == "project":
        return {"list": cmd_project_list, "get": cmd_project_get}[args.project_command](ws, args)
    if cmd == "controller":
        return cmd_controller_run(ws, args)
    raise CommandError(f"unknown command {cmd!r}")


# ---------------------------------------------------------------- demo / console


def cmd_demo(args: argparse.Namespace) -> int:
    """Words were validated by the parser: `init DIR` or at most one DIR."""
    from console.demo.bootstrap import DemoError, init_demo

    words = list(args.demo_args)
    if words[:1] == ["init"]:
        target = Path(words[1]).expanduser().resolve()
        try:
            init_demo(target, force=args.force, progress=lambda m: print(m, file=sys.stderr))
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        print(f"demo workspace ready: {target}")
        print(f"next: cd {target} && trueup refresh && trueup app list")
        return 0
    target = Path(words[0]).expanduser().resolve() if words else DEFAULT_DEMO_DIR
    if not (target / "trueup.yaml").exists():
        try:
            init_demo(target, progress=lambda m: print(m, file=sys.stderr))
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        refresh(open_workspace(target))
    from console.tui.app import run_console

    return run_console(open_workspace(target), embedded_controller=not args.no_controller)


def cmd_console(args: argparse.Namespace) -> int:
    from console.tui.app import run_console

    return run_console(open_workspace(args.workspace), embedded_controller=not args.no_controller)


def cmd_install(ws: Workspace, args: argparse.Namespace) -> int:
    """Idempotent: server-side applies the CRDs and the namespace with field manager `trueup`."""
    AppStore(ws.control()).install()
    print(f"installed trueup.dev CRDs and namespace trueup in cluster {ws.control_cluster}")
    return 0


# ---------------------------------------------------------------- refresh


def cmd_refresh(ws: Workspace, args: argparse.Namespace) -> int:
    if args.apps:
        for name in dict.fromkeys(args.apps):
            _readable(ws, args, name)
        names = list(args.apps)
    else:
        names = [
            a["metadata"]["name"] for a in gov.visible_apps(ws, args, AppStore(ws.control()).list_apps())
        ]
    report = refresh(ws, names, hard=args.hard)
    servers = {c.server: c.name for c in ws.clusters.values()}
    if args.output == "json":
        refreshed = {c.name for c in report.comparisons}
        apps = [a for a in AppStore(ws.control()).list_apps() if a["metadata"]["name"] in refreshed]
        emit_json(
            {
                "seconds": round(report.seconds, 3),
                "applications": [views.app_summary(a, servers) for a in apps],
            }
        )
        return 0
    rows = [
        [
            c.name,
            c.sync_status,
            c.health.status,
            (c.revision or "")[:7],
            one_line("; ".join(x["message"] for x in c.conditions), 70),
        ]
        for c in report.comparisons
    ]
    table(["NAME", "SYNC", "HEALTH", "REVISION", "CONDITIONS"], rows)
    print(f"refreshed {len(report.comparisons)} application(s) in {report.seconds:.2f}s", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- app


def _summaries(ws: Workspace, args: argparse.Namespace, windows: bool = False) -> list[dict[str, Any]]:
    """`app list` rows of the applications the user may `get`; `windows`: with sync-window state."""
    servers = {c.server: c.name for c in ws.clusters.values()}
    apps = gov.visible_apps(ws, args, AppStore(ws.control()).list_apps())
    rows = []
    for a in apps:
        row = views.app_summary(a, servers)
        if windows:
            row.update(gov.window_fields(ws, a))
        rows.append(row)
    return rows


def _readable(ws: Workspace, args: argparse.Namespace, name: str) -> Obj:
    """The application, if the user may `get` it (exit 3 otherwise)."""
    app = _get_app(ws, name)
    gov.require_get(ws, args, app)
    return app


def cmd_app_list(ws: Workspace, args: argparse.Namespace) -> int:
    if args.project:
        known = {p["metadata"]["name"] for p in AppStore(ws.control()).list_projects()}
        missing = [p for p in dict.fromkeys(args.project) if p not in known]
        if missing:
            raise CommandError(
                f"project{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} not found "
                "(see `trueup project list`)"
            )
    rows = _summaries(ws, args, windows=args.output in ("wide", "json", "yaml"))
    if args.project:
        rows = [r for r in rows if r["project"] in args.project]
    if args.sync:  # canonical spelling from the parser
        rows = [r for r in rows if r["sync"]["status"] == args.sync]
    if args.health:
        rows = [r for r in rows if r["health"]["status"] == args.health]
    out = args.output
    if out == "json":
        emit_json(rows)
    elif out == "yaml":
        emit_yaml(rows)
    elif out == "name":
        for r in rows:
            print(r["name"])
    else:
        headers = ["NAME", "PROJECT", "CLUSTER", "NAMESPACE", "SYNC", "HEALTH"]
        if out == "wide":
            headers += ["REVISION", "AUTOSYNC", "SYNC-WINDOW", "CONDITIONS", "MESSAGE"]
        data = []
        for r in rows:
            row = [
                r["name"],
                r["project"],
                r["cluster"],
                r["namespace"] or "-",
                r["sync"]["status"],
                r["health"]["status"],
            ]
            if out == "wide":
                row += [
                    (r["sync"]["revision"] or "")[:7],
                    _autosync_text(r),
                    gov.window_text(r),
                    ",".join(c["type"] for c in r["conditions"]) or "-",
                    one_line(r["health"]["message"] or "", 60),
                ]
            data.append(row)
        table(headers, data)
    return 0


def _autosync_text(r: dict[str, Any]) -> str:
    if not r["autoSync"]:
        return "off"
    text = "on" + ("+selfheal" if r["selfHeal"] else "")
    suspension = r.get("suspension")
    if suspension:
        text += f" ({'selfheal ' if suspension['scope'] == 'self-heal' else ''}suspended)"
    return text


def _get_app(ws: Workspace, name: str) -> Obj:
    try:
        return AppStore(ws.control()).get_app(name)
    except NotFound:
        raise CommandError(f"application {name!r} not found (see `trueup app list`)") from None


def cmd_app_get(ws: Workspace, args: argparse.Namespace) -> int:
    app = _readable(ws, args, args.app)
    if args.refresh or args.hard_refresh:  # as argocd: refresh this app, then show the new status
        refresh(ws, [args.app], hard=args.hard_refresh)
        app = _get_app(ws, args.app)
    if args.output in ("json", "yaml"):
        from console.engine.masking import mask_for_display

        shown = mask_for_display(app, ws.settings.sensitive_annotations)
        if args.output == "json":
            emit_json(shown)
        else:
            emit_yaml(shown)
        return 0
    if args.output == "tree":
        cmp = compare_one(ws, args.app)
        ctx = cmp.context
        assert ctx is not None
        # the comparison's own live snapshot and health checker (with the workspace's Lua checks)
        live = ctx.live.get(cmp.cluster) if cmp.cluster else None
        tree = views.resource_tree(cmp, live, ctx.health)
        print(f"{args.app}  ({cmp.sync_status}, {cmp.health.status})")
        _print_tree(tree, "")
        return 0
    s = views.app_summary(app, {c.server: c.name for c in ws.clusters.values()})
    fields: list[tuple[str, Any]] = [
        ("Name", s["name"]),
        ("Project", s["project"]),
        ("Cluster", s["cluster"]),
        ("Namespace", s["namespace"] or "-"),
        ("Repo", s["repoURL"]),
        ("Path", s["path"]),
        ("Target", s["targetRevision"]),
        ("Sync Status", f"{s['sync']['status']} to {s['sync']['revision'][:7] or '?'}"),
        (
            "Health Status",
            s["health"]["status"] + (f" ({s['health']['message']})" if s["health"]["message"] else ""),
        ),
        (
            "Sync Policy",
            ("Automated" + (" (Prune)" if s["prune"] else "") + (" (SelfHeal)" if s["selfHeal"] else ""))
            if s["autoSync"]
            else "Manual",
        ),
        ("Reconciled", s["reconciledAt"] or "never"),
    ]
    win = gov.window_fields(ws, app)
    if win["syncWindows"]:
        fields += [("Sync Window", gov.window_text(win)), ("Windows", gov.assigned_windows(win))]
    if win["suspension"]:
        sp = win["suspension"]
        fields.append(
            ("Suspended", f"{sp['scope']} until {sp['until']} by {sp['by']} ({one_line(sp['reason'], 80)})")
        )
    fields += [("Condition", f"{c['type']}: {one_line(c['message'], 120)}") for c in s["conditions"]]
    emit_fields(fields)
    resources = (app.get("status") or {}).get("resources") or []
    if resources:
        print()
        table(
            ["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "MESSAGE"],
            [
                [
                    r.get("group", ""),
                    r.get("kind", ""),
                    r.get("namespace", ""),
                    r.get("name", ""),
                    r.get("status", ""),
                    (r.get("health") or {}).get("status", ""),
                    one_line(((r.get("health") or {}).get("message") or r.get("message") or ""), 60),
                ]
                for r in resources
            ],
        )
    return 0


def _print_tree(nodes: list[dict[str, Any]], prefix: str) -> None:
    for i, n in enumerate(nodes):
        last = i == len(nodes) - 1
        h = n.get("health") or {}
        health = (
            f"{h.get('status')}" + (f" ({one_line(h.get('message', ''), 60)})" if h.get("message") else "")
            if h
            else "-"
        )
        status = f" [{n['status']}]" if "status" in n else ""
        print(f"{prefix}{'└── ' if last else '├── '}{n['kind']}/{n['name']}{status}  {health}")
        _print_tree(n["children"], prefix + ("    " if last else "│   "))


def cmd_app_diff(ws: Workspace, args: argparse.Namespace) -> int:
    _readable(ws, args, args.app)
    cmp = compare_one(ws, args.app, revision=args.revision)
    errors = [c for c in cmp.conditions if c["type"].endswith("Error")]
    if errors:
        raise CommandError(
            f"cannot diff {args.app}: " + "; ".join(one_line(c["message"], 400) for c in errors)
        )
    changed = [r for r in cmp.resources if r.diff is not None and r.diff.modified]
    if args.output == "json":
        emit_json(
            [
                {
                    "group": r.key.group,
                    "kind": r.key.kind,
                    "namespace": r.key.namespace,
                    "name": r.key.name,
                    "status": r.status,
                    "requiresPruning": r.requires_pruning,
                    "changedPaths": r.diff.changed_paths if r.diff else [],
                    "attributions": [
                        {
                            "path": a.path,
                            "manager": a.manager,
                            "operation": a.operation,
                            "time": a.time,
                            "drift": a.drift,
                        }
                        for a in (r.diff.attributions if r.diff else [])
                    ],
                    "changes": r.diff.changes() if r.diff else [],
                    "diff": r.diff.unified() if r.diff else "",
                }
                for r in changed
            ]
        )
        return 1 if changed else 0
    for r in changed:
        assert r.diff is not None
        ns = f"{r.key.namespace}/" if r.key.namespace else ""
        attributions = r.diff.attributions
        label = (
            "missing from the cluster"
            if r.live is None
            else "requires pruning"
            if r.requires_pruning
            else "changed in Git"
            if attributions and not any(a.drift for a in attributions)
            else "live differs from Git"
        )
        print(f"===== {r.key.group or 'core'}/{r.key.kind} {ns}{r.key.name} ({label}) ======")
        for a in attributions:
            print(f"# {drift_label(a)}: {describe(a)}")
        sys.stdout.write(r.diff.unified())
        print()
    return 1 if changed else 0


def cmd_app_manifests(ws: Workspace, args: argparse.Namespace) -> int:
    _readable(ws, args, args.app)
    cmp = compare_one(ws, args.app)
    errors = [c for c in cmp.conditions if c["type"].endswith("Error")]
    if args.source == "git" and errors:
        raise CommandError(
            f"cannot render {args.app}: " + "; ".join(one_line(c["message"], 400) for c in errors)
        )
    from console.engine.masking import mask_for_display

    hidden = ws.settings.sensitive_annotations
    objs = []
    for r in cmp.resources:
        obj = r.target if args.source == "git" else r.live
        if obj is None:
            continue
        objs.append(mask_for_display(obj, hidden))
    if args.output == "json":
        emit_json(objs)
    else:
        emit_yaml_all(objs)
    return 0


# ---------------------------------------------------------------- project


def cmd_project_list(ws: Workspace, args: argparse.Namespace) -> int:
    projects = gov.visible_projects(ws, args, AppStore(ws.control()).list_projects())
    if args.output == "json":
        emit_json(projects)
    elif args.output == "yaml":
        emit_yaml(projects)
    elif args.output == "name":
        for p in projects:
            print(p["metadata"]["name"])
    else:
        rows = []
        for p in projects:
            spec = p.get("spec") or {}
            dests = ",".join(
                f"{d.get('name') or d.get('server')}/{d.get('namespace')}"
                for d in spec.get("destinations") or []
            )
            rows.append(
                [
                    p["metadata"]["name"],
                    one_line(spec.get("description", ""), 50) or "-",
                    one_line(dests, 60),
                    len(spec.get("syncWindows") or []),
                ]
            )
        table(["NAME", "DESCRIPTION", "DESTINATIONS", "SYNC-WINDOWS"], rows)
    return 0


def cmd_project_get(ws: Workspace, args: argparse.Namespace) -> int:
    gov.require_project_get(ws, args, args.name)
    try:
        proj = AppStore(ws.control()).get_project(args.name)
    except NotFound:
        raise CommandError(f"project {args.name!r} not found (see `trueup project list`)") from None
    if args.output == "json":
        emit_json(proj)
    else:
        emit_yaml(proj)
    return 0


# ---------------------------------------------------------------- operations (sync, wait, history, delete)


def _holder() -> str:
    import os
    import socket

    return f"cli-{socket.gethostname()}-{os.getpid()}"


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


def _result_rows(app: Obj) -> list[list[str]]:
    state = (app.get("status") or {}).get("operationState") or {}
    when = state.get("finishedAt") or state.get("startedAt") or ""
    health = {
        (r.get("group", ""), r.get("kind", ""), r.get("namespace", ""), r.get("name", "")): (
            r.get("health") or {}
        ).get("status", "")
        for r in (app.get("status") or {}).get("resources") or []
    }
    rows = []
    for r in (state.get("syncResult") or {}).get("resources") or []:
        key = (r.get("group", ""), r.get("kind", ""), r.get("namespace", ""), r.get("name", ""))
        rows.append(
            [
                when,
                r.get("group", ""),
                r.get("kind", ""),
                r.get("namespace", ""),
                r.get("name", ""),
                r.get("status", ""),
                health.get(key, "") if not r.get("hookType") else "",
                r.get("hookType", ""),
                one_line(r.get("message", ""), 100),
            ]
        )
    return rows


def _print_operation(app: Obj, output: str | None) -> int:
    state = (app.get("status") or {}).get("operationState") or {}
    phase = state.get("phase", "")
    if output == "json":
        emit_json(
            {
                "name": app["metadata"]["name"],
                "operationState": state,
                "sync": (app.get("status") or {}).get("sync") or {},
                "health": (app.get("status") or {}).get("health") or {},
            }
        )
    else:
        rows = _result_rows(app)
        if rows:
            table(
                ["TIMESTAMP", "GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE"],
                rows,
            )
            print()
        sr = state.get("syncResult") or {}
        for k, v in (
            ("Name", app["metadata"]["name"]),
            ("Sync Revision", sr.get("revision", "")),
            ("Phase", phase),
            ("Start", state.get("startedAt", "")),
            ("Finished", state.get("finishedAt", "")),
            ("Message", state.get("message", "")),
        ):
            print(f"{k + ':':<15}{v}")
    return 0 if phase == "Succeeded" else 1


class _Signalled(KeyboardInterrupt):
    """SIGINT or SIGTERM while a foreground operation runs (a KeyboardInterrupt, so no `except
    Exception` on the way swallows it; the executor's steps are persisted, so stopping anywhere is
    safe)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _interrupts() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into _Signalled for the duration (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise _Signalled(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _say(line: str) -> None:
    sys.stderr.write(f"trueup: {line}\n")
    sys.stderr.flush()


def _finish_termination(ws: Workspace, name: str, holder: str) -> Obj:
    """Ask for termination, then run it here unless a live controller has the operation: the
    executor deletes the running hooks and ends the operation Failed "Operation terminated". An
    operation Lease held by an executor that died is waited out (it expires after its duration)."""
    import time

    from console.engine.sync import lease
    from console.engine.sync.executor import process_operation
    from console.engine.sync.operation import NoOperation, is_in_progress, request_terminate

    store = AppStore(ws.control())
    try:
        request_terminate(store, name)
    except NoOperation:
        pass  # it ended meanwhile
    deadline = time.monotonic() + lease.lease_seconds() + 2
    while True:
        process_operation(ws, name, holder=holder)
        app = store.get_app(name)
        if not is_in_progress(app) or time.monotonic() > deadline:
            return app
        owner = lease.holder_of(store.cluster, name)
        if owner is not None and owner == lease.running_controller(store.cluster):
            return app  # a live controller holds it and finishes the termination on its next pass
        time.sleep(0.25)


def _state_text(app: Obj) -> str:
    state = (app.get("status") or {}).get("operationState") or {}
    return f"{state.get('phase') or 'unknown'}: {state.get('message') or 'no message'}"


def _interrupted(ws: Workspace, name: str, holder: str, signum: int, *, waiting: bool = False) -> int:
    """Ctrl-C (or SIGTERM) in a foreground sync: never leave the operation stuck silently.

    A running controller (its heartbeat Lease is fresh) takes the operation over: our operation
    Lease is released so it resumes at once. Otherwise this process terminates the operation
    itself. `waiting` (app wait): the user only stopped watching, so the operation is left as it is
    and the line says how to resume or end it. A second signal during this stops at once.
    """
    from console.engine.sync import lease
    from console.engine.sync.operation import is_in_progress

    code = 128 + signum
    store = AppStore(ws.control())
    try:
        with _interrupts():
            app = store.get_app(name)
            if not is_in_progress(app):
                if waiting:
                    _say(f"stopped waiting for {name}; no operation is in progress")
                else:
                    _say(f"interrupted: the operation of {name} had already finished ({_state_text(app)})")
                return code
            controller = lease.running_controller(store.cluster)
            if controller is not None or waiting:
                lease.release(store.cluster, name, holder)
                if controller is not None:
                    _say(
                        f"interrupted: the operation of {name} goes on in controller {controller}; "
                        f"follow it with `trueup app wait {name} --operation`"
                    )
                else:
                    _say(
                        f"stopped waiting: the operation of {name} is still running and no controller is "
                        f"running; `trueup app wait {name} --operation` resumes it, "
                        f"`trueup app terminate-op {name}` ends it"
                    )
                return code
            app = _finish_termination(ws, name, holder)
            if is_in_progress(app):
                _say(
                    f"interrupted: the operation of {name} is {_state_text(app)}; its executor "
                    f"{lease.holder_of(store.cluster, name) or 'has gone'}: `trueup app terminate-op {name}` "
                    "finishes it"
                )
            else:
                _say(f"interrupted: the operation of {name} was terminated ({_state_text(app)})")
            return code
    except _Signalled:
        try:
            lease.release(store.cluster, name, holder)
            left = _state_text(store.get_app(name))
        except Exception:  # noqa: BLE001 - the user insisted on stopping; report what we know
            left = "unknown"
        _say(
            f"interrupted again: the operation of {name} is left {left}; `trueup app terminate-op {name}` ends it"
        )
        return code


def _follower(ws: Workspace, name: str, args: argparse.Namespace, holder: str) -> Callable[[], Obj]:
    """Run the requested operation to completion here (inside the audited attempt), printing
    progress; Ctrl-C/SIGTERM raise _Signalled out of the gate, which records it."""
    from console.engine.sync.executor import run_operation

    quiet = getattr(args, "output", None) == "json"
    last: list[str] = [""]

    def progress(app: Obj) -> None:
        state = (app.get("status") or {}).get("operationState") or {}
        line = f"{state.get('phase', '')}: {state.get('message', '')}"
        if line != last[0] and not quiet:
            print(line, file=sys.stderr)
            last[0] = line

    def follow() -> Obj:
        with _interrupts():
            return run_operation(ws, name, holder=holder, timeout=args.timeout, progress=progress, poll=0.25)

    return follow


def _operation_result(ws: Workspace, args: argparse.Namespace, result: Any, requested: str) -> int:
    gov.finish(result)
    if args.async_:
        print(requested)
        return 0
    app = result.value if isinstance(result.value, dict) else _get_app(ws, args.app)
    return _print_operation(app, getattr(args, "output", None))


def cmd_app_sync(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.governance import actions

    _get_app(ws, args.app)
    resources = [_parse_resource(r) for r in args.resource or []]
    holder = _holder()
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
            follow=None if args.async_ else _follower(ws, args.app, args, holder),
        )
    except _Signalled as sig:
        return _interrupted(ws, args.app, holder, sig.signum)
    return _operation_result(
        ws,
        args,
        result,
        f"sync of {args.app} requested; follow it with `trueup app wait {args.app} --operation`",
    )


def cmd_app_rollback(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.governance import actions

    _get_app(ws, args.app)
    holder = _holder()
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
            follow=None if args.async_ else _follower(ws, args.app, args, holder),
        )
    except _Signalled as sig:
        return _interrupted(ws, args.app, holder, sig.signum)
    return _operation_result(ws, args, result, f"rollback of {args.app} to history id {args.id} requested")


def cmd_app_terminate_op(ws: Workspace, args: argparse.Namespace) -> int:
    """Argo's TerminateOperation (break-glass), then the termination itself when no live
    controller holds the operation, so it never waits for a controller that is not running."""
    from console.engine.governance import actions
    from console.engine.sync import lease
    from console.engine.sync.operation import is_in_progress

    _get_app(ws, args.app)
    store = AppStore(ws.control())
    result = actions.terminate(
        gov.gate(ws, args),
        args.app,
        reason=args.reason,
        break_glass=args.break_glass,
        confirm=args.confirm,
        finish=lambda: _finish_termination(ws, args.app, _holder()),
    )
    gov.finish(result)
    app = result.value if isinstance(result.value, dict) else store.get_app(args.app)
    if is_in_progress(app):
        owner = lease.holder_of(store.cluster, args.app) or "its executor"
        print(f"Application '{args.app}' operation terminating; {owner} finishes it")
    else:
        print(f"Application '{args.app}' operation terminated ({_state_text(app)})")
    return 0


def cmd_app_set(ws: Workspace, args: argparse.Namespace) -> int:
    """governance's part of `app set`: --auto-sync on|off (onboarding adds the field flags)."""
    from console.engine.governance import actions, breakglass

    _get_app(ws, args.app)
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
    from console.engine.governance import actions

    _get_app(ws, args.app)
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
    holder = _holder()
    try:
        with _interrupts():
            return _wait_loop(ws, store, args, holder, deadline, (want_sync, want_health, want_op))
    except _Signalled as sig:
        return _interrupted(ws, args.app, holder, sig.signum, waiting=True)


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
    from console.engine.governance import actions

    _get_app(ws, args.app)
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


# ---------------------------------------------------------------- controller


def cmd_controller_run(ws: Workspace, args: argparse.Namespace) -> int:
    """SIGTERM/SIGINT finish the current step, release the operation leases, then exit 0."""
    import os
    import signal
    import socket
    import threading

    from console.engine.controller import Controller
    from console.engine.controller_log import ControllerLog

    if args.resync <= 0:
        raise CommandError("--resync must be a positive number of seconds")
    holder = args.holder or f"controller-{socket.gethostname()}-{os.getpid()}"
    ctl = Controller(
        ws, holder=holder, resync=args.resync, log=ControllerLog(fmt=args.log_format), watch=not args.once
    )
    if args.once:
        try:
            ctl.run_once()
        finally:
            ctl.close()
        return 0
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()
        ctl.wake()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    ctl.run(stop)
    return 0
