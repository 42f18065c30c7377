"""`trueup refresh [APP...] [--hard]`: compare with Git and the clusters, write the status."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli import governance as gov
from console.cli.args import fmt, with_workspace
from console.cli.context import get_app
from console.cli.errors import CommandError
from console.cli.output import emit_json, one_line, table
from console.engine import views
from console.engine.appstore import AppStore
from console.engine.refresh import refresh
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    ref = sub.add_parser("refresh", help="compare applications with Git and the clusters; write their status")
    ref.add_argument("apps", nargs="*", metavar="APP", help="applications to refresh (default: all)")
    ref.add_argument("--hard", action="store_true", help="regenerate manifests (ignore the manifest cache)")
    ref.add_argument("-o", "--output", **fmt(["json"]))

    ref.set_defaults(run=with_workspace(cmd_refresh))


def cmd_refresh(ws: Workspace, args: argparse.Namespace) -> int:
    """Refreshing writes status only; it needs `get` on each application (Argo's refresh)."""
    store = AppStore(ws.control())
    if args.apps:
        for name in dict.fromkeys(args.apps):
            app = get_app(ws, name)
            gov.require_get(ws, args, app)
        names = list(args.apps)
    else:
        every = store.list_apps()
        names = [a["metadata"]["name"] for a in gov.visible_apps(ws, args, every)]
        if not names and every:
            raise CommandError(
                "nothing to refresh: you may not `get` any application (see `trueup whoami`)", 3
            )
    report = refresh(ws, names or None, hard=args.hard)
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
