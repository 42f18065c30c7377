"""`trueup project list|get`: the AppProjects in the control cluster."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import governance as gov
from console.cli.args import fmt, with_workspace
from console.cli.errors import CommandError
from console.cli.output import emit_json, emit_yaml, one_line, table
from console.cluster.api import NotFound
from console.engine.appstore import AppStore
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    proj = sub.add_parser("project", help="inspect projects")
    proj_sub = proj.add_subparsers(dest="project_command", metavar="SUBCOMMAND", required=True)
    pl = proj_sub.add_parser("list", help="list projects")
    pl.add_argument("-o", "--output", **fmt(["json", "yaml", "name"]))
    pg = proj_sub.add_parser("get", help="show one project")
    pg.add_argument("name", metavar="NAME", help="project name")
    pg.add_argument("-o", "--output", **fmt(["json", "yaml"], "yaml"))

    pl.set_defaults(run=with_workspace(cmd_project_list))
    pg.set_defaults(run=with_workspace(cmd_project_get))


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
