"""Contract suite: the SAME cases against the sim and against a real control plane.

Every test takes the parametrized `be` fixture ("sim": a fresh SimCluster; "real": KubeCluster on
the session control plane, admin identity, a fresh namespace) and asserts behaviour the engine
relies on: error types and the apiserver's own messages, object shapes, managedFields trees,
defaulted fields. Expected values are written once and hold on both backends; where the sim and
a real apiserver disagreed, the sim was fixed (console/cluster/sim).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.cluster.api import (
    AlreadyExists,
    ClusterError,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NoKindMatch,
    NotFound,
    Obj,
    ResourceKey,
)
from console.engine.diff.resource import diff_resource
from tests.integration.contract_env import CRD_API, FM, Backend, real_backend, sim_backend

RBAC = "rbac.authorization.k8s.io/v1"
ADMISSION = "admissionregistration.k8s.io/v1"
CONTROLLERS = {"kube-controller-manager", "kube-scheduler", "kwok-controller", "kube-apiserver"}


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.realcluster)])
def be(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sim":
        yield from sim_backend(tmp_path)
    else:
        cp = request.getfixturevalue("control_plane")
        ns = request.getfixturevalue("kube_namespace")
        yield from real_backend(cp, ns)


# ------------------------------------------------------------------ builders


def cm(be: Backend, name: str, data: dict[str, str] | None = None, **md: Any) -> Obj:
    out: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": be.ns, **md}}
    if data is not None:
        out["data"] = data
    return out


def deployment(be: Backend, name: str = "web") -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": be.ns},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.invalid/web:1",
                            "ports": [{"containerPort": 8080}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                            "env": [
                                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
                            ],
                        }
                    ],
                    "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}],
                },
            },
        },
    }


def service(be: Backend, name: str = "web") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": be.ns},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }


def network_policy(be: Backend) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web", "namespace": be.ns},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"ports": [{"port": 8080}]}]},
    }


def job(be: Backend, name: str = "migrate") -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": be.ns},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "registry.invalid/m:1"}],
                }
            }
        },
    }


def crd(group: str, kind: str, scope: str = "Namespaced") -> Obj:
    plural = kind.lower() + "s"
    return {
        "apiVersion": CRD_API,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


def managed(obj: Obj) -> list[tuple[str, str, str, str, Any]]:
    """managedFields without timestamps, in a stable order; controllers' entries left out."""
    return sorted(
        (m["manager"], m["operation"], m["apiVersion"], m.get("subresource", ""), m.get("fieldsV1"))
        for m in obj["metadata"].get("managedFields") or []
        if m["manager"] not in CONTROLLERS
    )


def causes(err: Exception) -> list[tuple[str, str, str]]:
    return [(c.field, c.reason, c.message) for c in getattr(err, "causes", [])]


