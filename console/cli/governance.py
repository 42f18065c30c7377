"""`trueup whoami`, `trueup rbac can`, `trueup audit ...`, and the CLI side of the governance gate
(identity per command, read filtering, reporting a GateResult)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from console.cli.output import emit_json, emit_yaml, one_line, table
from console.cluster.api import Obj
from console.engine.governance import rbac

_SINCE = re.compile(r"^(\d+)([smhd])$")


class GovernanceError(Exception):
    """Raised by helpers here; main maps it like CommandError (message, exit code)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------


def _fmt(choices: list[str], default: str | None = None) -> dict[str, Any]:
    return {
        "choices": choices,
        "default": default,
        "metavar": "|".join(choices),
        "help": "output format" + (f" (default {default})" if default else ""),
    }


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """The `whoami`, `rbac` and `audit` nouns."""
    who = sub.add_parser(
        "whoami",
        help="show who you act as, and whether the control cluster verified it",
        description="The acting identity: on a real control cluster the user the API server authenticates "
        "(SelfSubjectReview); on a sim workspace $TRUEUP_USER (else the OS login), unverified.",
    )
    who.add_argument("-o", "--output", **_fmt(["json", "yaml"]))

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

    au = sub.add_parser("audit", help="the tamper-evident audit chain in the control cluster")
    au_sub = au.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)
    ls = au_sub.add_parser("list", help="audit records, oldest first")
    ls.add_argument("--app", metavar="A", help="only this application")
    ls.add_argument(
        "--actor", metavar="U", help="only this user (system:trueup-controller for the controller)"
    )
    ls.add_argument("--since", metavar="T", help="only records from this time: 30m, 2h, 7d, or RFC 3339")
    ls.add_argument("--incident", metavar="ID", help="only records whose reason names this incident")
    ls.add_argument("-o", "--output", **_fmt(["json", "yaml", "wide"]))
    ver = au_sub.add_parser("verify", help="verify the chain (exit 1 naming the first bad record)")
    ver.add_argument(
        "--file", metavar="F", help="verify an export (`trueup audit export F`) instead of the live chain"
    )
    ver.add_argument("-o", "--output", **_fmt(["json"]))
    exp = au_sub.add_parser(
        "export", help="write the chain as JSONL (line 1: the head; then one record a line)"
    )
    exp.add_argument("file", metavar="FILE", help="file to write (`-` for stdout)")
    rep = au_sub.add_parser("report", help="the timeline of everything done under an incident reference")
    rep.add_argument("--incident", required=True, metavar="ID", help="the --reason used (e.g. INC-42)")
    rep.add_argument("--file", metavar="F", help="report from an export instead of the live chain")
    rep.add_argument("-o", "--output", **_fmt(["markdown", "json"], "markdown"))


def add_break_glass_flags(p: argparse.ArgumentParser, what: str, *, required: bool = False) -> None:
    """`--reason`, `--break-glass`, `--confirm APP` (DESIGN.md §4)."""
    p.add_argument(
        "--reason",
        metavar="TEXT",
        default="",
        help="why (an incident or change reference); stored on the operation and in the audit record",
    )
    p.add_argument(
        "--break-glass",
        action="store_true",
        help=f"{what}: needs `applications, override`, --reason and --confirm APP"
        + (" (required)" if required else ""),
    )
    p.add_argument("--confirm", metavar="APP", help="the application name typed out (with --break-glass)")


def add_app_set_flags(p: argparse.ArgumentParser) -> None:
    """governance's hunk of `app set`: time-boxed auto-sync / self-heal suspension."""
    p.add_argument(
        "--auto-sync",
        choices=["on", "off"],
        metavar="on|off",
        help="off: suspend auto-sync for --for (break-glass); on: lift a suspension",
    )
    p.add_argument(
        "--self-heal-only",
        action="store_true",
        help="with --auto-sync off: suspend only self-heal (new commits still auto-sync)",
    )
    p.add_argument(
        "--for",
        dest="for_",
        metavar="DURATION",
        help="how long the suspension lasts (default 1h, at most 168h)",
    )
    add_break_glass_flags(p, "suspending auto-sync is break-glass")


# --------------------------------------------------------------------------------------------
# Identity, gate, read filtering (used by commands.py)
# --------------------------------------------------------------------------------------------


def identity(ws: Any, args: argparse.Namespace) -> Any:
    """The acting identity, resolved once per command; its warnings go to stderr once."""
    from console.engine.governance.identity import ImpersonationDenied, resolve

    cached = getattr(args, "_identity", None)
    if cached is not None:
        return cached
    try:
        ident = resolve(ws, as_user=getattr(args, "as_user", None))
    except ImpersonationDenied as exc:
        raise GovernanceError(str(exc), 3) from None
    for w in ident.warnings:
        warn(w)
    args._identity = ident
    return ident


