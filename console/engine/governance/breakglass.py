"""Break-glass rules and time-boxed auto-sync / self-heal suspensions.

A suspension is two annotations on the Application, never a spec change: an app-of-apps parent
that self-heals would put `automated` straight back (the child Application's spec is its
manifest), while an annotation written by another field manager is not drift. The controller skips
auto-sync (or only self-heal) while a suspension is in force and lifts it when it expires, with an
audit record; `app set APP --auto-sync on` lifts it early.

    trueup.dev/auto-sync-suspended-until: 2026-03-01T13:00:00Z
    trueup.dev/auto-sync-suspension: {"scope": "auto-sync"|"self-heal", "by": "alice",
                                       "reason": "INC-42", "auditSeq": 17, "since": "..."}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.cluster.api import Obj
from console.engine.timestamps import parse_time as parse_time

UNTIL_ANNOTATION = "trueup.dev/auto-sync-suspended-until"
DETAIL_ANNOTATION = "trueup.dev/auto-sync-suspension"
SCOPE_AUTO_SYNC, SCOPE_SELF_HEAL = "auto-sync", "self-heal"
DEFAULT_SUSPENSION = timedelta(hours=1)
MAX_SUSPENSION = timedelta(days=7)
MIN_REASON = 3

# operation.info names (`argocd app sync --info name=value`): shown in `app history`
INFO_REASON = "reason"
INFO_BREAK_GLASS = "breakGlassAuditRecord"


class BreakGlassError(ValueError):
    """Break-glass flags that do not make a valid break-glass request (exit 2)."""


def check_flags(app: str, reason: str, confirm: str | None) -> None:
    """`--reason` must name the incident and `--confirm` must be the application's name."""
    if not reason or len(reason.strip()) < MIN_REASON:
        raise BreakGlassError(
            f"break-glass on {app} needs --reason naming the incident (e.g. --reason INC-1234), "
            f"at least {MIN_REASON} characters"
        )
    if confirm != app:
        shown = "missing" if not confirm else f"{confirm!r}"
        raise BreakGlassError(
            f"break-glass on {app} needs --confirm {app} (the application name typed out); got {shown}"
        )


@dataclass(frozen=True)
class Suspension:
    scope: str
    until: datetime
    by: str
    reason: str
    audit_seq: int
    since: str = ""

    def expired(self, now: datetime) -> bool:
        return now >= self.until

    def text(self) -> str:
        until = self.until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.scope} suspended until {until} by {self.by} ({self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "until": self.until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "by": self.by,
            "reason": self.reason,
            "auditSeq": self.audit_seq,
            "since": self.since,
        }


def suspension_of(app: Obj) -> Suspension | None:
    annotations = (app.get("metadata") or {}).get("annotations") or {}
    until = parse_time(annotations.get(UNTIL_ANNOTATION))
    if until is None:
        return None
    try:
        detail = json.loads(str(annotations.get(DETAIL_ANNOTATION) or "{}"))
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    scope = (
        detail.get("scope") if detail.get("scope") in (SCOPE_AUTO_SYNC, SCOPE_SELF_HEAL) else SCOPE_AUTO_SYNC
    )
    seq = detail.get("auditSeq")
    return Suspension(
        scope=str(scope),
        until=until,
        by=str(detail.get("by") or "?"),
        reason=str(detail.get("reason") or ""),
        audit_seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else 0,
        since=str(detail.get("since") or ""),
    )


def set_suspension(app: Obj, s: Suspension) -> None:
    md = app.setdefault("metadata", {})
    annotations = md.get("annotations") or {}
    annotations[UNTIL_ANNOTATION] = s.until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = {k: v for k, v in s.to_dict().items() if k != "until"}
    annotations[DETAIL_ANNOTATION] = json.dumps(detail, sort_keys=True, separators=(",", ":"))
    md["annotations"] = annotations


def clear_suspension(app: Obj) -> None:
    annotations = (app.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(UNTIL_ANNOTATION, None)
        annotations.pop(DETAIL_ANNOTATION, None)


def automated_on(app: Obj) -> bool:
    auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
    return isinstance(auto, dict) and auto.get("enabled") is not False


def self_heal_on(app: Obj) -> bool:
    auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
    return automated_on(app) and isinstance(auto, dict) and bool(auto.get("selfHeal"))


def auto_sync_in_force(app: Obj, now: datetime) -> bool:
    """Auto-sync is on and not suspended: a manual sync/rollback would race it (break-glass)."""
    if not automated_on(app):
        return False
    s = suspension_of(app)
    return s is None or s.expired(now) or s.scope != SCOPE_AUTO_SYNC


def parse_for(text: str | None) -> timedelta:
    """`--for 1h`, `30m`, `2h30m`, `90s` (Go duration units); default 1 h, at most 7 days."""
    from console.engine.model import parse_duration

    if not text:
        return DEFAULT_SUSPENSION
    try:
        seconds = parse_duration(text, bare_seconds=False)
    except (ValueError, TypeError) as exc:
        raise BreakGlassError(f"--for {text!r}: {exc} (e.g. --for 1h, --for 30m)") from None
    if seconds <= 0:
        raise BreakGlassError(f"--for {text!r}: give a positive duration (e.g. --for 1h)")
    span = timedelta(seconds=seconds)
    if span > MAX_SUSPENSION:
        raise BreakGlassError(f"--for {text!r}: a suspension lasts at most 7 days (168h)")
    return span