def leaf_paths(value: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf (empty maps/lists count as leaves: defaulting writes them)."""
    if isinstance(value, dict):
        if not value:
            return {f"{prefix}={{}}"}
        out: set[str] = set()
        for k, v in value.items():
            out |= leaf_paths(v, f"{prefix}.{k}" if prefix else k)
        return out
    if isinstance(value, list):
        if not value:
            return {f"{prefix}=[]"}
        out = set()
        for i, v in enumerate(value):
            out |= leaf_paths(v, f"{prefix}[{i}]")
        return out
    return {prefix}


# ------------------------------------------------------------------ CRUD and resourceVersion


def test_crud_conflicts_already_exists_and_not_found(be: Backend) -> None:
    created = be.c.create(cm(be, "crud", {"k": "v"}), field_manager=FM)
    md = created["metadata"]
    assert md["uid"] and md["resourceVersion"] and "generation" not in md
    assert managed(created) == [(FM, "Update", "v1", "", {"f:data": {".": {}, "f:k": {}}})]

    with pytest.raises(AlreadyExists) as exists:
        be.c.create(cm(be, "crud", {"k": "again"}), field_manager=FM)
    assert exists.value.message == 'configmaps "crud" already exists'
    assert exists.value.code == 409

    fresh = be.c.get("v1", "ConfigMap", be.ns, "crud")
    assert fresh["metadata"]["resourceVersion"] == md["resourceVersion"]
    fresh["data"] = {"k": "v2"}
    updated = be.c.update(fresh, field_manager=FM)
    assert int(updated["metadata"]["resourceVersion"]) > int(md["resourceVersion"])

    stale = copy.deepcopy(created)
    stale["data"] = {"k": "lost"}
    with pytest.raises(Conflict) as conflict:
        be.c.update(stale, field_manager=FM)
    assert conflict.value.message == (
        'Operation cannot be fulfilled on configmaps "crud": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert be.c.get("v1", "ConfigMap", be.ns, "crud")["data"] == {"k": "v2"}

    stale_rv = md["resourceVersion"]
    with pytest.raises(Conflict) as pre:
        be.c.delete("v1", "ConfigMap", be.ns, "crud", resource_version=stale_rv)
    assert pre.value.message == (
        f'Operation cannot be fulfilled on ConfigMap "crud": the ResourceVersion in the precondition '
        f"({stale_rv}) does not match the ResourceVersion in record ({updated['metadata']['resourceVersion']}). "
        "The object might have been modified"
    )

    with pytest.raises(NotFound) as missing:
        be.c.get("v1", "ConfigMap", be.ns, "nope")
    assert missing.value.message == 'configmaps "nope" not found'
    with pytest.raises(NotFound) as missing_dep:
        be.c.get("apps/v1", "Deployment", be.ns, "nope")
    assert missing_dep.value.message == 'deployments.apps "nope" not found'
    assert (
        be.c.delete("v1", "ConfigMap", be.ns, "crud", resource_version=updated["metadata"]["resourceVersion"])
        is None
    )
    with pytest.raises(NotFound) as deleted:
        be.c.delete("v1", "ConfigMap", be.ns, "crud")
    assert deleted.value.message == 'configmaps "crud" not found'


def test_missing_namespace(be: Backend) -> None:
    absent = be.unique("absent-")
    with pytest.raises(NotFound) as created:
        be.c.create(cm(be, "x", {"k": "v"}, namespace=absent), field_manager=FM)
    assert created.value.message == f'namespaces "{absent}" not found'
    with pytest.raises(NotFound) as applied:
        be.c.apply(cm(be, "x", {"k": "v"}, namespace=absent), field_manager=FM)
    assert applied.value.message == f'namespaces "{absent}" not found'
    with pytest.raises(NotFound) as got:
        be.c.get("v1", "ConfigMap", absent, "x")
    assert got.value.message == 'configmaps "x" not found'
    assert be.c.list("v1", "ConfigMap", absent).items == []


# ------------------------------------------------------------------ server-side apply


def test_server_side_apply_ownership_trees(be: Backend) -> None:
    alice = be.c.apply(deployment(be), field_manager="alice")
    assert alice["metadata"]["generation"] == 1
    bob_cfg = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": be.ns, "labels": {"team": "b"}},
        "spec": {"replicas": 3},
    }
    be.c.apply(bob_cfg, field_manager="bob")
    be.c.patch(
        "apps/v1",
        "Deployment",
        be.ns,
        "web",
        {"metadata": {"labels": {"by": "carol"}}},
        field_manager="carol",
    )
    live = be.c.get("apps/v1", "Deployment", be.ns, "web")
    assert live["spec"]["replicas"] == 3 and live["metadata"]["generation"] == 2
    alice_tree = {
        "f:spec": {
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"app"}': {
                            ".": {},
                            "f:env": {
                                'k:{"name":"POD"}': {".": {}, "f:name": {}, "f:valueFrom": {"f:fieldRef": {}}}
                            },
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
                            },
                            "f:readinessProbe": {"f:httpGet": {"f:path": {}, "f:port": {}}},
                        }
                    },
                    "f:volumes": {'k:{"name":"cfg"}': {".": {}, "f:configMap": {"f:name": {}}, "f:name": {}}},
                },
            },
        }
    }
    assert managed(live) == [
        ("alice", "Apply", "apps/v1", "", alice_tree),
        (
            "bob",
            "Apply",
            "apps/v1",
            "",
            {"f:metadata": {"f:labels": {"f:team": {}}}, "f:spec": {"f:replicas": {}}},
        ),
        ("carol", "Update", "apps/v1", "", {"f:metadata": {"f:labels": {"f:by": {}}}}),
    ]
    # A Deployment's generation also counts annotation changes (apps registry strategy).
    noted = be.c.patch(
        "apps/v1",
        "Deployment",
        be.ns,
        "web",
        {"metadata": {"annotations": {"note": "x"}}},
        field_manager="carol",
    )
    assert noted["metadata"]["generation"] == 3

    # Re-applying fewer fields releases (and removes) what alice no longer applies.
    smaller = deployment(be)
    del smaller["spec"]["template"]["spec"]["volumes"]
    after = be.c.apply(smaller, field_manager="alice")
    assert "volumes" not in after["spec"]["template"]["spec"]
    assert "f:volumes" not in dict(managed(after)[0][4]["f:spec"]["f:template"]["f:spec"])


def test_server_side_apply_conflicts_and_force(be: Backend) -> None:
    be.c.apply(cm(be, "ssa", {"a": "1", "b": "2", "c": "3"}), field_manager="alice")
    with pytest.raises(Conflict) as one:
        be.c.apply(cm(be, "ssa", {"a": "x"}), field_manager="bob")
    assert one.value.message == 'Apply failed with 1 conflict: conflict with "alice": .data.a'
    assert causes(one.value) == [(".data.a", "FieldManagerConflict", 'conflict with "alice"')]

    with pytest.raises(Conflict) as two:
        be.c.apply(cm(be, "ssa", {"a": "x", "b": "y"}), field_manager="bob")
    assert two.value.message == 'Apply failed with 2 conflicts: conflicts with "alice":\n- .data.a\n- .data.b'
    assert sorted(causes(two.value)) == [
        (".data.a", "FieldManagerConflict", 'conflict with "alice"'),
        (".data.b", "FieldManagerConflict", 'conflict with "alice"'),
    ]

    # An Update (PUT/patch) manager is named with the apiVersion it used.
    be.c.patch("v1", "ConfigMap", be.ns, "ssa", {"data": {"d": "4"}}, field_manager="kubectl-edit")
    with pytest.raises(Conflict) as upd:
        be.c.apply(cm(be, "ssa", {"d": "5"}), field_manager="bob")
    assert upd.value.message == 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.d'

    # Same value is no conflict: both managers then share the field.
    shared = be.c.apply(cm(be, "ssa", {"c": "3"}), field_manager="carol")
    assert ("carol", "Apply", "v1", "", {"f:data": {"f:c": {}}}) in managed(shared)

    with pytest.raises(Conflict) as multi:
        be.c.apply(cm(be, "ssa", {"a": "x", "c": "y"}), field_manager="bob")
    assert multi.value.message == (
        'Apply failed with 3 conflicts: conflicts with "alice":\n- .data.a\n- .data.c\n'
        'conflicts with "carol":\n- .data.c'
    )
    assert sorted(causes(multi.value)) == [
        (".data.a", "FieldManagerConflict", 'conflict with "alice"'),
        (".data.c", "FieldManagerConflict", 'conflict with "alice"'),
        (".data.c", "FieldManagerConflict", 'conflict with "carol"'),
    ]

    forced = be.c.apply(cm(be, "ssa", {"a": "x", "c": "y"}), field_manager="bob", force=True)
    assert forced["data"] == {"a": "x", "b": "2", "c": "y", "d": "4"}
    assert managed(forced) == [
        ("alice", "Apply", "v1", "", {"f:data": {"f:b": {}}}),
        ("bob", "Apply", "v1", "", {"f:data": {"f:a": {}, "f:c": {}}}),
        ("kubectl-edit", "Update", "v1", "", {"f:data": {"f:d": {}}}),
    ]


# ------------------------------------------------------------------ dry run


def test_dry_run_persists_nothing(be: Backend) -> None:
    preview = be.c.create(service(be), field_manager=FM, dry_run=True)
    assert preview["spec"]["ports"] == [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}]
    assert preview["spec"]["type"] == "ClusterIP" and preview["metadata"]["uid"]
    assert "resourceVersion" not in preview["metadata"]
    with pytest.raises(NotFound):
        be.c.get("v1", "Service", be.ns, "web")
    applied_preview = be.c.apply(cm(be, "dry", {"a": "1"}), field_manager=FM, dry_run=True)
    assert managed(applied_preview) == [(FM, "Apply", "v1", "", {"f:data": {"f:a": {}}})]
    with pytest.raises(NotFound):
        be.c.get("v1", "ConfigMap", be.ns, "dry")

    real = be.c.create(cm(be, "dry", {"a": "1"}, finalizers=["contract.test/hold"]), field_manager=FM)
    rv = real["metadata"]["resourceVersion"]
    upd = be.c.update({**real, "data": {"a": "2"}}, field_manager=FM, dry_run=True)
    assert upd["data"] == {"a": "2"} and upd["metadata"]["resourceVersion"] == rv
    app = be.c.apply(cm(be, "dry", {"a": "3"}), field_manager="other", force=True, dry_run=True)
    assert app["data"] == {"a": "3"}
    pat = be.c.patch("v1", "ConfigMap", be.ns, "dry", {"data": {"a": "4"}}, field_manager=FM, dry_run=True)
    assert pat["data"] == {"a": "4"}
    marked = be.c.delete("v1", "ConfigMap", be.ns, "dry", dry_run=True)
    assert marked is not None and marked["metadata"]["deletionTimestamp"]
    assert marked["metadata"]["finalizers"] == ["contract.test/hold"]
    fg = be.c.delete("v1", "ConfigMap", be.ns, "dry", dry_run=True, propagation_policy="Foreground")
    assert fg is not None and fg["metadata"]["finalizers"] == ["contract.test/hold", "foregroundDeletion"]
    live = be.c.get("v1", "ConfigMap", be.ns, "dry")
    assert live["data"] == {"a": "1"} and live["metadata"]["resourceVersion"] == rv
    assert "deletionTimestamp" not in live["metadata"]
    be.c.patch("v1", "ConfigMap", be.ns, "dry", {"metadata": {"finalizers": None}}, field_manager=FM)
    plain = be.c.create(cm(be, "plain", {"a": "1"}), field_manager=FM)
    assert be.c.delete("v1", "ConfigMap", be.ns, "plain", dry_run=True) is None
    assert be.c.get("v1", "ConfigMap", be.ns, "plain")["metadata"]["uid"] == plain["metadata"]["uid"]


def secret_with_string_data(be: Backend, value: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": be.ns},
        "type": "Opaque",
        "stringData": {"PASSWORD": value},
    }


@pytest.mark.parametrize(
    "make",
    [network_policy, deployment, lambda be: secret_with_string_data(be, "s3cr3t")],
    ids=["network_policy", "deployment", "secret_string_data"],
)
def test_apply_results_agree_between_dry_run_and_real_apply(be: Backend, make: Any) -> None:
    """The sync's apply verdicts (console/engine/sync/apply.py) on the server's own answers: a
    re-apply of what is live writes nothing (no new resourceVersion, managedFields timestamps kept)
    and is `unchanged` both rehearsed and real, even where the server rewrites the manifest
    (defaulted protocol, stringData folded into data); a real change is `configured` in both."""
    from console.engine.sync.apply import apply_task
    from console.engine.sync.options import SyncOptions
    from console.engine.sync.tasks import SyncTask

    def task(obj: Obj) -> SyncTask:
        key = ResourceKey.of(obj)
        try:
            live: Obj | None = be.c.get(obj["apiVersion"], key.kind, key.namespace, key.name)
        except NotFound:
            live = None
        return SyncTask("Sync", 0, copy.deepcopy(obj), live, key)

    def run(obj: Obj, *, dry_run: bool) -> str:
        res = apply_task(be.c, task(obj), SyncOptions(), dry_run=dry_run)
        assert res.ok, res.message
        return res.message.split(" ", 1)[1]

    def applied_fields(o: Obj) -> list[Any]:
        """managedFields written through the main resource (controllers write /status meanwhile)."""
        return [m for m in o["metadata"]["managedFields"] if not m.get("subresource")]

    obj = make(be)
    assert run(obj, dry_run=True) == "created (dry run)"
    assert run(obj, dry_run=False) == "created"
    # managedFields times have second precision: re-apply a few seconds later, so a write that
    # only refreshed them would show
    if be.name == "sim":
        be.c.clock.advance(3)  # type: ignore[attr-defined]
    else:
        time.sleep(2.1)
    assert run(obj, dry_run=True) == "unchanged (dry run)"
    before = task(obj)
    res = apply_task(be.c, before, SyncOptions())
    assert res.ok and res.message.endswith(" unchanged"), res.message
    assert before.live is not None and res.obj is not None
    assert res.obj["metadata"]["resourceVersion"] == before.live["metadata"]["resourceVersion"]  # no write
    assert applied_fields(res.obj) == applied_fields(before.live)

    changed = copy.deepcopy(obj)
    changed["metadata"]["labels"] = {"tier": "backend"}
    assert run(changed, dry_run=True) == "configured (dry run)"
    assert "labels" not in (task(obj).live or {})["metadata"]  # the rehearsal wrote nothing
    assert run(changed, dry_run=False) == "configured"


# ------------------------------------------------------------------ defaulting vs diff normalisation

# What the apiserver fills in for the objects above (everything outside metadata/status that
# the applied manifest did not set). Identical on sim and real, and invisible to the diff.
DEFAULTED: dict[str, set[str]] = {
    "Deployment": {
        "spec.progressDeadlineSeconds",
        "spec.replicas",
        "spec.revisionHistoryLimit",
        "spec.strategy.rollingUpdate.maxSurge",
        "spec.strategy.rollingUpdate.maxUnavailable",
        "spec.strategy.type",
        "spec.template.spec.containers[0].env[0].valueFrom.fieldRef.apiVersion",
        "spec.template.spec.containers[0].imagePullPolicy",
        "spec.template.spec.containers[0].ports[0].protocol",
        "spec.template.spec.containers[0].readinessProbe.failureThreshold",
        "spec.template.spec.containers[0].readinessProbe.httpGet.scheme",
        "spec.template.spec.containers[0].readinessProbe.periodSeconds",
        "spec.template.spec.containers[0].readinessProbe.successThreshold",
        "spec.template.spec.containers[0].readinessProbe.timeoutSeconds",
        "spec.template.spec.containers[0].resources={}",
        "spec.template.spec.containers[0].terminationMessagePath",
        "spec.template.spec.containers[0].terminationMessagePolicy",
        "spec.template.spec.dnsPolicy",
        "spec.template.spec.restartPolicy",
        "spec.template.spec.schedulerName",
        "spec.template.spec.securityContext={}",
        "spec.template.spec.terminationGracePeriodSeconds",
        "spec.template.spec.volumes[0].configMap.defaultMode",
    },
    "Service": {
        "spec.clusterIP",
        "spec.clusterIPs[0]",
        "spec.internalTrafficPolicy",
        "spec.ipFamilies[0]",
        "spec.ipFamilyPolicy",
        "spec.ports[0].protocol",
        "spec.sessionAffinity",
        "spec.type",
    },
    "NetworkPolicy": {"spec.ingress[0].ports[0].protocol", "spec.policyTypes[0]"},
    "Job": {
        "spec.backoffLimit",
        "spec.completionMode",
        "spec.completions",
        "spec.manualSelector",
        "spec.parallelism",
        "spec.podReplacementPolicy",
        "spec.selector.matchLabels.batch.kubernetes.io/controller-uid",
        "spec.suspend",
        "spec.template.metadata.labels.batch.kubernetes.io/controller-uid",
        "spec.template.metadata.labels.batch.kubernetes.io/job-name",
        "spec.template.metadata.labels.controller-uid",
        "spec.template.metadata.labels.job-name",
        "spec.template.spec.containers[0].imagePullPolicy",
        "spec.template.spec.containers[0].resources={}",
        "spec.template.spec.containers[0].terminationMessagePath",
        "spec.template.spec.containers[0].terminationMessagePolicy",
        "spec.template.spec.dnsPolicy",
        "spec.template.spec.schedulerName",
        "spec.template.spec.securityContext={}",
        "spec.template.spec.terminationGracePeriodSeconds",
    },
}


@pytest.mark.parametrize("make", [deployment, service, network_policy, job], ids=lambda f: f.__name__)
def test_server_defaults_are_not_drift(be: Backend, make: Any) -> None:
    desired = make(be)
    live = be.c.apply(desired, field_manager="trueup")
    kind = desired["kind"]
    body = {k: v for k, v in live.items() if k not in ("metadata", "status")}
    wanted = {k: v for k, v in desired.items() if k != "metadata"}
    assert leaf_paths(body) - leaf_paths(wanted) == DEFAULTED[kind]
    assert leaf_paths(wanted) <= leaf_paths(body)
    assert diff_resource(desired, live).modified is False
    # ... and still no drift once read back (the engine diffs what it lists, not apply responses).
    again = be.c.get(desired["apiVersion"], kind, be.ns, desired["metadata"]["name"])
    assert diff_resource(desired, again).modified is False
    if kind == "Job":
        uid = live["metadata"]["uid"]
        assert live["metadata"]["labels"] == {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": "migrate",
            "controller-uid": uid,
            "job-name": "migrate",
        }
        assert live["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    if kind == "Service":
        assert live["status"] == {"loadBalancer": {}}
        assert live["spec"]["clusterIPs"] == [live["spec"]["clusterIP"]]


# ------------------------------------------------------------------ CRDs


def test_crd_before_cr_is_no_kind_match_then_works(be: Backend) -> None:
    group = f"{be.unique('g')}.contract.test"
    widget = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": be.ns},
        "spec": {"size": 1},
    }
    with pytest.raises(NoKindMatch) as exc:
        be.c.apply(widget, field_manager=FM)
    assert exc.value.message == f'no matches for kind "Widget" in version "{group}/v1"'
    assert exc.value.code == 404
    with pytest.raises(NoKindMatch):
        be.c.create(widget, field_manager=FM)
    be.apply_crd(crd(group, "Widget"))
    established = be.c.get(CRD_API, "CustomResourceDefinition", "", f"widgets.{group}")
    conds = {c["type"]: c["status"] for c in established["status"]["conditions"]}
    assert conds["Established"] == "True" and conds["NamesAccepted"] == "True"
    assert established["status"]["acceptedNames"]["kind"] == "Widget"
    made = be.eventually(lambda: be.served(lambda: be.c.apply(widget, field_manager=FM)), "Widget served")
    assert made["metadata"]["generation"] == 1 and made["spec"] == {"size": 1}
    res = be.c.resource_for(f"{group}/v1", "Widget")
    assert (res.plural, res.namespaced) == ("widgets", True)
    assert [o["metadata"]["name"] for o in be.c.list(f"{group}/v1", "Widget", be.ns).items] == ["w"]


# ------------------------------------------------------------------ admission


def test_validating_admission_policy_rejects(be: Backend) -> None:
    policy_name, binding_name = be.unique("contract-policy-"), be.unique("contract-binding-")
    policy = {
        "apiVersion": ADMISSION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy_name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["configmaps"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": "!has(object.data) || !('forbidden' in object.data)",
                    "message": "data key 'forbidden' is not allowed",
                },
                {
                    "expression": "object.metadata.name.startsWith('ok-') || object.metadata.name == 'kube-root-ca.crt'"
                },
            ],
        },
    }
    binding = {
        "apiVersion": ADMISSION,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": binding_name},
        "spec": {
            "policyName": policy_name,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": be.ns}}},
        },
    }
    be.c.create(policy, field_manager=FM)
    be.cleanups.append(lambda: be.c.delete(ADMISSION, "ValidatingAdmissionPolicy", "", policy_name))
    be.c.create(binding, field_manager=FM)
    be.cleanups.append(lambda: be.c.delete(ADMISSION, "ValidatingAdmissionPolicyBinding", "", binding_name))
    prefix = f"ValidatingAdmissionPolicy '{policy_name}' with binding '{binding_name}' denied request: "

    def rejected() -> Invalid | None:  # the real apiserver loads new policies asynchronously
        try:
            be.c.create(cm(be, "ok-1", {"forbidden": "x"}), field_manager=FM, dry_run=True)
        except Invalid as exc:
            return exc
        return None

    err = be.eventually(rejected, "the policy to be enforced")
    assert err.message == f"configmaps \"ok-1\" is forbidden: {prefix}data key 'forbidden' is not allowed"
    assert err.code == 422
    assert causes(err) == [("", "", f"{prefix}data key 'forbidden' is not allowed")]
    with pytest.raises(Invalid) as bad_name:
        be.c.create(cm(be, "bad-1", {"a": "x"}), field_manager=FM)
    assert bad_name.value.message == (
        f'configmaps "bad-1" is forbidden: {prefix}failed expression: '
        "object.metadata.name.startsWith('ok-') || object.metadata.name == 'kube-root-ca.crt'"
    )
    good = be.c.create(cm(be, "ok-2", {"a": "x"}), field_manager=FM)
    assert good["data"] == {"a": "x"}
    with pytest.raises(Invalid) as on_apply:
        be.c.apply(cm(be, "ok-2", {"forbidden": "x"}), field_manager=FM)
    assert on_apply.value.message.endswith("denied request: data key 'forbidden' is not allowed")
    assert be.c.get("v1", "ConfigMap", be.ns, "ok-2")["data"] == {"a": "x"}
    # Other namespaces are not bound, other kinds not matched.
    be.c.create({**cm(be, "bad-2"), "kind": "Secret"}, field_manager=FM)


def test_invalid_cel_expression_is_rejected_at_policy_creation(be: Backend) -> None:
    name = be.unique("contract-broken-")
    policy = {
        "apiVersion": ADMISSION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["configmaps"],
                    }
                ]
            },
            "validations": [{"expression": "object.data.size( <"}],
        },
    }
    with pytest.raises(Invalid) as exc:
        be.c.create(policy, field_manager=FM)
    assert exc.value.message.startswith(
        f'ValidatingAdmissionPolicy.admissionregistration.k8s.io "{name}" is invalid: '
        'spec.validations[0].expression: Invalid value: "object.data.size( <": compilation failed: '
    )
    assert [(c.field, c.reason) for c in exc.value.causes] == [
        ("spec.validations[0].expression", "FieldValueInvalid")
    ]


def vap(name: str, resources: str, group: str = "", **spec: Any) -> Obj:
    """A ValidatingAdmissionPolicy on CREATE/UPDATE of one resource (failurePolicy Fail)."""
    rule = {
        "apiGroups": [group],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": [resources],
    }
    return {
        "apiVersion": ADMISSION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [rule]}, **spec},
    }


def bind_policy(be: Backend, policy: Obj, **spec: Any) -> str:
    """Create the policy and a Deny binding limited to this test's namespace; the denial prefix."""
    binding = be.unique("contract-binding-")
    be.c.create(policy, field_manager=FM)
    name = policy["metadata"]["name"]
    be.cleanups.append(lambda: be.c.delete(ADMISSION, "ValidatingAdmissionPolicy", "", name))
    body = {
        "policyName": name,
        "validationActions": ["Deny"],
        "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": be.ns}}},
        **spec,
    }
    be.c.create(
        {
            "apiVersion": ADMISSION,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": binding},
            "spec": body,
        },
        field_manager=FM,
    )
    be.cleanups.append(lambda: be.c.delete(ADMISSION, "ValidatingAdmissionPolicyBinding", "", binding))
    return f"ValidatingAdmissionPolicy '{name}' with binding '{binding}' denied request: "


