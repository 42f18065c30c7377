"""`trueup app actions list|run`: Argo CD's resource actions (`argocd app actions run APP restart
--kind Deployment --resource-name N`), through the gate with RBAC `action/<group>/<kind>/<action>`."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import governance as gov
from console.cli.args import fmt, with_workspace
from console.cli.context import get_app
from console.cli.output import emit_json, table
from console.engine.workspace import Workspace


def register(app_sub: argparse._SubParsersAction[Any]) -> None:
    act = app_sub.add_parser(
        "actions", help="resource actions (restart a Deployment, StatefulSet, DaemonSet)"
    )
    act_sub = act.add_subparsers(dest="actions_command", metavar="SUBCOMMAND", required=True)
    ls = act_sub.add_parser("list", help="the app's resources that have actions")
    ls.add_argument("app", metavar="APP", help="application name")
    ls.add_argument("-o", "--output", **fmt(["json"]))
    ls.set_defaults(run=with_workspace(cmd_actions_list))
    run = act_sub.add_parser("run", help="run an action on one resource of the app (e.g. restart)")
    run.add_argument("app", metavar="APP", help="application name")
    run.add_argument("action", metavar="ACTION", help="the action (restart)")
    run.add_argument("--kind", required=True, help="the resource's kind (Deployment, StatefulSet, DaemonSet)")
    run.add_argument("--resource-name", required=True, metavar="NAME", help="the resource's name")
    run.add_argument(
        "--namespace", default="", metavar="NS", help="the resource's namespace (when ambiguous)"
    )
    run.add_argument("--group", default=None, metavar="G", help="the resource's API group (default: any)")
    run.add_argument("--reason", metavar="TEXT", default="", help="why (recorded in the audit record)")
    run.set_defaults(run=with_workspace(cmd_actions_run))


def cmd_actions_list(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine import resource_actions as ra

    app = get_app(ws, args.app)
    gov.require_get(ws, args, app)
    found = [(r, ra.actions_for(r.group, r.kind)) for r in ra.candidates(app)]
    if args.output == "json":
        emit_json(
            [
                {
                    "group": r.group,
                    "kind": r.kind,
                    "namespace": r.namespace,
                    "name": r.name,
                    "actions": list(a),
                }
                for r, a in found
            ]
        )
        return 0
    table(
        ["GROUP", "KIND", "NAMESPACE", "NAME", "ACTIONS"],
        [[r.group, r.kind, r.namespace, r.name, ",".join(a)] for r, a in found],
    )
    return 0


def cmd_actions_run(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.gate import actions

    get_app(ws, args.app)
    result = actions.resource_action(
        gov.gate(ws, args),
        args.app,
        args.action,
        kind=args.kind,
        resource_name=args.resource_name,
        namespace=args.namespace,
        group=args.group,
        reason=args.reason,
    )
    gov.finish(result)
    if not result.ok:
        from console.cli.errors import CommandError

        raise CommandError(result.message, result.code)
    print(f"{args.app}: {result.message} (audit record {result.audit_seq})")
    return 0
