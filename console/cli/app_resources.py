"""`trueup app resources APP [--orphaned]`: the application's resources, or the orphans of its namespace.

A minimal command (issue 13 item 8); the console-triage work owns the full `app resources` listing.
"""

from __future__ import annotations

import argparse
from typing import Any

from console.cli.errors import CommandError
from console.cli.output import emit_json, table
from console.engine.refresh import compare_one
from console.engine.workspace import open_workspace


def register(app_sub: argparse._SubParsersAction[Any]) -> None:
    res = app_sub.add_parser(
        "resources", help="resources of an application (--orphaned: its namespace's orphans)"
    )
    res.add_argument("app", metavar="APP", help="application name")
    res.add_argument(
        "--orphaned", action="store_true", help="list orphaned resources (project orphanedResources)"
    )
    res.add_argument("-o", "--output", choices=["json"], metavar="json", help="output format")
    res.set_defaults(run=cmd_app_resources)


def cmd_app_resources(args: argparse.Namespace) -> int:
    ws = open_workspace(getattr(args, "workspace", None))
    cmp = compare_one(ws, args.app)
    if args.orphaned:
        if cmp.project is not None and cmp.project.spec.orphaned_resources is None:
            raise CommandError(
                f"project {cmp.project.name} of application {args.app} does not monitor orphaned resources "
                "(set spec.orphanedResources, e.g. {warn: true})"
            )
        rows = [
            {
                "group": (o.get("apiVersion", "").split("/")[0] if "/" in o.get("apiVersion", "") else ""),
                "kind": o.get("kind", ""),
                "namespace": (o.get("metadata") or {}).get("namespace", ""),
                "name": (o.get("metadata") or {}).get("name", ""),
            }
            for o in cmp.orphans
        ]
    else:
        rows = [
            {
                "group": r.key.group,
                "kind": r.key.kind,
                "namespace": r.key.namespace,
                "name": r.key.name,
                "status": r.status,
            }
            for r in cmp.resources
            if r.listed
        ]
    if args.output == "json":
        emit_json(rows)
        return 0
    headers = ["GROUP", "KIND", "NAMESPACE", "NAME"] + ([] if args.orphaned else ["STATUS"])
    table(headers, [[r.get(h.lower(), "") for h in headers] for r in rows])
    return 0
