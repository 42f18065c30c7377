"""Contract: `events.k8s.io/v1` Event and identity reviews, the same cases on the sim and on a real
control plane. One Event resource, two API groups, one storage: written through either group, read
through both; the v1 API's strict validation; RBAC per group; SelfSubjectReview/AccessReview."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.cluster.api import Forbidden, Invalid, NotFound, Obj
from tests.integration.contract_env import FM, Backend, real_backend, sim_backend
from tests.integration.controlplane import ENGINE_GROUP, ENGINE_USER

EVENTS = "events.k8s.io/v1"


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realcluster)])
def be(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sim":
        yield from sim_backend(tmp_path)
    else:
        cp = request.getfixturevalue("control_plane")
        ns = request.getfixturevalue("kube_namespace")
        yield from real_backend(cp, ns)


def v1_event(be: Backend, name: str, **extra: Any) -> Obj:
    out: Obj = {
        "apiVersion": EVENTS,
        "kind": "Event",
        "metadata": {"name": name, "namespace": be.ns},
        "eventTime": "2026-03-01T12:00:00.000000Z",
        "reportingController": "trueup.dev/trueup",
        "reportingInstance": "host-1",
        "action": "Sync",
        "reason": "ActionRequested",
        "regarding": {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "namespace": be.ns},
        "note": "alice sync intent: pending (audit record 7)",
        "type": "Normal",
    }
    out.update(extra)
    return out


def test_events_v1_is_served_and_discovered(be: Backend) -> None:
    res = be.c.resource_for(EVENTS, "Event")
    assert (res.group, res.version, res.plural, res.namespaced) == ("events.k8s.io", "v1", "events", True)
    assert any(r.group == "events.k8s.io" and r.kind == "Event" for r in be.c.discovery())


def test_one_storage_two_groups(be: Backend) -> None:
    created = be.c.create(v1_event(be, "cfg.1"), field_manager=FM)
    assert created["apiVersion"] == EVENTS and created["note"].startswith("alice sync")
    core = be.c.get("v1", "Event", be.ns, "cfg.1")
    assert core["message"] == created["note"]
    assert core["involvedObject"]["name"] == "cfg" and core["involvedObject"]["kind"] == "ConfigMap"
    assert core["reportingComponent"] == "trueup.dev/trueup" and core["reportingInstance"] == "host-1"
    assert core["reason"] == "ActionRequested" and core["type"] == "Normal" and core["action"] == "Sync"
    assert core["metadata"]["uid"] == created["metadata"]["uid"]
    assert core["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    # written through core/v1, read through events.k8s.io/v1
    be.c.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "cfg.2", "namespace": be.ns},
            "involvedObject": {"kind": "ConfigMap", "name": "cfg", "namespace": be.ns},
            "reason": "Legacy",
            "message": "written through core",
            "type": "Warning",
            "source": {"component": "kubelet"},
            "count": 3,
        },
        field_manager=FM,
    )
    ev = be.c.get(EVENTS, "Event", be.ns, "cfg.2")
    assert ev["note"] == "written through core" and ev["regarding"]["name"] == "cfg"
    assert ev["deprecatedSource"] == {"component": "kubelet"} and ev["deprecatedCount"] == 3
    assert "message" not in ev and "involvedObject" not in ev
    names = sorted(o["metadata"]["name"] for o in be.c.list(EVENTS, "Event", be.ns).items)
    assert names == ["cfg.1", "cfg.2"]
    assert all(o["apiVersion"] == EVENTS for o in be.c.list(EVENTS, "Event", be.ns).items)


def test_v1_strict_validation(be: Backend) -> None:
    with pytest.raises(Invalid) as err:
        be.c.create(
            {"apiVersion": EVENTS, "kind": "Event", "metadata": {"name": "bad", "namespace": be.ns}},
            field_manager=FM,
        )
    assert err.value.message == (
        'Event "bad" is invalid: [involvedObject.namespace: Invalid value: "": does not match '
        'event.namespace, eventTime: Required value, type: Invalid value: "": has invalid value: ]'
    )
    with pytest.raises(Invalid) as err:
        be.c.create(v1_event(be, "bad2", reportingController="", action="", type="Info"), field_manager=FM)
    msg = err.value.message
    assert msg.startswith('Event "bad2" is invalid: [')
    for part in (
        "reportingController: Required value",
        "action: Required value",
        'type: Invalid value: "": has invalid value: Info',
    ):
        assert part in msg
    with pytest.raises(Invalid) as err:
        be.c.create(v1_event(be, "bad3", note="x" * 1025), field_manager=FM)
    assert 'message: Invalid value: "": can have at most 1024 characters' in err.value.message


def test_v1_not_found_names_the_group(be: Backend) -> None:
    with pytest.raises(NotFound) as err:
        be.c.get(EVENTS, "Event", be.ns, "nope")
    assert err.value.message == 'events.events.k8s.io "nope" not found'


def test_v1_update_immutable_note_and_delete(be: Backend) -> None:
    created = be.c.create(v1_event(be, "cfg.3"), field_manager=FM)
    changed = dict(created, note="rewritten")
    with pytest.raises(Invalid) as err:
        be.c.update(changed, field_manager=FM)
    assert 'message: Invalid value: "rewritten": field is immutable' in err.value.message
    assert be.c.delete(EVENTS, "Event", be.ns, "cfg.3") is None
    assert be.gone("v1", "Event", "cfg.3")


def test_watch_through_events_v1(be: Backend) -> None:
    rv = be.c.list(EVENTS, "Event", be.ns).resource_version
    be.c.create(v1_event(be, "cfg.4"), field_manager=FM)
    deadline = time.monotonic() + 30
    for ev in be.c.watch(EVENTS, "Event", be.ns, resource_version=rv, timeout_seconds=10):
        if ev.object.get("metadata", {}).get("name") == "cfg.4":
            assert ev.type == "ADDED" and ev.object["apiVersion"] == EVENTS and ev.object["note"]
            break
        assert time.monotonic() < deadline
    else:
        pytest.fail("no ADDED event for cfg.4")


def test_engine_writes_events_through_both_groups(be: Backend) -> None:
    """Both groups were served when the harness bound the engine, so it may write through both."""
    be.engine.create(v1_event(be, "cfg.5"), field_manager=FM)
    assert be.engine.get("v1", "Event", be.ns, "cfg.5")["message"].startswith("alice")


def test_self_subject_review(be: Backend) -> None:
    admin = be.c.self_subject_review()
    assert admin["username"] == "admin"
    assert "system:masters" in admin["groups"] and "system:authenticated" in admin["groups"]
    engine = be.engine.self_subject_review()
    assert engine["username"] == ENGINE_USER
    assert ENGINE_GROUP in engine["groups"] and "system:authenticated" in engine["groups"]


def test_access_review(be: Backend) -> None:
    assert be.c.access_review("impersonate", "users", name="bob")
    assert be.engine.access_review("get", "pods", namespace=be.ns)
    assert be.engine.access_review("create", "configmaps", namespace=be.ns)
    assert not be.engine.access_review("impersonate", "users", name="bob")
    assert not be.engine.access_review("create", "clusterroles", group="rbac.authorization.k8s.io")


def test_forbidden_events_write_for_a_reader(be: Backend) -> None:
    """The viewer identity (read access only outside `trueup`) cannot create Events in the test
    namespace, through either group; the message names the group it asked."""
    with pytest.raises(Forbidden) as err:
        be.viewer.create(v1_event(be, "cfg.6"), field_manager=FM)
    assert err.value.message == (
        f'events.events.k8s.io is forbidden: User "trueup-viewer" cannot create resource "events" in API group '
        f'"events.k8s.io" in the namespace "{be.ns}"'
    )
    review = be.viewer.self_subject_review()
    assert review["username"] == "trueup-viewer" and "trueup-viewers" in review["groups"]
    assert not be.viewer.access_review("create", "events", group="events.k8s.io", namespace=be.ns)
    assert be.viewer.access_review("list", "events", group="events.k8s.io", namespace=be.ns)
