"""`trueup app create | set | unset` (argocd's flags); validation happens before anything is written.

Each command makes its mutation in one call, `manage.attempt(...)`, which the governance gate wraps.
"""

from __future__ import annotations

import argparse
from typing import Any

from console.cli import governance as gov
from console.engine import manage
from console.engine.workspace import open_workspace

SYNC_POLICIES = {
    "automated": "automated",
    "auto": "automated",
    "automatic": "automated",
    "none": "none",
    "manual": "none",
}


def _sync_policy(text: str) -> str:
    try:
        return SYNC_POLICIES[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"unknown sync policy {text!r}: use automated or none") from None


def _bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "yes", "on", "1"):
        return True
    if low in ("false", "no", "off", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not true or false")


def _field_flags(p: argparse.ArgumentParser, *, create: bool) -> None:
    p.add_argument(
        "--repo",
        required=create,
        metavar="URL",
        help="repository URL (Git, or a Helm repository with --helm-chart)",
    )
    p.add_argument("--path", metavar="P", help="path in the repository (Git sources)")
    p.add_argument(
        "--revision", metavar="R", help="target revision: branch, tag, commit (Git) or chart version (Helm)"
    )
    p.add_argument("--helm-chart", metavar="CHART", help="chart name in the Helm repository --repo")
    p.add_argument("--values", action="append", metavar="FILE", help="Helm value file (repeatable)")
    p.add_argument("--release-name", metavar="NAME", help="Helm release name")
    p.add_argument(
        "--directory-recurse",
        action="store_true",
        default=None,
        help="Directory sources: read sub-directories",
    )
    dest = p.add_mutually_exclusive_group(required=False)
    dest.add_argument("--dest-server", metavar="S", help="destination cluster server URL")
    dest.add_argument("--dest-name", metavar="N", help="destination cluster name (see `trueup cluster list`)")
    p.add_argument("--dest-namespace", metavar="NS", help="destination namespace")
    p.add_argument("--project", metavar="P", help="project (default: default)")
    p.add_argument(
        "--sync-policy", type=_sync_policy, metavar="automated|none", help="automated sync, or none (manual)"
    )
    p.add_argument(
        "--auto-prune",
        nargs="?",
        const=True,
        type=_bool,
        metavar="BOOL",
        help="automated sync deletes what left Git",
    )
    p.add_argument(
        "--self-heal",
        nargs="?",
        const=True,
        type=_bool,
        metavar="BOOL",
        help="automated sync reverts live changes",
    )
    p.add_argument(
        "--sync-option",
        action="append",
        metavar="O",
        help="sync option, e.g. CreateNamespace=true (repeatable)",
    )


def register(app_sub: argparse._SubParsersAction[Any]) -> None:
    create = app_sub.add_parser("create", help="create an application (validated before anything is written)")
    create.add_argument("app", metavar="NAME", help="application name")
    _field_flags(create, create=True)
    create.add_argument(
        "--upsert", action="store_true", help="update the application if it exists with a different spec"
    )
    create.set_defaults(run=cmd_app_create)
    st = app_sub.add_parser(
        "set", help="change fields of an application (app create's flags); --auto-sync off suspends auto-sync"
    )
    st.add_argument("app", metavar="APP", help="application name")
    _field_flags(st, create=False)
    gov.add_app_set_flags(st)  # governance: --auto-sync on|off --for --reason --break-glass --confirm
    st.set_defaults(run=cmd_app_set)
    un = app_sub.add_parser("unset", help="remove fields of an application")
    un.add_argument("app", metavar="APP", help="application name")
    un.add_argument(
        "--sync-option", action="append", metavar="O", help="remove this sync option (repeatable)"
    )
    un.add_argument("--auto-prune", action="store_true", help="remove automated prune")
    un.add_argument("--self-heal", action="store_true", help="remove automated self-heal")
    un.add_argument(
        "--values", action="append", metavar="FILE", help="remove this Helm value file (repeatable)"
    )
    un.add_argument("--revision", action="store_true", help="remove targetRevision (track HEAD)")
    un.set_defaults(run=cmd_app_unset)


def _fields(args: argparse.Namespace) -> manage.AppFields:
    return manage.AppFields(
        repo=args.repo,
        path=args.path,
        revision=args.revision,
        chart=args.helm_chart,
        dest_server=args.dest_server,
        dest_name=args.dest_name,
        dest_namespace=args.dest_namespace,
        project=args.project,
        sync_policy=args.sync_policy,
        auto_prune=args.auto_prune,
        self_heal=args.self_heal,
        sync_options=args.sync_option,
        values=args.values,
        release_name=args.release_name,
        directory_recurse=args.directory_recurse,
    )


def _governed(ws: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Who acts (resolved once per command), the reason, where gate warnings go."""
    return {
        "identity": gov.identity(ws, args),
        "reason": getattr(args, "reason", "") or "",
        "on_warning": gov.warn,
    }


def _report(outcome: manage.Outcome) -> int:
    word = {"created": "created", "configured": "updated", "unchanged": "unchanged"}[outcome.result]
    print(f"application '{outcome.name}' {word}")
    return 0


def cmd_app_create(args: argparse.Namespace) -> int:
    ws = open_workspace(getattr(args, "workspace", None))
    fields = _fields(args)
    if not (args.dest_server or args.dest_name):
        raise manage.ObjectRefused(
            f"application {args.app!r}: spec.destination: give --dest-server S or --dest-name N"
        )
    project = args.project or "default"
    outcome = manage.attempt(
        ws, "create", "applications", f"{project}/{args.app}",
        lambda: manage.create_application(ws, args.app, fields, upsert=args.upsert),
        **_governed(ws, args),
    )  # fmt: skip
    return _report(outcome)


def cmd_app_set(args: argparse.Namespace) -> int:
    ws = open_workspace(getattr(args, "workspace", None))
    fields = _fields(args)
    if args.auto_sync is not None:
        given = [k for k, v in vars(fields).items() if v is not None]
        if given:
            raise manage.ObjectRefused(
                f"application {args.app!r}: --auto-sync is its own (audited) action: change "
                f"{', '.join(given)} in a separate `trueup app set`"
            )
        from console.cli.app_operations import cmd_app_set_auto_sync

        return cmd_app_set_auto_sync(ws, args)
    if args.for_ or args.self_heal_only or args.break_glass or args.confirm:
        raise manage.ObjectRefused(
            f"application {args.app!r}: --for, --self-heal-only, --break-glass and --confirm go with --auto-sync"
        )
    outcome = manage.attempt(
        ws, "update", "applications", args.app,
        lambda: manage.edit_application(ws, args.app, lambda app: manage.apply_fields(app, fields)),
        **_governed(ws, args),
    )  # fmt: skip
    return _report(outcome)


def cmd_app_unset(args: argparse.Namespace) -> int:
    ws = open_workspace(getattr(args, "workspace", None))
    u = manage.UnsetFields(
        sync_options=args.sync_option,
        auto_prune=args.auto_prune,
        self_heal=args.self_heal,
        values=args.values,
        revision=args.revision,
    )
    outcome = manage.attempt(
        ws, "update", "applications", args.app,
        lambda: manage.edit_application(ws, args.app, lambda app: manage.unset_fields(app, u)),
        **_governed(ws, args),
    )  # fmt: skip
    return _report(outcome)
