"""`trueup` command line: parse -> engine call -> render. Exit codes per DESIGN.md §4:
0 ok; 1 diff found / operation failed; 2 bad input; 3 permission denied; 4 blocked; 5 backend unreachable.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from console.cli import commands
from console.cluster.api import ClusterError, Forbidden, NotFound, Timeout, Unavailable
from console.engine.refresh import UnknownApplication
from console.engine.workspace import WorkspaceError

EXIT_OK, EXIT_DIFF, EXIT_BAD_INPUT, EXIT_DENIED, EXIT_BLOCKED, EXIT_UNREACHABLE = 0, 1, 2, 3, 4, 5


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _fmt(choices: Sequence[str], default: str | None = None) -> dict[str, object]:
    return {"choices": list(choices), "default": default, "metavar": "|".join(choices)}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trueup",
        description="GitOps reconcile engine with Argo CD semantics, and an operations console.",
        epilog="Exit codes: 0 ok, 1 diff/operation failed, 2 bad input, 3 permission denied, 4 blocked, 5 unreachable.",
    )
    p.add_argument(
        "-w",
        "--workspace",
        help="workspace directory (default: $TRUEUP_WORKSPACE, then the current directory)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="create the demo workspace if missing and open the console",
        description="`trueup demo [DIR]` creates the demo workspace in DIR (default ~/trueup-demo) if missing "
        "and opens the console; `trueup demo init DIR` only creates it.",
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
    ref.add_argument("apps", nargs="*", metavar="APP")
    ref.add_argument("--hard", action="store_true", help="regenerate manifests (ignore the manifest cache)")
    ref.add_argument("-o", "--output", **_fmt(["json"]))  # type: ignore[arg-type]

    app = sub.add_parser("app", help="inspect applications")
    app_sub = app.add_subparsers(dest="app_command", metavar="SUBCOMMAND", required=True)
    ls = app_sub.add_parser("list", help="list applications")
    ls.add_argument("-p", "--project", action="append", help="only this project (repeatable)")
    ls.add_argument("--sync", help="only this sync status (Synced, OutOfSync, Unknown)")
    ls.add_argument("--health", help="only this health status (Healthy, Progressing, Degraded, ...)")
    ls.add_argument("-o", "--output", **_fmt(["wide", "json", "yaml", "name"]))  # type: ignore[arg-type]
    get = app_sub.add_parser("get", help="show one application")
    get.add_argument("app", metavar="APP")
    get.add_argument("-o", "--output", **_fmt(["json", "yaml", "tree"]))  # type: ignore[arg-type]
    diff = app_sub.add_parser("diff", help="diff Git against live (exit 0 no diff, 1 diff, 2 error)")
    diff.add_argument("app", metavar="APP")
    diff.add_argument("--revision", help="compare against this revision instead of targetRevision")
    diff.add_argument("-o", "--output", **_fmt(["json"]))  # type: ignore[arg-type]
    man = app_sub.add_parser("manifests", help="print the desired (git) or live manifests")
    man.add_argument("app", metavar="APP")
    man.add_argument("--source", choices=["git", "live"], default="git")
    man.add_argument("-o", "--output", **_fmt(["yaml", "json"], "yaml"))  # type: ignore[arg-type]
    _add_operation_parsers(app_sub)

    proj = sub.add_parser("project", help="inspect projects")
    proj_sub = proj.add_subparsers(dest="project_command", metavar="SUBCOMMAND", required=True)
    pl = proj_sub.add_parser("list", help="list projects")
    pl.add_argument("-o", "--output", **_fmt(["json", "yaml", "name"]))  # type: ignore[arg-type]
    pg = proj_sub.add_parser("get", help="show one project")
    pg.add_argument("name", metavar="NAME")
    pg.add_argument("-o", "--output", **_fmt(["json", "yaml"]))  # type: ignore[arg-type]

    ctl = sub.add_parser("controller", help="the reconcile loop (refresh, auto-sync, self-heal, operations)")
    ctl_sub = ctl.add_subparsers(dest="controller_command", metavar="SUBCOMMAND", required=True)
    ctl_run = ctl_sub.add_parser(
        "run", help="run the controller until SIGTERM/SIGINT (or one pass with --once)"
    )
    ctl_run.add_argument("--once", action="store_true", help="one pass over all applications, then exit")
    ctl_run.add_argument("--holder", help="identity for operation leases (default: controller-<host>-<pid>)")
    ctl_run.add_argument(
        "--resync", type=float, default=120.0, metavar="SECONDS", help="periodic refresh (default 120)"
    )
    ctl_run.add_argument("--log-format", choices=["json", "text"], default="json", help="stderr log format")
    return p


def _timeout(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--timeout", type=float, metavar="S", help=f"{what} (seconds; default: no limit)")


def _add_operation_parsers(app_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = app_sub.add_parser("sync", help="sync an application to Git (exit 0 ok, 1 failed, 4 in progress)")
    sync.add_argument("app", metavar="APP")
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
    sync.add_argument("-o", "--output", choices=["json"], default=None, metavar="json")
    wait = app_sub.add_parser(
        "wait", help="wait until the application is synced/healthy/idle (exit 1 on timeout)"
    )
    wait.add_argument("app", metavar="APP")
    wait.add_argument("--sync", action="store_true", help="wait for sync status Synced")
    wait.add_argument("--health", action="store_true", help="wait for health Healthy")
    wait.add_argument("--operation", action="store_true", help="wait for the running operation to finish")
    _timeout(wait, "give up after this long")
    term = app_sub.add_parser("terminate-op", help="terminate the running operation")
    term.add_argument("app", metavar="APP")
    hist = app_sub.add_parser("history", help="deployment history")
    hist.add_argument("app", metavar="APP")
    hist.add_argument("-o", "--output", choices=["json"], default=None, metavar="json")
    rb = app_sub.add_parser(
        "rollback", help="sync to a history entry (hooks skipped; refused with auto-sync on)"
    )
    rb.add_argument("app", metavar="APP")
    rb.add_argument("id", type=int, metavar="ID")
    rb.add_argument("--dry-run", action="store_true")
    rb.add_argument("--prune", action="store_true")
    rb.add_argument("--async", dest="async_", action="store_true", help="request the rollback and return")
    _timeout(rb, "terminate the operation after this long")
    rb.add_argument("-o", "--output", choices=["json"], default=None, metavar="json")
    dele = app_sub.add_parser("delete", help="delete an application (and, cascading, its resources)")
    dele.add_argument("app", metavar="APP")
    dele.add_argument("--cascade", choices=["foreground", "background", "orphan"], default="foreground")
    dele.add_argument("--yes", action="store_true", help="do not ask for the typed application name")
    _timeout(dele, "give up waiting for the deletion after this long")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return commands.dispatch(args)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except commands.CommandError as exc:
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


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"trueup: {message}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
