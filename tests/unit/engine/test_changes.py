"""The change timeline and the per-app observation reads, on the demo fleet (real Git, sim clusters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.demo.bootstrap import init_demo
from console.engine import changes, observe
from console.engine.appstore import AppStore
from console.engine.refresh import refresh
from console.engine.workspace import Workspace, load

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = init_demo(tmp_path_factory.mktemp("changes") / "demo", frozen_at=AT)
    refresh(ws)
    return load(ws.root)


def apps(ws: Workspace, *names: str) -> list[dict[str, object]]:
    store = AppStore(ws.control())
    return [store.get_app(n) for n in names] if names else store.list_apps()


def test_the_fleet_timeline_answers_what_changed_and_who(demo: Workspace) -> None:
    result = changes.timeline(demo, apps(demo))
    assert result.errors == []
    got = result.changes
    assert [c.at for c in got] == sorted((c.at for c in got), reverse=True)
    edit = [c for c in got if c.kind == "live-edit"]
    assert [(c.app, c.actor) for c in edit] == [("identity-api-prod-us", "kubectl-edit")]
    assert edit[0].detail["fields"] == ["spec.template.spec.containers[api].env[LOG_LEVEL].value"]
    ahead = [c for c in got if c.kind == "commit" and not c.detail["deployed"]]
    assert {c.app for c in ahead} == {
        "payments-api-prod-us",
        "payments-api-prod-eu",
    }  # only apps whose path it touched
    assert all(
        c.summary.endswith("(not synced yet)") and c.actor == "Platform Team <platform@acme.example>"
        for c in ahead
    )
    syncs = [c for c in got if c.kind == "sync" and c.app == "payments-api-prod-us"]
    assert [(c.actor, c.detail["phase"]) for c in syncs] == [("demo-bootstrap", "Succeeded")]
    [health] = [c for c in got if c.kind == "health"]  # first sightings of Healthy apps are not changes
    assert (health.app, health.detail["status"]) == ("risk-engine-prod-eu", "Degraded")
    warnings = [c for c in got if c.kind == "event"]
    assert warnings and {c.app for c in warnings} == {"risk-engine-prod-eu"}
    assert any("Error: ImagePullBackOff" in c.summary and "3 Pods in risk" in c.summary for c in warnings)
    assert not any(c.kind == "live-edit" and c.actor in ("kube-controller-manager", "trueup") for c in got)


def test_since_and_one_app(demo: Workspace) -> None:
    recent = changes.timeline(demo, apps(demo, "identity-api-prod-us"), since=AT - timedelta(minutes=6))
    assert {c.kind for c in recent.changes} == {"live-edit"}
    assert all(c.at >= AT - timedelta(minutes=6) for c in recent.changes)
    payload = recent.changes[0].to_json()
    assert (
        payload["time"].endswith("Z")
        and payload["kind"] == "live-edit"
        and payload["resource"].endswith("/identity-api")
    )


def test_manifest_generate_paths_widen_the_commits_that_count(demo: Workspace) -> None:
    app = apps(demo, "risk-engine-prod-eu")[0]
    assert not [c for c in changes.commits(changes.Context(demo, None), app) if "payments-api" in c.summary]
    app["metadata"]["annotations"] = {changes.MANIFEST_GENERATE_PATHS: "/payments/api;."}
    found = list(changes.commits(changes.Context(demo, None), app))
    assert any(c.summary.startswith("payments-api: roll out") for c in found)


def test_resource_tree_events_and_pods_of_one_app(demo: Workspace) -> None:
    app = apps(demo, "risk-engine-prod-eu")[0]
    tree = observe.resource_tree(app, observe.load_live(demo, app), observe.health_checker(demo))
    by_kind = {n.kind: n for n in observe.walk(tree)}
    dep = by_kind["Deployment"]
    assert dep.managed and dep.sync == "Synced" and dep.health == "Degraded" and dep.info == "0/3 ready"
    [rs] = dep.children
    assert not rs.managed and len(rs.children) == 3
    assert all(p.info.startswith("ImagePullBackOff") and p.health == "Degraded" for p in rs.children)
    assert dep.id == "apps/Deployment/risk/risk-engine"
    assert observe.pods_of(tree, "Deployment", "risk-engine") == rs.children
    assert observe.pods_of(tree, "Service", "risk-engine") == []
    events = observe.app_events(demo, app, tree)
    assert {e.involved.kind for e in events} == {"Deployment", "ReplicaSet", "Pod"}
    assert dep.to_json()["children"][0]["kind"] == "ReplicaSet"
    other = apps(demo, "identity-api-prod-us")[0]
    other_tree = observe.resource_tree(other, observe.load_live(demo, other), observe.health_checker(demo))
    assert not set(e.involved.uid for e in events) & {n.uid for n in observe.walk(other_tree)}


def test_an_unknown_destination_is_one_sentence(demo: Workspace, tmp_path: Path) -> None:
    app = {"metadata": {"name": "lost"}, "spec": {"destination": {"name": "nowhere"}}}
    with pytest.raises(
        observe.ObserveError, match="application lost: destination cluster nowhere is not configured"
    ):
        observe.load_live(demo, app)
