"""Property: normalisation is idempotent and never touches its input, on arbitrary JSON-like objects."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.normalize import LAST_APPLIED, normalize, stable_hash

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
)
keys = st.sampled_from(
    ["name", "value", "image", "env", "containers", "ports", "data", "a", "b", "x/y", "~"]
) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)

api_kinds = st.sampled_from(
    [
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("example.com/v1", "Widget"),
    ]
)


@st.composite
def k8s_objects(draw: st.DrawFn) -> dict[str, Any]:
    api_version, kind = draw(api_kinds)
    md: dict[str, Any] = {"name": draw(st.text(min_size=1, max_size=8))}
    optional = {
        "namespace": st.text(max_size=6),
        "labels": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
        "annotations": st.dictionaries(
            st.sampled_from([LAST_APPLIED, "team", "a/b"]) | st.text(max_size=6),
            st.text(max_size=6),
            max_size=3,
        )
        | st.none(),
        "managedFields": json_values,
        "uid": st.text(max_size=6),
        "resourceVersion": st.text(max_size=6),
        "generation": st.integers(0, 9),
        "creationTimestamp": st.text(max_size=6) | st.none(),
        "finalizers": st.lists(st.text(max_size=6), max_size=3),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            md[key] = draw(strategy)
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": md}
    for key in ("spec", "status", "data", "stringData", "rules", "extra"):
        if draw(st.booleans()):
            obj[key] = draw(json_values)
    return obj


NAMED_RULES = [
    IgnoreRule(group="*", kind="*", json_pointers=("/spec/a", "/metadata/labels/x~1y", "/data/~0")),
    IgnoreRule(
        group="*", kind="*", jq_path_expressions=('.spec.containers[]? | select(.name == "a")', ".spec.b")
    ),
]


@settings(max_examples=120, deadline=None)
@given(k8s_objects())
def test_normalize_is_idempotent_and_pure(obj: dict[str, Any]) -> None:
    before = copy.deepcopy(obj)
    once = normalize(obj, [])
    assert normalize(once, []) == once
    assert stable_hash(normalize(once, [])) == stable_hash(once)
    assert obj == before


@settings(max_examples=80, deadline=None)
@given(k8s_objects())
def test_normalize_with_named_rules_is_idempotent(obj: dict[str, Any]) -> None:
    once = normalize(obj, NAMED_RULES)
    assert normalize(once, NAMED_RULES) == once


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_normalize_accepts_any_json_under_spec(spec: Any) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": spec}
    once = normalize(obj)
    assert normalize(once) == once
