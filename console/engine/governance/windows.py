"""Sync window evaluation (argocd-features.md §6.3): which windows apply and whether a sync may run.

Only evaluation lives here; the controller and the sync path decide what to do with the answer.
Time-zone handling is done properly with zoneinfo (DST included) instead of Argo's fixed offset
taken at evaluation time, so a 02:00 Europe/Berlin window opens at 02:00 local on both sides of
a DST change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from console.engine.governance.projects import glob_match
from console.engine.model import Application, AppProject, SyncWindow

STATE_SYNC_ALLOWED = "Sync Allowed"
STATE_MANUAL_ALLOWED = "Manual Allowed"
STATE_SYNC_DENIED = "Sync Denied"
MSG_BLOCKED_BY_WINDOW = "Sync operation blocked by sync window"


def _any_glob(patterns: Iterable[str], *values: str) -> bool:
    return any(p == "*" or glob_match(p, v) for p in patterns for v in values if v or p == "*")


def window_matches(
    window: SyncWindow, app_name: str, namespace: str, cluster_name: str, cluster_server: str
) -> bool:
    """Selectors are ORed (apps, clusters, namespaces); with andOperator every *set* one must match.

    `clusters` entries match the destination's cluster name or server URL. A window with no
    selectors matches nothing (Argo refuses to save one).
    """
    checks: list[bool] = []
    if window.applications:
        checks.append(_any_glob(window.applications, app_name))
    if window.clusters:
        checks.append(_any_glob(window.clusters, cluster_server, cluster_name))
    if window.namespaces:
        checks.append(_any_glob(window.namespaces, namespace))
    if not checks:
        return False
    return all(checks) if window.and_operator else any(checks)


def window_timezone(window: SyncWindow) -> tzinfo:
    """The window's IANA zone; empty or unknown ⇒ UTC (as Argo does)."""
    if not window.time_zone:
        return UTC
    try:
        return ZoneInfo(window.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def last_fire_time(window: SyncWindow, now: datetime) -> datetime:
    """The most recent cron fire time at or before `now`, in the window's zone."""
    local_now = _aware(now).astimezone(window_timezone(window))
    # croniter's get_prev is strict, so step 1 µs forward to count a fire exactly at `now`.
    prev: datetime = croniter(window.schedule, local_now + timedelta(microseconds=1)).get_prev(datetime)
    return prev


def is_active(window: SyncWindow, now: datetime) -> bool:
    """Active iff the most recent fire time t satisfies t <= now < t + duration.

    Argo's own test is `next(schedule, now - duration) < now`; the two differ only at the exact
    opening instant (Argo: not yet open) — we treat a window as open at its start time.
    """
    now = _aware(now)
    start = last_fire_time(window, now)
    return start <= now < start + timedelta(seconds=window.duration_seconds())


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC: the controller works in UTC throughout."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def matching_windows(
    project: AppProject, app: Application, cluster_name: str = "", cluster_server: str = ""
) -> list[SyncWindow]:
    """The project's windows that select `app` (its name, destination namespace and cluster)."""
    dest = app.spec.destination
    name = cluster_name or dest.name
    server = cluster_server or dest.server
    return [w for w in project.spec.sync_windows if window_matches(w, app.name, dest.namespace, name, server)]


def active_windows(
    project: AppProject, app: Application, now: datetime, cluster_name: str = "", cluster_server: str = ""
) -> tuple[list[SyncWindow], list[SyncWindow]]:
    """(active matching windows, inactive matching *allow* windows) — the two inputs of `can_sync`."""
    active: list[SyncWindow] = []
    inactive_allow: list[SyncWindow] = []
    for w in matching_windows(project, app, cluster_name, cluster_server):
        if is_active(w, now):
            active.append(w)
        elif w.kind == "allow":
            inactive_allow.append(w)
    return active, inactive_allow


def _can_sync(active: Sequence[SyncWindow], inactive_allow: Sequence[SyncWindow], manual: bool) -> bool:
    deny = [w for w in active if w.kind == "deny"]
    if deny:
        return manual and all(w.manual_sync for w in deny)
    if any(w.kind == "allow" for w in active):
        return True
    if inactive_allow:
        return manual and all(w.manual_sync for w in inactive_allow)
    return True


def can_sync(
    windows_active: Sequence[SyncWindow], windows_inactive_allow: Sequence[SyncWindow], manual: bool
) -> tuple[bool, str]:
    """§6.3 CanSync: deny overrides allow; manualSync lets manual syncs through a closed window.

    Returns (whether this sync — manual or automatic — may run, the UI state for the app:
    "Sync Allowed", "Manual Allowed" or "Sync Denied"). syncOverrun is not evaluated here: it
    needs the in-flight operation's start time, which the sync path owns.
    """
    allowed = _can_sync(windows_active, windows_inactive_allow, manual)
    if _can_sync(windows_active, windows_inactive_allow, False):
        state = STATE_SYNC_ALLOWED
    elif _can_sync(windows_active, windows_inactive_allow, True):
        state = STATE_MANUAL_ALLOWED
    else:
        state = STATE_SYNC_DENIED
    return allowed, state


def next_change(window: SyncWindow, now: datetime) -> datetime:
    """When the window next opens (if closed) or closes (if open), for display."""
    now = _aware(now)
    if is_active(window, now):
        return last_fire_time(window, now) + timedelta(seconds=window.duration_seconds())
    local_now = now.astimezone(window_timezone(window))
    nxt: datetime = croniter(window.schedule, local_now).get_next(datetime)
    return nxt
