"""`trueup scenario list|run|reset`: incident drills on sim workspaces (see `engine.scenarios`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli.args import fmt, with_workspace
from console.cli.errors import EXIT_BLOCKED, CommandError
from console.cli.output import emit_json, one_line, table
from console.engine.scenarios import run as drills
from console.engine.scenarios.catalog import SCENARIOS
from console.engine.scenarios.drill import ScenarioError, Step
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    sc = sub.add_parser("scenario", help="incident drills on the sim demo (inject a fault, reset the demo)")
    sc_sub = sc.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND", required=True)
    ls = sc_sub.add_parser("list", help="list the scenarios and the drills run since the last reset")
    ls.add_argument("-o", "--output", **fmt(["json"]))
    ls.set_defaults(run=with_workspace(cmd_scenario_list))
    run = sc_sub.add_parser(
        "run", help="inject one fault into the demo fleet (sim clusters only; `scenario reset` undoes it)"
    )
    run.add_argument("name", metavar="NAME", help="scenario name (see `trueup scenario list`)")
    run.add_argument("--app", metavar="APP", help="the application to drill (default: the scenario's own)")
    run.add_argument("-o", "--output", **fmt(["json"]))
    run.set_defaults(run=with_workspace(cmd_scenario_run))
    reset = sc_sub.add_parser(
        "reset",
        help="restore the demo exactly as before the first drill (Git, clusters, Applications, files)",
    )
    reset.add_argument(
        "--force", action="store_true", help="reset even while a controller or console is running"
    )
    reset.add_argument("-o", "--output", **fmt(["json"]))
    reset.set_defaults(run=with_workspace(cmd_scenario_reset))


def cmd_scenario_list(ws: Workspace, args: argparse.Namespace) -> int:
    done = drills.active(ws)
    if args.output == "json":
        emit_json(
            {
                "scenarios": [
                    {
                        "name": s.name,
                        "summary": s.summary,
                        "defaultApp": s.default_app,
                        "runbook": s.runbook,
                        "actor": s.actor,
                    }
                    for s in SCENARIOS.values()
                ],
                "active": done,
            }
        )
        return 0
    table(
        ["NAME", "DEFAULT APP", "RUNBOOK", "WHAT HAPPENS"],
        [[s.name, s.default_app, s.runbook, one_line(s.summary, 90)] for s in SCENARIOS.values()],
    )
    if done:
        print()
        print(f"Drills since the last reset ({len(done)}; `trueup scenario reset` undoes them):")
        for d in done:
            print(f"  {d.get('at', '')}  {d.get('scenario')}  on {d.get('app')}")
    return 0


def cmd_scenario_run(ws: Workspace, args: argparse.Namespace) -> int:
    quiet = args.output == "json"

    def show(step: Step) -> None:
        if not quiet:
            print(f"- {step.actor}: {step.action}: {step.detail}", flush=True)

    try:
        result = drills.run(ws, args.name, args.app, on_step=show)
    except ScenarioError as exc:
        raise CommandError(str(exc)) from None
    if quiet:
        emit_json(result.to_json())
        return 0
    print()
    print(f"{result.app}: {result.sync or 'Unknown'}, {result.health or 'Unknown'}")
    for c in result.conditions:
        print(f"  {one_line(c, 160)}")
    print()
    print(f"Next: trueup runbook suggest {result.app}")
    print(f"      trueup runbook run {result.scenario.runbook} {result.app}")
    print("      trueup scenario reset   (puts the demo back as it was before the first drill)")
    return 0


def cmd_scenario_reset(ws: Workspace, args: argparse.Namespace) -> int:
    try:
        report = drills.reset(ws, force=args.force)
    except drills.Blocked as exc:
        raise CommandError(str(exc), EXIT_BLOCKED) from None
    except ScenarioError as exc:
        raise CommandError(str(exc)) from None
    if args.output == "json":
        emit_json(
            {
                "reset": report is not None,
                "clusters": report.clusters if report else [],
                "paths": report.paths if report else [],
                "leftInPlace": report.left if report else [],
                "drills": report.drills if report else [],
            }
        )
        return 0
    if report is None:
        print("nothing to reset: no drill has run since the last reset")
        return 0
    print(
        f"restored {len(report.clusters)} cluster(s) ({', '.join(report.clusters)}) and "
        f"{', '.join(report.paths)}; undid {len(report.drills)} drill(s)"
    )
    if report.left:
        sys.stdout.write(f"left in place (not part of the demo): {', '.join(report.left)}\n")
    return 0
