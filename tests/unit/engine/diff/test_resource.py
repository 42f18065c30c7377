"""diff_resource: predicted live (desired merged into live), normalise, hash, explain."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.predict import merge_into_live
from console.engine.diff.resource import ResourceDiff, diff_many, diff_resource

TRUEUP_TIME = "2026-11-29T19:00:00Z"


def desired_deploy() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        }
                    ]
                },
            },
        },
    }


def trueup_fields() -> dict[str, Any]:
    """FieldsV1 of what trueup applied (desired_deploy), as the apiserver records it."""
    return {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"web"}': {
                            ".": {},
                            "f:name": {},
                            "f:image": {},
                            "f:ports": {
                                'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
                            },
                            "f:env": {
                                'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}},
                                'k:{"name":"B"}': {".": {}, "f:name": {}, "f:value": {}},
                            },
                        }
                    }
                },
            },
        },
    }


def live_deploy() -> dict[str, Any]:
    """desired_deploy as the apiserver returns it: defaults, metadata, status, managedFields."""
    live = desired_deploy()
    live["metadata"].update(
        {
            "uid": "4c1d",
            "resourceVersion": "812",
            "generation": 2,
            "creationTimestamp": "2026-11-29T18:59:59Z",
            "annotations": {"deployment.kubernetes.io/revision": "2"},
            "managedFields": [
                {
                    "manager": "trueup",
                    "operation": "Apply",
                    "apiVersion": "apps/v1",
                    "time": TRUEUP_TIME,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": trueup_fields(),
                },
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "apps/v1",
                    "time": "2026-11-29T19:00:03Z",
                    "fieldsType": "FieldsV1",
                    "subresource": "status",
                    "fieldsV1": {"f:status": {"f:replicas": {}, "f:readyReplicas": {}}},
                },
            ],
        }
    )
    spec = live["spec"]
    spec.update(
        {
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
        }
    )
    pod = spec["template"]["spec"]
    pod.update(
        {
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {},
        }
    )
    c = pod["containers"][0]
    c.update(
        {
            "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "resources": {},
        }
    )
    c["ports"][0]["protocol"] = "TCP"
    live["status"] = {"replicas": 3, "readyReplicas": 3, "observedGeneration": 2}
    return live


def service_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    desired = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }
    live = copy.deepcopy(desired)
    live["spec"].update(
        {
            "type": "ClusterIP",
            "clusterIP": "10.96.12.7",
            "clusterIPs": ["10.96.12.7"],
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        }
    )
    live["spec"]["ports"][0]["protocol"] = "TCP"
    live["status"] = {"loadBalancer": {}}
    return desired, live


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_unchanged_deployment_with_server_defaults_is_in_sync() -> None:
    result = diff_resource(desired_deploy(), live_deploy())
    assert not result.modified
    assert result.changed_paths == [] and result.attributions == []
    assert result.unified() == ""
    # outputs are normalised; predicted carries the defaulted fields like live does
    assert result.live is not None and "managedFields" not in result.live["metadata"]
    assert result.predicted is not None and _container(result.predicted)["imagePullPolicy"] == "IfNotPresent"
    assert result.target is not None and "imagePullPolicy" not in _container(result.target)


@pytest.mark.parametrize(
    "default",
    [
        ("spec", "strategy"),
        ("spec", "revisionHistoryLimit"),
        ("container", "imagePullPolicy"),
        ("container", "terminationMessagePath"),
        ("pod", "dnsPolicy"),
    ],
)
def test_each_server_default_alone_is_no_diff(default: tuple[str, str]) -> None:
    live = live_deploy()
    # keep only this one default on top of what desired has: still not a diff
    where, field = default
    node = {"spec": live["spec"], "container": _container(live), "pod": live["spec"]["template"]["spec"]}[
        where
    ]
    assert field in node
    assert not diff_resource(desired_deploy(), live).modified


def test_service_defaults_protocol_and_cluster_ip_are_no_diff() -> None:
    desired, live = service_pair()
    assert not diff_resource(desired, live).modified
    # but a real change to a keyed port still is
    desired["spec"]["ports"][0]["targetPort"] = 9090
    result = diff_resource(desired, live)
    assert result.modified
    assert result.changed_paths == ["/spec/ports/0/targetPort"]


def test_changed_image_is_a_diff_with_path_and_unified_text() -> None:
    desired = desired_deploy()
    _container(desired)["image"] = "nginx:1.28"
    result = diff_resource(desired, live_deploy())
    assert result.modified
    assert result.changed_paths == ["/spec/template/spec/containers/0/image"]
    text = result.unified(names=("live", "git"))
    assert text.startswith("--- live\n+++ git\n")
    assert "-        image: nginx:1.27\n" in text and "+        image: nginx:1.28\n" in text
    # trueup applied the image, so the live value is attributed to it
    assert [(a.manager, a.operation) for a in result.attributions] == [("trueup", "Apply")]


def test_field_removed_from_git_that_trueup_applied_is_a_diff() -> None:
    desired = desired_deploy()
    del desired["spec"]["replicas"]
    result = diff_resource(desired, live_deploy())
    assert result.modified
    assert result.changed_paths == ["/spec/replicas"]
    assert result.predicted is not None and "replicas" not in result.predicted["spec"]


def test_env_var_removed_from_git_is_a_diff_but_other_managers_fields_stay() -> None:
    desired = desired_deploy()
    _container(desired)["env"].pop(1)
    del desired["metadata"]["labels"]
    live = live_deploy()
    live["metadata"]["labels"]["team"] = "payments"  # set by someone else: not ours to remove
    result = diff_resource(desired, live)
    assert result.modified
    assert sorted(result.changed_paths) == ["/metadata/labels/app", "/spec/template/spec/containers/0/env/1"]
    assert result.predicted is not None and result.predicted["metadata"]["labels"] == {"team": "payments"}


def test_field_not_owned_by_trueup_and_absent_from_git_is_kept() -> None:
    live = live_deploy()
    live["spec"]["minReadySeconds"] = 5  # someone else's field (not in trueup's managedFields)
    assert not diff_resource(desired_deploy(), live).modified
    # unless trueup owns it
    live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:minReadySeconds"] = {}
    assert diff_resource(desired_deploy(), live).changed_paths == ["/spec/minReadySeconds"]


def test_own_manager_is_configurable() -> None:
    desired = desired_deploy()
    del desired["spec"]["replicas"]
    assert not diff_resource(desired, live_deploy(), own_manager="argocd-controller").modified


def test_keyed_list_order_alone_is_not_a_diff() -> None:
    desired = desired_deploy()
    _container(desired)["env"].reverse()
    assert not diff_resource(desired, live_deploy()).modified


def test_keyed_list_membership_is_a_diff() -> None:
    desired = desired_deploy()
    _container(desired)["env"].append({"name": "C", "value": "3"})
    result = diff_resource(desired, live_deploy())
    assert result.changed_paths == ["/spec/template/spec/containers/0/env/2"]
    assert result.attributions == []  # nobody owns what live does not have
    live = live_deploy()
    _container(live)["env"].insert(0, {"name": "INJECTED", "value": "x"})
    result = diff_resource(desired_deploy(), live)
    assert result.modified and result.changed_paths == ["/spec/template/spec/containers/0/env/0"]


def test_atomic_list_is_compared_in_order() -> None:
    desired, live = desired_deploy(), live_deploy()
    _container(desired)["args"] = ["--a", "--b"]
    _container(live)["args"] = ["--b", "--a"]
    result = diff_resource(desired, live)
    assert result.modified
    assert result.changed_paths == [
        "/spec/template/spec/containers/0/args/0",
        "/spec/template/spec/containers/0/args/1",
    ]


def test_finalizers_are_a_set() -> None:
    desired, live = desired_deploy(), live_deploy()
    desired["metadata"]["finalizers"] = ["example.com/a"]
    live["metadata"]["finalizers"] = ["kubernetes.io/protect", "example.com/a"]
    assert not diff_resource(desired, live).modified


def test_ignore_rules_on_both_and_one_side() -> None:
    rule = IgnoreRule(
        group="apps", kind="Deployment", json_pointers=("/spec/replicas", "/metadata/labels/extra")
    )
    desired, live = desired_deploy(), live_deploy()
    live["spec"]["replicas"] = 7  # HPA scaled it
    live["metadata"]["labels"]["extra"] = "live-only"
    assert diff_resource(desired, live).modified
    assert not diff_resource(desired, live, rules=[rule]).modified
    desired["metadata"]["labels"]["extra"] = "git-only"
    del live["metadata"]["labels"]["extra"]
    assert not diff_resource(desired, live, rules=[rule]).modified


def test_jq_rule_ignores_injected_init_container() -> None:
    rule = IgnoreRule(
        group="apps",
        kind="Deployment",
        jq_path_expressions=('.spec.template.spec.initContainers[] | select(.name == "istio-init")',),
    )
    desired, live = desired_deploy(), live_deploy()
    desired["spec"]["template"]["spec"]["initContainers"] = [{"name": "migrate", "image": "app"}]
    live["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "istio-init", "image": "proxy"},
        {"name": "migrate", "image": "app"},
    ]
    assert diff_resource(desired, live).changed_paths == ["/spec/template/spec/initContainers/0"]
    assert not diff_resource(desired, live, rules=[rule]).modified


def test_live_only_field_git_never_had_is_not_drift() -> None:
    live = live_deploy()
    live["spec"]["template"]["spec"]["initContainers"] = [{"name": "istio-init", "image": "proxy"}]
    assert not diff_resource(desired_deploy(), live).modified


def test_managed_fields_managers_rule() -> None:
    live = live_deploy()
    live["spec"]["replicas"] = 9
    live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"].pop("f:replicas")
    live["metadata"]["managedFields"].append(
        {
            "manager": "hpa-controller",
            "operation": "Update",
            "time": "2026-11-29T19:30:00Z",
            "fieldsType": "FieldsV1",
            "subresource": "scale",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        }
    )
    plain = diff_resource(desired_deploy(), live)
    assert plain.modified and plain.changed_paths == ["/spec/replicas"]
    assert [(a.manager, a.subresource) for a in plain.attributions] == [("hpa-controller", "scale")]
    rule = IgnoreRule(group="apps", kind="Deployment", managed_fields_managers=("hpa-controller",))
    assert not diff_resource(desired_deploy(), live, rules=[rule]).modified


def test_status_ignored_by_default_only() -> None:
    desired, live = service_pair()
    desired["status"] = {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}
    assert not diff_resource(desired, live).modified
    assert diff_resource(desired, live, ignore_status=False).changed_paths == ["/status/loadBalancer/ingress"]


def test_missing_and_extraneous() -> None:
    missing = diff_resource(desired_deploy(), None)
    assert missing.modified and missing.missing and not missing.extraneous
    assert missing.live is None and missing.predicted == missing.target
    assert missing.unified().startswith("--- live\n+++ desired\n")
    extraneous = diff_resource(None, live_deploy())
    assert extraneous.modified and extraneous.extraneous and extraneous.predicted is None
    assert "-kind: Deployment\n" in extraneous.unified()
    with pytest.raises(ValueError):
        diff_resource(None, None)


def test_inputs_are_never_modified() -> None:
    desired, live = desired_deploy(), live_deploy()
    del desired["spec"]["replicas"]
    rule = IgnoreRule(group="*", kind="*", json_pointers=("/spec/template/spec/containers/0/env/0",))
    before = (copy.deepcopy(desired), copy.deepcopy(live))
    result = diff_resource(desired, live, rules=[rule])
    assert (desired, live) == before
    assert result.modified


def test_positional_rule_applies_once_per_side() -> None:
    rule = IgnoreRule(
        group="apps", kind="Deployment", json_pointers=("/spec/template/spec/containers/0/env/0",)
    )
    desired, live = desired_deploy(), live_deploy()
    _container(live)["env"][0]["value"] = "changed"
    assert not diff_resource(desired, live, rules=[rule]).modified
    _container(live)["env"][1]["value"] = "changed"
    result = diff_resource(desired, live, rules=[rule])
    # paths point into the normalised live shown to the user, where B is now the first env var
    assert result.changed_paths == ["/spec/template/spec/containers/0/env/0/value"]
    assert result.live is not None and _container(result.live)["env"] == [{"name": "B", "value": "changed"}]


def test_merge_into_live_keeps_live_only_fields_and_drops_live_only_items() -> None:
    live = {
        "spec": {"a": 1, "containers": [{"name": "x", "image": "i", "p": "IfNotPresent"}, {"name": "side"}]}
    }
    desired = {"spec": {"b": 2.0, "containers": [{"name": "x", "image": "j"}], "gone": None}}
    out = merge_into_live(desired, live, "Pod")
    assert out == {"spec": {"a": 1, "b": 2, "containers": [{"name": "x", "image": "j", "p": "IfNotPresent"}]}}
    assert type(out["spec"]["b"]) is int
    assert live["spec"]["containers"][0]["image"] == "i"


def test_diff_many_keeps_order() -> None:
    desired = desired_deploy()
    _container(desired)["image"] = "x"
    results = diff_many([(desired_deploy(), live_deploy()), (desired, live_deploy()), (None, live_deploy())])
    assert [r.modified for r in results] == [False, True, True]
    assert all(isinstance(r, ResourceDiff) for r in results)