def denial(be: Backend, obj: Obj) -> ClusterError | None:
    """The error a dry-run create gets, None if admitted (the real apiserver loads policies, bindings
    and params asynchronously, so callers poll with be.eventually)."""
    try:
        be.c.create(obj, field_manager=FM, dry_run=True)
    except ClusterError as exc:
        return exc
    return None


def test_vap_has_all_string_functions_and_match_conditions(be: Backend) -> None:
    tmpl = "object.spec.template.spec"
    policy = vap(
        be.unique("contract-images-"),
        "deployments",
        "apps",
        matchConditions=[
            {
                "name": "not-exempt",
                "expression": "!('policy.example/exempt' in object.metadata.?labels.orValue({}))",
            },
            {
                "name": "writes",
                "expression": "request.operation in ['CREATE', 'UPDATE'] && !request.userInfo.groups.exists(g, g == 'system:nodes')",
            },
        ],
        validations=[
            {
                "expression": f"has({tmpl}.securityContext.runAsNonRoot) && {tmpl}.securityContext.runAsNonRoot && "
                f'{tmpl}.containers.all(c, c.image.startsWith("registry.example/"))',
                "messageExpression": f'"deployment " + object.metadata.name.upperAscii() + " runs " + '
                f'{tmpl}.containers.map(c, c.image.split("/")[0]).join(", ") + '
                f'(has({tmpl}.securityContext.runAsNonRoot) ? "" : " without runAsNonRoot")',
                "reason": "Forbidden",
            }
        ],
    )
    prefix = bind_policy(be, policy)

    def shaped(*images: str, non_root: bool | None = None, **labels: str) -> Obj:
        d = deployment(be)
        spec = d["spec"]["template"]["spec"]
        spec["containers"] = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
        if non_root is not None:
            spec["securityContext"] = {"runAsNonRoot": non_root}
        if labels:
            d["metadata"]["labels"] = labels
        return d

    err = be.eventually(lambda: denial(be, shaped("registry.invalid/web:1")), "the policy to be enforced")
    assert isinstance(err, Forbidden) and err.code == 403
    assert (
        err.message
        == f'deployments.apps "web" is forbidden: {prefix}deployment WEB runs registry.invalid without runAsNonRoot'
    )
    mixed = denial(be, shaped("registry.example/web:1", "docker.io/library/redis:7", non_root=True))
    assert mixed is not None and mixed.message.endswith(
        "denied request: deployment WEB runs registry.example, docker.io"
    )
    assert denial(be, shaped("registry.example/web:1", "registry.example/side:2", non_root=True)) is None
    assert denial(be, shaped("docker.io/library/redis:7", **{"policy.example/exempt": "yes"})) is None


