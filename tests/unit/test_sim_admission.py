"""Sim-only parts of admission and RBAC (the shared behaviour is in tests/integration/test_contract.py):
the CEL subset and its loud refusal of what it cannot evaluate, failurePolicy, quota recounts,
RoleBindings with resourceNames and subresources."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.cluster.api import Forbidden, Invalid
from console.cluster.sim import SimCluster
from console.cluster.sim.cel import CelError, compile_expr

ADM = "admissionregistration.k8s.io/v1"
RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture
def sim(tmp_path: Path) -> SimCluster:
    c = SimCluster(tmp_path / "c.db", "sim", "https://127.0.0.1:6443")
    c.clock.freeze(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    return c


def cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    }


OBJ = {"metadata": {"name": "web", "labels": {"app": "web"}}, "data": {"a": "1"}, "spec": {"replicas": 3}}


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("object.spec.replicas <= 5 && object.metadata.name.startsWith('w')", True),
        ("has(object.status) || size(object.data) == 1", True),
        ("'a' in object.data && !('b' in object.data)", True),
        ("object.metadata.labels.all(k, k.matches('^[a-z]+$'))", True),
        ("[1, 2, 3].exists(x, x * 2 == 6) ? 'yes' : 'no'", "yes"),
        ("object.missing == 1 || true", True),  # || absorbs the error when the other side decides
        ("object.data.a + '-' + string(object.spec.replicas % 2)", "1-1"),
        ("1 == 'a'", False),
    ],
)
def test_cel_subset_evaluates(expr: str, want: Any) -> None:
    assert compile_expr(expr).eval({"object": OBJ, "oldObject": None, "request": {}}) == want


def test_cel_errors_and_unsupported_constructs() -> None:
    with pytest.raises(CelError, match="no such key: missing"):
        compile_expr("object.missing == 1").eval({"object": OBJ})
    with pytest.raises(CelError, match="no such overload"):
        compile_expr("object.spec.replicas < 'x'").eval({"object": OBJ})
    for unsupported in ("params.max > 1", "object.metadata.name.lowerAscii() == 'x'", "quantity('1Gi') > 0"):
        with pytest.raises(CelError, match="not in the sim's CEL subset"):
            compile_expr(unsupported)
    with pytest.raises(CelError, match="Syntax error"):
        compile_expr("object.data.size( <")


def _policy(sim: SimCluster, expression: str, failure: str = "Fail") -> None:
    sim.create(
        {
            "apiVersion": ADM,
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "p"},
            "spec": {
                "failurePolicy": failure,
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
                "validations": [{"expression": expression}],
            },
        },
        field_manager="t",
    )
    sim.create(
        {
            "apiVersion": ADM,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "b"},
            "spec": {"policyName": "p", "validationActions": ["Deny"]},
        },
        field_manager="t",
    )


def test_policy_the_sim_cannot_evaluate_is_refused_when_created(sim: SimCluster) -> None:
    with pytest.raises(Invalid) as exc:
        _policy(sim, "object.metadata.name.lowerAscii() == 'x'")
    assert exc.value.causes[0].field == "spec.validations[0].expression"
    assert "compilation failed" in exc.value.message and "not in the sim's CEL subset" in exc.value.message


def test_failure_policy_decides_what_an_expression_error_does(sim: SimCluster) -> None:
    _policy(sim, "object.data.must == 'x'")
    with pytest.raises(Invalid) as exc:
        sim.create(cm("a", other="1"), field_manager="t")
    assert exc.value.message == (
        "configmaps \"a\" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: "
        "expression 'object.data.must == 'x'' resulted in error: no such key: must"
    )
    assert sim.create(cm("b", must="x"), field_manager="t")["data"] == {"must": "x"}
    policy = sim.get(ADM, "ValidatingAdmissionPolicy", "", "p")
    policy["spec"]["failurePolicy"] = "Ignore"
    sim.update(policy, field_manager="t")
    assert sim.create(cm("c", other="1"), field_manager="t")["data"] == {"other": "1"}


def test_quota_is_recounted_after_deletes_and_not_charged_by_dry_run(sim: SimCluster) -> None:
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "default"}}
    sim.create({**quota, "spec": {"hard": {"configmaps": "3", "requests.cpu": "1"}}}, field_manager="t")
    base = int(sim.get("v1", "ResourceQuota", "default", "q")["status"]["used"]["configmaps"])
    sim.create(cm("x"), field_manager="t", dry_run=True)
    sim.create(cm("y"), field_manager="t")
    assert sim.get("v1", "ResourceQuota", "default", "q")["status"]["used"] == {"configmaps": str(base + 1)}
    sim.delete("v1", "ConfigMap", "default", "y")
    assert sim.get("v1", "ResourceQuota", "default", "q")["status"]["used"] == {"configmaps": str(base)}


def test_role_bindings_resource_names_and_subresources(sim: SimCluster, tmp_path: Path) -> None:
    sim.create(cm("mine"), field_manager="t")
    sim.create(cm("theirs"), field_manager="t")
    role = {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": "r", "namespace": "default"},
        "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["mine"], "verbs": ["get"]}
        ],
    }
    binding = {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": {"name": "rb", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}],
    }
    sim.create(role, field_manager="t")
    sim.create(binding, field_manager="t")
    dev = SimCluster(tmp_path / "c.db", "sim", sim.server, user="ann", groups=("devs",))
    assert dev.get("v1", "ConfigMap", "default", "mine")["metadata"]["name"] == "mine"
    with pytest.raises(Forbidden) as exc:
        dev.get("v1", "ConfigMap", "default", "theirs")
    assert exc.value.message == (
        'configmaps "theirs" is forbidden: User "ann" cannot get resource "configmaps" in API group "" '
        'in the namespace "default"'
    )
    with pytest.raises(Forbidden) as listing:
        dev.list("v1", "ConfigMap", "default")
    assert listing.value.message.startswith('configmaps is forbidden: User "ann" cannot list resource')
    with pytest.raises(Forbidden) as status:
        dev.patch("apps/v1", "Deployment", "kube-system", "x", {}, field_manager="t", subresource="status")
    assert (
        'cannot patch resource "deployments/status" in API group "apps" in the namespace "kube-system"'
        in (status.value.message)
    )
    admin = SimCluster(tmp_path / "c.db", "sim", sim.server, user="root", groups=("system:masters",))
    assert len(admin.list("v1", "ConfigMap", "default").items) >= 2