def gate(ws: Any, args: argparse.Namespace) -> Any:
    from console.engine.governance.gate import Gate

    cached = getattr(args, "_gate", None)
    if cached is None:
        cached = Gate(ws, identity(ws, args))
        cached.warnings.clear()  # identity warnings were printed already
        args._gate = cached
    return cached


def warn(message: str) -> None:
    sys.stderr.write(f"trueup: warning: {message}\n")


def require_get(ws: Any, args: argparse.Namespace, app: Obj) -> None:
    """Reads are filtered to what the user may `get` (exit 3 for one named app)."""
    from console.engine.governance.gate import app_rbac_object
    from console.engine.governance.policy import PolicyUnavailable

    g = gate(ws, args)
    try:
        ok = g.can_get_app(app)
    except (PolicyUnavailable, rbac.PolicyError) as exc:
        raise GovernanceError(str(exc), 3) from None
    if not ok:
        raise GovernanceError(g.denial("applications", "get", app_rbac_object(app)), 3)


def visible_apps(ws: Any, args: argparse.Namespace, apps: list[Obj]) -> list[Obj]:
    from console.engine.governance.policy import PolicyUnavailable

    g = gate(ws, args)
    try:
        return [a for a in apps if g.can_get_app(a)]
    except (PolicyUnavailable, rbac.PolicyError) as exc:
        raise GovernanceError(str(exc), 3) from None


def visible_projects(ws: Any, args: argparse.Namespace, projects: list[Obj]) -> list[Obj]:
    g = gate(ws, args)
    return [p for p in projects if g.can("projects", "get", str(p["metadata"]["name"]))]


def require_project_get(ws: Any, args: argparse.Namespace, name: str) -> None:
    g = gate(ws, args)
    if not g.can("projects", "get", name):
        raise GovernanceError(g.denial("projects", "get", name), 3)


def finish(result: Any) -> None:
    """Print the gate's warnings; raise GovernanceError for a refusal or failure."""
    for w in result.warnings:
        warn(w)
    if result.code != 0 and result.outcome in ("denied", "blocked", "invalid", "error"):
        raise GovernanceError(result.message, result.code)


def window_fields(ws: Any, app: Obj) -> dict[str, Any]:
    """Sync window state and suspension for `app get` / `app list -o wide` / JSON."""
    from console.engine.appstore import AppStore
    from console.engine.audit.chain import cluster_now
    from console.engine.governance import breakglass
    from console.engine.governance.gate import window_verdict

    store = AppStore(ws.control())
    now = cluster_now(store.cluster)
    verdict = window_verdict(ws, store, app, now, manual=False)
    s = breakglass.suspension_of(app)
    out: dict[str, Any] = {"syncWindows": verdict.to_dict(now) if verdict and verdict.matching else None}
    out["suspension"] = s.to_dict() if s is not None and not s.expired(now) else None
    return out


def window_text(fields: dict[str, Any]) -> str:
    win = fields.get("syncWindows")
    return str(win["state"]) if win else "-"


