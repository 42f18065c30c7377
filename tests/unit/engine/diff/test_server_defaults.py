"""Server-defaulted fields inside atomic lists are not drift; real changes inside them are."""

from __future__ import annotations

import copy

from console.engine.diff.resource import diff_resource

DESIRED = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "allow", "namespace": "p"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "api"}},
        "ingress": [{"ports": [{"port": "http"}]}, {"ports": [{"port": "metrics"}]}],
    },
}


def _live() -> dict:
    live = copy.deepcopy(DESIRED)
    for rule in live["spec"]["ingress"]:
        for port in rule["ports"]:
            port["protocol"] = "TCP"  # what the apiserver defaults
    live["spec"]["policyTypes"] = ["Ingress"]
    return live


def test_defaulted_protocol_inside_atomic_list_is_not_drift() -> None:
    assert not diff_resource(DESIRED, _live()).modified


def test_real_change_inside_atomic_list_is_drift() -> None:
    live = _live()
    live["spec"]["ingress"][1]["ports"][0]["port"] = "admin"
    d = diff_resource(DESIRED, live)
    assert d.modified
    assert any(p.startswith("/spec/ingress/1") for p in d.changed_paths)


def test_extra_element_in_atomic_list_is_drift() -> None:
    live = _live()
    live["spec"]["ingress"].append({"ports": [{"port": "debug", "protocol": "TCP"}]})
    assert diff_resource(DESIRED, live).modified


def _sim(tmp_path):  # type: ignore[no-untyped-def]
    from console.cluster.sim import SimCluster

    return SimCluster(tmp_path / "c.db", "c", "https://c.sim.invalid")


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "svc", "namespace": "default"},
    "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "targetPort": 8080}]},
}


def test_object_created_by_our_manager_with_update_is_not_drift(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """create/PUT make our manager own the defaulted fields too; they are not 'removed from Git'."""
    live = _sim(tmp_path).create(copy.deepcopy(SERVICE), field_manager="trueup")
    assert live["spec"]["sessionAffinity"] == "None"
    assert not diff_resource(SERVICE, live).modified


def test_field_removed_from_git_after_server_side_apply_is_drift(tmp_path) -> None:  # type: ignore[no-untyped-def]
    applied = copy.deepcopy(SERVICE)
    applied["spec"]["externalTrafficPolicy"] = "Local"
    applied["spec"]["type"] = "NodePort"
    live = _sim(tmp_path).apply(applied, field_manager="trueup")
    desired = copy.deepcopy(applied)
    del desired["spec"]["externalTrafficPolicy"]
    d = diff_resource(desired, live)
    assert d.modified and "/spec/externalTrafficPolicy" in d.changed_paths
    assert not diff_resource(applied, live).modified


def test_changes_of_a_secret_show_masks_not_values() -> None:
    import base64

    desired = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "d"},
        "type": "Opaque",
        "data": {"password": base64.b64encode(b"new-hunter2").decode()},
    }
    live = copy.deepcopy(desired)
    live["data"]["password"] = base64.b64encode(b"old-hunter2").decode()
    d = diff_resource(desired, live)
    changes = d.changes()
    assert changes and changes[0]["path"] == "/data/password"
    text = repr(changes)
    for raw in (b"new-hunter2", b"old-hunter2"):
        assert raw.decode() not in text and base64.b64encode(raw).decode() not in text
    assert set(changes[0]["live"]) == {"+"} and changes[0]["live"] != changes[0]["desired"]
