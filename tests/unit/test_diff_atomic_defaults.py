"""Server-defaulted fields inside atomic lists are not drift; real changes inside them are."""

from __future__ import annotations

import copy

from console.engine.diff import diff_resource

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
