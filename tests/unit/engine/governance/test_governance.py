"""Governance units: identity on sim workspaces, sync windows with syncOverrun and when a block ends,
break-glass flags and durations, suspensions, and the workspace's users/rbac sections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.engine.gate import identity
from console.engine.governance import breakglass
from console.engine.governance.windows import can_sync_at, evaluate
from console.engine.model import SyncWindow, parse_application, parse_project
from console.engine.workspace import WorkspaceError, load

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 12:00 UTC


def window(
    kind: str = "deny",
    schedule: str = "0 12 * * *",
    duration: str = "1h",
    *,
    manual_sync: bool = False,
    sync_overrun: bool = False,
) -> SyncWindow:
    return SyncWindow(
        kind=kind,
        schedule=schedule,
        duration=duration,
        applications=["*"],
        manual_sync=manual_sync,
        sync_overrun=sync_overrun,
    )


# ------------------------------------------------------------------------------ syncOverrun


@pytest.mark.parametrize(
    ("windows", "manual", "started", "allowed"),
    [
        # deny active, no overrun: blocked even for an operation that started before it
        ([window()], False, T0 - timedelta(minutes=5), False),
        # deny with syncOverrun: an operation that started before the window continues
        ([window(sync_overrun=True)], False, T0 - timedelta(minutes=5), True),
        # ... but not one that started inside it
        ([window(sync_overrun=True)], False, T0 + timedelta(minutes=1), False),
        # every active deny must allow overrun
        (
            [window(sync_overrun=True), window(schedule="30 11 * * *", duration="2h")],
            False,
            T0 - timedelta(minutes=5),
            False,
        ),
        # manualSync on every active deny lets a manual sync through
        ([window(manual_sync=True)], True, None, True),
        ([window(manual_sync=True), window(schedule="30 11 * * *", duration="2h")], True, None, False),
        # allow window closed: an operation started inside it may overrun its end ...
        (
            [window(kind="allow", schedule="0 11 * * *", duration="30m", sync_overrun=True)],
            False,
            T0 - timedelta(minutes=50),
            True,
        ),
        # ... not one started after it closed, and not without syncOverrun
        (
            [window(kind="allow", schedule="0 11 * * *", duration="30m", sync_overrun=True)],
            False,
            T0 - timedelta(minutes=20),
            False,
        ),
        (
            [window(kind="allow", schedule="0 11 * * *", duration="30m")],
            False,
            T0 - timedelta(minutes=50),
            False,
        ),
        # an active allow allows
        ([window(kind="allow", schedule="0 12 * * *", duration="1h")], False, None, True),
        # deny overrides allow
        ([window(kind="allow", schedule="0 12 * * *", duration="1h"), window()], False, None, False),
    ],
)
def test_can_sync_with_overrun(
    windows: list[SyncWindow], manual: bool, started: datetime | None, allowed: bool
) -> None:
    from console.engine.governance.windows import _split

    active, inactive = _split(windows, T0 + timedelta(minutes=10))
    assert can_sync_at(active, inactive, manual, started) is allowed


def _proj(windows: list[dict[str, Any]]) -> Any:
    return parse_project(
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "p", "namespace": "trueup"},
            "spec": {"syncWindows": windows},
        }
    )


APP = parse_application(
    {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "trueup"},
        "spec": {
            "project": "p",
            "source": {"repoURL": "u", "path": "p"},
            "destination": {"name": "prod", "namespace": "web"},
        },
    }
)


def test_message_names_the_window_and_when_it_ends() -> None:
    proj = _proj(
        [
            {
                "kind": "deny",
                "schedule": "0 12 * * *",
                "duration": "2h",
                "clusters": ["prod"],
                "description": "freeze",
            }
        ]
    )
    now = T0 + timedelta(minutes=30)
    v = evaluate(proj, APP, now, manual=True)
    assert not v.allowed and v.state == "Sync Denied"
    assert v.message("web", now) == (
        "cannot sync web: blocked by sync window deny '0 12 * * *' for 2h (UTC) on clusters prod: freeze; "
        "it ends at 2026-03-02T14:00:00Z (in 1h30m)"
    )
    assert evaluate(proj, APP, T0 + timedelta(hours=3), manual=True).allowed


def test_back_to_back_windows_say_how_long_syncing_stays_blocked() -> None:
    proj = _proj([{"kind": "deny", "schedule": "0 0 * * *", "duration": "24h", "applications": ["web"]}])
    v = evaluate(proj, APP, T0, manual=True)
    msg = v.message("web", T0)
    assert (
        "it ends at 2026-03-03T00:00:00Z (in 12h0m), and syncing stays blocked for at least the next 62 days"
        in msg
    )


def test_closed_allow_window_says_when_it_opens() -> None:
    proj = _proj(
        [
            {
                "kind": "allow",
                "schedule": "0 22 * * *",
                "duration": "1h",
                "namespaces": ["web"],
                "manualSync": True,
            }
        ]
    )
    assert evaluate(proj, APP, T0, manual=True).allowed  # manualSync
    v = evaluate(proj, APP, T0, manual=False)
    assert not v.allowed and v.state == "Manual Allowed"
    assert "it opens at 2026-03-02T22:00:00Z (in 10h0m)" in v.message("web", T0)


def test_and_operator_needs_every_selector() -> None:
    proj = _proj(
        [
            {
                "kind": "deny",
                "schedule": "0 12 * * *",
                "duration": "1h",
                "applications": ["web"],
                "clusters": ["staging"],
                "andOperator": True,
            }
        ]
    )
    assert evaluate(proj, APP, T0 + timedelta(minutes=5), manual=False).allowed
    proj = _proj(
        [
            {
                "kind": "deny",
                "schedule": "0 12 * * *",
                "duration": "1h",
                "applications": ["web"],
                "clusters": ["staging"],
            }
        ]
    )
    assert not evaluate(proj, APP, T0 + timedelta(minutes=5), manual=False).allowed


# ------------------------------------------------------------------------------ break-glass


@pytest.mark.parametrize(
    ("reason", "confirm", "problem"),
    [
        ("", "web", "needs --reason naming the incident"),
        ("ab", "web", "at least 3 characters"),
        ("INC-1", None, "needs --confirm web (the application name typed out); got missing"),
        ("INC-1", "Web", "got 'Web'"),
    ],
)
def test_break_glass_flags(reason: str, confirm: str | None, problem: str) -> None:
    with pytest.raises(breakglass.BreakGlassError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        breakglass.check_flags("web", reason, confirm)
    breakglass.check_flags("web", "INC-1", "web")


@pytest.mark.parametrize(
    ("text", "seconds", "problem"),
    [
        (None, 3600, None),
        ("30m", 1800, None),
        ("2h30m", 9000, None),
        ("0s", 0, "positive"),
        ("200h", 0, "at most 7 days"),
        ("soon", 0, "--for 'soon'"),
    ],
)
def test_suspension_durations(text: str | None, seconds: int, problem: str | None) -> None:
    if problem:
        with pytest.raises(breakglass.BreakGlassError, match=problem):
            breakglass.parse_for(text)
    else:
        assert breakglass.parse_for(text) == timedelta(seconds=seconds)


def test_suspension_round_trip_and_expiry() -> None:
    app: dict[str, Any] = {
        "metadata": {"name": "web"},
        "spec": {"syncPolicy": {"automated": {"selfHeal": True}}},
    }
    assert breakglass.auto_sync_in_force(app, T0)
    s = breakglass.Suspension("auto-sync", T0 + timedelta(hours=1), "alice", "INC-42", 17, "x")
    breakglass.set_suspension(app, s)
    got = breakglass.suspension_of(app)
    assert got == s and not got.expired(T0) and got.expired(T0 + timedelta(hours=1))
    assert not breakglass.auto_sync_in_force(app, T0)
    assert breakglass.auto_sync_in_force(app, T0 + timedelta(hours=2))
    breakglass.clear_suspension(app)
    assert breakglass.suspension_of(app) is None and app["metadata"]["annotations"] == {}
    # damaged annotations are read defensively
    app["metadata"]["annotations"] = {breakglass.UNTIL_ANNOTATION: "not-a-time"}
    assert breakglass.suspension_of(app) is None
    app["metadata"]["annotations"] = {
        breakglass.UNTIL_ANNOTATION: "2026-03-02T13:00:00Z",
        breakglass.DETAIL_ANNOTATION: "[1]",
    }
    assert breakglass.suspension_of(app) == breakglass.Suspension(
        "auto-sync", T0 + timedelta(hours=1), "?", "", 0, ""
    )


# ------------------------------------------------------------------------------ identity and workspace

WS = """apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: in-cluster
clusters:
  - {name: in-cluster, server: https://kubernetes.default.svc, type: sim}
"""


def _ws(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "trueup.yaml").write_text(WS + extra)
    return tmp_path


def test_sim_identity_is_trueup_user_else_login_and_unverified(tmp_path: Path) -> None:
    ws = load(_ws(tmp_path, "users:\n  alice: {name: Alice, email: a@x, groups: [sre]}\n"))
    ident = identity.resolve(ws, env={"TRUEUP_USER": "alice"})
    assert (ident.user, ident.groups, ident.verified, ident.source) == (
        "alice",
        ("sre",),
        False,
        "$TRUEUP_USER",
    )
    assert ident.label == "alice (unverified)" and ident.email == "a@x"
    assert ident.claims_groups(("groups", "email")) == ["sre", "a@x"]
    other = identity.resolve(ws, env={})
    assert other.source == "OS login" and other.groups == () and not other.verified
    from console.engine.governance.identity import controller_identity

    assert controller_identity().user == "system:trueup-controller"


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("users:\n  alice: {groups: sre}\n", "users.alice.groups: must be a list"),
        ("users: [alice]\n", "users: must be a mapping"),
        ("rbac:\n  policy: 'p, x, applications, get'\n", "rbac.policy line 1: invalid RBAC policy"),
        ("rbac:\n  matchMode: fuzzy\n", "rbac.matchMode: must be one of 'glob' or 'regex'"),
        ("rbac:\n  policy.csv: 'g, a'\n", "rbac.policy line 1: invalid RBAC policy: g, a"),
    ],
)
def test_workspace_users_and_rbac_are_checked_at_load(tmp_path: Path, extra: str, problem: str) -> None:
    with pytest.raises(WorkspaceError, match=problem.replace(".", r"\.")):
        load(_ws(tmp_path, extra))


def test_argocd_rbac_cm_keys_in_the_workspace(tmp_path: Path) -> None:
    ws = load(
        _ws(
            tmp_path,
            "rbac:\n  policy.csv: 'g, ops, role:admin'\n  policy.default: role:readonly\n  scopes: '[groups, email]'\n",
        )
    )
    from console.engine.governance import rbac

    cfg = rbac.from_workspace(ws.rbac, "x")
    assert cfg.default_role == "role:readonly" and cfg.scopes == ("groups", "email")
    assert rbac.Enforcer(cfg).enforce_claims("u", ["ops"], "applications", "delete", "a/b")
