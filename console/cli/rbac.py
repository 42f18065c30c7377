"""`trueup rbac can`: evaluate the RBAC policy (Argo CD's casbin model) like `argocd admin settings rbac can`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from console.cli.errors import CommandError
from console.engine.governance import rbac
from console.engine.workspace import open_workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    rb = sub.add_parser("rbac", help="evaluate the RBAC policy (Argo CD's casbin model)")
    rb_sub = rb.add_subparsers(dest="rbac_command", metavar="SUBCOMMAND", required=True)
    can = rb_sub.add_parser(
        "can",
        help="may SUBJECT do ACTION on RESOURCE [OBJECT]? prints Yes (exit 0) or No (exit 1)",
        description="As `argocd admin settings rbac can`: SUBJECT is a user, group or role "
        "(role:readonly, proj:payments:deployer); the default role is applied.",
    )
    can.add_argument("subject", metavar="SUBJECT", help="user, group or role name")
    can.add_argument(
        "action", metavar="ACTION", help=f"one of {', '.join(rbac.ACTIONS)}, or action/<group>/<kind>/<name>"
    )
    can.add_argument("resource", metavar="RESOURCE", help=f"one of {', '.join(rbac.RESOURCES)}")
    can.add_argument(
        "object", metavar="OBJECT", nargs="?", default="", help="e.g. payments/payments-api-prod-us"
    )
    can.add_argument(
        "--policy-file",
        metavar="F",
        help="evaluate this policy (a policy.csv, or an argocd-rbac-cm ConfigMap) instead of the workspace's",
    )
    can.add_argument("--default-role", metavar="R", help="use this default role (policy.default) instead")
    can.add_argument(
        "--no-builtin-policy", action="store_true", help="leave out the built-in role:readonly/role:admin"
    )
    can.add_argument("-q", "--quiet", action="store_true", help="print nothing; the exit code answers")

    can.set_defaults(run=run_can)


def run_can(args: argparse.Namespace) -> int:
    """A policy file needs no workspace."""
    return cmd_rbac_can(None if args.policy_file else open_workspace(args.workspace), args)


def _can_valid(args: argparse.Namespace) -> None:
    if args.resource not in rbac.RESOURCES:
        raise CommandError(f"unknown RBAC resource {args.resource!r}: use one of {', '.join(rbac.RESOURCES)}")
    act = args.action
    base = act.split("/", 1)[0]
    if act not in rbac.ACTIONS and base not in ("action", "update", "delete") and "*" not in act:
        raise CommandError(
            f"unknown RBAC action {act!r}: use one of {', '.join(rbac.ACTIONS)}, or action/<group>/<kind>/<name>"
        )


def cmd_rbac_can(ws: Any, args: argparse.Namespace) -> int:
    """Yes/No like `argocd admin settings rbac can`; `ws` may be None with --policy-file."""
    from console.engine.gate.policy import PolicyUnavailable, load_config, load_projects

    _can_valid(args)
    projects: dict[str, Any] = {}
    try:
        if args.policy_file:
            path = Path(args.policy_file)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(
                    f"cannot read --policy-file {path.name}: {getattr(exc, 'strerror', None) or exc}"
                ) from None
            cfg = rbac.parse_policy_file(text, path.name)
        else:
            cfg = load_config(ws)
            projects = load_projects(ws)
        if args.default_role is not None:
            cfg = rbac.PolicyConfig(cfg.policy_csv, args.default_role, cfg.scopes, cfg.match_mode, cfg.source)
        enforcer = rbac.Enforcer(cfg, projects=projects, use_builtin=not args.no_builtin_policy)
    except rbac.PolicyError as exc:
        raise CommandError(str(exc)) from None
    except PolicyUnavailable as exc:
        raise CommandError(str(exc), 3) from None
    allowed = enforcer.enforce(args.subject, args.resource, args.action, args.object)
    if not args.quiet:
        print("Yes" if allowed else "No")
    return 0 if allowed else 1
