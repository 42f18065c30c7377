"""Simulated controllers on a frozen sim clock: Deployment rollouts, image pull failures and the
progress deadline, Jobs, StatefulSets, DaemonSets, LoadBalancers, Ingress, PVC binding, HPA, GC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cluster.api import NotFound
from console.cluster.sim import SimCluster

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def sim(tmp_path: Path) -> SimCluster:
    c = SimCluster(tmp_path / "c.db", "sim", "https://127.0.0.1:6443")
    c.clock.freeze(T0)
    yield c
    assert c.controller_errors() == []


def deployment(name: str = "web", image: str = "nginx:1.25", replicas: int = 3) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def conds(obj: dict) -> dict[str, dict]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def pods(sim: SimCluster, selector: str) -> list[dict]:
    return sim.list("v1", "Pod", "default", label_selector=selector).items


def test_deployment_rolls_out_to_available(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="kubectl")
    rs_list = sim.list("apps/v1", "ReplicaSet", "default").items
    assert len(rs_list) == 1
    rs = rs_list[0]
    h = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{h}"
    ref = rs["metadata"]["ownerReferences"][0]
    assert ref["kind"] == "Deployment" and ref["controller"] and ref["blockOwnerDeletion"]
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
    ps = pods(sim, "app=web")
    assert len(ps) == 3 and all(p["metadata"]["name"].startswith(f"web-{h}-") for p in ps)
    assert all(len(p["metadata"]["name"]) == len(f"web-{h}-") + 5 for p in ps)
    assert {p["status"]["phase"] for p in ps} == {"Pending"}
    d = sim.get("apps/v1", "Deployment", "default", "web")
    assert conds(d)["Available"]["status"] == "False"
    assert conds(d)["Available"]["reason"] == "MinimumReplicasUnavailable"
    assert conds(d)["Progressing"]["reason"] == "ReplicaSetUpdated"
    sim.clock.advance(2)
    d = sim.get("apps/v1", "Deployment", "default", "web")
    st = d["status"]
    assert (
        st["observedGeneration"],
        st["replicas"],
        st["updatedReplicas"],
        st["readyReplicas"],
        st["availableReplicas"],
    ) == (1, 3, 3, 3, 3)
    assert "unavailableReplicas" not in st
    assert conds(d)["Available"] | {} == conds(d)["Available"]
    assert (conds(d)["Available"]["status"], conds(d)["Available"]["reason"]) == (
        "True",
        "MinimumReplicasAvailable",
    )
    prog = conds(d)["Progressing"]
    assert (prog["status"], prog["reason"]) == ("True", "NewReplicaSetAvailable")
    assert prog["message"] == f'ReplicaSet "web-{h}" has successfully progressed.'
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    pod = pods(sim, "app=web")[0]
    assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"] == "sim-node-1"
    assert pod["status"]["podIP"].startswith("10.244.")
    cs = pod["status"]["containerStatuses"][0]
    assert cs["ready"] and cs["state"]["running"]["startedAt"] == "2026-03-01T12:00:02Z"
    rs = sim.get("apps/v1", "ReplicaSet", "default", f"web-{h}")
    assert rs["status"] == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }


def test_rolling_update_creates_new_replicaset_and_scales_old_down(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="kubectl")
    sim.clock.advance(2)
    sim.patch(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.26"}]}}}},
        patch_type="strategic",
        field_manager="kubectl",
    )
    for _ in range(6):
        sim.clock.advance(2)
    rss = {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
        for rs in sim.list("apps/v1", "ReplicaSet", "default").items
    }
    assert set(rss) == {"1", "2"}
    assert rss["1"]["spec"]["replicas"] == 0 and rss["2"]["spec"]["replicas"] == 3
    d = sim.get("apps/v1", "Deployment", "default", "web")
    assert d["metadata"]["generation"] == 2 and d["status"]["observedGeneration"] == 2
    assert d["status"]["updatedReplicas"] == 3 and d["status"]["availableReplicas"] == 3
    assert conds(d)["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert {p["spec"]["containers"][0]["image"] for p in pods(sim, "app=web")} == {"nginx:1.26"}


def test_paused_deployment_does_not_roll_out(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="kubectl")
    sim.clock.advance(2)
    sim.patch("apps/v1", "Deployment", "default", "web", {"spec": {"paused": True}}, field_manager="kubectl")
    sim.patch(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        {"spec": {"template": {"metadata": {"labels": {"app": "web", "v": "2"}}}}},
        field_manager="kubectl",
    )
    sim.clock.advance(10)
    assert len(sim.list("apps/v1", "ReplicaSet", "default").items) == 1
    prog = conds(sim.get("apps/v1", "Deployment", "default", "web"))["Progressing"]
    assert (prog["status"], prog["reason"], prog["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    sim.patch("apps/v1", "Deployment", "default", "web", {"spec": {"paused": False}}, field_manager="kubectl")
    sim.clock.advance(10)
    assert len(sim.list("apps/v1", "ReplicaSet", "default").items) == 2
    assert (
        conds(sim.get("apps/v1", "Deployment", "default", "web"))["Progressing"]["reason"]
        == "NewReplicaSetAvailable"
    )


def test_unpullable_image_backs_off_and_exceeds_the_progress_deadline(sim: SimCluster) -> None:
    sim.set_meta("unpullable_images", ["registry.invalid/*"])
    sim.create(deployment(image="registry.invalid/app:1.0", replicas=1), field_manager="kubectl")
    sim.clock.advance(3)
    pod = pods(sim, "app=web")[0]
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert pod["status"]["phase"] == "Pending" and waiting["reason"] == "ErrImagePull"
    sim.clock.advance(15)
    waiting = pods(sim, "app=web")[0]["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff"
    assert waiting["message"].startswith('Back-off pulling image "registry.invalid/app:1.0"')
    d = sim.get("apps/v1", "Deployment", "default", "web")
    assert conds(d)["Progressing"]["status"] == "True"
    sim.clock.advance(600)
    d = sim.get("apps/v1", "Deployment", "default", "web")
    prog = conds(d)["Progressing"]
    rs = sim.list("apps/v1", "ReplicaSet", "default").items[0]["metadata"]["name"]
    assert (prog["status"], prog["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert prog["message"] == f'ReplicaSet "{rs}" has timed out progressing.'
    assert d["status"]["unavailableReplicas"] == 1


def test_crashing_container_is_in_crash_loop_back_off(sim: SimCluster) -> None:
    d = deployment(replicas=1)
    d["spec"]["template"]["spec"]["containers"][0]["command"] = ["sh", "-c", "exit 1"]
    sim.create(d, field_manager="kubectl")
    sim.clock.advance(45)
    cs = pods(sim, "app=web")[0]["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff" and cs["restartCount"] >= 2
    assert cs["lastState"]["terminated"]["exitCode"] == 1


def job(name: str, command: list[str], backoff: int = 0) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "backoffLimit": backoff,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox:1.36", "command": command}],
                }
            },
        },
    }


def test_job_completes(sim: SimCluster) -> None:
    out = sim.create(job("ok", ["sh", "-c", "echo hi"]), field_manager="kubectl")
    uid = out["metadata"]["uid"]
    assert out["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert out["spec"]["template"]["metadata"]["labels"]["job-name"] == "ok"
    assert sim.get("batch/v1", "Job", "default", "ok")["status"]["active"] == 1
    sim.clock.advance(4)
    j = sim.get("batch/v1", "Job", "default", "ok")
    c = conds(j)
    assert c["Complete"]["status"] == "True" and c["SuccessCriteriaMet"]["reason"] == "CompletionsReached"
    assert j["status"]["succeeded"] == 1 and "active" not in j["status"]
    assert j["status"]["completionTime"] == "2026-03-01T12:00:03Z"
    (pod,) = pods(sim, "job-name=ok")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


def test_job_fails_with_backoff_limit_exceeded(sim: SimCluster) -> None:
    sim.create(job("bad", ["sh", "-c", "exit 1"], backoff=1), field_manager="kubectl")
    sim.clock.advance(4)
    j = sim.get("batch/v1", "Job", "default", "bad")
    assert j["status"]["failed"] == 1 and "Failed" not in conds(j)
    sim.clock.advance(12)  # retry after the 10 s backoff
    sim.clock.advance(4)
    j = sim.get("batch/v1", "Job", "default", "bad")
    c = conds(j)["Failed"]
    assert (c["status"], c["reason"], c["message"]) == (
        "True",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert j["status"]["failed"] == 2 and len(pods(sim, "job-name=bad")) == 2


def test_job_ttl_after_finished_deletes_it(sim: SimCluster) -> None:
    body = job("ttl", ["true"])
    body["spec"]["ttlSecondsAfterFinished"] = 30
    sim.create(body, field_manager="kubectl")
    sim.clock.advance(4)
    assert sim.get("batch/v1", "Job", "default", "ttl")
    sim.clock.advance(31)
    with pytest.raises(NotFound):
        sim.get("batch/v1", "Job", "default", "ttl")
    assert pods(sim, "job-name=ttl") == []


def test_loadbalancer_service_and_ingress_get_loopback_addresses(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "lb", "namespace": "default"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
        field_manager="kubectl",
    )
    svc = sim.get("v1", "Service", "default", "lb")
    assert svc["status"] == {"loadBalancer": {}} and 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    sim.create(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "ing", "namespace": "default"},
            "spec": {
                "rules": [
                    {
                        "host": "web.example.test",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "lb", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
        field_manager="kubectl",
    )
    sim.clock.advance(1.5)
    ingress = sim.get("v1", "Service", "default", "lb")["status"]["loadBalancer"]["ingress"]
    assert ingress[0]["ip"].startswith("127.0.0.") and ingress[0]["ipMode"] == "VIP"
    ing = sim.get("networking.k8s.io/v1", "Ingress", "default", "ing")
    assert ing["status"]["loadBalancer"]["ingress"][0]["ip"].startswith("127.0.0.")
    assert ing["metadata"]["generation"] == 1
    sim.set_meta("lb_hostnames", True)
    sim.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "lb2", "namespace": "default"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]},
        },
        field_manager="kubectl",
    )
    sim.clock.advance(1.5)
    host = sim.get("v1", "Service", "default", "lb2")["status"]["loadBalancer"]["ingress"][0]["hostname"]
    assert host.endswith(".sim.sim.invalid")


def test_pvc_binds_to_a_provisioned_volume(sim: SimCluster) -> None:
    pvc = sim.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
        },
        field_manager="kubectl",
    )
    assert pvc["status"]["phase"] == "Pending" and pvc["spec"]["storageClassName"] == "standard"
    assert pvc["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    sim.clock.advance(1.5)
    pvc = sim.get("v1", "PersistentVolumeClaim", "default", "data")
    assert pvc["status"]["phase"] == "Bound" and pvc["status"]["capacity"] == {"storage": "5Gi"}
    assert pvc["spec"]["volumeName"] == f"pvc-{pvc['metadata']['uid']}"
    pv = sim.get("v1", "PersistentVolume", "", pvc["spec"]["volumeName"])
    assert pv["status"]["phase"] == "Bound" and pv["spec"]["claimRef"]["name"] == "data"
    sim.delete("v1", "PersistentVolumeClaim", "default", "data")
    with pytest.raises(NotFound):
        sim.get("v1", "PersistentVolumeClaim", "default", "data")
    with pytest.raises(NotFound):
        sim.get("v1", "PersistentVolume", "", pvc["spec"]["volumeName"])


def test_hpa_sets_target_replicas_through_the_scale_subresource(sim: SimCluster) -> None:
    sim.apply(deployment(replicas=2), field_manager="argocd-controller")
    sim.create(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "annotations": {"sim.trueup.dev/desired-replicas": "4"},
            },
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 5,
            },
        },
        field_manager="kubectl",
    )
    d = sim.get("apps/v1", "Deployment", "default", "web")
    assert d["spec"]["replicas"] == 4
    scale = [m for m in d["metadata"]["managedFields"] if m.get("subresource") == "scale"]
    assert [(m["manager"], m["operation"], m["fieldsV1"]) for m in scale] == [
        ("kube-controller-manager", "Update", {"f:spec": {"f:replicas": {}}})
    ]
    applied = next(m for m in d["metadata"]["managedFields"] if m["operation"] == "Apply")
    assert "f:replicas" not in applied["fieldsV1"]["f:spec"]
    hpa = sim.get("autoscaling/v2", "HorizontalPodAutoscaler", "default", "web")
    c = conds(hpa)
    assert c["AbleToScale"]["status"] == "True" and c["ScalingActive"]["status"] == "True"
    assert c["AbleToScale"]["message"] == "the HPA controller was able to update the target scale to 4"
    assert (hpa["status"]["currentReplicas"], hpa["status"]["desiredReplicas"]) == (2, 4)
    # Someone else resets replicas: the HPA puts them back (the classic GitOps vs HPA fight).
    sim.patch(
        "apps/v1", "Deployment", "default", "web", {"spec": {"replicas": 2}}, field_manager="kubectl-edit"
    )
    assert sim.get("apps/v1", "Deployment", "default", "web")["spec"]["replicas"] == 2
    sim.clock.advance(15)  # the HPA's resync period
    assert sim.get("apps/v1", "Deployment", "default", "web")["spec"]["replicas"] == 4
    hpa = sim.get("autoscaling/v2", "HorizontalPodAutoscaler", "default", "web")
    assert conds(hpa)["AbleToScale"]["reason"] == "SucceededRescale" and hpa["status"]["currentReplicas"] == 2
    sim.patch(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "default",
        "web",
        {"metadata": {"annotations": {"sim.trueup.dev/desired-replicas": "50"}}},
        field_manager="k",
    )
    assert sim.get("apps/v1", "Deployment", "default", "web")["spec"]["replicas"] == 5
    c = conds(sim.get("autoscaling/v2", "HorizontalPodAutoscaler", "default", "web"))
    assert (c["ScalingLimited"]["status"], c["ScalingLimited"]["reason"]) == ("True", "TooManyReplicas")


def test_statefulset_creates_ordered_pods_and_claims(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {
                "replicas": 2,
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]},
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
        field_manager="kubectl",
    )
    assert [p["metadata"]["name"] for p in pods(sim, "app=db")] == ["db-0"]  # OrderedReady
    sim.clock.advance(2.5)
    sim.clock.advance(2.5)
    ss = sim.get("apps/v1", "StatefulSet", "default", "db")
    assert [p["metadata"]["name"] for p in pods(sim, "app=db")] == ["db-0", "db-1"]
    assert (
        ss["status"]["readyReplicas"] == 2
        and ss["status"]["currentRevision"] == ss["status"]["updateRevision"]
    )
    assert {c["metadata"]["name"] for c in sim.list("v1", "PersistentVolumeClaim", "default").items} == {
        "data-db-0",
        "data-db-1",
    }


def test_daemonset_runs_one_pod_on_the_single_node(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "a", "image": "agent:1"}]},
                },
            },
        },
        field_manager="kubectl",
    )
    sim.clock.advance(2.5)
    ds = sim.get("apps/v1", "DaemonSet", "default", "agent")
    assert ds["status"]["desiredNumberScheduled"] == 1 and ds["status"]["numberReady"] == 1
    assert len(pods(sim, "app=agent")) == 1


def test_background_deletion_collects_dependents(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="kubectl")
    assert sim.delete("apps/v1", "Deployment", "default", "web") is None
    assert sim.list("apps/v1", "ReplicaSet", "default").items == []
    assert pods(sim, "app=web") == []


def test_foreground_deletion_waits_for_blocking_dependents(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="kubectl")
    rs_name = sim.list("apps/v1", "ReplicaSet", "default").items[0]["metadata"]["name"]
    # A finalizer on the ReplicaSet keeps it (and therefore the Deployment) around.
    sim.patch(
        "apps/v1",
        "ReplicaSet",
        "default",
        rs_name,
        {"metadata": {"finalizers": ["example.com/hold"]}},
        field_manager="k",
    )
    marked = sim.delete("apps/v1", "Deployment", "default", "web", propagation_policy="Foreground")
    assert marked is not None and "foregroundDeletion" in marked["metadata"]["finalizers"]
    d = sim.get("apps/v1", "Deployment", "default", "web")
    assert d["metadata"]["deletionTimestamp"] and d["metadata"]["generation"] == 2
    assert pods(sim, "app=web") == []  # the ReplicaSet's pods went first
    rs = sim.get("apps/v1", "ReplicaSet", "default", rs_name)
    assert rs["metadata"]["deletionTimestamp"]
    sim.patch(
        "apps/v1",
        "ReplicaSet",
        "default",
        rs_name,
        {"metadata": {"finalizers": ["foregroundDeletion"]}},
        field_manager="k",
    )
    with pytest.raises(NotFound):
        sim.get("apps/v1", "Deployment", "default", "web")
    with pytest.raises(NotFound):
        sim.get("apps/v1", "ReplicaSet", "default", rs_name)


def test_orphan_deletion_keeps_dependents_without_owner_reference(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="kubectl")
    sim.delete("apps/v1", "Deployment", "default", "web", propagation_policy="Orphan")
    with pytest.raises(NotFound):
        sim.get("apps/v1", "Deployment", "default", "web")
    (rs,) = sim.list("apps/v1", "ReplicaSet", "default").items
    assert "ownerReferences" not in rs["metadata"]
    assert len(pods(sim, "app=web")) == 3


def test_dependent_of_a_missing_owner_is_collected(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "orphan",
                "namespace": "default",
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "gone",
                        "uid": "00000000-0000-0000-0000-000000000000",
                    }
                ],
            },
        },
        field_manager="k",
    )
    with pytest.raises(NotFound):
        sim.get("v1", "ConfigMap", "default", "orphan")