def test_vap_variables_and_params(be: Backend) -> None:
    policy = vap(
        be.unique("contract-replicas-"),
        "deployments",
        "apps",
        paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
        variables=[
            {"name": "limit", "expression": "int(params.data.maxReplicas)"},
            {"name": "replicas", "expression": "object.spec.replicas"},
        ],
        validations=[
            {
                "expression": "variables.replicas <= variables.limit",
                "messageExpression": "'replicas ' + string(variables.replicas) + ' exceed the limit of ' + "
                "string(variables.limit) + ' set in ' + params.metadata.name",
            }
        ],
    )
    prefix = bind_policy(be, policy, paramRef={"name": "replica-limits", "parameterNotFoundAction": "Deny"})

    def replicas(n: int) -> Obj:
        d = deployment(be)
        d["spec"]["replicas"] = n
        return d

    def denied_with(message: str, n: int) -> Callable[[], ClusterError | None]:
        def check() -> ClusterError | None:
            err = denial(be, replicas(n))
            return err if err is not None and err.message.endswith(message) else None

        return check

    no_params = be.eventually(denied_with("parameterNotFoundAction", 1), "the policy to be enforced")
    assert no_params.message == (
        f'deployments.apps "web" is forbidden: {prefix}failed to configure binding: '
        "no params found for policy binding with `Deny` parameterNotFoundAction"
    )
    assert no_params.code == 422
    be.c.create(cm(be, "replica-limits", {"maxReplicas": "2"}), field_manager=FM)
    over = be.eventually(denied_with("set in replica-limits", 3), "the params to be used")
    assert (
        over.message
        == f'deployments.apps "web" is forbidden: {prefix}replicas 3 exceed the limit of 2 set in replica-limits'
    )
    assert denial(be, replicas(2)) is None
    limits = be.c.get("v1", "ConfigMap", be.ns, "replica-limits")
    be.c.update({**limits, "data": {"maxReplicas": "many"}}, field_manager=FM)
    broken = be.eventually(denied_with("to 'int'", 1), "the changed params to be used")
    assert broken.message == (
        f"deployments.apps \"web\" is forbidden: {prefix}expression 'variables.replicas <= variables.limit' "
        "resulted in error: composited variable \"limit\" fails to evaluate: type conversion error from 'string' to 'int'"
    )


