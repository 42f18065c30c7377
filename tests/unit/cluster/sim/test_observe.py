"""The sim's Events and pod logs: what the kubelet and controllers would have written, aggregated,
expiring; logs consistent with container state, errors worded as the apiserver's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.cluster.api import BadRequest
from console.cluster.events import EventRecord, list_events
from console.cluster.sim import SimCluster

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FM = "test"


@pytest.fixture
def sim(tmp_path: Path) -> SimCluster:
    c = SimCluster.create_db(tmp_path / "c.db", "t", "https://t.invalid", frozen_at=T0)
    c.set_meta("unpullable_images", ["bad/*"])
    c.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}, field_manager=FM)
    return c


def deploy(sim: SimCluster, name: str, image: str, *, replicas: int = 1, **container: Any) -> None:
    sim.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "a"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": image, **container}]},
                },
            },
        },
        field_manager=FM,
    )


def pods(sim: SimCluster, app: str) -> list[str]:
    return sorted(
        p["metadata"]["name"] for p in sim.list("v1", "Pod", "a", label_selector=f"app={app}").items
    )


def reasons(events: list[EventRecord], obj: str) -> dict[str, EventRecord]:
    return {f"{e.reason}:{e.message}": e for e in events if e.involved.name == obj}


def test_kubelet_events_of_a_running_pod(sim: SimCluster) -> None:
    deploy(sim, "web", "nginx:1.27")
    sim.clock.advance(30)
    [pod] = pods(sim, "web")
    ev = reasons(list_events(sim, "a"), pod)
    assert {k.split(":")[0] for k in ev} == {"Scheduled", "Pulled", "Created", "Started"}
    assert ev["Created:Created container: c"].component == "kubelet"
    assert ev["Created:Created container: c"].host == "sim-node-1"
    scheduled = next(e for e in ev.values() if e.reason == "Scheduled")
    assert scheduled.message == f"Successfully assigned a/{pod} to sim-node-1"
    assert (
        scheduled.action == "Binding" and scheduled.component == "default-scheduler"
    )  # new events API shape
    raw = next(o for o in sim.list("v1", "Event", "a").items if o["reason"] == "Scheduled")
    assert raw["source"] == {} and raw["eventTime"].endswith("Z") and "count" not in raw


def test_image_pull_retries_aggregate_with_counts(sim: SimCluster) -> None:
    deploy(sim, "bad", "bad/img:1")
    sim.clock.advance(2)
    [pod] = pods(sim, "bad")
    sim.clock.advance(75)  # attempts at 0, 10, 30, 70 s after the container should have started
    sim.tick()
    ev = reasons(list_events(sim, "a"), pod)
    pulling = ev['Pulling:Pulling image "bad/img:1"']
    assert pulling.count == 4 and pulling.type == "Normal"
    assert ev["Failed:Error: ErrImagePull"].count == 4 and ev["Failed:Error: ErrImagePull"].warning
    assert ev["Failed:Error: ImagePullBackOff"].warning
    failed = next(
        e for k, e in ev.items() if k.startswith('Failed:Failed to pull image "bad/img:1": rpc error')
    )
    assert "docker.io/bad/img:1: not found" in failed.message
    assert pulling.first is not None and pulling.last is not None and pulling.last > pulling.first
    sim.clock.advance(80)  # the next retry is 150 s in
    sim.tick()
    assert reasons(list_events(sim, "a"), pod)['Pulling:Pulling image "bad/img:1"'].count == 5
    names = [
        o["metadata"]["name"]
        for o in sim.list("v1", "Event", "a").items
        if o["involvedObject"]["name"] == pod
    ]
    assert len(names) == len(set(names)) == len(ev)  # one object per distinct event, updated in place


def test_controller_events_and_their_expiry(sim: SimCluster) -> None:
    deploy(sim, "web", "nginx:1.27", replicas=2)
    sim.clock.advance(10)
    events = list_events(sim, "a")
    [rs] = [o["metadata"]["name"] for o in sim.list("apps/v1", "ReplicaSet", "a").items]
    assert any(
        e.reason == "ScalingReplicaSet" and e.message == f"Scaled up replica set {rs} from 0 to 2"
        for e in events
    )
    assert (
        sum(1 for e in events if e.reason == "SuccessfulCreate" and e.component == "replicaset-controller")
        == 2
    )
    sim.clock.advance(3601)  # the apiserver's default --event-ttl is one hour
    sim.tick()
    assert list_events(sim, "a") == []


def test_logs_follow_the_container_state(sim: SimCluster) -> None:
    deploy(
        sim,
        "web",
        "nginx:1.27",
        ports=[{"containerPort": 8080, "name": "http"}],
        env=[{"name": "LOG_LEVEL", "value": "debug"}],
    )
    deploy(sim, "bad", "bad/img:1")
    deploy(sim, "crash", "busybox:1", command=["sh", "-c", "exit 1"])
    sim.clock.advance(1)
    [waiting] = pods(sim, "web")
    with pytest.raises(BadRequest) as err:
        sim.logs("a", waiting)
    assert err.value.message == f'container "c" in pod "{waiting}" is waiting to start: ContainerCreating'
    sim.clock.advance(60)
    [web] = pods(sim, "web")
    lines = list(sim.logs("a", web))
    assert lines[0].endswith("INFO starting c (image nginx:1.27)")
    assert "log level set to debug from LOG_LEVEL" in lines[1]
    assert any("listening on :8080 (http)" in ln for ln in lines)
    assert any(" DEBUG GET /ready 200 " in ln for ln in lines)
    assert list(sim.logs("a", web, tail=2)) == lines[-2:]
    [bad] = pods(sim, "bad")
    with pytest.raises(BadRequest) as err:
        sim.logs("a", bad)
    assert (
        err.value.message
        == f'container "c" in pod "{bad}" is waiting to start: trying and failing to pull image'
    )
    [crash] = pods(sim, "crash")
    crashed = list(sim.logs("a", crash))  # the last terminated instance, as the kubelet serves it
    assert crashed[-1].endswith("ERROR exiting with status 1")
    with pytest.raises(BadRequest) as err:
        sim.logs("a", web, previous=True)
    assert err.value.message == f'previous terminated container "c" in pod "{web}" not found'


def test_a_followed_log_grows_with_the_clock_and_closes(sim: SimCluster) -> None:
    deploy(sim, "web", "nginx:1.27")
    sim.clock.advance(40)
    [web] = pods(sim, "web")
    stream = sim.logs("a", web, follow=True)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
    reader.start()
    import time

    for _ in range(100):
        if got:
            break
        time.sleep(0.02)
    before = len(got)
    sim.clock.advance(90)  # three more heartbeats
    for _ in range(100):
        if len(got) >= before + 3:
            break
        time.sleep(0.05)
    assert len(got) >= before + 3 and "healthy: served" in got[-1]
    stream.close()
    reader.join(5)
    assert not reader.is_alive()


def test_events_k8s_io_objects_read_like_core_ones() -> None:
    new = EventRecord.of(
        {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "a"},
            "regarding": {"kind": "Pod", "name": "web", "namespace": "a", "uid": "u1"},
            "reason": "Scheduled",
            "note": "Successfully assigned a/web to n1",
            "type": "Normal",
            "reportingController": "default-scheduler",
            "reportingInstance": "default-scheduler-host",
            "action": "Binding",
            "eventTime": "2026-03-01T12:00:00.123456Z",
            "series": {"count": 3, "lastObservedTime": "2026-03-01T12:05:00.000000Z"},
        }
    )
    assert (new.message, new.component, new.count, new.involved.uid) == (
        "Successfully assigned a/web to n1",
        "default-scheduler",
        3,
        "u1",
    )
    assert new.first == datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert new.last == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    old = EventRecord.of(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "x", "namespace": "a", "creationTimestamp": "2026-03-01T11:00:00Z"},
            "involvedObject": {"kind": "Pod", "name": "web"},
            "reason": "BackOff",
            "message": "Back-off",
            "source": {"component": "kubelet", "host": "n1"},
            "count": "not-a-number",
        }
    )
    assert (old.component, old.host, old.count, old.involved.namespace) == ("kubelet", "n1", 1, "a")
    assert old.first == old.last == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
