"""Drift attribution from live managedFields (FieldsV1 exactly as the apiserver writes it)."""

from __future__ import annotations

import copy
from typing import Any

from console.engine.diff.attribution import FieldAttribution, attribute, describe
from console.engine.diff.resource import diff_resource

APPLY_TIME = "2026-11-29T19:00:00Z"
EDIT_TIME = "2026-11-29T20:00:00Z"


def desired() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "pay"},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": "api:1.4.2",
                            "args": ["--port=8080"],
                            "env": [
                                {"name": "LOG_LEVEL", "value": "info"},
                                {"name": "DB_HOST", "value": "db"},
                            ],
                        }
                    ]
                }
            },
        },
    }


# What `kubectl apply --server-side --field-manager=trueup` records for desired()
TRUEUP = {
    "f:spec": {
        "f:replicas": {},
        "f:template": {
            "f:spec": {
                "f:containers": {
                    'k:{"name":"api"}': {
                        ".": {},
                        "f:name": {},
                        "f:image": {},
                        "f:args": {},
                        "f:env": {
                            'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}, "f:value": {}},
                            'k:{"name":"DB_HOST"}': {".": {}, "f:name": {}, "f:value": {}},
                        },
                    }
                }
            }
        },
    }
}

# What `kubectl edit` (manager "kubectl-edit", operation Update) records after changing LOG_LEVEL
KUBECTL_EDIT = {
    "f:spec": {
        "f:template": {
            "f:spec": {
                "f:containers": {'k:{"name":"api"}': {"f:env": {'k:{"name":"LOG_LEVEL"}': {"f:value": {}}}}}
            }
        }
    }
}


def entry(
    manager: str, operation: str, time: str | None, fields: dict[str, Any], **extra: str
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": "apps/v1",
        "fieldsType": "FieldsV1",
        "fieldsV1": copy.deepcopy(fields),
        **extra,
    }
    if time is not None:
        out["time"] = time
    return out


def edited_live() -> dict[str, Any]:
    live = desired()
    live["metadata"]["resourceVersion"] = "991"
    env = live["spec"]["template"]["spec"]["containers"][0]["env"]
    env[0]["value"] = "debug"
    live["metadata"]["managedFields"] = [
        entry("trueup", "Apply", APPLY_TIME, TRUEUP),
        entry("kubectl-edit", "Update", EDIT_TIME, KUBECTL_EDIT),
    ]
    return live


ENV0 = "/spec/template/spec/containers/0/env/0/value"


def test_env_var_edit_is_attributed_to_kubectl_edit() -> None:
    result = diff_resource(desired(), edited_live())
    assert result.modified
    assert result.changed_paths == [ENV0]
    assert result.attributions == [FieldAttribution(ENV0, "kubectl-edit", "Update", EDIT_TIME)]
    assert result.attributions[0].drift
    assert describe(result.attributions[0]) == f"{ENV0} changed by kubectl-edit (Update) at {EDIT_TIME}"


def test_a_git_change_of_a_field_trueup_applied_is_not_drift() -> None:
    """Git moved the image; live still holds what trueup applied (trueup owns the field)."""
    live = desired()
    live["metadata"]["managedFields"] = [entry("trueup", "Apply", APPLY_TIME, TRUEUP)]
    moved = desired()
    moved["spec"]["template"]["spec"]["containers"][0]["image"] = "api:1.5.0"
    result = diff_resource(moved, live)
    image = "/spec/template/spec/containers/0/image"
    assert result.modified and result.changed_paths == [image]
    assert result.attributions == [FieldAttribution(image, "trueup", "Apply", APPLY_TIME, drift=False)]
    assert (
        describe(result.attributions[0])
        == f"{image} changed in Git; live is what trueup applied at {APPLY_TIME}"
    )
    # both at once: Git moved the image and someone edited LOG_LEVEL
    both = diff_resource(moved, edited_live())
    assert {(a.path, a.drift) for a in both.attributions} == {(image, False), (ENV0, True)}
    # another engine's manager name is not ours
    (attr,) = diff_resource(moved, live, own_manager="argocd-controller").attributions
    assert attr.drift


def test_most_specific_owner_wins_over_item_owner() -> None:
    live = edited_live()
    # trueup still owns the item as a whole ('.'), kubectl-edit owns the value leaf: the leaf is more specific
    (attr,) = attribute(live, [ENV0])
    assert attr.manager == "kubectl-edit"
    # the sibling value nobody else touched belongs to trueup
    (attr,) = attribute(live, ["/spec/template/spec/containers/0/env/1/value"])
    assert (attr.manager, attr.operation, attr.time) == ("trueup", "Apply", APPLY_TIME)


def test_index_is_translated_through_the_item_key() -> None:
    live = edited_live()
    env = live["spec"]["template"]["spec"]["containers"][0]["env"]
    env.reverse()  # LOG_LEVEL is now at index 1: attribution follows the key, not the position
    (attr,) = attribute(live, ["/spec/template/spec/containers/0/env/1/value"])
    assert attr.manager == "kubectl-edit"
    (attr,) = attribute(live, ["/spec/template/spec/containers/0/env/0/value"])
    assert attr.manager == "trueup"


def test_path_under_an_item_owned_whole_goes_to_its_owner() -> None:
    live = edited_live()
    live["spec"]["template"]["spec"]["containers"].append(
        {"name": "istio-proxy", "image": "proxyv2", "args": ["x"]}
    )
    live["metadata"]["managedFields"].append(
        entry(
            "istio-sidecar-injector",
            "Update",
            "2026-11-29T19:10:00Z",
            {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"istio-proxy"}': {".": {}}}}}}},
        )
    )
    (attr,) = attribute(live, ["/spec/template/spec/containers/1/args/0"])
    assert attr.manager == "istio-sidecar-injector"
    # an atomic list owned as a leaf covers its elements
    (attr,) = attribute(live, ["/spec/template/spec/containers/0/args/0"])
    assert attr.manager == "trueup"


def test_co_owners_prefer_most_recent_time_and_subresource_is_reported() -> None:
    live = edited_live()
    live["metadata"]["managedFields"].append(
        entry("hpa", "Update", "2026-11-29T21:00:00Z", {"f:spec": {"f:replicas": {}}}, subresource="scale")
    )
    (attr,) = attribute(live, ["/spec/replicas"])
    assert (attr.manager, attr.subresource) == ("hpa", "scale")
    assert describe(attr) == "/spec/replicas changed by hpa (Update on /scale) at 2026-11-29T21:00:00Z"


def test_unowned_paths_have_no_attribution() -> None:
    live = edited_live()
    assert (
        attribute(live, ["/spec/paused", "/metadata/labels/x", "/spec/template/spec/containers/5/image"])
        == []
    )
    bare = desired()
    assert attribute(bare, [ENV0]) == []
    junk = desired()
    junk["metadata"]["managedFields"] = [
        {"manager": "x", "fieldsV1": "nope"},
        "garbage",
        {"fieldsV1": {"f:spec": 3}},
    ]
    assert attribute(junk, ["/spec/replicas"]) == []


def test_describe_without_time() -> None:
    assert describe(FieldAttribution("/spec/replicas", "kubectl", "Update", None)) == (
        "/spec/replicas changed by kubectl (Update)"
    )
