"""`app resources`, `app events`, `app logs`: what the destination cluster reports about an
application (live tree, Events, container logs). JSON output is exact."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from console.cli import app_resources
from console.cli import governance as gov
from console.cli.args import with_workspace
from console.cli.errors import CommandError
from console.cli.output import emit_json, one_line, table
from console.cluster.api import BadRequest, NotFound, Obj
from console.engine import observe
from console.engine.appstore import AppStore
from console.engine.compare import cluster_time
from console.engine.workspace import Workspace
from widgets.safe_text import visible

FORMAT = {"choices": ["json"], "default": None, "metavar": "json", "help": "output format"}


def register(app_sub: argparse._SubParsersAction[Any]) -> None:
    """`app resources|events|logs`."""
    res = app_sub.add_parser(
        "resources", help="the application's live resource tree (managed resources and children)"
    )
    res.add_argument("app", metavar="APP", help="application name")
    res.add_argument(
        "-o", "--output", choices=["json", "tree"], default=None, metavar="json|tree", help="output format"
    )
    res.add_argument(
        "--orphaned", action="store_true", help="list orphaned resources (project orphanedResources)"
    )
    res.set_defaults(run=with_workspace(cmd_resources))
    ev = app_sub.add_parser("events", help="Kubernetes Events of the application's objects, oldest first")
    ev.add_argument("app", metavar="APP", help="application name")
    ev.add_argument("-o", "--output", **FORMAT)
    ev.set_defaults(run=with_workspace(cmd_events))
    logs = app_sub.add_parser("logs", help="container logs of the application's pods")
    logs.add_argument("app", metavar="APP", help="application name")
    logs.add_argument("--kind", help="only pods of this resource kind (with --name), e.g. Deployment")
    logs.add_argument("--name", help="only pods of the resource with this name (a Pod, Deployment, Job...)")
    logs.add_argument("-c", "--container", help="container name (default: the pod's only container)")
    logs.add_argument("--tail", type=_count, metavar="N", help="only the last N lines of each container log")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines (one pod)")
    logs.add_argument(
        "-p", "--previous", action="store_true", help="the previous (crashed) container instance"
    )
    logs.set_defaults(run=with_workspace(cmd_logs))


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of lines") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 or more lines")
    return value


def _app(ws: Workspace, args: argparse.Namespace, name: str, *, logs: bool = False) -> Obj:
    """The application if the user may `get` it (and, for logs, `logs get` it, as Argo CD 3)."""
    try:
        app = AppStore(ws.control()).get_app(name)
    except NotFound:
        raise CommandError(f"application {name!r} not found (see `trueup app list`)") from None
    gov.require_get(ws, args, app)
    if logs:
        gov.require_logs(ws, args, app)
    return app


def _tree(ws: Workspace, app: Obj) -> list[observe.TreeNode]:
    try:
        live = observe.load_live(ws, app)
    except observe.ObserveError as exc:
        raise CommandError(str(exc), 5) from None
    return observe.resource_tree(app, live, observe.health_checker(ws))


def cmd_resources(ws: Workspace, args: argparse.Namespace) -> int:
    if args.orphaned:
        if args.output == "tree":
            raise CommandError("--orphaned lists resources, it has no tree: use -o json or no -o")
        return app_resources.cmd_app_resources(args)
    app = _app(ws, args, args.app)
    tree = _tree(ws, app)
    if args.output == "json":
        emit_json([n.to_json() for n in tree])
        return 0
    if args.output == "tree":
        status = app.get("status") or {}
        print(
            f"{args.app}  ({(status.get('sync') or {}).get('status', 'Unknown')}, "
            f"{(status.get('health') or {}).get('status', 'Unknown')})"
        )
        _print_tree(tree, "")
        return 0
    rows = []
    for n in observe.walk(tree):
        rows.append(
            [
                n.group,
                n.kind,
                n.namespace or "-",
                n.name,
                n.sync or "-",
                n.health or "-",
                one_line(n.info or n.health_message or "", 60),
            ]
        )
    table(["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "INFO"], rows)
    return 0


def _print_tree(nodes: list[observe.TreeNode], prefix: str) -> None:
    for i, n in enumerate(nodes):
        last = i == len(nodes) - 1
        bits = [n.health or "-"]
        if n.managed:
            bits.insert(0, n.sync or "-")
        detail = f"  {one_line(n.info, 50)}" if n.info else ""
        msg = f"  ({one_line(n.health_message, 70)})" if n.health_message else ""
        print(
            f"{prefix}{'└── ' if last else '├── '}{n.kind}/{one_line(n.name, 120)}  {', '.join(bits)}{detail}{msg}"
        )
        _print_tree(n.children, prefix + ("    " if last else "│   "))


def cmd_events(ws: Workspace, args: argparse.Namespace) -> int:
    app = _app(ws, args, args.app)
    tree = _tree(ws, app)
    try:
        events = observe.app_events(ws, app, tree)
    except observe.ObserveError as exc:
        raise CommandError(str(exc), 5) from None
    if args.output == "json":
        emit_json([e.to_json() for e in events])
        return 0
    now = cluster_time(ws.control())
    table(
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "SOURCE", "MESSAGE"],
        [
            [
                age(e.last, now),
                e.type,
                e.reason,
                f"{e.involved.kind}/{e.involved.name}",
                e.count,
                e.component,
                one_line(e.message, 120),
            ]
            for e in events
        ],
    )
    if not events:
        print(f"no events for {args.app} (events expire an hour after they were last seen)", file=sys.stderr)
    return 0


def age(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "-"
    s = max(0, int((now - at).total_seconds()))
    return (
        f"{s}s"
        if s < 60
        else f"{s // 60}m"
        if s < 3600
        else f"{s // 3600}h"
        if s < 86400
        else f"{s // 86400}d"
    )


def cmd_logs(ws: Workspace, args: argparse.Namespace) -> int:
    if bool(args.kind) and not args.name:
        raise CommandError("--kind needs --name (e.g. --kind Deployment --name web)")
    app = _app(ws, args, args.app, logs=True)
    tree = _tree(ws, app)
    pods = observe.pods_of(tree, args.kind, args.name)
    if not pods:
        what = f"{args.kind or 'resource'} {args.name}" if args.name else "the application"
        raise CommandError(
            f"no pods found for {what} of application {args.app} (see `trueup app resources {args.app}`)"
        )
    if args.follow and len(pods) > 1:
        names = ", ".join(p.name for p in pods[:5])
        raise CommandError(
            f"--follow reads one pod; {args.app} has {len(pods)} ({names}): pick one with --kind Pod --name NAME"
        )
    failed = 0
    for pod in pods:
        prefix = f"[{pod.name}] " if len(pods) > 1 else ""
        try:
            stream = observe.open_log(
                ws, app, pod, args.container, tail=args.tail, follow=args.follow, previous=args.previous
            )
        except BadRequest as exc:
            print(f"trueup: {pod.name}: {visible(exc.message)}", file=sys.stderr)
            failed += 1
            continue
        try:
            for line in stream:
                sys.stdout.write(prefix + visible(line, keep_newlines=False) + "\n")
                if args.follow:
                    sys.stdout.flush()
        except KeyboardInterrupt:
            stream.close()
            return 0
    return 1 if failed == len(pods) else 0


def visible_line(text: str) -> str:
    return visible(" ".join(text.split()))
