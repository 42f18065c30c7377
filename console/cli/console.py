"""`trueup console`: open the console on the current workspace. The one module of the CLI that
imports the TUI (the demo opens the console through `open_console`).
"""

from __future__ import annotations

import argparse
from typing import Any

from console.engine.workspace import Workspace, open_workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    con = sub.add_parser("console", help="open the console on the current workspace")
    con.add_argument(
        "--no-controller",
        action="store_true",
        help="do not run the reconcile loop inside the console (use when `trueup controller run` runs elsewhere)",
    )
    con.set_defaults(run=cmd_console)


def open_console(ws: Workspace, *, embedded_controller: bool) -> int:
    from console.tui.app import run_console  # the Textual import is paid only when the console opens

    return run_console(ws, embedded_controller=embedded_controller)


def cmd_console(args: argparse.Namespace) -> int:
    return open_console(open_workspace(args.workspace), embedded_controller=not args.no_controller)
