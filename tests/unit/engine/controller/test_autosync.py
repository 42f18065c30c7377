"""Auto-sync skip rules, in Argo's order and with its messages (argocd-features.md §2.7, §1.5)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.cluster.api import Obj
from console.engine.controller.autosync import (
    REASON_DELETING,
    REASON_DISABLED,
    REASON_IN_PROGRESS,
    REASON_PRUNE_ONLY,
    ResourceView,
    SelfHealBackoff,
    decide,
)

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
SHA1, SHA2 = "1" * 40, "2" * 40
SOURCE = {"repoURL": "file:///fleet.git", "path": "apps/a", "targetRevision": "main"}

DRIFT = ResourceView("", "ConfigMap", "team", "a", "OutOfSync")
SYNCED = ResourceView("", "ConfigMap", "team", "b", "Synced")
EXTRA = ResourceView("", "ConfigMap", "team", "old", "OutOfSync", requires_pruning=True)


def _app(
    automated: Obj | None = None,
    *,
    phase: str | None = None,
    revision: str = SHA1,
    message: str = "",
    finished_ago: float = 1000.0,
    heal_count: int = 0,
    **extra: Any,
) -> Obj:
    app: Obj = {
        "metadata": {"name": "a", **extra.pop("metadata", {})},
        "spec": {
            "source": dict(SOURCE),
            "syncPolicy": {"automated": automated} if automated is not None else {},
        },
        "status": {},
    }
    if phase is not None:
        sync: Obj = {"revision": revision}
        if heal_count:
            sync["autoHealAttemptsCount"] = heal_count
        app["status"]["operationState"] = {
            "operation": {"sync": sync},
            "phase": phase,
            "message": message,
            "startedAt": (NOW - timedelta(seconds=finished_ago + 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finishedAt": (NOW - timedelta(seconds=finished_ago)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "syncResult": {"revision": revision, "source": dict(SOURCE)},
        }
    app.update(extra)
    return app


CASES: list[tuple[str, Obj, dict[str, Any], str, str, str | None]] = [
    # id, app, decide kwargs, action, reason (prefix), condition
    ("no syncPolicy.automated", _app(None), {}, "skip", REASON_DISABLED, None),
    ("automated.enabled false", _app({"enabled": False}), {}, "skip", REASON_DISABLED, None),
    ("operation set", _app({}, operation={"sync": {}}), {}, "skip", REASON_IN_PROGRESS, None),
    ("operationState Running", _app({}, phase="Running"), {}, "skip", REASON_IN_PROGRESS, None),
    (
        "app deleting",
        _app({}, metadata={"deletionTimestamp": "2030-01-01T00:00:00Z"}),
        {},
        "skip",
        REASON_DELETING,
        None,
    ),
    ("Synced", _app({}), {"sync_status": "Synced"}, "skip", "application status is Synced", None),
    ("Unknown", _app({}), {"sync_status": "Unknown"}, "skip", "application status is Unknown", None),
    ("prune-only, prune off", _app({}), {"resources": [SYNCED, EXTRA]}, "skip", REASON_PRUNE_ONLY, None),
    ("prune-only, prune on", _app({"prune": True}), {"resources": [SYNCED, EXTRA]}, "sync", "", None),
    ("never synced", _app({}), {}, "sync", "", None),
    ("new revision", _app({}, phase="Succeeded", revision=SHA1), {}, "sync", "", None),
    (
        "same revision failed",
        _app({}, phase="Failed", revision=SHA2, message="one or more objects failed to apply"),
        {},
        "skip",
        f"failed previous sync attempt to {SHA2} and will not retry for {SHA2}",
        f"Failed last sync attempt to {SHA2}: one or more objects failed to apply",
    ),
    (
        "same revision error",
        _app({}, phase="Error", revision=SHA2, message="ComparisonError: boom"),
        {},
        "skip",
        "failed previous sync attempt",
        f"Failed last sync attempt to {SHA2}: ComparisonError: boom",
    ),
    (
        "same revision succeeded, no selfHeal",
        _app({}, phase="Succeeded", revision=SHA2),
        {},
        "skip",
        f"most recent sync already to {SHA2}",
        None,
    ),
    (
        "other revision, same manifests",
        _app({}, phase="Succeeded", revision=SHA1),
        {"revision_has_changes": lambda: False},
        "skip",
        f"most recent sync already to {SHA2}",
        None,
    ),
    (
        "wipe-out protection",
        _app({"prune": True}),
        {"resources": [EXTRA]},
        "skip",
        f"Skipping sync attempt to {SHA2}: auto-sync will wipe out all resources",
        f"Skipping sync attempt to {SHA2}: auto-sync will wipe out all resources",
    ),
    ("allowEmpty", _app({"prune": True, "allowEmpty": True}), {"resources": [EXTRA]}, "sync", "", None),
]


@pytest.mark.parametrize(
    ("app", "kwargs", "action", "reason", "condition"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_skip_rules(
    app: Obj, kwargs: dict[str, Any], action: str, reason: str, condition: str | None
) -> None:
    args: dict[str, Any] = {
        "sync_status": "OutOfSync",
        "revisions": [SHA2],
        "resources": [DRIFT, SYNCED],
        "now": NOW,
    }
    args.update(kwargs)
    d = decide(app, **args)
    assert d.action == action, d
    assert d.reason.startswith(reason), d.reason
    assert d.condition == condition


def test_auto_operation_fields() -> None:
    app = _app({"prune": True})
    app["spec"]["syncPolicy"]["syncOptions"] = ["CreateNamespace=true"]
    d = decide(app, sync_status="OutOfSync", revisions=[SHA2], resources=[DRIFT], now=NOW)
    assert (d.action, d.prune, d.retry, d.sync_options, d.revisions) == (
        "sync",
        True,
        {"limit": 5},
        ["CreateNamespace=true"],
        [SHA2],
    )
    assert d.resources == [] and not d.self_heal
    app["spec"]["syncPolicy"]["retry"] = {"limit": -1}
    assert decide(app, sync_status="OutOfSync", revisions=[SHA2], resources=[DRIFT], now=NOW).retry == {
        "limit": -1
    }


def test_changed_source_is_not_the_attempted_sync() -> None:
    app = _app({}, phase="Succeeded", revision=SHA2)
    app["spec"]["source"]["path"] = "apps/b"
    assert decide(app, sync_status="OutOfSync", revisions=[SHA2], resources=[DRIFT], now=NOW).action == "sync"


def test_self_heal_selects_only_non_synced_resources_and_counts() -> None:
    app = _app({"selfHeal": True}, phase="Succeeded", revision=SHA2, finished_ago=1000)
    d = decide(app, sync_status="OutOfSync", revisions=[SHA2], resources=[DRIFT, SYNCED, EXTRA], now=NOW)
    assert d.action == "sync" and d.self_heal and d.self_heal_attempts == 1 and d.backoff == 0
    assert d.resources == [
        {"group": "", "kind": "ConfigMap", "namespace": "team", "name": "a"},
        {"group": "", "kind": "ConfigMap", "namespace": "team", "name": "old"},
    ]


@pytest.mark.parametrize(
    ("count", "since", "action", "attempts"),
    [
        (1, 1.0, "skip", 1),  # backoff 2 s, 1 s elapsed
        (1, 2.0, "sync", 2),
        (3, 17.0, "skip", 3),  # 18 s
        (3, 18.0, "sync", 4),
        (6, 299.0, "skip", 6),  # 2*3^5 = 486 capped at 300
        (6, 300.0, "sync", 7),
        (6, 330.0, "sync", 1),  # cooldown elapsed: the count starts over (first heal immediate)
    ],
)
def test_self_heal_backoff_from_finished_at(count: int, since: float, action: str, attempts: int) -> None:
    app = _app({"selfHeal": True}, phase="Succeeded", revision=SHA2, finished_ago=since, heal_count=count)
    d = decide(app, sync_status="OutOfSync", revisions=[SHA2], resources=[DRIFT], now=NOW)
    assert d.action == action, d
    assert d.self_heal_attempts == attempts
    if action == "skip":
        assert d.retry_in == pytest.approx(SelfHealBackoff().delay(count) - since)
        assert d.condition is None


def test_backoff_sequence() -> None:
    b = SelfHealBackoff()
    assert [b.delay(n) for n in range(9)] == [0, 2, 6, 18, 54, 162, 300, 300, 300]
    assert [SelfHealBackoff(1, 2, 5).delay(n) for n in range(6)] == [0, 1, 2, 4, 5, 5]


def test_failed_sync_without_result_counts_as_attempted() -> None:
    app = _app({}, phase="Error", revision=SHA2, message="boom")
    del app["status"]["operationState"]["syncResult"]
    d = decide(copy.deepcopy(app), sync_status="OutOfSync", revisions=[SHA2], resources=[DRIFT], now=NOW)
    assert d.action == "skip" and d.condition == "Failed last sync attempt to : boom"


def test_multi_source_compares_revision_lists() -> None:
    app = _app({}, phase="Succeeded")
    app["spec"] = {"sources": [dict(SOURCE), dict(SOURCE, path="b")], "syncPolicy": {"automated": {}}}
    app["status"]["operationState"]["syncResult"] = {
        "revisions": [SHA1, SHA2],
        "sources": app["spec"]["sources"],
    }
    same = decide(app, sync_status="OutOfSync", revisions=[SHA1, SHA2], resources=[DRIFT], now=NOW)
    assert same.action == "skip" and same.reason == f"most recent sync already to {SHA1}, {SHA2}"
    new = decide(app, sync_status="OutOfSync", revisions=[SHA2, SHA2], resources=[DRIFT], now=NOW)
    assert new.action == "sync" and new.revisions == [SHA2, SHA2]
