"""`trueup demo [DIR]` and `trueup demo init DIR`: the demo workspace, and the console on it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.cli.console import add_console_flags, open_console
from console.cli.errors import CommandError
from console.engine.refresh import refresh
from console.engine.workspace import open_workspace

DEFAULT_DEMO_DIR = Path.home() / "trueup-demo"


def register(sub: argparse._SubParsersAction[Any]) -> None:
    demo = sub.add_parser(
        "demo",
        usage="trueup demo [DIR] [--no-controller] | trueup demo init DIR [--force]",
        help="create the demo workspace if missing and open the console",
        description="`trueup demo [DIR]` creates the demo workspace in DIR (default ~/trueup-demo) if missing "
        "and opens the console; `trueup demo init DIR [--force]` only creates it.",
    )
    demo.add_argument(
        "demo_args", nargs="*", metavar="[init] DIR", help="`init DIR`, or a workspace directory"
    )
    demo.add_argument(
        "--force", action="store_true", help="with init: replace an existing demo workspace in DIR"
    )
    demo.add_argument(
        "--no-controller", action="store_true", help="open the console without the embedded controller"
    )
    add_console_flags(demo)

    demo.set_defaults(run=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Words were validated by the parser: `init DIR` or at most one DIR."""
    from console.demo.bootstrap import DemoError, init_demo

    words = list(args.demo_args)
    if words[:1] == ["init"]:
        target = Path(words[1]).expanduser().resolve()
        try:
            init_demo(target, force=args.force, progress=lambda m: print(m, file=sys.stderr))
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        print(f"demo workspace ready: {target}")
        print(f"next: cd {target} && trueup refresh && trueup app list")
        return 0
    target = Path(words[0]).expanduser().resolve() if words else DEFAULT_DEMO_DIR
    if not (target / "trueup.yaml").exists():
        try:
            init_demo(target, progress=lambda m: print(m, file=sys.stderr))
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        refresh(open_workspace(target))
    return open_console(open_workspace(target), embedded_controller=not args.no_controller, args=args)
