"""SimCluster API semantics: CRUD, errors with the apiserver's messages, defaulting, validation,
generation, dry-run, discovery/CRDs, namespaces, finalizers, patches, selectors, watch."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cluster.api import (
    AlreadyExists,
    BadRequest,
    Cluster,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NoKindMatch,
    NotFound,
)
from console.cluster.sim import SimCluster
from console.cluster.sim import store as store_mod

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def sim(tmp_path: Path) -> SimCluster:
    c = SimCluster(tmp_path / "c.db", "sim", "https://127.0.0.1:6443")
    c.clock.freeze(T0)
    return c


def cm(name: str, ns: str = "default", **data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data,
    }


def deployment(name: str = "web", image: str = "nginx:1.25", replicas: int = 2) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def test_implements_protocol_and_seeds_a_fresh_cluster(sim: SimCluster) -> None:
    assert isinstance(sim, Cluster)
    names = [n["metadata"]["name"] for n in sim.list("v1", "Namespace").items]
    assert {"default", "kube-system", "kube-public"} <= set(names)
    assert sim.get("v1", "Node", "", "sim-node-1")["status"]["conditions"][-1]["type"] == "Ready"
    assert sim.server_version() == "v1.36.3-sim"
    assert sim.controller_errors() == []


def test_discovery_table_has_real_group_version_plural_scope(sim: SimCluster) -> None:
    by = {(r.group, r.version, r.kind): r for r in sim.discovery()}
    assert by[("apps", "v1", "Deployment")].plural == "deployments"
    assert by[("apps", "v1", "Deployment")].namespaced
    assert not by[("", "v1", "Namespace")].namespaced
    assert by[("autoscaling", "v2", "HorizontalPodAutoscaler")].plural == "horizontalpodautoscalers"
    assert ("autoscaling", "v1", "HorizontalPodAutoscaler") in by
    assert by[("networking.k8s.io", "v1", "IngressClass")].namespaced is False
    assert by[("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")].plural == "clusterrolebindings"
    assert "status" in by[("apps", "v1", "Deployment")].subresources
    assert sim.resource_for("policy/v1", "PodDisruptionBudget").plural == "poddisruptionbudgets"


def test_unknown_kind_raises_no_kind_match_with_real_message(sim: SimCluster) -> None:
    with pytest.raises(NoKindMatch) as exc:
        sim.create(
            {"apiVersion": "example.com/v1", "kind": "Foo", "metadata": {"name": "x"}}, field_manager="t"
        )
    assert exc.value.message == 'no matches for kind "Foo" in version "example.com/v1"'
    with pytest.raises(NoKindMatch):
        sim.resource_for("apps/v2", "Deployment")


def test_crud_and_error_messages(sim: SimCluster) -> None:
    created = sim.create(cm("a", k="v"), field_manager="kubectl-create")
    md = created["metadata"]
    assert len(md["uid"]) == 36 and md["creationTimestamp"] == "2026-03-01T12:00:00Z"
    assert "generation" not in md  # ConfigMaps have no spec semantics: no generation
    assert int(md["resourceVersion"]) > 0
    with pytest.raises(AlreadyExists) as exc:
        sim.create(cm("a"), field_manager="kubectl-create")
    assert exc.value.message == 'configmaps "a" already exists'
    with pytest.raises(NotFound) as nf:
        sim.get("apps/v1", "Deployment", "default", "web")
    assert nf.value.message == 'deployments.apps "web" not found'
    got = sim.get("v1", "ConfigMap", "default", "a")
    got["data"]["k"] = "w"
    updated = sim.update(got, field_manager="kubectl-edit")
    assert updated["data"] == {"k": "w"}
    assert int(updated["metadata"]["resourceVersion"]) > int(md["resourceVersion"])
    assert sim.delete("v1", "ConfigMap", "default", "a") is None
    with pytest.raises(NotFound):
        sim.get("v1", "ConfigMap", "default", "a")


def test_stale_resource_version_is_a_conflict_with_the_real_message(sim: SimCluster) -> None:
    first = sim.create(deployment(), field_manager="kubectl")
    fresh = sim.get("apps/v1", "Deployment", "default", "web")
    stale = dict(first)
    stale["spec"] = dict(first["spec"], replicas=5)
    fresh["spec"]["replicas"] = 3
    sim.update(fresh, field_manager="kubectl-edit")
    with pytest.raises(Conflict) as exc:
        sim.update(stale, field_manager="kubectl-edit")
    assert exc.value.message == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert exc.value.code == 409
    with pytest.raises(Conflict):
        sim.delete("apps/v1", "Deployment", "default", "web", resource_version="1")


def test_resource_versions_are_one_global_increasing_counter(sim: SimCluster) -> None:
    a = int(sim.create(cm("a"), field_manager="t")["metadata"]["resourceVersion"])
    b = int(sim.create(cm("b"), field_manager="t")["metadata"]["resourceVersion"])
    assert b > a
    assert int(sim.list("v1", "ConfigMap", "default").resource_version) >= b


def test_generation_bumps_only_on_spec_changes(sim: SimCluster) -> None:
    d = sim.create(deployment(), field_manager="kubectl")
    assert d["metadata"]["generation"] == 1
    d = sim.get("apps/v1", "Deployment", "default", "web")
    d["metadata"]["labels"]["note"] = "x"
    assert sim.update(d, field_manager="kubectl-label")["metadata"]["generation"] == 1
    # The Deployment strategy (only it) also counts annotation changes, like the real apiserver.
    d = sim.get("apps/v1", "Deployment", "default", "web")
    d["metadata"].setdefault("annotations", {})["note"] = "x"
    assert sim.update(d, field_manager="kubectl-annotate")["metadata"]["generation"] == 2
    d = sim.get("apps/v1", "Deployment", "default", "web")
    d["spec"]["replicas"] = 4
    assert sim.update(d, field_manager="kubectl-scale")["metadata"]["generation"] == 3
    d = sim.get("apps/v1", "Deployment", "default", "web")
    d["status"] = {"replicas": 99}
    out = sim.update(d, field_manager="someone", subresource="status")
    assert out["metadata"]["generation"] == 3 and out["status"] == {"replicas": 99}
    # The main resource ignores status for kinds with a status subresource.
    d = sim.get("apps/v1", "Deployment", "default", "web")
    d["status"] = {"replicas": 1}
    d["metadata"]["labels"]["x"] = "y"
    out = sim.update(d, field_manager="kubectl-edit")
    assert out["status"]["replicas"] != 1 and out["metadata"]["generation"] == 3


def test_service_defaulting_and_cluster_ip_immutability(sim: SimCluster) -> None:
    svc = sim.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
        field_manager="kubectl-create",
    )
    spec = svc["spec"]
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["type"] == "ClusterIP" and spec["sessionAffinity"] == "None"
    assert spec["clusterIP"].startswith("10.9") and spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["internalTrafficPolicy"] == "Cluster"
    # A PUT that omits clusterIP keeps it (allocated values carry over); changing it is refused.
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    assert sim.update(body, field_manager="x")["spec"]["clusterIP"] == spec["clusterIP"]
    body["spec"]["clusterIP"] = "10.96.200.200"
    with pytest.raises(Invalid) as exc:
        sim.update(body, field_manager="x")
    assert exc.value.message == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.200.200"]: may not change once set'
    )
    assert exc.value.causes[0].field == "spec.clusterIPs[0]"


def test_pod_template_and_deployment_defaulting(sim: SimCluster) -> None:
    d = deployment(image="nginx")
    d["spec"]["template"]["spec"]["containers"].append(
        {"name": "side", "image": "busybox:1.36", "ports": [{"containerPort": 8080}]}
    )
    out = sim.create(d, field_manager="kubectl-create")
    spec = out["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10 and spec["progressDeadlineSeconds"] == 600
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Always" and pod["dnsPolicy"] == "ClusterFirst"
    assert pod["schedulerName"] == "default-scheduler" and pod["securityContext"] == {}
    assert pod["terminationGracePeriodSeconds"] == 30
    app, side = pod["containers"]
    assert app["imagePullPolicy"] == "Always" and side["imagePullPolicy"] == "IfNotPresent"
    assert app["terminationMessagePath"] == "/dev/termination-log"
    assert app["terminationMessagePolicy"] == "File"
    assert side["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert sim.create(deployment("one", replicas=None), field_manager="x")["spec"]["replicas"] == 1  # type: ignore[arg-type]


def test_secret_string_data_is_merged_into_base64_data(sim: SimCluster) -> None:
    s = sim.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default"},
            "data": {"a": base64.b64encode(b"1").decode()},
            "stringData": {"b": "two"},
        },
        field_manager="kubectl",
    )
    assert s["type"] == "Opaque" and "stringData" not in s
    assert base64.b64decode(s["data"]["b"]) == b"two" and "a" in s["data"]


def test_dry_run_persists_nothing(sim: SimCluster) -> None:
    rv = sim.list("v1", "ConfigMap").resource_version
    out = sim.create(cm("dry", k="v"), field_manager="kubectl", dry_run=True)
    assert out["metadata"]["uid"] and out["data"] == {"k": "v"}
    with pytest.raises(NotFound):
        sim.get("v1", "ConfigMap", "default", "dry")
    sim.create(cm("real", k="v"), field_manager="kubectl")
    rv = sim.list("v1", "ConfigMap").resource_version
    live = sim.get("v1", "ConfigMap", "default", "real")
    live["data"]["k"] = "changed"
    assert sim.update(live, field_manager="k", dry_run=True)["data"]["k"] == "changed"
    assert (
        sim.patch(
            "v1", "ConfigMap", "default", "real", {"data": {"x": "y"}}, field_manager="k", dry_run=True
        )["data"]["x"]
        == "y"
    )
    assert (
        sim.apply(cm("real", k="applied"), field_manager="a", dry_run=True, force=True)["data"]["k"]
        == "applied"
    )
    sim.delete("v1", "ConfigMap", "default", "real", dry_run=True)
    assert sim.get("v1", "ConfigMap", "default", "real")["data"] == {"k": "v"}
    assert sim.list("v1", "ConfigMap").resource_version == rv
    with pytest.raises(Invalid):
        sim.create(cm("Bad_Name"), field_manager="k", dry_run=True)


def test_validation_names_selector_and_job_restart_policy(sim: SimCluster) -> None:
    with pytest.raises(Invalid) as exc:
        sim.create(cm("Bad_Name"), field_manager="k")
    assert exc.value.message.startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        "a lowercase RFC 1123 subdomain must consist of"
    )
    bad = deployment()
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(Invalid) as exc:
        sim.create(bad, field_manager="k")
    assert "`selector` does not match template `labels`" in exc.value.message
    assert exc.value.causes[0].field == "spec.template.metadata.labels"
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
    }
    with pytest.raises(Invalid) as exc:
        sim.create(job, field_manager="k")
    assert (
        'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'
        in exc.value.message
    )
    with pytest.raises(Invalid) as exc:
        sim.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "1svc", "namespace": "default"},
                "spec": {"ports": [{"port": 80}]},
            },
            field_manager="k",
        )
    assert "DNS-1035" in exc.value.message


def test_immutable_fields(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="k")
    d = sim.get("apps/v1", "Deployment", "default", "web")
    d["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    d["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    with pytest.raises(Invalid) as exc:
        sim.update(d, field_manager="k")
    assert exc.value.causes[0].field == "spec.selector" and "field is immutable" in exc.value.message
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "default"},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
            }
        },
    }
    sim.create(job, field_manager="k")
    with pytest.raises(Invalid) as exc:
        sim.patch(
            "batch/v1",
            "Job",
            "default",
            "j",
            {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}},
            patch_type="strategic",
            field_manager="k",
        )
    assert exc.value.causes[0].field == "spec.template" and "field is immutable" in exc.value.message


def test_pvc_spec_is_immutable_after_bound_except_requests(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
        field_manager="k",
    )
    sim.clock.advance(2)
    pvc = sim.get("v1", "PersistentVolumeClaim", "default", "data")
    assert pvc["status"]["phase"] == "Bound"
    pvc["spec"]["accessModes"] = ["ReadWriteMany"]
    with pytest.raises(Invalid) as exc:
        sim.update(pvc, field_manager="k")
    assert "spec is immutable after creation except resources.requests" in exc.value.message
    out = sim.patch(
        "v1",
        "PersistentVolumeClaim",
        "default",
        "data",
        {"spec": {"resources": {"requests": {"storage": "2Gi"}}}},
        field_manager="k",
    )
    assert out["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_namespaced_objects_need_their_namespace(sim: SimCluster) -> None:
    with pytest.raises(NotFound) as exc:
        sim.create(cm("a", ns="nope"), field_manager="k")
    assert exc.value.message == 'namespaces "nope" not found'


def test_namespace_deletion_terminates_then_removes_contents(sim: SimCluster) -> None:
    sim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}, field_manager="k")
    assert sim.get("v1", "ServiceAccount", "team", "default")
    sim.create(cm("keep", ns="team"), field_manager="k")
    held = cm("held", ns="team")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    sim.create(held, field_manager="k")
    marked = sim.delete("v1", "Namespace", "", "team")
    assert marked is not None and marked["status"]["phase"] == "Terminating"
    ns = sim.get("v1", "Namespace", "", "team")
    assert ns["metadata"]["deletionTimestamp"] and ns["status"]["phase"] == "Terminating"
    assert [o["metadata"]["name"] for o in sim.list("v1", "ConfigMap", "team").items] == ["held"]
    conds = {c["type"]: c for c in ns["status"]["conditions"]}
    assert "example.com/hold in 1 resource instances" in conds["NamespaceFinalizersRemaining"]["message"]
    with pytest.raises(Forbidden) as exc:
        sim.create(cm("new", ns="team"), field_manager="k")
    assert "because it is being terminated" in exc.value.message
    sim.patch("v1", "ConfigMap", "team", "held", {"metadata": {"finalizers": None}}, field_manager="k")
    sim.clock.advance(6)
    with pytest.raises(NotFound):
        sim.get("v1", "Namespace", "", "team")


def test_finalizers_hold_objects_with_deletion_timestamp(sim: SimCluster) -> None:
    obj = cm("f")
    obj["metadata"]["finalizers"] = ["example.com/a", "example.com/b"]
    sim.create(obj, field_manager="k")
    marked = sim.delete("v1", "ConfigMap", "default", "f")
    assert marked is not None and marked["metadata"]["deletionTimestamp"] == "2026-03-01T12:00:00Z"
    live = sim.get("v1", "ConfigMap", "default", "f")
    live["metadata"]["finalizers"] = ["example.com/b"]
    sim.update(live, field_manager="ctrl")
    assert sim.get("v1", "ConfigMap", "default", "f")["metadata"]["finalizers"] == ["example.com/b"]
    sim.patch(
        "v1",
        "ConfigMap",
        "default",
        "f",
        [{"op": "remove", "path": "/metadata/finalizers"}],
        patch_type="json",
        field_manager="ctrl",
    )
    with pytest.raises(NotFound):
        sim.get("v1", "ConfigMap", "default", "f")


def test_crd_before_cr_then_cr_lifecycle(sim: SimCluster) -> None:
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"},
        "spec": {"size": 1},
    }
    with pytest.raises(NoKindMatch):
        sim.create(widget, field_manager="k")
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                },
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": False,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                },
            ],
        },
    }
    sim.create(crd, field_manager="k")
    established = sim.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com")
    assert {c["type"] for c in established["status"]["conditions"]} >= {"Established", "NamesAccepted"}
    assert sim.resource_for("example.com/v1", "Widget").subresources == ("status",)
    assert sim.resource_for("example.com/v1beta1", "Widget").plural == "widgets"
    w = sim.create(dict(widget, status={"ok": True}), field_manager="k")
    assert w["metadata"]["generation"] == 1 and "status" not in w
    assert sim.get("example.com/v1beta1", "Widget", "default", "w1")["apiVersion"] == "example.com/v1beta1"
    w["spec"]["size"] = 2
    assert sim.update(w, field_manager="k")["metadata"]["generation"] == 2
    with pytest.raises(BadRequest):
        sim.patch(
            "example.com/v1",
            "Widget",
            "default",
            "w1",
            {"spec": {"size": 3}},
            patch_type="strategic",
            field_manager="k",
        )
    sim.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com")
    with pytest.raises(NoKindMatch):
        sim.get("example.com/v1", "Widget", "default", "w1")
    assert not [o for o in sim.list_all_objects() if o["kind"] == "Widget"]


def test_patch_types(sim: SimCluster) -> None:
    sim.create(deployment(), field_manager="k")
    merged = sim.patch(
        "apps/v1", "Deployment", "default", "web", {"metadata": {"labels": {"team": "a"}}}, field_manager="k"
    )
    assert merged["metadata"]["labels"] == {"app": "web", "team": "a"}
    smp = sim.patch(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox:1.36"}]}}}},
        patch_type="strategic",
        field_manager="k",
    )
    assert [c["name"] for c in smp["spec"]["template"]["spec"]["containers"]] == ["app", "side"]
    jp = sim.patch(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        [
            {"op": "replace", "path": "/spec/replicas", "value": 7},
            {"op": "test", "path": "/metadata/name", "value": "web"},
        ],
        patch_type="json",
        field_manager="k",
    )
    assert jp["spec"]["replicas"] == 7
    with pytest.raises(Invalid):
        sim.patch(
            "apps/v1",
            "Deployment",
            "default",
            "web",
            [{"op": "remove", "path": "/spec/nope"}],
            patch_type="json",
            field_manager="k",
        )
    deleted = sim.patch(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}},
        patch_type="strategic",
        field_manager="k",
    )
    assert [c["name"] for c in deleted["spec"]["template"]["spec"]["containers"]] == ["app"]


def test_label_selectors(sim: SimCluster) -> None:
    for name, labels in (
        ("a", {"app": "x", "tier": "web"}),
        ("b", {"app": "y"}),
        ("c", {"app": "z", "tier": "db"}),
    ):
        obj = cm(name)
        obj["metadata"]["labels"] = labels
        sim.create(obj, field_manager="k")

    def names(sel: str) -> list[str]:
        return [
            o["metadata"]["name"] for o in sim.list("v1", "ConfigMap", "default", label_selector=sel).items
        ]

    assert names("app=x") == ["a"]
    assert names("app!=x,tier") == ["c"]
    assert names("app in (x, y)") == ["a", "b"]
    assert names("app notin (x),!tier,app") == ["b"]
    assert "kube-root-ca.crt" in names("app notin (x),!tier")  # notin also matches a missing key
    assert names("tier,app==z") == ["c"]


def test_watch_from_resource_version_and_gone(sim: SimCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    start = sim.list("v1", "ConfigMap", "default").resource_version
    sim.create(cm("w1", k="1"), field_manager="k")
    sim.patch("v1", "ConfigMap", "default", "w1", {"data": {"k": "2"}}, field_manager="k")
    sim.delete("v1", "ConfigMap", "default", "w1")
    events = list(sim.watch("v1", "ConfigMap", "default", resource_version=start, timeout_seconds=0.05))
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "w1"),
        ("MODIFIED", "w1"),
        ("DELETED", "w1"),
    ]
    assert events[-1].object["data"] == {"k": "2"}  # DELETED carries the last state
    rvs = [int(e.object["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(start)
    initial = list(sim.watch("v1", "Namespace", timeout_seconds=0.01))
    assert {e.type for e in initial} == {"ADDED"} and len(initial) >= 4
    monkeypatch.setattr(store_mod, "EVENT_HISTORY", 10)
    for i in range(600):
        sim.create(cm(f"bulk-{i}"), field_manager="k")
    with pytest.raises(Gone) as exc:
        sim.watch("v1", "ConfigMap", "default", resource_version=start)
    assert exc.value.code == 410 and exc.value.message.startswith(f"too old resource version: {start} (")


def test_hpa_is_served_as_v2_and_v1(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "maxReplicas": 5,
                "targetCPUUtilizationPercentage": 70,
            },
        },
        field_manager="k",
    )
    v2 = sim.get("autoscaling/v2", "HorizontalPodAutoscaler", "default", "h")
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert v2["spec"]["minReplicas"] == 1
    v1 = sim.get("autoscaling/v1", "HorizontalPodAutoscaler", "default", "h")
    assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 70
