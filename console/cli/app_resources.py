"""`trueup app resources APP --orphaned`: the orphans of the application's namespace (issue 13).

`app resources` itself (the live tree, `-o tree|json`) is `app_observe`, which registers the
command and hands `--orphaned` to this module.
"""

from __future__ import annotations

import argparse

from console.cli.errors import CommandError
from console.cli.output import emit_json, table
from console.engine.refresh import compare_one
from console.engine.workspace import open_workspace


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
