"""Sync windows: selector matching, activity at fixed instants (time zones, DST), CanSync states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.engine.governance.windows import (
    STATE_MANUAL_ALLOWED,
    STATE_SYNC_ALLOWED,
    STATE_SYNC_DENIED,
    active_windows,
    can_sync,
    is_active,
    last_fire_time,
    next_change,
    window_matches,
)
from console.engine.model import SyncWindow, parse_application, parse_project, parse_sync_window


def win(**fields: Any) -> SyncWindow:
    base: dict[str, Any] = {
        "kind": "allow",
        "schedule": "0 22 * * *",
        "duration": "8h",
        "applications": ["*"],
    }
    base.update(fields)
    return parse_sync_window({k: v for k, v in base.items() if v is not None})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# ----------------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("selectors", "target", "expected"),
    [
        ({"applications": ["web"]}, ("web", "ns", "c", "https://c"), True),
        ({"applications": ["web-*"]}, ("web-eu", "ns", "c", "https://c"), True),
        ({"applications": ["web-*"]}, ("api", "ns", "c", "https://c"), False),
        ({"applications": None, "namespaces": ["prod-*"]}, ("api", "prod-1", "c", "https://c"), True),
        (
            {"applications": None, "clusters": ["prod-eu"]},
            ("api", "ns", "prod-eu", "https://p"),
            True,
        ),  # by name
        (
            {"applications": None, "clusters": ["https://p*"]},
            ("api", "ns", "", "https://prod"),
            True,
        ),  # by server
        ({"applications": None, "clusters": ["prod-eu"]}, ("api", "ns", "dev-eu", "https://d"), False),
        # OR across selectors by default
        ({"applications": ["web"], "namespaces": ["prod"]}, ("api", "prod", "c", "s"), True),
        ({"applications": ["web"], "namespaces": ["prod"]}, ("web", "dev", "c", "s"), True),
        ({"applications": ["web"], "namespaces": ["prod"]}, ("api", "dev", "c", "s"), False),
        # AND over the set selectors only
        (
            {"applications": ["web"], "namespaces": ["prod"], "andOperator": True},
            ("web", "prod", "c", "s"),
            True,
        ),
        (
            {"applications": ["web"], "namespaces": ["prod"], "andOperator": True},
            ("web", "dev", "c", "s"),
            False,
        ),
        (
            {"applications": ["web"], "clusters": ["c"], "namespaces": ["prod"], "andOperator": True},
            ("web", "prod", "c", "s"),
            True,
        ),
        (
            {"applications": ["web"], "clusters": ["x"], "namespaces": ["prod"], "andOperator": True},
            ("web", "prod", "c", "s"),
            False,
        ),
        (
            {"applications": None, "namespaces": ["prod"], "andOperator": True},
            ("anything", "prod", "c", "s"),
            True,
        ),
        # any entry of a selector list may match
        ({"applications": ["a", "b", "web"]}, ("web", "n", "c", "s"), True),
    ],
)
def test_window_matches(selectors: dict[str, Any], target: tuple[str, str, str, str], expected: bool) -> None:
    assert window_matches(win(**selectors), *target) is expected


def test_window_without_selectors_matches_nothing() -> None:
    # not constructible through the parser (Argo refuses it); built directly
    assert (
        window_matches(SyncWindow(kind="deny", schedule="* * * * *", duration="1h"), "a", "b", "c", "d")
        is False
    )


# ----------------------------------------------------------------------------------- activity


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2024, 5, 1, 21, 59, 59), False),
        (utc(2024, 5, 1, 22, 0, 0), True),  # open at the start instant
        (utc(2024, 5, 1, 23, 30), True),
        (utc(2024, 5, 2, 5, 59, 59), True),  # spans midnight
        (utc(2024, 5, 2, 6, 0, 0), False),  # closed at start + duration
        (utc(2024, 5, 2, 12, 0), False),
    ],
)
def test_is_active_utc(now: datetime, expected: bool) -> None:
    assert is_active(win(schedule="0 22 * * *", duration="8h"), now) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2024, 1, 15, 8, 30), True),  # 09:30 CET
        (utc(2024, 1, 15, 9, 30), False),  # 10:30 CET
        (utc(2024, 1, 15, 7, 59), False),  # 08:59 CET
        (utc(2024, 7, 15, 7, 30), True),  # 09:30 CEST (UTC+2)
        (utc(2024, 7, 15, 8, 30), False),  # 10:30 CEST
    ],
)
def test_is_active_in_time_zone(now: datetime, expected: bool) -> None:
    assert is_active(win(schedule="0 9 * * *", duration="1h", timeZone="Europe/Berlin"), now) is expected


def test_time_zone_follows_dst_change() -> None:
    w = win(schedule="0 9 * * *", duration="1h", timeZone="America/New_York")
    assert is_active(w, utc(2024, 3, 8, 14, 30))  # Fri before spring-forward: 09:30 EST
    assert not is_active(w, utc(2024, 3, 11, 14, 30))  # Mon after: 10:30 EDT
    assert is_active(w, utc(2024, 3, 11, 13, 30))  # 09:30 EDT
    assert last_fire_time(w, utc(2024, 3, 11, 13, 30)) == utc(2024, 3, 11, 13, 0)


def test_invalid_time_zone_falls_back_to_utc() -> None:
    w = win(schedule="0 9 * * *", duration="1h", timeZone="Mars/Olympus_Mons")
    assert is_active(w, utc(2024, 1, 15, 9, 30))
    assert not is_active(w, utc(2024, 1, 15, 8, 30))


def test_naive_datetime_is_utc_and_aware_input_any_zone() -> None:
    w = win(schedule="0 22 * * *", duration="1h")
    assert is_active(w, datetime(2024, 5, 1, 22, 30))
    aware_other_zone = utc(2024, 5, 1, 22, 30).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert is_active(w, aware_other_zone)


def test_weekday_schedule() -> None:
    w = win(schedule="0 9 * * 1-5", duration="8h")
    assert is_active(w, utc(2024, 5, 3, 12, 0))  # Friday
    assert not is_active(w, utc(2024, 5, 4, 12, 0))  # Saturday


def test_duration_longer_than_period_is_always_active() -> None:
    w = win(schedule="*/10 * * * *", duration="1h")
    for minute in range(0, 60, 7):
        assert is_active(w, utc(2024, 5, 1, 3, minute, 30))


def test_next_change() -> None:
    w = win(schedule="0 22 * * *", duration="8h")
    assert next_change(w, utc(2024, 5, 1, 23, 0)) == utc(2024, 5, 2, 6, 0)  # closes
    assert next_change(w, utc(2024, 5, 1, 12, 0)) == utc(2024, 5, 1, 22, 0)  # opens


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    dur_minutes=st.integers(1, 600),
    offset_minutes=st.integers(-1500, 1500),
)
def test_activity_matches_fire_window_property(
    minute: int, hour: int, dur_minutes: int, offset_minutes: int
) -> None:
    """For a daily window shorter than a day: active iff now is within [fire, fire + duration)."""
    dur_minutes = min(dur_minutes, 24 * 60 - 1)
    w = win(schedule=f"{minute} {hour} * * *", duration=f"{dur_minutes}m")
    fire = utc(2024, 6, 10, hour, minute)
    now = fire + timedelta(minutes=offset_minutes)
    expected = any(
        f <= now < f + timedelta(minutes=dur_minutes)
        for f in (fire - timedelta(days=1), fire, fire + timedelta(days=1))
    )
    assert is_active(w, now) is expected


# ---------------------------------------------------------------------------------- can_sync

ALLOW = win(kind="allow")
ALLOW_MANUAL = win(kind="allow", manualSync=True)
DENY = win(kind="deny")
DENY_MANUAL = win(kind="deny", manualSync=True)


@pytest.mark.parametrize(
    ("active", "inactive_allow", "auto_ok", "manual_ok", "state"),
    [
        ([], [], True, True, STATE_SYNC_ALLOWED),
        ([ALLOW], [], True, True, STATE_SYNC_ALLOWED),
        ([DENY], [], False, False, STATE_SYNC_DENIED),
        ([DENY_MANUAL], [], False, True, STATE_MANUAL_ALLOWED),
        ([DENY, ALLOW], [], False, False, STATE_SYNC_DENIED),  # deny overrides allow
        ([DENY_MANUAL, ALLOW], [], False, True, STATE_MANUAL_ALLOWED),
        ([DENY_MANUAL, DENY], [], False, False, STATE_SYNC_DENIED),  # all active denies need manualSync
        ([DENY_MANUAL, DENY_MANUAL], [], False, True, STATE_MANUAL_ALLOWED),
        ([], [ALLOW], False, False, STATE_SYNC_DENIED),  # outside every allow window
        ([], [ALLOW_MANUAL], False, True, STATE_MANUAL_ALLOWED),
        ([], [ALLOW_MANUAL, ALLOW], False, False, STATE_SYNC_DENIED),
        ([ALLOW], [ALLOW], True, True, STATE_SYNC_ALLOWED),  # one open allow suffices
        ([DENY_MANUAL], [ALLOW], False, True, STATE_MANUAL_ALLOWED),
    ],
)
def test_can_sync(
    active: list[SyncWindow], inactive_allow: list[SyncWindow], auto_ok: bool, manual_ok: bool, state: str
) -> None:
    assert can_sync(active, inactive_allow, manual=False) == (auto_ok, state)
    assert can_sync(active, inactive_allow, manual=True) == (manual_ok, state)


PROJECT = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AppProject",
    "metadata": {"name": "payments"},
    "spec": {
        "sourceRepos": ["*"],
        "destinations": [{"server": "*", "namespace": "*"}],
        "syncWindows": [
            # business hours allow for prod namespaces
            {
                "kind": "allow",
                "schedule": "0 8 * * 1-5",
                "duration": "10h",
                "namespaces": ["prod-*"],
                "timeZone": "Europe/Berlin",
            },
            # Friday night freeze on the prod cluster, manual syncs allowed
            {
                "kind": "deny",
                "schedule": "0 18 * * 5",
                "duration": "62h",
                "clusters": ["prod-eu"],
                "manualSync": True,
            },
        ],
    },
}


def application(namespace: str, cluster: str) -> Any:
    return parse_application(
        {
            "kind": "Application",
            "metadata": {"name": "api"},
            "spec": {
                "project": "payments",
                "source": {"repoURL": "https://github.com/org/api", "path": "deploy"},
                "destination": {"name": cluster, "namespace": namespace},
            },
        }
    )


def test_active_windows_and_can_sync_end_to_end() -> None:
    proj = parse_project(PROJECT)
    prod = application("prod-api", "prod-eu")
    dev = application("dev-api", "dev-eu")

    wednesday_noon = utc(2024, 5, 1, 10, 0)  # 12:00 CEST
    active, inactive = active_windows(proj, prod, wednesday_noon)
    assert [w.kind for w in active] == ["allow"] and inactive == []
    assert can_sync(active, inactive, manual=False) == (True, STATE_SYNC_ALLOWED)

    wednesday_night = utc(2024, 5, 1, 22, 0)
    active, inactive = active_windows(proj, prod, wednesday_night)
    assert active == [] and [w.kind for w in inactive] == ["allow"]
    assert can_sync(active, inactive, manual=True) == (False, STATE_SYNC_DENIED)

    saturday = utc(2024, 5, 4, 12, 0)
    active, inactive = active_windows(proj, prod, saturday)
    assert [w.kind for w in active] == ["deny"]
    assert can_sync(active, inactive, manual=False) == (False, STATE_MANUAL_ALLOWED)
    assert can_sync(active, inactive, manual=True) == (True, STATE_MANUAL_ALLOWED)

    # dev app: no window selects it, so it is always allowed
    assert active_windows(proj, dev, saturday) == ([], [])
    assert can_sync([], [], manual=False) == (True, STATE_SYNC_ALLOWED)
