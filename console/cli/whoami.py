"""`trueup whoami`: who you act as, and whether the control cluster verified it."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli.args import fmt, with_workspace
from console.cli.governance import identity
from console.cli.output import emit_json, emit_yaml, one_line
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    who = sub.add_parser(
        "whoami",
        help="show who you act as, and whether the control cluster verified it",
        description="The acting identity: on a real control cluster the user the API server authenticates "
        "(SelfSubjectReview); on a sim workspace $TRUEUP_USER (else the OS login), unverified.",
    )
    who.add_argument("-o", "--output", **fmt(["json", "yaml"]))

    who.set_defaults(run=with_workspace(cmd_whoami))


def cmd_whoami(ws: Workspace, args: argparse.Namespace) -> int:
    from console.engine.gate.identity import control_is_real
    from console.engine.gate.policy import PolicyUnavailable, load_config

    ident = identity(ws, args)
    try:
        cfg = load_config(ws)
        policy = {"source": cfg.source, "defaultRole": cfg.default_role, "scopes": list(cfg.scopes)}
    except PolicyUnavailable as exc:
        policy = {"source": "unreadable", "error": str(exc)}
    data = {
        **ident.to_dict(),
        "controlCluster": ws.control_cluster,
        "real": control_is_real(ws),
        "policy": policy,
    }
    if not control_is_real(ws) and ws.users:
        data["workspaceUser"] = ident.user in ws.users
    if args.output == "json":
        emit_json(data)
        return 0
    if args.output == "yaml":
        emit_yaml(data)
        return 0
    if ident.verified:
        how = f"verified by the control cluster {ws.control_cluster} (SelfSubjectReview)"
    else:
        origin = "$TRUEUP_USER" if ident.source == "$TRUEUP_USER" else "the OS login name"
        how = f"UNVERIFIED: taken from {origin} on a sim workspace (anyone can claim any name here)"
    rows = [
        ("User", ident.label),
        ("Identity", how),
        ("Groups", ", ".join(ident.groups) or "-"),
    ]
    if ident.display_name or ident.email:
        rows.append(("Name", f"{ident.display_name} <{ident.email}>" if ident.email else ident.display_name))
    if ident.impersonated_by:
        rows.append(("Impersonated by", ident.impersonated_by))
    rows.append(
        (
            "Policy",
            f"{policy['source']}"
            + (f" (default role: {policy.get('defaultRole')})" if policy.get("defaultRole") else ""),
        )
    )
    if control_is_real(ws) and ws.users:
        rows.append(("Note", "trueup.yaml users/groups are not trusted on a real control cluster"))
    width = max(len(k) for k, _ in rows) + 2
    for k, v in rows:
        print(f"{k + ':':<{width}}{one_line(str(v), 200)}")
    return 0
