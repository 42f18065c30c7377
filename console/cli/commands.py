"""Subcommand implementations. Each returns an exit code; errors raise CommandError(message, code)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.cli.output import emit_json, emit_yaml, one_line, table
from console.cluster.api import NotFound, Obj
from console.engine import views
from console.engine.appstore import AppStore
from console.engine.attribution import describe
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
    ws = open_workspace(args.workspace)
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
        }[args.app_command](ws, args)
    if cmd == "project":
        return {"list": cmd_project_list, "get": cmd_project_get}[args.project_command](ws, args)
    raise CommandError(f"unknown command {cmd!r}")


# ---------------------------------------------------------------- demo / console


def cmd_demo(args: argparse.Namespace) -> int:
    from console.demo.bootstrap import DemoError, init_demo

    if args.demo_command == "init":
        target = Path(args.init_dir).expanduser().resolve()
        try:
            init_demo(target, force=args.force, progress=lambda m: print(m, file=sys.stderr))
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        print(f"demo workspace ready: {target}")
        print(f"next: cd {target} && trueup refresh && trueup app list")
        return 0
    target = Path(args.dir).expanduser().resolve() if args.dir else DEFAULT_DEMO_DIR
    if not (target / "trueup.yaml").exists():
        try:
            init_demo(target, progress=lambda m: print(m, file=sys.stderr))
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        ws = open_workspace(target)
        refresh(ws)
    from console.tui.app import run_console

    return run_console(open_workspace(target))


def cmd_console(args: argparse.Namespace) -> int:
    from console.tui.app import run_console

    return run_console(open_workspace(args.workspace))


def cmd_install(ws: Workspace, args: argparse.Namespace) -> int:
    """Idempotent: server-side applies the CRDs and the namespace with field manager `trueup`."""
    AppStore(ws.control()).install()
    print(f"installed trueup.dev CRDs and namespace trueup in cluster {ws.control_cluster}")
    return 0


# ---------------------------------------------------------------- refresh


def cmd_refresh(ws: Workspace, args: argparse.Namespace) -> int:
    report = refresh(ws, args.apps or None, hard=args.hard)
    servers = {c.server: c.name for c in ws.clusters.values()}
    if args.output == "json":
        emit_json(
            {
                "seconds": round(report.seconds, 3),
                "applications": [
                    views.app_summary(AppStore(ws.control()).get_app(c.name), servers)
                    for c in report.comparisons
                ],
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


def _summaries(ws: Workspace) -> list[dict[str, Any]]:
    servers = {c.server: c.name for c in ws.clusters.values()}
    return [views.app_summary(a, servers) for a in AppStore(ws.control()).list_apps()]


def cmd_app_list(ws: Workspace, args: argparse.Namespace) -> int:
    rows = _summaries(ws)
    if args.project:
        rows = [r for r in rows if r["project"] in args.project]
    if args.sync:
        rows = [r for r in rows if r["sync"]["status"].lower() == args.sync.lower()]
    if args.health:
        rows = [r for r in rows if r["health"]["status"].lower() == args.health.lower()]
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
            headers += ["REVISION", "AUTOSYNC", "CONDITIONS", "MESSAGE"]
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
                    ("on" + ("+selfheal" if r["selfHeal"] else "")) if r["autoSync"] else "off",
                    ",".join(c["type"] for c in r["conditions"]) or "-",
                    one_line(r["health"]["message"] or "", 60),
                ]
            data.append(row)
        table(headers, data)
    return 0


def _get_app(ws: Workspace, name: str) -> Obj:
    try:
        return AppStore(ws.control()).get_app(name)
    except NotFound:
        raise CommandError(f"application {name!r} not found (see `trueup app list`)") from None


def cmd_app_get(ws: Workspace, args: argparse.Namespace) -> int:
    app = _get_app(ws, args.app)
    if args.output == "json":
        emit_json(app)
        return 0
    if args.output == "yaml":
        emit_yaml(app)
        return 0
    if args.output == "tree":
        cmp = compare_one(ws, args.app)
        from console.engine.health import HealthChecker

        live = None
        if cmp.cluster:
            from console.engine.live import LiveState

            live = LiveState.load(ws.open_cluster(cmp.cluster), ws.settings.tracking_annotation)
        tree = views.resource_tree(cmp, live, HealthChecker())
        print(f"{args.app}  ({cmp.sync_status}, {cmp.health.status})")
        _print_tree(tree, "")
        return 0
    s = views.app_summary(app, {c.server: c.name for c in ws.clusters.values()})
    fields = [
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
    for k, v in fields:
        print(f"{k + ':':<15}{v}")
    for c in s["conditions"]:
        print(f"{'Condition:':<15}{c['type']}: {one_line(c['message'], 120)}")
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
    _get_app(ws, args.app)
    cmp = compare_one(ws, args.app, revision=args.revision)
    errors = [c for c in cmp.conditions if c["type"].endswith("Error")]
    if errors:
        raise CommandError(
            f"cannot diff {args.app}: " + "; ".join(one_line(c["message"], 200) for c in errors)
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
                        {"path": a.path, "manager": a.manager, "operation": a.operation, "time": a.time}
                        for a in (r.diff.attributions if r.diff else [])
                    ],
                    "diff": r.diff.unified() if r.diff else "",
                }
                for r in changed
            ]
        )
        return 1 if changed else 0
    for r in changed:
        assert r.diff is not None
        ns = f"{r.key.namespace}/" if r.key.namespace else ""
        label = (
            "missing from the cluster"
            if r.live is None
            else "requires pruning"
            if r.requires_pruning
            else "live differs from Git"
        )
        print(f"===== {r.key.group or 'core'}/{r.key.kind} {ns}{r.key.name} ({label}) ======")
        for a in r.diff.attributions:
            print(f"# drift: {describe(a)}")
        sys.stdout.write(r.diff.unified())
        print()
    return 1 if changed else 0


def cmd_app_manifests(ws: Workspace, args: argparse.Namespace) -> int:
    _get_app(ws, args.app)
    cmp = compare_one(ws, args.app)
    errors = [c for c in cmp.conditions if c["type"].endswith("Error")]
    if args.source == "git" and errors:
        raise CommandError(
            f"cannot render {args.app}: " + "; ".join(one_line(c["message"], 200) for c in errors)
        )
    from console.engine.masking import mask_secret_pair

    objs = []
    for r in cmp.resources:
        obj = r.target if args.source == "git" else r.live
        if obj is None:
            continue
        if r.key.kind == "Secret" and r.key.group == "":
            masked, _ = (
                mask_secret_pair(obj, None) if args.source == "git" else mask_secret_pair(None, obj)[::-1]
            )
            obj = masked or obj
        objs.append(obj)
    if args.output == "json":
        emit_json(objs)
    else:
        from console.engine import yamlsafe

        sys.stdout.write(yamlsafe.dump_all(objs))
    return 0


# ---------------------------------------------------------------- project


def cmd_project_list(ws: Workspace, args: argparse.Namespace) -> int:
    projects = AppStore(ws.control()).list_projects()
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
    try:
        proj = AppStore(ws.control()).get_project(args.name)
    except NotFound:
        raise CommandError(f"project {args.name!r} not found (see `trueup project list`)") from None
    if args.output == "json":
        emit_json(proj)
    else:
        emit_yaml(proj)
    return 0
