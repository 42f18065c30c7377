"""Health transitions recorded in Application status (`status.healthTransitions`), so "since when
is it broken, and what was it before" survives restarts and is the same for every reader.

Argo CD keeps only `status.health.lastTransitionTime`; trueup also keeps the last few changes as
the refresh/controller saw them (newest last, bounded), which the change timeline merges with
commits, syncs, live edits and Warning events.
"""

from __future__ import annotations

from typing import Any

LIMIT = 20
Obj = dict[str, Any]


def record(previous_status: Obj, health: Obj, at: str) -> list[Obj]:
    """The transitions list after observing `health` at `at` (RFC 3339)."""
    history = [h for h in previous_status.get("healthTransitions") or [] if isinstance(h, dict)]
    before = str((previous_status.get("health") or {}).get("status") or "")
    now = str(health.get("status") or "")
    if now and now != before:
        entry: Obj = {"at": at, "from": before, "status": now}
        if health.get("message"):
            entry["message"] = str(health["message"])[:500]
        history.append(entry)
    return history[-LIMIT:]


def transitions(app: Obj) -> list[Obj]:
    return [h for h in (app.get("status") or {}).get("healthTransitions") or [] if isinstance(h, dict)]
