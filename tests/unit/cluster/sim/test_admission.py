"""Sim-only parts of admission and RBAC (the shared behaviour is in tests/integration/test_contract.py):
the Kubernetes CEL environment built on the CEL library and its wording of errors, what the sim
refuses loudly, failurePolicy, Warn, compile-once caching, quota recounts, RoleBindings with
resourceNames and subresources."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.cluster.api import Forbidden, Invalid
from console.cluster.sim import SimCluster, admission
from console.cluster.sim.cel import SIM_LIMIT_NOTE, CelError, bind, env_for

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


OBJ = {
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "data": {"a": "1"},
    "spec": {"replicas": 3, "ports": [8080, 80, 443], "images": ["reg.example/a:1", "docker.io/b"]},
}
REQUEST = {"operation": "CREATE", "namespace": "default", "userInfo": {"username": "ann"}}


def evaluate(expr: str, params: bool = False) -> Any:
    program = env_for(params=params).compile(expr)
    return program.eval(bind({"object": OBJ, "oldObject": None, "request": REQUEST, "params": None}))


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("object.spec.replicas <= 5 && object.metadata.name.startsWith('w')", True),
        ("has(object.status) || size(object.data) == 1", True),
        ("'a' in object.data && !('b' in object.data)", True),
        ("object.metadata.labels.all(k, k.matches('^[a-z]+$'))", True),
        ("[1, 2, 3].exists_one(x, x * 2 == 6) ? 'yes' : 'no'", "yes"),
        ("object.missing == 1 || true", True),  # || absorbs the error when the other side decides
        ("object.data.a + '-' + string(object.spec.replicas % 2)", "1-1"),
        ("object.spec.replicas == 3.0 && object.spec.replicas < 3.5 && 1 < 1.5", True),  # cross-type numbers
        # strings ext v2, lists ext, optional syntax, two-variable comprehensions, sets
        ("object.metadata.name.upperAscii() + '/' + 'A,B'.lowerAscii().split(',').join('+')", "WEB/a+b"),
        ("'%s has %d ports'.format([object.metadata.name, object.spec.ports.size()])", "web has 3 ports"),
        ("object.spec.ports.sort()", [80, 443, 8080]),
        ("object.?status.?phase.orValue('none')", "none"),
        ("object.metadata.labels.all(k, v, k == v)", False),
        ("sets.contains(object.spec.ports, [80, 443])", True),
        # Kubernetes' list and regex libraries
        ("object.spec.ports.sum() + object.spec.ports.min() + object.spec.ports.max()", 8603 + 80 + 8080),
        ("object.spec.ports.isSorted() || [1, 2].isSorted()", True),
        ("object.spec.images.map(i, i.find('^[^/]+')).join(',')", "reg.example,docker.io"),
        ("'a1b22c333'.findAll('[0-9]+', 2)", ["1", "22"]),
        ("request.operation == 'CREATE' && request.userInfo.username == 'ann'", True),
    ],
)
def test_kubernetes_cel_environment_evaluates(expr: str, want: Any) -> None:
    assert evaluate(expr) == want


@pytest.mark.parametrize(
    ("expr", "error"),
    [  # worded as cel-go (and so the apiserver) words them; checked against it in the contract suite
        ("object.missing == 1", "no such key: missing"),
        ("object.spec.replicas < 'x'", "no such overload"),
        ("object.spec.replicas / 0 == 1", "division by zero"),
        ("object.spec.ports[7] == 1", "index out of bounds: 7"),
        ("int(object.metadata.name) == 1", "type conversion error from 'string' to 'int'"),
        ("9223372036854775807 + object.spec.replicas > 0", "integer overflow"),
        (
            "object.metadata.name.startsWith(object.spec.replicas)",
            "no such overload: startsWith(string, int)",
        ),
        ("[].min() == 1", "min called on empty list"),
        ("object.spec.images.sum() == ''", "no such overload"),  # lists.go adds to int 0
        ("lists.range(20000).all(x, x >= 0)", "Iteration budget exceeded"),  # a runaway policy stops
        (
            "object.metadata.name.matches(object.metadata.name + '(')",
            "error parsing regexp: missing closing ): `web(`",
        ),
        ("'x'.find(object.metadata.name + '[')", "Illegal regex: unterminated character set at position 3"),
    ],
)
def test_evaluation_errors_are_worded_like_cel_go(expr: str, error: str) -> None:
    with pytest.raises(CelError) as exc:
        evaluate(expr)
    assert str(exc.value) == error


def test_compile_errors_are_the_checkers_own() -> None:
    env = env_for(params=False)
    with pytest.raises(CelError) as typed:
        env.compile("object.metadata.name.startsWith(1) || request.operaton == 'CREATE'")
    assert str(typed.value) == (
        "compilation failed: ERROR: <input>:1:32: found no matching overload for 'startsWith' applied to "
        "'dyn.(int)'\n | object.metadata.name.startsWith(1) || request.operaton == 'CREATE'\n"
        " | ...............................^\n"
        "ERROR: <input>:1:46: undefined field 'operaton'\n"
        " | object.metadata.name.startsWith(1) || request.operaton == 'CREATE'\n"
        " | .............................................^"
    )
    with pytest.raises(CelError, match=r"^must evaluate to bool but got dyn$"):
        env.compile("object.spec.paused", ("bool",))
    with pytest.raises(CelError, match=r"undeclared reference to 'params' \(in container ''\)"):
        env.compile("params.max > 1")
    assert env_for(params=True).compile("params.max > 1").output == "bool"


@pytest.mark.parametrize(
    "expr",
    [
        "quantity(object.spec.memory).isGreaterThan(quantity('1Gi'))",
        "url(object.spec.href).getScheme() == 'https'",
        "object.spec.ports.indexOf(80) == 0",
        "[duration('1s'), duration('2s')].sum() > duration('2s')",
    ],
)
def test_kubernetes_libraries_the_sim_lacks_are_refused_with_a_note(expr: str) -> None:
    with pytest.raises(CelError) as exc:
        env_for(params=False).compile(expr)
    assert str(exc.value).startswith("compilation failed: ERROR: <input>:1:")
    assert str(exc.value).endswith(SIM_LIMIT_NOTE)


def _policy(sim: SimCluster, expression: str, failure: str = "Fail", **spec: Any) -> None:
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
                **spec,
            },
        },
        field_manager="t",
    )


def _binding(sim: SimCluster, *actions: str) -> None:
    sim.create(
        {
            "apiVersion": ADM,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "b"},
            "spec": {"policyName": "p", "validationActions": list(actions or ["Deny"])},
        },
        field_manager="t",
    )


def test_policy_the_sim_cannot_evaluate_is_refused_when_created(sim: SimCluster) -> None:
    with pytest.raises(Invalid) as exc:
        _policy(sim, "quantity(object.data.limit).isLessThan(quantity('1Gi'))")
    assert exc.value.causes[0].field == "spec.validations[0].expression"
    assert "compilation failed" in exc.value.message and exc.value.message.endswith(SIM_LIMIT_NOTE)
    with pytest.raises(Invalid) as optional:
        _policy(sim, "true", variables=[{"name": "maybe", "expression": "object.data.?x"}])
    assert optional.value.causes[0].field == "spec.variables[0].expression"
    assert "optional-typed variables are not supported by the sim" in optional.value.message


def test_failure_policy_decides_what_an_expression_error_does(sim: SimCluster) -> None:
    _policy(sim, "object.data.must == 'x'")
    _binding(sim)
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


def test_match_condition_errors_are_reported_together_and_false_wins(sim: SimCluster) -> None:
    conditions = [
        {"name": "one", "expression": "object.data.x == 'y'"},
        {"name": "two", "expression": "object.data.z == 'y'"},
    ]
    _policy(sim, "false", matchConditions=conditions)
    _binding(sim)
    with pytest.raises(Invalid) as exc:
        sim.create(cm("a"), field_manager="t")
    assert exc.value.message.endswith(
        "denied request: [expression 'object.data.x == 'y'' resulted in error: no such key: x, "
        "expression 'object.data.z == 'y'' resulted in error: no such key: z]"
    )
    assert sim.create(cm("b", x="n"), field_manager="t")["data"] == {"x": "n"}  # one condition false: skipped


def test_warn_admits_and_logs_what_deny_would_say(sim: SimCluster, caplog: pytest.LogCaptureFixture) -> None:
    _policy(sim, "object.data.size() < 2")
    _binding(sim, "Warn", "Audit")
    with caplog.at_level(logging.INFO, logger="console.cluster.sim.admission"):
        assert sim.create(cm("a", x="1", y="2"), field_manager="t")["data"] == {"x": "1", "y": "2"}
    assert caplog.messages == [
        "Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': failed expression: object.data.size() < 2"
    ]


def test_params_by_selector_and_configuration_errors(sim: SimCluster) -> None:
    for name, cap in (("small", "2"), ("large", "5")):
        limits = cm(name, max=cap)
        limits["metadata"]["labels"] = {"limits": "yes"}
        sim.create(limits, field_manager="t")
    _policy(
        sim, "object.data.size() <= int(params.data.max)", paramKind={"apiVersion": "v1", "kind": "ConfigMap"}
    )
    sim.create(
        {
            "apiVersion": ADM,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "b"},
            "spec": {
                "policyName": "p",
                "validationActions": ["Deny"],
                "paramRef": {
                    "selector": {"matchLabels": {"limits": "yes"}},
                    "parameterNotFoundAction": "Allow",
                },
            },
        },
        field_manager="t",
    )
    assert sim.create(cm("two", a="1", b="2"), field_manager="t", dry_run=True)["data"] == {
        "a": "1",
        "b": "2",
    }
    with pytest.raises(Invalid) as exc:  # evaluated once per parameter object: the smaller cap denies
        sim.create(cm("three", a="1", b="2", c="3"), field_manager="t", dry_run=True)
    assert exc.value.message.endswith(
        "denied request: failed expression: object.data.size() <= int(params.data.max)"
    )
    policy = sim.get(ADM, "ValidatingAdmissionPolicy", "", "p")
    policy["spec"]["paramKind"] = {"apiVersion": "example.com/v1", "kind": "Limits"}
    sim.update(policy, field_manager="t")
    with pytest.raises(Invalid) as unknown:
        sim.create(cm("x"), field_manager="t", dry_run=True)
    assert unknown.value.message == (
        "configmaps \"x\" is forbidden: ValidatingAdmissionPolicy 'p' denied request: failed to configure policy: "
        "failed to find resource referenced by paramKind: 'example.com/v1, Kind=Limits'"
    )
    policy = sim.get(ADM, "ValidatingAdmissionPolicy", "", "p")
    policy["spec"]["failurePolicy"] = "Ignore"
    sim.update(policy, field_manager="t")
    assert sim.create(cm("y"), field_manager="t", dry_run=True)["metadata"]["name"] == "y"


def test_namespace_object_and_audit_annotation_errors(sim: SimCluster) -> None:
    sim.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "frozen", "labels": {"tier": "frozen"}},
        },
        field_manager="t",
    )
    _policy(
        sim,
        "namespaceObject.metadata.labels.?tier.orValue('') != 'frozen'",
        auditAnnotations=[{"key": "owner", "valueExpression": "string(object.metadata.labels.owner)"}],
    )
    _binding(sim, "Deny", "Audit")
    frozen = {**cm("a"), "metadata": {"name": "a", "namespace": "frozen", "labels": {"owner": "me"}}}
    with pytest.raises(Invalid, match="failed expression: namespaceObject.metadata.labels"):
        sim.create(frozen, field_manager="t", dry_run=True)
    owned = {**cm("b"), "metadata": {"name": "b", "namespace": "default", "labels": {"owner": "me"}}}
    assert sim.create(owned, field_manager="t", dry_run=True)["metadata"]["labels"] == {"owner": "me"}
    binding = sim.get(ADM, "ValidatingAdmissionPolicyBinding", "", "b")
    binding["spec"]["validationActions"] = ["Audit"]  # failed validations no longer deny ...
    sim.update(binding, field_manager="t")
    assert sim.create(frozen, field_manager="t", dry_run=True)["metadata"]["namespace"] == "frozen"
    with pytest.raises(Invalid) as exc:  # ... but an auditAnnotation that errors still does
        sim.create(cm("c"), field_manager="t", dry_run=True)
    assert exc.value.message.endswith(
        "denied request: expression 'string(object.metadata.labels.owner)' resulted in error: no such key: labels"
    )
    sim.delete(ADM, "ValidatingAdmissionPolicy", "", "p")
    with pytest.raises(Invalid) as empty:
        _policy(sim, " ")
    assert [(c.field, c.message) for c in empty.value.causes] == [
        ("spec.validations[0].expression", "Required value: expression is not specified")
    ]


def test_policy_is_compiled_once_per_generation(sim: SimCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    _policy(sim, "object.data.size() < 3")
    _binding(sim)
    compiled: list[str] = []
    real = admission.compile_policy

    def counting(policy: dict[str, Any]) -> admission.CompiledPolicy:
        compiled.append(policy["metadata"]["resourceVersion"])
        return real(policy)

    monkeypatch.setattr(admission, "compile_policy", counting)
    for i in range(5):
        sim.create(cm(f"a{i}"), field_manager="t", dry_run=True)
    assert len(compiled) == 1
    policy = sim.get(ADM, "ValidatingAdmissionPolicy", "", "p")
    policy["spec"]["validations"][0]["expression"] = "object.data.size() < 1"
    sim.update(policy, field_manager="t")
    compiled.clear()
    for i in range(3):
        with pytest.raises(Invalid, match="failed expression: object.data.size\\(\\) < 1"):
            sim.create(cm(f"b{i}", x="1"), field_manager="t", dry_run=True)
    assert (
        len(compiled) == 1
        and compiled[0] == sim.get(ADM, "ValidatingAdmissionPolicy", "", "p")["metadata"]["resourceVersion"]
    )


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
