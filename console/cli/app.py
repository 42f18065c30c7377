"""`trueup app ...`: list, get, diff and manifests here; the operation verbs (sync, wait,
terminate-op, history, rollback, delete) in `app_operations`, which this module registers.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from console.cli import app_edit, app_observe, app_operations
from console.cli import governance as gov
from console.cli.args import HEALTH_STATUSES, SYNC_STATUSES, choice, fmt, with_workspace
from console.cli.context import get_app
from console.cli.errors import CommandError
from console.cli.output import emit_json, emit_yaml, emit_yaml_all, one_line, table
from console.cli.output import fields as emit_fields
from console.cluster.api import Obj
from console.engine import views
from console.engine.appstore import AppStore
from console.engine.diff.attribution import describe
from console.engine.diff.attribution import label as drift_label
from console.engine.governance.windows import span
from console.engine.refresh import compare_one, refresh
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    app = sub.add_parser("app", help="inspect and operate applications")
    app_sub = app.add_subparsers(dest="app_command", metavar="SUBCOMMAND", required=True)
    ls = app_sub.add_parser("list", help="list applications")
    ls.add_argument("-p", "--project", action="append", help="only this project (repeatable)")
    ls.add_argument(
        "--sync",
        type=choice("sync status", SYNC_STATUSES),
        metavar="S",
        help=f"only this sync status ({', '.join(SYNC_STATUSES)})",
    )
    ls.add_argument(
        "--health",
        type=choice("health status", HEALTH_STATUSES),
        metavar="H",
        help=f"only this health status ({', '.join(HEALTH_STATUSES)})",
    )
    ls.add_argument("-o", "--output", **fmt(["wide", "json", "yaml", "name"]))
    get = app_sub.add_parser("get", help="show one application")
    get.add_argument("app", metavar="APP", help="application name")
    get.add_argument("-o", "--output", **fmt(["json", "yaml", "tree"]))
    fresh = get.add_mutually_exclusive_group()
    fresh.add_argument(
        "--refresh", action="store_true", help="compare the application with Git and the cluster first"
    )
    fresh.add_argument(
        "--hard-refresh",
        action="store_true",
        help="as --refresh, and regenerate its manifests (ignore the manifest cache)",
    )
    diff = app_sub.add_parser("diff", help="diff Git against live (exit 0 no diff, 1 diff, 2 error)")
    diff.add_argument("app", metavar="APP", help="application name")
    diff.add_argument("--revision", help="compare against this revision instead of targetRevision")
    diff.add_argument("-o", "--output", **fmt(["json"]))
    man = app_sub.add_parser("manifests", help="print the desired (git) or live manifests")
    man.add_argument("app", metavar="APP", help="application name")
    man.add_argument(
        "--source", choices=["git", "live"], default="git", help="git (rendered, default) or live"
    )
    man.add_argument("-o", "--output", **fmt(["yaml", "json"], "yaml"))
    ls.set_defaults(run=with_workspace(cmd_app_list))
    get.set_defaults(run=with_workspace(cmd_app_get))
    diff.set_defaults(run=with_workspace(cmd_app_diff))
    man.set_defaults(run=with_workspace(cmd_app_manifests))
    app_operations.register(app_sub)
    app_edit.register(app_sub)  # create, set, unset (issue 13)
    app_observe.register(app_sub)  # resources [--orphaned], events, logs (issue 10)


def _summaries(ws: Workspace, args: argparse.Namespace, windows: bool = False) -> list[dict[str, Any]]:
    """`app list` rows of the applications the user may `get`; `windows`: with sync-window state."""
    servers = {c.server: c.name for c in ws.clusters.values()}
    apps = gov.visible_apps(ws, args, AppStore(ws.control()).list_apps())
    rows = []
    projects: dict[str, Any] = {}
    for a in apps:
        row = views.app_summary(a, servers)
        if windows:
            row.update(gov.window_fields(ws, a, projects))
        rows.append(row)
    return rows


def readable(ws: Workspace, args: argparse.Namespace, name: str) -> Obj:
    """The application, if the user may `get` it (exit 3 otherwise)."""
    app = get_app(ws, name)
    gov.require_get(ws, args, app)
    return app


def _autosync_text(r: dict[str, Any]) -> str:
    if not r["autoSync"]:
        return "off"
    text = "on" + ("+selfheal" if r["selfHeal"] else "")
    suspension = r.get("suspension")
    if suspension:
        text += f" ({'selfheal ' if suspension['scope'] == 'self-heal' else ''}suspended)"
    return text


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


def cmd_app_get(ws: Workspace, args: argparse.Namespace) -> int:
    app = readable(ws, args, args.app)
    if args.refresh or args.hard_refresh:  # as argocd: refresh this app, then show the new status
        refresh(ws, [args.app], hard=args.hard_refresh)
        app = get_app(ws, args.app)
    if args.output in ("json", "yaml"):
        from console.engine.diff.masking import mask_for_display

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
            (
                "Suspended",
                f"{sp['scope']} for another {span(timedelta(seconds=sp['remainingSeconds']))} by {sp['by']} "
                f"({one_line(sp['reason'], 80)}, audit record {sp['auditSeq']})",
            )
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
    readable(ws, args, args.app)
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
    readable(ws, args, args.app)
    cmp = compare_one(ws, args.app)
    errors = [c for c in cmp.conditions if c["type"].endswith("Error")]
    if args.source == "git" and errors:
        raise CommandError(
            f"cannot render {args.app}: " + "; ".join(one_line(c["message"], 400) for c in errors)
        )
    from console.engine.diff.masking import mask_for_display

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