def test_vap_evaluation_errors_are_worded_like_the_apiserver(be: Backend) -> None:
    checks = [
        "!has(object.data.n) || int(object.data.n) / int(object.data.d) >= 0",
        "!has(object.data.list) || object.data.list.split(',')[5] != ''",
        "!has(object.data.re) || 'x'.matches(object.data.re)",
        "!has(object.data.big) || int(object.data.big) + 1 > 0",
    ]
    prefix = bind_policy(
        be, vap(be.unique("contract-errors-"), "configmaps", validations=[{"expression": e} for e in checks])
    )
    cases = [
        ({"n": "1"}, checks[0], "no such key: d"),
        ({"n": "1", "d": "0"}, checks[0], "division by zero"),
        ({"n": "one", "d": "1"}, checks[0], "type conversion error from 'string' to 'int'"),
        ({"list": "a,b"}, checks[1], "index out of bounds: 5"),
        ({"re": "a("}, checks[2], "error parsing regexp: missing closing ): `a(`"),
        ({"big": "9223372036854775807"}, checks[3], "integer overflow"),
    ]
    first = be.eventually(lambda: denial(be, cm(be, "e", cases[0][0])), "the policy to be enforced")
    errors = [first] + [denial(be, cm(be, "e", data)) for data, _, _ in cases[1:]]
    assert [e.message if e else None for e in errors] == [
        f"configmaps \"e\" is forbidden: {prefix}expression '{expr}' resulted in error: {detail}"
        for _, expr, detail in cases
    ]
    assert denial(be, cm(be, "e", {"n": "4", "d": "2", "list": "0,1,2,3,4,5", "re": "x", "big": "1"})) is None