def assigned_windows(fields: dict[str, Any]) -> str:
    win = fields.get("syncWindows") or {}
    parts = []
    for w in win.get("matching") or []:
        tag = f"{w['kind']}:{w['schedule']}:{w['duration']}"
        if w.get("active"):
            tag += f" (active, ends {w['nextChange']})"
        parts.append(tag)
    return ", ".join(parts) or "-"


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def cmd_whoami(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.governance.identity import control_is_real
    from console.engine.governance.policy import PolicyUnavailable, load_config

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


def _can_valid(args: argparse.Namespace) -> None:
    if args.resource not in rbac.RESOURCES:
        raise GovernanceError(
            f"unknown RBAC resource {args.resource!r}: use one of {', '.join(rbac.RESOURCES)}"
        )
    act = args.action
    base = act.split("/", 1)[0]
    if act not in rbac.ACTIONS and base not in ("action", "update", "delete") and "*" not in act:
        raise GovernanceError(
            f"unknown RBAC action {act!r}: use one of {', '.join(rbac.ACTIONS)}, or action/<group>/<kind>/<name>"
        )


def cmd_rbac_can(ws: Any, args: argparse.Namespace) -> int:
    """Yes/No like `argocd admin settings rbac can`; `ws` may be None with --policy-file."""
    from console.engine.governance.policy import PolicyUnavailable, load_config, load_projects

    _can_valid(args)
    projects: dict[str, Any] = {}
    try:
        if args.policy_file:
            path = Path(args.policy_file)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise GovernanceError(
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
        raise GovernanceError(str(exc)) from None
    except PolicyUnavailable as exc:
        raise GovernanceError(str(exc), 3) from None
    allowed = enforcer.enforce(args.subject, args.resource, args.action, args.object)
    if not args.quiet:
        print("Yes" if allowed else "No")
    return 0 if allowed else 1


def _since(text: str | None, now: datetime) -> datetime | None:
    if not text:
        return None
    m = _SINCE.match(text.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        unit_name = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]
        return now - timedelta(**{unit_name: n})
    from console.engine.audit.record import parse_time

    at = parse_time(text.strip())
    if at is None:
        raise GovernanceError(f"--since {text!r}: give a duration (30m, 2h, 7d) or an RFC 3339 time")
    return at


def _chain(ws: Any) -> Any:
    from console.engine.audit import AuditChain

    return AuditChain(ws.control())


def cmd_audit(ws: Any, args: argparse.Namespace) -> int:
    return {
        "list": cmd_audit_list,
        "verify": cmd_audit_verify,
        "export": cmd_audit_export,
        "report": cmd_audit_report,
    }[args.audit_command](ws, args)


def cmd_audit_list(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.audit.chain import cluster_now
    from console.engine.audit.report import actor_text, details, select

    chain = _chain(ws)
    since = _since(args.since, cluster_now(chain.cluster))
    records = select(chain.records(), app=args.app, actor=args.actor, since=since, incident=args.incident)
    if args.output == "json":
        emit_json(records)
        return 0
    if args.output == "yaml":
        emit_yaml(records)
        return 0
    headers = ["SEQ", "TIME", "ACTOR", "ACTION", "APP", "PHASE", "OUTCOME", "REASON"]
    if args.output == "wide":
        headers += ["DETAILS"]
    rows = []
    for r in records:
        row = [
            r.get("seq"),
            str(r.get("time") or "")[:19] + "Z",
            actor_text(r),
            str(r.get("action") or "") + (" [break-glass]" if r.get("breakGlass") else ""),
            r.get("app") or "-",
            r.get("phase"),
            r.get("outcome"),
            one_line(str(r.get("reason") or "-"), 40),
        ]
        if args.output == "wide":
            row.append(one_line(details(r), 100))
        rows.append(row)
    table(headers, rows)
    return 0


def cmd_audit_verify(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.audit import ExportError, verify_chain, verify_export

    if args.file:
        try:
            verdict = verify_export(Path(args.file))
        except ExportError as exc:
            if args.output == "json":
                emit_json({"ok": False, "problem": str(exc)})
            raise GovernanceError(f"audit export does not verify: {exc}", 1) from None
        where = Path(args.file).name
    else:
        verdict = verify_chain(_chain(ws))
        where = f"control cluster {ws.control_cluster}"
    if args.output == "json":
        emit_json({"source": where, **verdict.to_dict()})
    for note in verdict.notes:
        warn(note)
    if not verdict.ok:
        raise GovernanceError(f"audit chain does not verify ({where}): {verdict.problem}", 1)
    if args.output != "json":
        print(
            f"audit chain verified ({where}): {verdict.records} record(s), head {verdict.head_seq} "
            f"{verdict.head_hash[:12]}"
        )
    return 0


def cmd_audit_export(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.audit.verify import write_export

    chain = _chain(ws)
    if args.file == "-":
        n = write_export(chain, sys.stdout)
        return 0
    path = Path(args.file)
    try:
        with path.open("w", encoding="utf-8") as out:
            n = write_export(chain, out)
    except OSError as exc:
        raise GovernanceError(f"cannot write {path.name}: {exc.strerror}") from None
    seq, digest = chain.head_state()
    print(f"exported {n} audit record(s) to {args.file} (head {seq} {digest[:12]})", file=sys.stderr)
    return 0


def cmd_audit_report(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.audit import ExportError, verify_chain
    from console.engine.audit.report import incident_report, render_markdown
    from console.engine.audit.verify import read_export, verify_records

    if args.file:
        try:
            head_seq, head_hash, records, labels = read_export(Path(args.file))
        except ExportError as exc:
            raise GovernanceError(f"audit export unreadable: {exc}", 1) from None
        verdict = verify_records(records, head_seq, head_hash, labels)
        where = Path(args.file).name
    else:
        chain = _chain(ws)
        records = chain.records()
        verdict = verify_chain(chain)
        where = f"control cluster {ws.control_cluster}"
    report = incident_report(args.incident, records, verdict, where)
    if args.output == "json":
        emit_json(report)
    else:
        sys.stdout.write(render_markdown(report))
    return 0 if verdict.ok else 1
