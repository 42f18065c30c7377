"""managedFields written exactly like the real apiserver: FieldsV1 shape, Update ownership
transfer, server-side apply (conflicts, force, pruning), subresources."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cluster.api import BadRequest, Conflict
from console.cluster.sim import SimCluster
from console.cluster.sim.managedfields import from_fieldsv1, path_string, to_fieldsv1

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def sim(tmp_path: Path) -> SimCluster:
    c = SimCluster(tmp_path / "c.db", "sim", "https://127.0.0.1:6443")
    c.clock.freeze(T0)
    return c


def entries(obj: dict) -> dict[tuple[str, str, str], dict]:
    return {
        (e["manager"], e["operation"], e.get("subresource", "")): e for e in obj["metadata"]["managedFields"]
    }


def cfg(replicas: int | None = 2, image: str = "nginx:1.25", extra_label: str | None = None) -> dict:
    labels = {"app": "web"} | ({"extra": extra_label} if extra_label else {})
    spec: dict = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": labels},
        "spec": spec,
    }


def test_fieldsv1_round_trip_and_path_strings() -> None:
    paths = {
        ("f:metadata", "f:labels"),
        ("f:metadata", "f:labels", "f:app"),
        ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}'),
        ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:port"),
        ("f:metadata", "f:finalizers", 'v:"a"'),
    }
    tree = to_fieldsv1(paths)
    assert tree["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    assert tree["f:spec"] == {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}}}}
    assert from_fieldsv1(tree) == paths
    assert (
        path_string(("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:port"))
        == '.spec.ports[port=80,protocol="TCP"].port'
    )
    assert path_string(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'


def test_create_owns_defaulted_fields_in_real_fieldsv1_shape(sim: SimCluster) -> None:
    out = sim.create(cfg(), field_manager="kubectl-create")
    (e,) = [m for m in out["metadata"]["managedFields"] if m["manager"] == "kubectl-create"]
    assert e["operation"] == "Update" and e["apiVersion"] == "apps/v1" and e["fieldsType"] == "FieldsV1"
    assert e["time"] == "2026-03-01T12:00:00Z" and "subresource" not in e
    f = e["fieldsV1"]
    assert f["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    spec = f["f:spec"]
    assert "." not in spec and spec["f:selector"] == {} and spec["f:replicas"] == {}
    assert spec["f:strategy"] == {
        "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
        "f:type": {},
    }
    assert spec["f:progressDeadlineSeconds"] == {} and spec["f:revisionHistoryLimit"] == {}
    container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert container == {
        ".": {},
        "f:image": {},
        "f:imagePullPolicy": {},
        "f:name": {},
        "f:ports": {
            ".": {},
            'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}, "f:protocol": {}},
        },
        "f:resources": {},
        "f:terminationMessagePath": {},
        "f:terminationMessagePolicy": {},
    }
    assert set(spec["f:template"]["f:spec"]) == {
        "f:containers",
        "f:dnsPolicy",
        "f:restartPolicy",
        "f:schedulerName",
        "f:securityContext",
        "f:terminationGracePeriodSeconds",
    }


def test_update_by_second_manager_takes_only_changed_fields(sim: SimCluster) -> None:
    sim.create(cfg(), field_manager="kubectl-create")
    sim.clock.advance(60)
    live = sim.get("apps/v1", "Deployment", "default", "web")
    live["spec"]["replicas"] = 5
    live["metadata"]["labels"]["team"] = "a"
    out = sim.update(live, field_manager="kubectl-edit")
    es = entries(out)
    edit = es[("kubectl-edit", "Update", "")]
    assert edit["fieldsV1"] == {"f:metadata": {"f:labels": {"f:team": {}}}, "f:spec": {"f:replicas": {}}}
    assert edit["time"] == "2026-03-01T12:01:00Z"
    create = es[("kubectl-create", "Update", "")]
    assert "f:replicas" not in create["fieldsV1"]["f:spec"] and create["time"] == "2026-03-01T12:00:00Z"
    # Status written by the controller is recorded against the status subresource.
    # The revision annotation goes through /status too (deploymentStatusStrategy keeps annotations).
    kcm = es[("kube-controller-manager", "Update", "status")]
    assert set(kcm["fieldsV1"]) == {"f:metadata", "f:status"}
    assert 'k:{"type":"Available"}' in kcm["fieldsV1"]["f:status"]["f:conditions"]
    assert ("kube-controller-manager", "Update", "") not in es
    ann = kcm["fieldsV1"]["f:metadata"]["f:annotations"]
    assert ann == {".": {}, "f:deployment.kubernetes.io/revision": {}}
    # Entries are ordered like the real server: Apply before Update, then by time, then manager.
    times = [m["time"] for m in out["metadata"]["managedFields"]]
    assert times == sorted(times)


def test_update_that_changes_nothing_keeps_managed_fields_and_resource_version(sim: SimCluster) -> None:
    sim.create(cfg(), field_manager="kubectl-create")
    live = sim.get("apps/v1", "Deployment", "default", "web")
    again = sim.update(live, field_manager="other")
    assert again["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    assert ("other", "Update", "") not in entries(again)


def test_apply_two_managers_conflict_and_force(sim: SimCluster) -> None:
    sim.apply(cfg(replicas=2), field_manager="argocd-controller")
    live = sim.get("apps/v1", "Deployment", "default", "web")
    es = entries(live)
    applied = es[("argocd-controller", "Apply", "")]
    assert applied["fieldsV1"]["f:metadata"] == {"f:labels": {"f:app": {}}}  # no ".": apply owns what it sent
    assert "f:strategy" not in applied["fieldsV1"]["f:spec"]  # defaulted fields are not the applier's
    assert applied["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}'] == {
        ".": {},
        "f:image": {},
        "f:name": {},
        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
    }
    sim.patch(
        "apps/v1", "Deployment", "default", "web", {"spec": {"replicas": 4}}, field_manager="kubectl-edit"
    )
    es = entries(sim.get("apps/v1", "Deployment", "default", "web"))
    assert "f:replicas" not in es[("argocd-controller", "Apply", "")]["fieldsV1"]["f:spec"]
    assert es[("kubectl-edit", "Update", "")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    with pytest.raises(Conflict) as exc:
        sim.apply(cfg(replicas=2), field_manager="argocd-controller")
    assert exc.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas'
    )
    assert [(c.field, c.message) for c in exc.value.causes] == [
        (".spec.replicas", 'conflict with "kubectl-edit" using apps/v1')
    ]
    # Same value as live is not a conflict: both co-own it.
    sim.apply(cfg(replicas=4), field_manager="argocd-controller")
    es = entries(sim.get("apps/v1", "Deployment", "default", "web"))
    assert "f:replicas" in es[("argocd-controller", "Apply", "")]["fieldsV1"]["f:spec"]
    assert ("kubectl-edit", "Update", "") in es
    # force takes ownership away from the other manager.
    out = sim.apply(cfg(replicas=3), field_manager="argocd-controller", force=True)
    assert out["spec"]["replicas"] == 3
    assert ("kubectl-edit", "Update", "") not in entries(out)


def test_apply_conflict_lists_several_fields(sim: SimCluster) -> None:
    sim.create(cfg(), field_manager="kubectl-create")
    with pytest.raises(Conflict) as exc:
        sim.apply(cfg(replicas=9, image="nginx:2"), field_manager="argocd")
    assert exc.value.message == (
        'Apply failed with 2 conflicts: conflicts with "kubectl-create" using apps/v1:\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="nginx"].image'
    )


def test_apply_prunes_fields_it_no_longer_applies(sim: SimCluster) -> None:
    sim.apply(cfg(extra_label="yes"), field_manager="argocd")
    assert sim.get("apps/v1", "Deployment", "default", "web")["metadata"]["labels"]["extra"] == "yes"
    out = sim.apply(cfg(replicas=None), field_manager="argocd")
    assert "extra" not in out["metadata"]["labels"]
    assert out["spec"]["replicas"] == 1  # removed by the prune, then defaulted again
    # A field another manager also owns survives the prune.
    sim.patch(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        {"metadata": {"labels": {"shared": "v"}}},
        field_manager="kubectl-label",
    )
    cfg_shared = cfg(replicas=None)
    cfg_shared["metadata"]["labels"]["shared"] = "v"
    sim.apply(cfg_shared, field_manager="argocd")
    out = sim.apply(cfg(replicas=None), field_manager="argocd")
    assert out["metadata"]["labels"]["shared"] == "v"


def test_apply_rejects_managed_fields_and_requires_a_manager(sim: SimCluster) -> None:
    body = cfg()
    body["metadata"]["managedFields"] = []
    with pytest.raises(BadRequest):
        sim.apply(body, field_manager="x")
    with pytest.raises(BadRequest):
        sim.apply(cfg(), field_manager="")


def test_status_subresource_apply_and_update(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default"},
            "data": {"a": "1"},
        },
        field_manager="k",
    )
    sim.create(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "pdb", "namespace": "default"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
        },
        field_manager="k",
    )
    out = sim.apply(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "pdb", "namespace": "default"},
            "status": {"currentHealthy": 1, "desiredHealthy": 1, "disruptionsAllowed": 0, "expectedPods": 1},
        },
        field_manager="my-ctrl",
        subresource="status",
    )
    e = entries(out)[("my-ctrl", "Apply", "status")]
    assert e["subresource"] == "status"
    assert e["fieldsV1"] == {
        "f:status": {
            "f:currentHealthy": {},
            "f:desiredHealthy": {},
            "f:disruptionsAllowed": {},
            "f:expectedPods": {},
        }
    }
    assert out["spec"]["minAvailable"] == 1 and out["metadata"]["generation"] == 1


def test_client_can_reset_managed_fields_with_an_empty_list(sim: SimCluster) -> None:
    sim.create(cfg(), field_manager="kubectl-create")
    out = sim.patch(
        "apps/v1", "Deployment", "default", "web", {"metadata": {"managedFields": [{}]}}, field_manager="x"
    )
    assert all(m.get("manager") for m in out["metadata"].get("managedFields", []))
    live = sim.get("apps/v1", "Deployment", "default", "web")
    live["metadata"]["managedFields"] = []
    out = sim.update(live, field_manager="x")
    assert "kubectl-create" not in {m["manager"] for m in out["metadata"].get("managedFields", [])}
