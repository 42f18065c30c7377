"""Fleet facts (one row's worth of truth per Application) and the `/` filter language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.engine import fleet, fleetfilter
from console.engine.health import transitions

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def app(
    name: str, project: str = "p", *, sync: str = "Synced", health: str = "Healthy", **extra: Any
) -> dict[str, Any]:
    status: dict[str, Any] = {"sync": {"status": sync, "revision": "b" * 40}, "health": {"status": health}}
    status.update(extra.pop("status", {}))
    obj = {
        "metadata": {"name": name},
        "spec": {
            "project": project,
            "source": {"repoURL": "https://git.invalid/r.git", "path": "x", "targetRevision": "main"},
            "destination": {"server": "https://prod-eu.invalid", "namespace": "ns"},
            **extra.pop("spec", {}),
        },
        "status": status,
    }
    obj.update(extra)
    return obj


def facts(obj: dict[str, Any], **kw: Any) -> fleet.AppFacts:
    return fleet.facts(obj, cluster_by_server={"https://prod-eu.invalid": "prod-eu"}, now=NOW, **kw)


@pytest.mark.parametrize(
    ("obj", "overall"),
    [
        (app("a"), "Healthy"),
        (app("a", sync="OutOfSync"), "OutOfSync"),
        (app("a", sync="OutOfSync", health="Degraded"), "Degraded"),
        (app("a", status={"conditions": [{"type": "ComparisonError", "message": "repo gone"}]}), "Error"),
        (
            app("a", sync="OutOfSync", status={"operationState": {"phase": "Failed", "message": "boom"}}),
            "SyncFailed",
        ),
        (app("a", status={"operationState": {"phase": "Running", "message": "waiting"}}), "Syncing"),
        (app("a", operation={"sync": {}}), "Syncing"),  # requested, not picked up yet
        (app("a", health="Suspended"), "Suspended"),
        (app("a", sync="Unknown"), "Unknown"),
    ],
)
def test_overall_status_ranks_problems(obj: dict[str, Any], overall: str) -> None:
    assert facts(obj).overall == overall


def test_facts_name_the_resource_that_is_unhealthy() -> None:
    obj = app(
        "a",
        health="Degraded",
        status={
            "health": {
                "status": "Degraded",
                "message": "Caused by apps/Deployment:ns/web",
                "lastTransitionTime": "2026-03-01T11:40:00Z",
            },
            "resources": [
                {
                    "group": "apps",
                    "kind": "Deployment",
                    "namespace": "ns",
                    "name": "web",
                    "health": {
                        "status": "Degraded",
                        "message": 'Deployment "web" exceeded its progress deadline',
                    },
                }
            ],
            "history": [{"id": 0, "revision": "a" * 40, "deployedAt": "2026-03-01T10:00:00Z"}],
        },
        spec={"syncPolicy": {"automated": {"prune": True, "selfHeal": True}}},
    )
    f = facts(obj)
    assert f.message == 'apps/Deployment ns/web: Deployment "web" exceeded its progress deadline'
    assert (f.cluster, f.health_since, f.synced_revision, f.auto_sync) == (
        "prod-eu",
        "2026-03-01T11:40:00Z",
        "a" * 40,
        "on, prune, self-heal",
    )
    assert f.key == ("p", "a") and f.problem and f.rank < facts(app("b")).rank


def test_sync_window_state_per_app() -> None:
    projects = {
        "pay": {
            "metadata": {"name": "pay"},
            "spec": {
                "syncWindows": [
                    {
                        "kind": "deny",
                        "schedule": "0 0 * * *",
                        "duration": "24h",
                        "clusters": ["prod-eu"],
                        "manualSync": False,
                    }
                ]
            },
        }
    }
    idx = fleet.WindowIndex(projects)
    assert facts(app("a", "pay"), windows_index=idx).window == "Sync Denied"
    assert facts(app("a", "other"), windows_index=idx).window == ""


def test_health_transitions_are_recorded_and_bounded() -> None:
    status: dict[str, Any] = {}
    for i, h in enumerate(["Healthy", "Healthy", "Degraded", "Healthy"] * 10):
        status = {
            "health": {"status": h},
            "healthTransitions": transitions.record(status, {"status": h, "message": "m"}, f"t{i}"),
        }
    history = status["healthTransitions"]
    assert len(history) == transitions.LIMIT
    assert history[-1] == {"at": "t39", "from": "Degraded", "status": "Healthy", "message": "m"}
    assert all(a["status"] != b["status"] for a, b in zip(history, history[1:], strict=False))


FLEET = [
    facts(app("pay-api-prod-eu", "payments", sync="OutOfSync")),
    facts(app("pay-worker", "payments")),
    facts(
        app(
            "risk-eu",
            "risk",
            health="Degraded",
            status={"health": {"status": "Degraded", "message": "image pull back-off"}},
        )
    ),
]


def names(text: str) -> list[str]:
    flt = fleetfilter.parse(text)
    return [f.name for f in FLEET if flt.matches(f)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["pay-api-prod-eu", "pay-worker", "risk-eu"]),
        ("health:degraded", ["risk-eu"]),
        ("sync:OutOfSync project:payments", ["pay-api-prod-eu"]),
        ("!project:payments", ["risk-eu"]),
        ("! project:payments", ["risk-eu"]),
        ("worker", ["pay-worker"]),
        ("^pay-.*-eu$", ["pay-api-prod-eu"]),
        ("pull", ["risk-eu"]),  # the message counts
        ("name:pay*", ["pay-api-prod-eu", "pay-worker"]),
        ("status:Degraded cluster:prod-eu", ["risk-eu"]),
        ("rev:bbbbbbb", ["pay-api-prod-eu", "pay-worker", "risk-eu"]),
        ("'pay worker'", []),
        ("nosuch:field", []),  # an unknown field is plain text
    ],
)
def test_filter_language(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_bad_input_never_raises() -> None:
    for text in ("[", "(unclosed", "'quote", "!", "health:", ":x"):
        flt = fleetfilter.parse(text)
        [flt.matches(f) for f in FLEET]
    assert "not a regular expression" in fleetfilter.parse("a[").error
    assert fleetfilter.parse("'x").error == "unbalanced quote"
