"""Properties of diff_resource: self-diff is clean, ignored fields never diff, secrets never leak."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.resource import diff_resource

from .test_normalize_props import json_values, k8s_objects

ABSENT = object()


@settings(max_examples=100, deadline=None)
@given(k8s_objects())
def test_object_against_itself_is_never_modified(obj: dict[str, Any]) -> None:
    before = copy.deepcopy(obj)
    assert not diff_resource(obj, copy.deepcopy(obj)).modified
    assert not diff_resource(obj, obj).modified
    assert obj == before


RULE = IgnoreRule(
    group="*",
    kind="*",
    json_pointers=("/spec/replicas", "/metadata/labels/ignored~1key", "/metadata/annotations/checksum"),
    jq_path_expressions=(
        '.spec.template.spec.containers[]? | select(.name == "sidecar")',
        '.spec.items[]? | select(.name == "ignored")',
    ),
)

ignored_value = st.just(ABSENT) | json_values


def _set(container: dict[str, Any], key: str, value: Any) -> None:
    if value is ABSENT:
        container.pop(key, None)
    elif value is not None:
        container[key] = value


def _with_ignored(base: dict[str, Any], values: list[Any], sidecar: Any, item: Any) -> dict[str, Any]:
    obj = copy.deepcopy(base)
    _set(obj["spec"], "replicas", values[0])
    _set(obj["metadata"]["labels"], "ignored/key", values[1])
    _set(obj["metadata"]["annotations"], "checksum", values[2])
    containers = obj["spec"]["template"]["spec"]["containers"]
    if sidecar is not ABSENT:
        containers.insert(sidecar[0] % (len(containers) + 1), {"name": "sidecar", **sidecar[1]})
    items = obj["spec"]["items"]
    if item is not ABSENT:
        items.insert(item[0] % (len(items) + 1), {"name": "ignored", "v": item[1]})
    return obj


@st.composite
def workloads(draw: st.DrawFn) -> dict[str, Any]:
    """A Deployment-shaped object with random content around the ignored paths."""
    names = draw(st.lists(st.sampled_from(["app", "web", "init", "log"]), unique=True, max_size=3))
    containers = [
        {
            "name": n,
            **draw(st.dictionaries(st.sampled_from(["image", "args", "env", "x"]), json_values, max_size=3)),
        }
        for n in names
    ]
    items = draw(
        st.lists(st.fixed_dictionaries({"name": st.sampled_from(["a", "b"]), "v": json_values}), max_size=3)
    )
    return {
        "apiVersion": draw(st.sampled_from(["apps/v1", "example.com/v1"])),
        "kind": draw(st.sampled_from(["Deployment", "Widget"])),
        "metadata": {
            "name": "w",
            "namespace": "ns",
            "labels": {
                "app": "w",
                **draw(st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=4), max_size=2)),
            },
            "annotations": {"keep": draw(st.text(max_size=4))},
        },
        "spec": {
            "template": {"spec": {"containers": containers}},
            "items": items,
            "other": draw(json_values),
        },
    }


sidecars = st.just(ABSENT) | st.tuples(
    st.integers(0, 5), st.dictionaries(st.sampled_from(["image", "env"]), json_values, max_size=2)
)
extra_items = st.just(ABSENT) | st.tuples(st.integers(0, 5), json_values)


@settings(max_examples=80, deadline=None)
@given(
    workloads(),
    st.lists(ignored_value, min_size=3, max_size=3),
    st.lists(ignored_value, min_size=3, max_size=3),
    sidecars,
    sidecars,
    extra_items,
    extra_items,
)
def test_changing_only_ignored_fields_is_never_modified(
    base: dict[str, Any],
    desired_values: list[Any],
    live_values: list[Any],
    desired_sidecar: Any,
    live_sidecar: Any,
    desired_item: Any,
    live_item: Any,
) -> None:
    desired = _with_ignored(base, desired_values, desired_sidecar, desired_item)
    live = _with_ignored(base, live_values, live_sidecar, live_item)
    result = diff_resource(desired, live, rules=[RULE])
    assert not result.modified, result.unified()


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


# a marker no field name, message or repr of the diff contains: a generated word such as
# "attributions" would otherwise be "found" in the diff's own vocabulary
secret_text = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=12, max_size=40
).map(lambda s: f"Zq7{s}")


@settings(max_examples=150, deadline=None)
@given(
    secret_text,
    secret_text,
    st.booleans(),
    st.booleans(),
    st.sampled_from(["password", "token", ".dockerconfigjson"]),
)
def test_secret_values_never_appear_in_the_diff(
    desired_value: str, live_value: str, use_string_data: bool, with_last_applied: bool, key: str
) -> None:
    desired: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n"},
    }
    if use_string_data:
        desired["stringData"] = {key: desired_value}
    else:
        desired["data"] = {key: _b64(desired_value)}
    live: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "n", "resourceVersion": "3"},
        "data": {key: _b64(live_value), "other": _b64(live_value)},
        "type": "Opaque",
    }
    if with_last_applied:
        live["metadata"]["annotations"] = {
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                {**desired, "stringData": {key: live_value}}
            )
        }
    for target, current in ((desired, live), (desired, None), (None, live)):
        result = diff_resource(target, current)
        text = (
            json.dumps([result.target, result.live, result.predicted, result.changed_paths])
            + result.unified()
        )
        text += repr(result)
        for value in (desired_value, live_value):
            assert value not in text
            assert _b64(value) not in text
            assert _b64(value).rstrip("=") not in text
    assert diff_resource(desired, live).modified is (desired_value != live_value)
