"""Sync window evaluation (argocd-features.md §6.3): which windows apply and whether a sync may run.

Only evaluation lives here; the controller and the sync path decide what to do with the answer.
Time-zone handling is done properly with zoneinfo (DST included) instead of Argo's fixed offset
taken at evaluation time, so a 02:00 Europe/Berlin window opens at 02:00 local on both sides of
a DST change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


# --------------------------------------------------------------------------------------------
# Enforcement: one verdict for a sync attempt or an operation pass
# --------------------------------------------------------------------------------------------

MSG_CANNOT_SYNC = "cannot sync: blocked by sync window"  # Argo's API server, on a manual sync
MSG_AUTO_SYNC_PREVENTED = "Sync prevented by sync window"  # Argo's controller log, on auto-sync
_HORIZON = timedelta(days=62)


def _started_inside(window: SyncWindow, started: datetime) -> bool:
    return is_active(window, started)


def can_sync_at(
    active: Sequence[SyncWindow],
    inactive_allow: Sequence[SyncWindow],
    manual: bool,
    op_started_at: datetime | None = None,
) -> bool:
    """§6.3 CanSync with syncOverrun: an operation that started while syncing was allowed may
    continue through a deny window that opened since (every active deny has syncOverrun), or past
    the end of the allow window it started in (every inactive allow has syncOverrun)."""
    deny = [w for w in active if w.kind == "deny"]
    if deny:
        if manual and all(w.manual_sync for w in deny):
            return True
        if op_started_at is not None and all(w.sync_overrun for w in deny):
            started = _aware(op_started_at)
            return not any(_started_inside(w, started) for w in deny)
        return False
    if any(w.kind == "allow" for w in active):
        return True
    if inactive_allow:
        if manual and all(w.manual_sync for w in inactive_allow):
            return True
        if op_started_at is not None and all(w.sync_overrun for w in inactive_allow):
            started = _aware(op_started_at)
            return any(_started_inside(w, started) for w in inactive_allow)
        return False
    return True


def describe(window: SyncWindow) -> str:
    """`deny 0 0 * * * for 24h (Europe/Berlin) on clusters prod-eu`: how messages name a window."""
    sel = []
    for label, items in (
        ("applications", window.applications),
        ("namespaces", window.namespaces),
        ("clusters", window.clusters),
    ):
        if items:
            sel.append(f"{label} {','.join(items)}")
    joiner = " and " if window.and_operator else "; "
    zone = f" ({window.time_zone})" if window.time_zone else " (UTC)"
    text = f"{window.kind} '{window.schedule}' for {window.duration}{zone} on {joiner.join(sel)}"
    flags = [f for f, on in (("manualSync", window.manual_sync), ("syncOverrun", window.sync_overrun)) if on]
    if flags:
        text += f" [{', '.join(flags)}]"
    if window.description:
        text += f": {window.description}"
    return text


@dataclass(frozen=True)
class WindowVerdict:
    """What the windows say about one sync now."""

    allowed: bool
    state: str
    matching: tuple[SyncWindow, ...] = ()
    active: tuple[SyncWindow, ...] = ()
    blocking: tuple[SyncWindow, ...] = ()
    allowed_at: datetime | None = None  # when it becomes allowed (None: not within the horizon)

    def ends_at(self, now: datetime) -> datetime | None:
        """When the blocking window closes (a deny) or opens (an allow that is closed)."""
        if not self.blocking:
            return None
        changes = [next_change(w, now) for w in self.blocking]
        return max(changes) if self.blocking[0].kind == "deny" else min(changes)

    def message(self, app: str, now: datetime) -> str:
        if self.allowed:
            return ""
        now = _aware(now)
        names = "; ".join(describe(w) for w in self.blocking) or "no allow window is open"
        ends = self.ends_at(now)
        verb = "ends" if self.blocking and self.blocking[0].kind == "deny" else "opens"
        parts = []
        if ends is not None:
            parts.append(f"it {verb} at {_stamp(ends)} (in {span(ends - now)})")
        if self.allowed_at is None:
            parts.append(f"syncing stays blocked for at least the next {_HORIZON.days} days")
        elif ends is None or self.allowed_at != ends:
            parts.append(f"syncing is allowed again at {_stamp(self.allowed_at)}")
        return f"cannot sync {app}: blocked by sync window {names}; " + ", and ".join(parts)

    def to_dict(self, now: datetime) -> dict[str, object]:
        return {
            "state": self.state,
            "allowed": self.allowed,
            "active": [window_dict(w, now) for w in self.active],
            "matching": [window_dict(w, now) for w in self.matching],
            # relative, as every time trueup shows about the future (DESIGN.md §5)
            "allowedInSeconds": int((self.allowed_at - _aware(now)).total_seconds())
            if self.allowed_at
            else None,
        }


def window_dict(window: SyncWindow, now: datetime) -> dict[str, object]:
    return {
        "kind": window.kind,
        "schedule": window.schedule,
        "duration": window.duration,
        "timeZone": window.time_zone or "UTC",
        "applications": list(window.applications),
        "namespaces": list(window.namespaces),
        "clusters": list(window.clusters),
        "manualSync": window.manual_sync,
        "syncOverrun": window.sync_overrun,
        "andOperator": window.and_operator,
        "description": window.description,
        "active": is_active(window, now),
        "nextChangeInSeconds": int((next_change(window, now) - _aware(now)).total_seconds()),
    }


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def span(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def evaluate(
    project: AppProject,
    app: Application,
    now: datetime,
    *,
    manual: bool,
    op_started_at: datetime | None = None,
    cluster_name: str = "",
    cluster_server: str = "",
) -> WindowVerdict:
    """The windows of `project` matching `app`, and whether this sync may run at `now`."""
    now = _aware(now)
    matching = tuple(matching_windows(project, app, cluster_name, cluster_server))
    if not matching:
        return WindowVerdict(True, STATE_SYNC_ALLOWED)
    active, inactive_allow = _split(matching, now)
    allowed = can_sync_at(active, inactive_allow, manual, op_started_at)
    _ok, state = can_sync(active, inactive_allow, manual)
    if allowed:
        return WindowVerdict(True, state, matching, tuple(active))
    deny = [w for w in active if w.kind == "deny"]
    blocking = tuple(deny) if deny else tuple(inactive_allow)
    return WindowVerdict(
        False, state, matching, tuple(active), blocking, _allowed_again(matching, now, manual)
    )


def _split(windows: Sequence[SyncWindow], now: datetime) -> tuple[list[SyncWindow], list[SyncWindow]]:
    active: list[SyncWindow] = []
    inactive_allow: list[SyncWindow] = []
    for w in windows:
        if is_active(w, now):
            active.append(w)
        elif w.kind == "allow":
            inactive_allow.append(w)
    return active, inactive_allow


def _allowed_again(windows: Sequence[SyncWindow], now: datetime, manual: bool) -> datetime | None:
    """The first window boundary after `now` at which CanSync holds (None within the horizon)."""
    t = now
    for _ in range(500):
        changes = [next_change(w, t) for w in windows]
        later = [c for c in changes if c > t]
        if not later:
            return None
        t = min(later)
        if t - now > _HORIZON:
            return None
        active, inactive_allow = _split(windows, t)
        if can_sync_at(active, inactive_allow, manual):
            return t
    return None