COMPILE_ERRORS = [
    (
        {"validations": [{"expression": "object.metadata.name.startsWith(1)"}]},
        "spec.validations[0].expression",
        "object.metadata.name.startsWith(1)",
        "compilation failed: ERROR: <input>:1:32: found no matching overload for 'startsWith' applied to 'dyn.(int)'\n"
        " | object.metadata.name.startsWith(1)\n | ...............................^",
    ),
    (
        {"validations": [{"expression": "request.operaton == 'CREATE' && params.max > 1"}]},
        "spec.validations[0].expression",
        "request.operaton == 'CREATE' && params.max > 1",
        "compilation failed: ERROR: <input>:1:8: undefined field 'operaton'\n"
        " | request.operaton == 'CREATE' && params.max > 1\n | .......^\n"
        "ERROR: <input>:1:33: undeclared reference to 'params' (in container '')\n"
        " | request.operaton == 'CREATE' && params.max > 1\n | ................................^",
    ),
    (
        {"validations": [{"expression": "object.data.size( <"}]},
        "spec.validations[0].expression",
        "object.data.size( <",
        "compilation failed: ERROR: <input>:1:19: Syntax error: mismatched input '<' expecting {'[', '{', '(', ')', "
        "'.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n"
        " | object.data.size( <\n | ..................^\n"
        "ERROR: <input>:1:20: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', "
        "'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n"
        " | object.data.size( <\n | ...................^",
    ),
    (
        {"validations": [{"expression": "object.data.enabled"}]},
        "spec.validations[0].expression",
        "object.data.enabled",
        "must evaluate to bool but got dyn",
    ),
    (
        {"validations": [{"expression": "true", "messageExpression": "object.metadata.name.size()"}]},
        "spec.validations[0].messageExpression",
        "object.metadata.name.size()",
        "must evaluate to string but got int",
    ),
    (
        {
            "variables": [{"name": "size", "expression": "object.data.size()"}],
            "validations": [{"expression": "variables.size + variables.name > 1"}],
        },
        "spec.validations[0].expression",
        "variables.size + variables.name > 1",
        "compilation failed: ERROR: <input>:1:27: undefined field 'name'\n"
        " | variables.size + variables.name > 1\n | ..........................^",
    ),
    (
        {
            "validations": [{"expression": "true"}],
            "matchConditions": [{"name": "v", "expression": "variables.x"}],
        },
        "spec.matchConditions[0].expression",
        "variables.x",
        "compilation failed: ERROR: <input>:1:1: undeclared reference to 'variables' (in container '')\n"
        " | variables.x\n | ^",
    ),
]


@pytest.mark.parametrize(
    ("spec", "path", "expr", "detail"), COMPILE_ERRORS, ids=[c[1] + ":" + c[2] for c in COMPILE_ERRORS]
)
def test_vap_compile_errors_are_the_apiservers(
    be: Backend, spec: Obj, path: str, expr: str, detail: str
) -> None:
    name = be.unique("contract-compile-")
    with pytest.raises(Invalid) as exc:
        be.c.create(vap(name, "configmaps", **spec), field_manager=FM)
    quoted = expr.replace('"', '\\"')
    assert exc.value.message == (
        f'ValidatingAdmissionPolicy.admissionregistration.k8s.io "{name}" is invalid: '
        f'{path}: Invalid value: "{quoted}": {detail}'
    )


