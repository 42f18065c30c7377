"""`trueup` command line: parse -> engine call -> render. Exit codes per DESIGN.md §4:
0 ok; 1 diff found / operation failed; 2 bad input; 3 permission denied; 4 blocked; 5 backend unreachable.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from console.cli import commands, output
from console.cli import governance as gov
from console.cluster.api import ClusterError, Forbidden, NotFound, Timeout, Unavailable
from console.engine.refresh import UnknownApplication
from console.engine.workspace import WorkspaceError

EXIT_OK, EXIT_DIFF, EXIT_BAD_INPUT, EXIT_DENIED, EXIT_BLOCKED, EXIT_UNREACHABLE = 0, 1, 2, 3, 4, 5


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


SYNC_STATUSES = ("Synced", "OutOfSync", "Unknown")
HEALTH_STATUSES = ("Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown")


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


def _choice(name: str, values: Sequence[str]) -> Callable[[str], str]:
    """A case-insensitive choice that returns the canonical spelling and names the valid values."""
    by_lower = {v.lower(): v for v in values}

    def parse(text: str) -> str:
        try:
            return by_lower[text.lower()]
        except KeyError:
            raise argparse.ArgumentTypeError(
                f"unknown {name} {text!r}: use one of {', '.join(values)}"
            ) from None

    parse.__name__ = name
    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value


def _fmt(choices: Sequence[str], default: str | None = None) -> dict[str, Any]:
    return {
        "choices": list(choices),
        "default": default,
        "metavar": "|".join(choices),
        "help": "output format" + (f" (default {default})" if default else ""),
    }


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

    con = sub.add_parser("console", help="open the console on the current workspace")
    con.add_argument(
        "--no-controller",
        action="store_true",
        help="do not run the reconcile loop inside the console (use when `trueup controller run` runs elsewhere)",
    )
    sub.add_parser(
        "install", help="install the trueup.dev CRDs and the `trueup` namespace in the control cluster"
    )

    ref = sub.add_parser("refresh", help="compare applications with Git and the clusters; write their status")
    ref.add_argument("apps", nargs="*", metavar="APP", help="applications to refresh (default: all)")
    ref.add_argument("--hard", action="store_true", help="regenerate manifests (ignore the manifest cache)")
    ref.add_argument("-o", "--output", **_fmt(["json"]))

    app = sub.add_parser("app", help="inspect and operate applications")
    app_sub = app.add_subparsers(dest="app_command", metavar="SUBCOMMAND", required=True)
    ls = app_sub.add_parser("list", help="list applications")
    ls.add_argument("-p", "--project", action="append", help="only this project (repeatable)")
    ls.add_argument(
        "--sync",
        type=_choice("sync status", SYNC_STATUSES),
        metavar="S",
        help=f"only this sync status ({', '.join(SYNC_STATUSES)})",
    )
    ls.add_argument(
        "--health",
        type=_choice("health status", HEALTH_STATUSES),
        metavar="H",
        help=f"only this health status ({', '.join(HEALTH_STATUSES)})",
    )
    ls.add_argument("-o", "--output", **_fmt(["wide", "json", "yaml", "name"]))
    get = app_sub.add_parser("get", help="show one application")
    get.add_argument("app", metavar="APP", help="application name")
    get.add_argument("-o", "--output", **_fmt(["json", "yaml", "tree"]))
    fresh = get.add_mutually_exclusive_group()
    fresh.add_argument(
        "--refresh", action="store_true", help="compare the application with Git and the cluster first"
    )
    fresh.add_argument(
        "--hard-refresh",
        action="store_true",
        help="as --refresh, and regenerate its manifests (ignore the manifest cache)",
    )
    diff = app_sub.add_parser("diff", help="diff Git against live (exit 0 no diff, 1 diff, 2 error)")
    diff.add_argument("app", metavar="APP", help="application name")
    diff.add_argument("--revision", help="compare against this revision instead of targetRevision")
    diff.add_argument("-o", "--output", **_fmt(["json"]))
    man = app_sub.add_parser("manifests", help="print the desired (git) or live manifests")
    man.add_argument("app", metavar="APP", help="application name")
    man.add_argument(
        "--source", choices=["git", "live"], default="git", help="git (rendered, default) or live"
    )
    man.add_argument("-o", "--output", **_fmt(["yaml", "json"], "yaml"))
    _add_operation_parsers(app_sub)

    proj = sub.add_parser("project", help="inspect projects")
    proj_sub = proj.add_subparsers(dest="project_command", metavar="SUBCOMMAND", required=True)
    pl = proj_sub.add_parser("list", help="list projects")
    pl.add_argument("-o", "--output", **_fmt(["json", "yaml", "name"]))
    pg = proj_sub.add_parser("get", help="show one project")
    pg.add_argument("name", metavar="NAME", help="project name")
    pg.add_argument("-o", "--output", **_fmt(["json", "yaml"], "yaml"))

    gov.register(sub)

    ctl = sub.add_parser("controller", help="the reconcile loop (refresh, auto-sync, self-heal, operations)")
    ctl_sub = ctl.add_subparsers(dest="controller_command", metavar="SUBCOMMAND", required=True)
    ctl_run = ctl_sub.add_parser(
        "run", help="run the controller until SIGTERM/SIGINT (or one pass with --once)"
    )
    ctl_run.add_argument("--once", action="store_true", help="one pass over all applications, then exit")
    ctl_run.add_argument("--holder", help="identity for operation leases (default: controller-<host>-<pid>)")
    ctl_run.add_argument(
        "--resync", type=_seconds, default=120.0, metavar="SECONDS", help="periodic refresh (default 120)"
    )
    ctl_run.add_argument("--log-format", choices=["json", "text"], default="json", help="stderr log format")
    for leaf in _leaves(p):
        if leaf not in (p, demo):  # demo takes its directory as an argument
            _workspace_flag(leaf)
            leaf.add_argument(
                "--as",
                dest="as_user",
                default=argparse.SUPPRESS,
                metavar="USER",
                help="act as USER (as `trueup --as USER ...`)",
            )
    return p


def _timeout(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--timeout", type=_seconds, metavar="S", help=f"{what} (seconds; default: no limit)")


def _add_operation_parsers(app_sub: argparse._SubParsersAction[Any]) -> None:
    sync = app_sub.add_parser("sync", help="sync an application to Git (exit 0 ok, 1 failed, 4 in progress)")
    sync.add_argument("app", metavar="APP", help="application name")
    sync.add_argument("--dry-run", action="store_true", help="server-side dry run; nothing is changed")
    sync.add_argument("--prune", action="store_true", help="delete resources that are no longer in Git")
    sync.add_argument(
        "--force", action="store_true", help="delete and re-create resources that cannot be updated"
    )
    sync.add_argument("--revision", help="sync to this revision instead of targetRevision")
    sync.add_argument(
        "--resource",
        action="append",
        metavar="GROUP:KIND:NS/NAME",
        help="selective sync (repeatable): hooks are skipped and no history is recorded",
    )
    sync.add_argument("--async", dest="async_", action="store_true", help="request the sync and return")
    _timeout(sync, "terminate the operation after this long")
    sync.add_argument("-o", "--output", **_fmt(["json"]))
    gov.add_break_glass_flags(
        sync, "sync through an active deny window or while auto-sync is on (suspends it 1h)"
    )
    wait = app_sub.add_parser(
        "wait", help="wait until the application is synced/healthy/idle (exit 1 on timeout)"
    )
    wait.add_argument("app", metavar="APP", help="application name")
    wait.add_argument("--sync", action="store_true", help="wait for sync status Synced")
    wait.add_argument("--health", action="store_true", help="wait for health Healthy")
    wait.add_argument("--operation", action="store_true", help="wait for the running operation to finish")
    _timeout(wait, "give up after this long")
    term = app_sub.add_parser("terminate-op", help="terminate the running operation (break-glass)")
    term.add_argument("app", metavar="APP", help="application name")
    gov.add_break_glass_flags(term, "terminating an operation is break-glass", required=True)
    hist = app_sub.add_parser("history", help="deployment history")
    hist.add_argument("app", metavar="APP", help="application name")
    hist.add_argument("-o", "--output", **_fmt(["json"]))
    rb = app_sub.add_parser(
        "rollback", help="sync to a history entry (hooks skipped; refused with auto-sync on)"
    )
    rb.add_argument("app", metavar="APP", help="application name")
    rb.add_argument("id", type=_history_id, metavar="ID", help="history id (see `trueup app history APP`)")
    rb.add_argument("--dry-run", action="store_true", help="server-side dry run; nothing is changed")
    rb.add_argument("--prune", action="store_true", help="delete resources that are not in that revision")
    rb.add_argument("--async", dest="async_", action="store_true", help="request the rollback and return")
    _timeout(rb, "terminate the operation after this long")
    rb.add_argument("-o", "--output", **_fmt(["json"]))
    gov.add_break_glass_flags(rb, "roll back while auto-sync is on (suspends it 1h) or through a deny window")
    dele = app_sub.add_parser("delete", help="delete an application (and, cascading, its resources)")
    dele.add_argument("app", metavar="APP", help="application name")
    dele.add_argument(
        "--cascade",
        choices=["foreground", "background", "orphan"],
        default="foreground",
        help="foreground (default): resources first; background: the app first; orphan: keep resources",
    )
    dele.add_argument("--yes", action="store_true", help="do not ask for the typed application name")
    _timeout(dele, "give up waiting for the deletion after this long")
    dele.add_argument("--reason", metavar="TEXT", default="", help="why (recorded in the audit record)")
    # governance: app set --auto-sync (onboarding adds app create's field flags to the same parser)
    aset = app_sub.add_parser("set", help="change an application (auto-sync suspension: break-glass)")
    aset.add_argument("app", metavar="APP", help="application name")
    gov.add_app_set_flags(aset)
    conf = app_sub.add_parser(
        "confirm-deletion",
        help="approve the Prune=confirm / Delete=confirm deletions waiting in APP (break-glass)",
    )
    conf.add_argument("app", metavar="APP", help="application name")
    gov.add_break_glass_flags(conf, "approving deletions is break-glass", required=True)


def _history_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a history id (a number from `trueup app history APP`)"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: history ids are 0 or more")
    return value


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
    try:
        return commands.dispatch(args)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except commands.CommandError as exc:
        return _fail(str(exc), exc.code)
    except gov.GovernanceError as exc:
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
