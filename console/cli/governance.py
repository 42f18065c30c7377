"""The CLI side of the governance gate, shared by the nouns: the acting identity (once per
command), the Gate, read filtering (`get`), break-glass flags, and reporting a GateResult."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from console.cli.errors import CommandError
from console.cluster.api import ClusterError, Obj
from console.engine.governance import rbac
from console.engine.governance.windows import span

# --------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------


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
    from console.engine.gate.identity import ImpersonationDenied, resolve

    cached = getattr(args, "_identity", None)
    if cached is not None:
        return cached
    try:
        ident = resolve(ws, as_user=getattr(args, "as_user", None))
    except ImpersonationDenied as exc:
        raise CommandError(str(exc), 3) from None
    for w in ident.warnings:
        warn(w)
    args._identity = ident
    return ident


def gate(ws: Any, args: argparse.Namespace) -> Any:
    from console.engine.gate.attempt import Gate

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
    from console.engine.gate.attempt import app_rbac_object
    from console.engine.gate.policy import PolicyUnavailable

    g = gate(ws, args)
    try:
        ok = g.can_get_app(app)
    except (PolicyUnavailable, rbac.PolicyError) as exc:
        raise CommandError(str(exc), 3) from None
    if not ok:
        raise CommandError(g.denial("applications", "get", app_rbac_object(app)), 3)


def require_logs(ws: Any, args: argparse.Namespace, app: Obj) -> None:
    """Pod logs need `logs, get` on the application's object (Argo CD 3 enforces it)."""
    from console.engine.gate.attempt import app_rbac_object

    g = gate(ws, args)
    obj = app_rbac_object(app)
    if not g.can(rbac.RES_LOGS, "get", obj):
        raise CommandError(g.denial(rbac.RES_LOGS, "get", obj), 3)


def visible_apps(ws: Any, args: argparse.Namespace, apps: list[Obj]) -> list[Obj]:
    from console.engine.gate.policy import PolicyUnavailable

    g = gate(ws, args)
    try:
        return [a for a in apps if g.can_get_app(a)]
    except (PolicyUnavailable, rbac.PolicyError) as exc:
        raise CommandError(str(exc), 3) from None


def visible_projects(ws: Any, args: argparse.Namespace, projects: list[Obj]) -> list[Obj]:
    g = gate(ws, args)
    return [p for p in projects if g.can("projects", "get", str(p["metadata"]["name"]))]


def require_project_get(ws: Any, args: argparse.Namespace, name: str) -> None:
    g = gate(ws, args)
    if not g.can("projects", "get", name):
        raise CommandError(g.denial("projects", "get", name), 3)


def finish(result: Any) -> None:
    """Print the gate's warnings; raise GovernanceError for a refusal or failure."""
    for w in result.warnings:
        warn(w)
    if result.code != 0 and result.outcome in ("denied", "blocked", "invalid", "error"):
        raise CommandError(result.message, result.code)


def window_fields(ws: Any, app: Obj, projects: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sync window state and suspension for `app get` / `app list -o wide` / JSON; times about
    the future are given relative (seconds). `projects`: parsed AppProjects by name, to reuse."""
    from console.engine import model
    from console.engine.appstore import AppStore
    from console.engine.audit.chain import cluster_now
    from console.engine.governance import breakglass
    from console.engine.sync.windows import app_project, window_verdict

    store = AppStore(ws.control())
    now = cluster_now(store.cluster)
    project = None
    if projects is not None:
        name = app_project(app)
        if name not in projects:
            try:
                projects[name] = model.parse_project(store.get_project(name))
            except (model.SpecError, ClusterError):
                projects[name] = None
        project = projects[name]
    verdict = window_verdict(ws, store, app, now, manual=False, project=project)
    s = breakglass.suspension_of(app)
    out: dict[str, Any] = {"syncWindows": verdict.to_dict(now) if verdict and verdict.matching else None}
    out["suspension"] = None
    if s is not None and not s.expired(now):
        out["suspension"] = {
            "scope": s.scope,
            "by": s.by,
            "reason": s.reason,
            "auditSeq": s.audit_seq,
            "remainingSeconds": int((s.until - now).total_seconds()),
        }
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
            tag += f" (active, ends in {span(timedelta(seconds=w['nextChangeInSeconds']))})"
        parts.append(tag)
    return ", ".join(parts) or "-"