def test_resource_quota_exceeded(be: Backend) -> None:
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "q", "namespace": be.ns},
        "spec": {"hard": {"count/secrets": "1", "count/configmaps": "3"}},
    }
    be.c.create(quota, field_manager=FM)

    def counted() -> Obj | None:  # the quota controller computes usage first
        status = be.c.get("v1", "ResourceQuota", be.ns, "q").get("status") or {}
        return status if status.get("used") else None

    status = be.eventually(counted, "quota usage")
    assert status == {
        "hard": {"count/secrets": "1", "count/configmaps": "3"},
        "used": {"count/secrets": "0", "count/configmaps": "1"},  # kube-root-ca.crt
    }
    be.c.create({**cm(be, "s1"), "kind": "Secret"}, field_manager=FM)
    with pytest.raises(Forbidden) as exc:
        be.c.create({**cm(be, "s2"), "kind": "Secret"}, field_manager=FM)
    assert exc.value.message == (
        'secrets "s2" is forbidden: exceeded quota: q, requested: count/secrets=1, '
        "used: count/secrets=1, limited: count/secrets=1"
    )
    assert exc.value.code == 403
    with pytest.raises(Forbidden) as applied:
        be.c.apply({**cm(be, "s3"), "kind": "Secret"}, field_manager=FM)
    assert applied.value.message.startswith('secrets "s3" is forbidden: exceeded quota: q, ')
    with pytest.raises(Forbidden):
        be.c.create({**cm(be, "s4"), "kind": "Secret"}, field_manager=FM, dry_run=True)
    be.c.create(cm(be, "c1"), field_manager=FM)
    be.c.create(cm(be, "c2"), field_manager=FM)
    with pytest.raises(Forbidden) as cms:
        be.c.create(cm(be, "c3"), field_manager=FM)
    assert cms.value.message == (
        'configmaps "c3" is forbidden: exceeded quota: q, requested: count/configmaps=1, '
        "used: count/configmaps=3, limited: count/configmaps=3"
    )
    # Updates of existing objects do not count; freeing one makes room again.
    be.c.patch("v1", "ConfigMap", be.ns, "c1", {"data": {"k": "v"}}, field_manager=FM)
    be.c.delete("v1", "Secret", be.ns, "s1")
    be.eventually(
        lambda: be.served(lambda: _created(be, {**cm(be, "s5"), "kind": "Secret"})),
        "quota to free the secret",
    )


def _created(be: Backend, obj: Obj) -> Obj | None:
    try:
        return be.c.create(obj, field_manager=FM)
    except Forbidden:
        return None


# ------------------------------------------------------------------ validation


def test_immutable_fields(be: Backend) -> None:
    made = be.c.apply(job(be), field_manager=FM)
    uid = made["metadata"]["uid"]
    manual = job(be)
    manual["spec"]["manualSelector"] = True
    manual["spec"]["selector"] = {"matchLabels": {"job-name": "migrate"}}
    with pytest.raises(Invalid) as exc:
        be.c.apply(manual, field_manager=FM, force=True)
    assert exc.value.message == (
        'Job.batch "migrate" is invalid: spec.selector: Invalid value: '
        '{"matchLabels":{"job-name":"migrate"}}: field is immutable'
    )
    assert causes(exc.value) == [
        (
            "spec.selector",
            "FieldValueInvalid",
            'Invalid value: {"matchLabels":{"job-name":"migrate"}}: field is immutable',
        )
    ]
    assert be.c.get("batch/v1", "Job", be.ns, "migrate")["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
    }

    svc = be.c.create(service(be), field_manager=FM)
    moved = copy.deepcopy(svc)
    moved["spec"]["clusterIP"] = "10.0.0.99"
    moved["spec"]["clusterIPs"] = ["10.0.0.99"]
    with pytest.raises(Invalid) as ip:
        be.c.update(moved, field_manager=FM)
    assert ip.value.message == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.0.0.99"]: may not change once set'
    )
    assert causes(ip.value) == [
        ("spec.clusterIPs[0]", "FieldValueInvalid", 'Invalid value: ["10.0.0.99"]: may not change once set')
    ]


# ------------------------------------------------------------------ RBAC


def test_forbidden_for_the_engine_identity(be: Backend) -> None:
    name = be.unique("contract-role-")
    role = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": []}
    with pytest.raises(Forbidden) as created:
        be.engine.create(role, field_manager=FM)
    assert created.value.message == (
        'clusterroles.rbac.authorization.k8s.io is forbidden: User "trueup-engine" cannot create '
        'resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope'
    )
    assert created.value.code == 403
    with pytest.raises(Forbidden) as applied:
        be.engine.apply(role, field_manager=FM)
    assert applied.value.message == (
        f'clusterroles.rbac.authorization.k8s.io "{name}" is forbidden: User "trueup-engine" cannot patch '
        'resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope'
    )
    with pytest.raises(Forbidden) as deleted:
        be.engine.delete(RBAC, "ClusterRoleBinding", "", "trueup-engine:read")
    assert deleted.value.message == (
        'clusterrolebindings.rbac.authorization.k8s.io "trueup-engine:read" is forbidden: User "trueup-engine" '
        'cannot delete resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope'
    )
    # Reads everywhere, writes of namespaced workloads and Roles are allowed.
    with pytest.raises(NotFound):
        be.engine.get(RBAC, "ClusterRole", "", name)
    assert be.engine.get("v1", "Namespace", "", be.ns)["metadata"]["name"] == be.ns
    assert be.engine.create(cm(be, "by-engine", {"k": "v"}), field_manager="trueup")["data"] == {"k": "v"}
    ns_role = {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": "reader", "namespace": be.ns},
        "rules": [],
    }
    assert be.engine.apply(ns_role, field_manager="trueup")["metadata"]["name"] == "reader"


def test_engine_writes_custom_resources_of_new_groups_only_once_granted(be: Backend) -> None:
    group = f"{be.unique('rbac')}.contract.test"
    be.apply_crd(crd(group, "Gadget"))
    gadget = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": be.ns}}
    be.eventually(lambda: be.served(lambda: be.engine.resource_for(f"{group}/v1", "Gadget")), "Gadget served")
    with pytest.raises(Forbidden) as exc:
        be.engine.create(gadget, field_manager="trueup")
    assert exc.value.message == (
        f'gadgets.{group} is forbidden: User "trueup-engine" cannot create resource "gadgets" in API group '
        f'"{group}" in the namespace "{be.ns}"'
    )
    assert be.engine.list(f"{group}/v1", "Gadget", be.ns).items == []  # reads were never restricted
    be.grant_engine_write(group)

    def created() -> Obj | None:  # the real RBAC authorizer sees new bindings through an informer
        try:
            return be.engine.create(gadget, field_manager="trueup")
        except Forbidden:
            return None

    assert be.eventually(created, "the grant to take effect")["metadata"]["name"] == "g"
    assert be.engine.delete(f"{group}/v1", "Gadget", be.ns, "g") is None


# ------------------------------------------------------------------ deletion and garbage collection


