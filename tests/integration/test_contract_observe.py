"""Contract suite for what the cluster reports: Events and pod logs, the SAME cases on the sim and
on the real control plane (kube-controller-manager, kube-scheduler and kwok write the real ones).

kwok plays no kubelet: it writes no Pulling/Started events and serves every container's log from
one file (tests/integration/controlplane.py `write_pod_log`), so kubelet events and log content
are covered on the sim only (tests/unit/test_sim_observe.py); the apiserver's part (which
container, tail, error wording) is checked on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.cluster.api import BadRequest, NotFound, Obj
from console.cluster.events import EventRecord, list_events
from tests.integration.contract_env import FM, Backend, real_backend, sim_backend


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realcluster)])
def be(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sim":
        yield from sim_backend(tmp_path)
    else:
        cp = request.getfixturevalue("control_plane")
        ns = request.getfixturevalue("kube_namespace")
        cp.write_pod_log(["first line", "second line", "third line"])
        yield from real_backend(cp, ns)


def deployment(be: Backend, name: str, replicas: int, containers: list[str] | None = None) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": be.ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": c, "image": "registry.invalid/web:1", "ports": [{"containerPort": 8080}]}
                        for c in containers or ["app"]
                    ]
                },
            },
        },
    }


def seen(be: Backend) -> list[EventRecord]:
    return list_events(be.c, be.ns)


def by(events: list[EventRecord], kind: str, reason: str) -> list[tuple[str, str, str, str]]:
    return sorted(
        (e.involved.name, e.type, e.message, e.component)
        for e in events
        if e.involved.kind == kind and e.reason == reason
    )


def running_pods(be: Backend, app: str, n: int) -> list[Obj]:
    def ready() -> list[Obj] | None:
        pods = [
            p
            for p in be.c.list("v1", "Pod", be.ns, label_selector=f"app={app}").items
            if (p.get("status") or {}).get("phase") == "Running"
        ]
        return pods if len(pods) == n else None

    return be.eventually(ready, f"{n} running pods of {app}")


def test_rollout_events_of_deployment_replicaset_and_pods(be: Backend) -> None:
    be.c.apply(deployment(be, "web", 2), field_manager=FM)
    pods = running_pods(be, "web", 2)
    rs = be.c.list("apps/v1", "ReplicaSet", be.ns).items[0]["metadata"]["name"]
    node = pods[0]["spec"]["nodeName"]

    def complete() -> list[EventRecord] | None:
        events = seen(be)
        scheduled = by(events, "Pod", "Scheduled")
        created = by(events, "ReplicaSet", "SuccessfulCreate")
        return events if len(scheduled) == 2 and len(created) == 2 else None

    events = be.eventually(complete, "rollout events")
    assert by(events, "Deployment", "ScalingReplicaSet") == [
        ("web", "Normal", f"Scaled up replica set {rs} from 0 to 2", "deployment-controller")
    ]
    names = sorted(p["metadata"]["name"] for p in pods)
    assert by(events, "ReplicaSet", "SuccessfulCreate") == [
        (rs, "Normal", f"Created pod: {n}", "replicaset-controller") for n in names
    ]
    assert by(events, "Pod", "Scheduled") == [
        (n, "Normal", f"Successfully assigned {be.ns}/{n} to {node}", "default-scheduler") for n in names
    ]
    for e in events:
        assert e.count >= 1 and e.last is not None and e.first is not None and e.first <= e.last
        assert e.involved.uid and e.namespace == be.ns


def test_scale_down_events(be: Backend) -> None:
    be.c.apply(deployment(be, "api", 2), field_manager=FM)
    running_pods(be, "api", 2)
    rs = be.c.list("apps/v1", "ReplicaSet", be.ns).items[0]["metadata"]["name"]
    be.c.apply(deployment(be, "api", 1), field_manager=FM)

    def scaled() -> list[EventRecord] | None:
        events = seen(be)
        return events if by(events, "ReplicaSet", "SuccessfulDelete") else None

    events = be.eventually(scaled, "scale-down events")
    assert ("api", "Normal", f"Scaled down replica set {rs} from 2 to 1", "deployment-controller") in by(
        events, "Deployment", "ScalingReplicaSet"
    )
    [(_rs, etype, message, component)] = by(events, "ReplicaSet", "SuccessfulDelete")
    assert (_rs, etype, component) == (rs, "Normal", "replicaset-controller")
    assert message.startswith(f"Deleted pod: {rs}-")


def test_job_events(be: Backend) -> None:
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": be.ns},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "registry.invalid/m:1"}],
                }
            }
        },
    }
    be.c.apply(job, field_manager=FM)

    def done() -> list[EventRecord] | None:
        events = seen(be)
        return events if by(events, "Job", "Completed") else None

    events = be.eventually(done, "job completed", timeout=60)
    assert by(events, "Job", "Completed") == [("migrate", "Normal", "Job completed", "job-controller")]
    [(_, etype, message, component)] = by(events, "Job", "SuccessfulCreate")
    assert (etype, component) == ("Normal", "job-controller") and message.startswith("Created pod: migrate-")


def test_logs_select_the_container_as_the_apiserver_does(be: Backend) -> None:
    be.c.apply(deployment(be, "two", 1, ["main", "sidecar"]), field_manager=FM)
    [pod] = running_pods(be, "two", 1)
    name = pod["metadata"]["name"]
    with pytest.raises(BadRequest) as err:
        be.c.logs(be.ns, name)
    assert (
        err.value.message
        == f"a container name must be specified for pod {name}, choose one of: [main sidecar]"
    )
    with pytest.raises(BadRequest) as err:
        be.c.logs(be.ns, name, "nope")
    assert err.value.message == f"container nope is not valid for pod {name}"
    with pytest.raises(NotFound) as missing:
        be.c.logs(be.ns, "no-such-pod")
    assert missing.value.message == 'pods "no-such-pod" not found'
    lines = list(be.c.logs(be.ns, name, "sidecar"))
    assert lines, "a running container has a log"
    assert list(be.c.logs(be.ns, name, "sidecar", tail=1)) == lines[-1:]
    assert list(be.c.logs(be.ns, name, "sidecar", tail=0)) == []
    if be.name == "real":
        assert lines == ["first line", "second line", "third line"]
    else:
        assert lines[0].endswith("INFO starting sidecar (image registry.invalid/web:1)")
