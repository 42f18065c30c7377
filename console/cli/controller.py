"""`trueup controller run`: the reconcile loop in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli.args import seconds, with_workspace
from console.cli.errors import CommandError
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    ctl = sub.add_parser("controller", help="the reconcile loop (refresh, auto-sync, self-heal, operations)")
    ctl_sub = ctl.add_subparsers(dest="controller_command", metavar="SUBCOMMAND", required=True)
    ctl_run = ctl_sub.add_parser(
        "run", help="run the controller until SIGTERM/SIGINT (or one pass with --once)"
    )
    ctl_run.add_argument("--once", action="store_true", help="one pass over all applications, then exit")
    ctl_run.add_argument("--holder", help="identity for operation leases (default: controller-<host>-<pid>)")
    ctl_run.add_argument(
        "--resync", type=seconds, default=120.0, metavar="SECONDS", help="periodic refresh (default 120)"
    )
    ctl_run.add_argument("--log-format", choices=["json", "text"], default="json", help="stderr log format")
    ctl_run.set_defaults(run=with_workspace(cmd_controller_run))


def cmd_controller_run(ws: Workspace, args: argparse.Namespace) -> int:
    """SIGTERM/SIGINT finish the current step, release the operation leases, then exit 0."""
    import os
    import signal
    import socket
    import threading

    from console.engine.controller.log import ControllerLog
    from console.engine.controller.loop import Controller

    if args.resync <= 0:
        raise CommandError("--resync must be a positive number of seconds")
    holder = args.holder or f"controller-{socket.gethostname()}-{os.getpid()}"
    ctl = Controller(
        ws, holder=holder, resync=args.resync, log=ControllerLog(fmt=args.log_format), watch=not args.once
    )
    if args.once:
        try:
            ctl.run_once()
        finally:
            ctl.close()
        return 0
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()
        ctl.wake()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    ctl.run(stop)
    return 0