def _owned(be: Backend, name: str, owner: Obj, finalizers: list[str] | None = None) -> Obj:
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "blockOwnerDeletion": True,
    }
    md: dict[str, Any] = {"ownerReferences": [ref]}
    if finalizers:
        md["finalizers"] = finalizers
    return be.c.create(cm(be, name, {"k": "v"}, **md), field_manager=FM)


def test_background_deletion_collects_dependents(be: Backend) -> None:
    parent = be.c.create(cm(be, "bg", {"k": "v"}), field_manager=FM)
    _owned(be, "bg-child", parent)
    assert be.c.delete("v1", "ConfigMap", be.ns, "bg", propagation_policy="Background") is None
    assert be.gone("v1", "ConfigMap", "bg")
    be.eventually(lambda: be.gone("v1", "ConfigMap", "bg-child"), "the GC to delete the dependent")


def test_foreground_deletion_waits_for_blocking_dependents(be: Backend) -> None:
    parent = be.c.create(cm(be, "fg", {"k": "v"}), field_manager=FM)
    _owned(be, "fg-held", parent, finalizers=["contract.test/hold"])
    _owned(be, "fg-free", parent)
    marked = be.c.delete("v1", "ConfigMap", be.ns, "fg", propagation_policy="Foreground")
    assert marked is not None and marked["metadata"]["deletionTimestamp"]
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 0
    be.eventually(lambda: be.gone("v1", "ConfigMap", "fg-free"), "the free dependent to go")

    def held_marked() -> Obj | None:
        held = be.c.get("v1", "ConfigMap", be.ns, "fg-held")
        return held if held["metadata"].get("deletionTimestamp") else None

    held = be.eventually(held_marked, "the held dependent to be marked for deletion")
    assert held["metadata"]["finalizers"] == ["contract.test/hold"]
    owner = be.c.get("v1", "ConfigMap", be.ns, "fg")  # blocked by fg-held (blockOwnerDeletion)
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]
    be.c.patch("v1", "ConfigMap", be.ns, "fg-held", {"metadata": {"finalizers": None}}, field_manager=FM)
    assert be.gone("v1", "ConfigMap", "fg-held")
    be.eventually(lambda: be.gone("v1", "ConfigMap", "fg"), "the owner to go after its dependents")


def test_finalizers_hold_and_orphan_keeps_dependents(be: Backend) -> None:
    held = be.c.create(
        cm(be, "held", {"k": "v"}, finalizers=["contract.test/a", "contract.test/b"]), field_manager=FM
    )
    marked = be.c.delete("v1", "ConfigMap", be.ns, "held")
    assert marked is not None and marked["metadata"]["finalizers"] == ["contract.test/a", "contract.test/b"]
    live = be.c.get("v1", "ConfigMap", be.ns, "held")
    assert live["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]
    assert int(live["metadata"]["resourceVersion"]) > int(held["metadata"]["resourceVersion"])
    live["metadata"]["finalizers"] = ["contract.test/b"]
    be.c.update(live, field_manager=FM)
    assert be.c.get("v1", "ConfigMap", be.ns, "held")["metadata"]["finalizers"] == ["contract.test/b"]
    again = be.c.delete("v1", "ConfigMap", be.ns, "held")
    assert (
        again is not None
        and again["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]
    )
    ops = [{"op": "remove", "path": "/metadata/finalizers"}]
    be.c.patch("v1", "ConfigMap", be.ns, "held", ops, patch_type="json", field_manager=FM)
    assert be.gone("v1", "ConfigMap", "held")

    parent = be.c.create(cm(be, "or", {"k": "v"}), field_manager=FM)
    _owned(be, "or-child", parent)
    orphaning = be.c.delete("v1", "ConfigMap", be.ns, "or", propagation_policy="Orphan")
    assert orphaning is not None and orphaning["metadata"]["finalizers"] == ["orphan"]
    be.eventually(lambda: be.gone("v1", "ConfigMap", "or"), "the orphaning owner to go")
    child = be.c.get("v1", "ConfigMap", be.ns, "or-child")
    assert "ownerReferences" not in child["metadata"]


# ------------------------------------------------------------------ watch


def test_watch_events_from_a_resource_version(be: Backend) -> None:
    start = be.c.list("v1", "ConfigMap", be.ns).resource_version
    be.c.create(cm(be, "w1", {"k": "1"}), field_manager=FM)
    be.c.patch("v1", "ConfigMap", be.ns, "w1", {"data": {"k": "2"}}, field_manager=FM)
    be.c.create(cm(be, "w2", {"k": "1"}, finalizers=["contract.test/hold"]), field_manager=FM)
    be.c.delete("v1", "ConfigMap", be.ns, "w1")
    be.c.delete("v1", "ConfigMap", be.ns, "w2")
    seen: list[tuple[str, str, Any]] = []
    rvs: list[int] = []
    stream = be.c.watch("v1", "ConfigMap", be.ns, resource_version=start, timeout_seconds=3)
    for ev in stream:
        if ev.type == "BOOKMARK":
            continue
        md = ev.object["metadata"]
        seen.append((ev.type, md["name"], ev.object.get("data")))
        rvs.append(int(md["resourceVersion"]))
        assert ev.object["kind"] == "ConfigMap" and ev.object["apiVersion"] == "v1"
        if len(seen) == 5:
            break
    close = getattr(stream, "close", None)
    if close is not None:
        close()
    assert seen == [
        ("ADDED", "w1", {"k": "1"}),
        ("MODIFIED", "w1", {"k": "2"}),
        ("ADDED", "w2", {"k": "1"}),
        ("DELETED", "w1", {"k": "2"}),  # DELETED carries the last state
        ("MODIFIED", "w2", {"k": "1"}),  # deletionTimestamp set, finalizer holds it
    ]
    assert rvs == sorted(rvs) and rvs[0] > int(start)


def test_watch_from_an_expired_resource_version_raises_gone(be: Backend) -> None:
    # A kind served since just now has no history before it: resourceVersion 1 is too old.
    group = f"{be.unique('gone')}.contract.test"
    be.apply_crd(crd(group, "Relic"))

    def attempt() -> Gone | None:
        try:
            for _ev in be.c.watch(f"{group}/v1", "Relic", be.ns, resource_version="1", timeout_seconds=2):
                pass
        except Gone as exc:
            return exc
        return None

    def gone() -> Gone | None:
        return be.served(attempt)

    err = be.eventually(gone, "Gone for resourceVersion 1")
    assert err.message.startswith("too old resource version: 1 (")
    assert err.code == 410
