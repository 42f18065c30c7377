"""`trueup console`: open the console on the current workspace. The one module of the CLI that
imports the TUI (the demo opens the console through `open_console`).
"""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import governance as gov
from console.cluster.api import ClusterError
from console.engine.workspace import Workspace, open_workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    con = sub.add_parser("console", help="open the console on the current workspace")
    con.add_argument(
        "--no-controller",
        action="store_true",
        help="do not run the reconcile loop inside the console (use when `trueup controller run` runs elsewhere)",
    )
    add_console_flags(con)
    con.set_defaults(run=cmd_console)


def add_console_flags(p: argparse.ArgumentParser) -> None:
    """How the console looks: `--theme`, `--no-color`, `--ascii` (workspace `console:` defaults)."""
    import themes  # names only: the theme files load when the console opens

    p.add_argument("--theme", choices=themes.names(), help="colours: " + ", ".join(themes.names()))
    p.add_argument("--no-color", action="store_true", help="no colours at all (as NO_COLOR=1)")
    p.add_argument("--ascii", action="store_true", help="ASCII status symbols (terminals without Unicode)")


def open_console(ws: Workspace, *, embedded_controller: bool, args: argparse.Namespace | None = None) -> int:
    from console.tui.app import run_console  # the Textual import is paid only when the console opens

    opts: dict[str, Any] = {}
    if args is not None:
        opts = {"theme": args.theme, "no_color": args.no_color, "ascii": True if args.ascii else None}
        try:  # resolved (and impersonation checked) before the UI
            opts["identity"] = gov.identity(ws, args)
        except ClusterError:
            pass  # the console shows the unreachable cluster and resolves the identity when it answers
    return run_console(ws, embedded_controller=embedded_controller, **opts)


def cmd_console(args: argparse.Namespace) -> int:
    return open_console(open_workspace(args.workspace), embedded_controller=not args.no_controller, args=args)
