"""Normalisation rules (argocd-features.md §3.1, §3.3): one row per rule."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from console.engine.diff.errors import IgnoreRuleError
from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.managedfields import remove_manager_fields
from console.engine.diff.normalize import LAST_APPLIED, normalize, stable_hash
from console.engine.diff.paths import delete_paths, parse_pointer, to_pointer


def _cm(**extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "default"},
        "data": {"k": "v"},
    }
    obj.update(extra)
    return obj


def _with_md(**md: Any) -> dict[str, Any]:
    obj = _cm()
    obj["metadata"].update(md)
    return obj


STRIPPED = [
    ("status", {**_cm(), "status": {"phase": "Active"}}),
    ("managedFields", _with_md(managedFields=[{"manager": "kubectl", "fieldsV1": {}}])),
    ("resourceVersion", _with_md(resourceVersion="123")),
    ("uid", _with_md(uid="9f1c")),
    ("generation", _with_md(generation=4)),
    ("creationTimestamp", _with_md(creationTimestamp="2026-11-29T20:00:00Z")),
    ("creationTimestamp null", _with_md(creationTimestamp=None)),
    ("selfLink", _with_md(selfLink="/api/v1/namespaces/default/configmaps/cm")),
    ("deletionGracePeriodSeconds", _with_md(deletionGracePeriodSeconds=30)),
    ("last-applied annotation", _with_md(annotations={LAST_APPLIED: '{"kind":"ConfigMap"}'})),
    ("empty annotations", _with_md(annotations={})),
    ("null annotations", _with_md(annotations=None)),
    ("empty labels", _with_md(labels={})),
]


@pytest.mark.parametrize(("what", "obj"), STRIPPED, ids=[s[0] for s in STRIPPED])
def test_stripped_fields(what: str, obj: dict[str, Any]) -> None:
    before = copy.deepcopy(obj)
    assert normalize(obj, []) == _cm(), what
    assert obj == before  # input untouched


def test_status_kept_when_not_ignored() -> None:
    obj = {**_cm(), "status": {"phase": "Active"}}
    assert normalize(obj, [], ignore_status=False)["status"] == {"phase": "Active"}


def test_other_annotations_survive_last_applied_removal() -> None:
    obj = _with_md(annotations={LAST_APPLIED: "{}", "team": "payments"})
    assert normalize(obj)["metadata"]["annotations"] == {"team": "payments"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"replicas": 1.0}, {"replicas": 1}),
        ({"x": {"y": [1.0, 2.0]}}, {"x": {"y": [1, 2]}}),
        ({"x": None, "y": 1}, {"y": 1}),
        ({1: "a"}, {"1": "a"}),
    ],
)
def test_json_round_trip_semantics(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert stable_hash(normalize({**_cm(), "spec": a})) == stable_hash(normalize({**_cm(), "spec": b}))


def test_bool_is_not_int_in_hash() -> None:
    assert stable_hash({"a": True}) != stable_hash({"a": 1})
    assert stable_hash({"b": 1, "a": 2}) == stable_hash({"a": 2, "b": 1})
    assert stable_hash({"a": 1.5}) != stable_hash({"a": 1})


def _secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "d"}, **fields}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("given", "data"),
    [
        ({"stringData": {"user": "admin"}}, {"user": _b64("admin")}),
        (
            {"stringData": {"user": "admin"}, "data": {"pw": _b64("x")}},
            {"user": _b64("admin"), "pw": _b64("x")},
        ),
        ({"stringData": {"pw": "new"}, "data": {"pw": _b64("old")}}, {"pw": _b64("new")}),  # stringData wins
        ({"data": {"empty": None}}, {"empty": ""}),
        ({"stringData": {"empty": None}}, {"empty": ""}),
    ],
)
def test_secret_string_data_folded(given: dict[str, Any], data: dict[str, str]) -> None:
    out = normalize(_secret(**given))
    assert "stringData" not in out
    assert out["data"] == data


def test_secret_in_other_group_is_not_folded() -> None:
    sealed = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"a": "b"},
    }
    assert normalize(sealed)["stringData"] == {"a": "b"}


@pytest.mark.parametrize("kind", ["Role", "ClusterRole"])
@pytest.mark.parametrize("rules", [[], None, "missing"])
def test_empty_role_rules_become_null(kind: str, rules: object) -> None:
    obj: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": "r"},
    }
    if rules != "missing":
        obj["rules"] = rules
    out = normalize(obj)
    assert out["rules"] is None
    assert normalize(out) == out
    with_rules = {**obj, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    assert normalize(with_rules)["rules"] == with_rules["rules"]


def _deploy() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {"app": "web", "node-role.kubernetes.io/worker": "", "a~b": "x"},
        },
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "initContainers": [
                        {"name": "injected-init-container", "image": "mesh"},
                        {"name": "migrate"},
                    ],
                    "containers": [{"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}]}],
                }
            },
        },
    }


POINTER_CASES = [
    ("/spec/replicas", lambda d: d["spec"].pop("replicas")),
    (
        "/metadata/labels/node-role.kubernetes.io~1worker",
        lambda d: d["metadata"]["labels"].pop("node-role.kubernetes.io/worker"),
    ),
    ("/metadata/labels/a~0b", lambda d: d["metadata"]["labels"].pop("a~b")),
    (
        "/spec/template/spec/containers/0/env",
        lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("env"),
    ),
    (
        "/spec/template/spec/initContainers/0",
        lambda d: d["spec"]["template"]["spec"]["initContainers"].pop(0),
    ),
    ("/spec/does/not/exist", lambda d: None),
    ("/spec/template/spec/containers/7", lambda d: None),
    ("/spec/template/spec/containers/01", lambda d: None),  # leading zero is not an index
]


@pytest.mark.parametrize(("pointer", "expect"), POINTER_CASES, ids=[c[0] for c in POINTER_CASES])
def test_json_pointers(pointer: str, expect: Any) -> None:
    rule = IgnoreRule(group="apps", kind="Deployment", json_pointers=(pointer,))
    expected = _deploy()
    expect(expected)
    assert normalize(_deploy(), [rule]) == expected


JQ_CASES = [
    (
        '.spec.template.spec.initContainers[] | select(.name == "injected-init-container")',
        lambda d: d["spec"]["template"]["spec"]["initContainers"].pop(0),
    ),
    (
        ".spec.template.spec.containers[].env",
        lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("env"),
    ),
    (
        '.metadata.labels["node-role.kubernetes.io/worker"]',
        lambda d: d["metadata"]["labels"].pop("node-role.kubernetes.io/worker"),
    ),
    (".spec.nothing.here", lambda d: None),
    (".spec.template.spec.volumes[]?", lambda d: None),
    # not in the linear fragment: evaluated by the bounded helper process
    (
        '.spec.template.spec | (.initContainers, .containers) | .[] | select(.name == "migrate" or .name == "web")',
        lambda d: (
            d["spec"]["template"]["spec"]["initContainers"].pop(1),
            d["spec"]["template"]["spec"]["containers"].pop(0),
        ),
    ),
    (
        '.. | select(type == "object" and has("image") and .image == "mesh")',
        lambda d: d["spec"]["template"]["spec"]["initContainers"].pop(0),
    ),
]


@pytest.mark.parametrize(("expr", "expect"), JQ_CASES, ids=[c[0] for c in JQ_CASES])
def test_jq_path_expressions(expr: str, expect: Any) -> None:
    rule = IgnoreRule(group="apps", kind="Deployment", jq_path_expressions=(expr,))
    expected = _deploy()
    expect(expected)
    assert normalize(_deploy(), [rule]) == expected


def test_jq_runtime_error_leaves_object_alone() -> None:
    rule = IgnoreRule(kind="Deployment", group="apps", jq_path_expressions=(".spec.replicas[]",))
    assert normalize(_deploy(), [rule]) == _deploy()


def test_rules_apply_only_to_matching_objects() -> None:
    pointer = ("/spec/replicas",)
    cases = [
        (IgnoreRule(group="apps", kind="Deployment", json_pointers=pointer), True),
        (IgnoreRule(group="*", kind="*", json_pointers=pointer), True),
        (IgnoreRule(group="app*", kind="Deploy*", json_pointers=pointer), True),
        (
            IgnoreRule(group="apps", kind="Deployment", name="web", namespace="shop", json_pointers=pointer),
            True,
        ),
        (IgnoreRule(group="apps", kind="Deployment", name="api", json_pointers=pointer), False),
        (IgnoreRule(group="apps", kind="Deployment", namespace="prod", json_pointers=pointer), False),
        (IgnoreRule(group="", kind="Deployment", json_pointers=pointer), False),  # "" is the core group
        (IgnoreRule(group="apps", kind="StatefulSet", json_pointers=pointer), False),
    ]
    for rule, applies in cases:
        assert ("replicas" not in normalize(_deploy(), [rule])["spec"]) is applies, rule


def test_rule_from_spec() -> None:
    rule = IgnoreRule.from_spec(
        {
            "group": "apps",
            "kind": "Deployment",
            "name": "web",
            "namespace": "shop",
            "jsonPointers": ["/spec/replicas"],
            "jqPathExpressions": [".spec.template.spec.initContainers[]"],
            "managedFieldsManagers": ["kube-controller-manager"],
        }
    )
    assert rule == IgnoreRule(
        "apps",
        "Deployment",
        "web",
        "shop",
        ("/spec/replicas",),
        (".spec.template.spec.initContainers[]",),
        ("kube-controller-manager",),
    )
    assert IgnoreRule.from_spec({"kind": "Service"}) == IgnoreRule(kind="Service")


@pytest.mark.parametrize(
    "spec",
    [
        "not a mapping",
        {"kind": 3},
        {"kind": "X", "jsonPointers": "/spec"},
        {"kind": "X", "jsonPointers": ["spec/replicas"]},
        {"kind": "X", "jqPathExpressions": [".spec[[["]},
        {"kind": "X", "managedFieldsManagers": [1]},
    ],
)
def test_rule_from_spec_rejects_bad_input(spec: object) -> None:
    with pytest.raises(IgnoreRuleError):
        IgnoreRule.from_spec(spec)


def test_pointer_round_trip_and_batch_delete() -> None:
    assert parse_pointer("/a~1b/c~0d/0") == ["a/b", "c~d", "0"]
    assert to_pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert parse_pointer("") == []
    doc = {"l": [0, 1, 2, 3], "m": {"x": 1}}
    delete_paths(doc, [["l", 1], ["l", 3], ["m", "x"], ["m", "missing"], []])
    assert doc == {"l": [0, 2], "m": {}}


def _mf_deploy() -> dict[str, Any]:
    obj = _deploy()
    obj["spec"]["template"]["spec"]["containers"].append({"name": "istio-proxy", "image": "proxyv2"})
    obj["metadata"]["managedFields"] = [
        {
            "manager": "trueup",
            "operation": "Apply",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:template": {
                        "f:spec": {
                            "f:containers": {'k:{"name":"web"}': {".": {}, "f:name": {}, "f:image": {}}}
                        }
                    }
                }
            },
        },
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}, "f:metadata": {"f:labels": {"f:a~b": {}}}},
        },
        {
            "manager": "istio-webhook",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:template": {
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"istio-proxy"}': {".": {}, "f:name": {}, "f:image": {}},
                                'k:{"name":"web"}': {"f:env": {}},
                            }
                        }
                    }
                }
            },
        },
    ]
    return obj


def test_remove_manager_fields() -> None:
    live = _mf_deploy()
    out = remove_manager_fields(live, live, ["kube-controller-manager"])
    assert out is not None
    assert "replicas" not in out["spec"] and "a~b" not in out["metadata"]["labels"]
    assert live["spec"]["replicas"] == 3  # input untouched
    out = remove_manager_fields(live, live, ["istio-webhook"])
    assert out is not None
    containers = out["spec"]["template"]["spec"]["containers"]
    # the sidecar only the webhook touched goes whole; in the co-owned container only its field goes
    assert containers == [{"name": "web", "image": "nginx"}]
    desired = _deploy()
    assert remove_manager_fields(desired, live, ["kube-controller-manager"])["spec"].get("replicas") is None  # type: ignore[index]


def test_managed_fields_managers_rule_in_normalize_is_a_diff_concern() -> None:
    # normalize() itself ignores managedFieldsManagers (it needs live's managedFields); diff applies it
    rule = IgnoreRule(group="apps", kind="Deployment", managed_fields_managers=("kube-controller-manager",))
    assert normalize(_mf_deploy(), [rule])["spec"]["replicas"] == 3


def test_normalize_is_idempotent_on_examples() -> None:
    rules = [
        IgnoreRule(group="*", kind="*", json_pointers=("/metadata/labels/app", "/spec/replicas")),
        IgnoreRule(
            group="apps",
            kind="Deployment",
            jq_path_expressions=('.spec.template.spec.containers[] | select(.name == "web")',),
        ),
    ]
    for obj in [
        _deploy(),
        _mf_deploy(),
        _secret(stringData={"a": "b"}),
        _with_md(annotations={LAST_APPLIED: "{}"}),
    ]:
        once = normalize(obj, rules)
        assert normalize(once, rules) == once
