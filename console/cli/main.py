"""`trueup` command line: parse -> engine call -> render. Exit codes per DESIGN.md §4:
0 ok; 1 diff found / operation failed; 2 bad input; 3 permission denied; 4 blocked; 5 backend unreachable.

One module per noun owns its subparsers and handlers (`register(sub)` sets `run` on every leaf);
this module holds the top-level parser, the dispatch and the one mapping of errors to exit codes.
A new noun is one module plus one entry in NOUNS.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from console.cli import (
    app,
    apply,
    audit,
    changes,
    cluster,
    console,
    controller,
    demo,
    importer,
    install,
    output,
    project,
    rbac,
    refresh,
    repo,
    runbook,
    scenario,
    whoami,
)
from console.cli.args import Handler
from console.cli.errors import EXIT_BAD_INPUT, EXIT_DENIED, EXIT_DIFF, EXIT_OK, EXIT_UNREACHABLE, CommandError
from console.cluster.api import ClusterError, Forbidden, NotFound, Timeout, Unavailable
from console.engine.refresh import UnknownApplication
from console.engine.workspace import WorkspaceError

# In `trueup --help` order.
NOUNS = (
    demo,
    console,
    install,
    cluster,
    repo,
    apply,
    importer,
    refresh,
    app,
    project,
    whoami,
    rbac,
    changes,
    audit,
    controller,
    runbook,
    scenario,
)
NO_WORKSPACE_FLAG = ("trueup demo",)  # demo takes its directory as an argument


class _Parser(argparse.ArgumentParser):
    """argparse with the usage of the (sub)command that failed, one error line, exit 2.

    Every parser records itself as the namespace's `_parser`, so an unrecognised argument found
    after parsing is reported by the deepest subcommand (argparse reports those at the top level).
    Abbreviated long options are refused: `--prun` must not quietly mean `--prune`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.set_defaults(_parser=self)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {' '.join(message.split())}\n")

    def unrecognized(self, extras: Sequence[str]) -> NoReturn:
        options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        hints = []
        for word in extras:
            if word.startswith("-"):
                close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1, cutoff=0.6)
                if close:
                    hints.append(f"did you mean {close[0]}?")
        hints.append(f"see `{self.prog} --help`")
        self.error(f"unrecognized arguments: {' '.join(extras)} ({' '.join(hints)})")


def _workspace_flag(p: argparse.ArgumentParser) -> None:
    """`-w` is accepted after the subcommand too (kubectl's global flags work anywhere)."""
    p.add_argument(
        "-w", "--workspace", default=argparse.SUPPRESS, help="workspace directory (as `trueup -w DIR ...`)"
    )


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                out.extend(_leaves(child))
    return out or [parser]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trueup")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="trueup",
        description="GitOps reconcile engine with Argo CD semantics, and an operations console.",
        epilog="Exit codes: 0 ok, 1 diff/operation failed, 2 bad input, 3 permission denied, 4 blocked, 5 unreachable.",
    )
    p.add_argument(
        "-w",
        "--workspace",
        help="workspace directory (default: $TRUEUP_WORKSPACE, then the current directory and its parents)",
    )
    p.add_argument("--version", action="version", version=f"trueup {_version()}", help="print the version")
    p.add_argument(
        "--as",
        dest="as_user",
        metavar="USER",
        help="act as USER (needs the impersonate permission: kubernetes RBAC on a real control cluster, "
        "`accounts, impersonate, USER` on a sim workspace)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for noun in NOUNS:
        noun.register(sub)
    for leaf in _leaves(p):
        if leaf is not p and leaf.prog not in NO_WORKSPACE_FLAG:
            _workspace_flag(leaf)
            leaf.add_argument(
                "--as",
                dest="as_user",
                default=argparse.SUPPRESS,
                metavar="USER",
                help="act as USER (as `trueup --as USER ...`)",
            )
    return p


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a command line. Errors (exit 2) name the subcommand that failed and show its usage.

    `demo` takes its words in any order around its flags (`demo init --force DIR`); argparse
    alone stops at the first flag, so the remaining words are appended here.
    """
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    leaf: _Parser = args._parser
    if extras and args.command == "demo" and not any(e.startswith("-") for e in extras):
        args.demo_args = list(args.demo_args) + list(extras)
        extras = []
    if extras:
        leaf.unrecognized(extras)
    if args.command == "demo":
        words = args.demo_args
        if words[:1] == ["init"]:
            if len(words) != 2:
                leaf.error("`demo init` takes one directory: trueup demo init DIR [--force]")
            if args.no_controller:
                leaf.error("--no-controller applies when the console opens, not to `demo init`")
        else:
            if len(words) > 1:
                leaf.error(
                    f"unexpected arguments {' '.join(words[1:])!r}: trueup demo [DIR] | trueup demo init DIR"
                )
            if args.force:
                leaf.error("--force applies to `demo init DIR` (it replaces an existing demo workspace)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    with output.guard_terminal():
        try:
            args = parse(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_BAD_INPUT
        if not args.command:
            build_parser().print_help()
            return EXIT_BAD_INPUT
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from console.engine.credentials import CredentialStoreUnavailable
    from console.engine.manage import ObjectRefused
    from console.engine.sources import RepoError

    try:
        run: Handler | None = getattr(args, "run", None)
        if run is None:
            raise CommandError(f"unknown command {args.command!r}")
        return run(args)
    except ObjectRefused as exc:
        return _fail(str(exc), exc.code)
    except CredentialStoreUnavailable as exc:
        return _fail(f"credentials: {exc}", EXIT_BAD_INPUT)
    except RepoError as exc:
        return _fail(str(exc), EXIT_UNREACHABLE if exc.transient else EXIT_BAD_INPUT)
    except CommandError as exc:
        return _fail(str(exc), exc.code)
    except (WorkspaceError, UnknownApplication) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except Forbidden as exc:
        return _fail(f"permission denied: {exc.message}", EXIT_DENIED)
    except (Unavailable, Timeout) as exc:
        return _fail(f"backend unreachable: {exc.message}", EXIT_UNREACHABLE)
    except NotFound as exc:
        return _fail(exc.message, EXIT_BAD_INPUT)
    except ClusterError as exc:
        return _fail(exc.message, EXIT_DIFF)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback only on request
        if os.environ.get("TRUEUP_DEBUG"):
            traceback.print_exc()
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        return _fail(
            f"internal error ({type(exc).__name__}: {detail}); this is a bug in trueup: "
            "rerun with TRUEUP_DEBUG=1 for the traceback and report it",
            EXIT_DIFF,
        )


def _fail(message: str, code: int) -> int:
    output.error(message)
    return code


if __name__ == "__main__":
    sys.exit(main())
