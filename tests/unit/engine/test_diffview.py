"""The attributed diff view: YAML lines that know their JSON pointer, notes beside changed fields."""

from __future__ import annotations

from typing import Any

from console.engine import diffview, links
from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.resource import diff_resource


def deployment(value: str, manager_time: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "web:1", "env": [{"name": "LOG_LEVEL", "value": value}]}
                    ]
                }
            },
        },
    }
    if manager_time:
        obj["metadata"]["managedFields"] = [
            {
                "manager": "trueup",
                "operation": "Apply",
                "apiVersion": "apps/v1",
                "time": "2026-03-01T10:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:spec": {
                        "f:replicas": {},
                        "f:template": {
                            "f:spec": {
                                "f:containers": {
                                    'k:{"name":"app"}': {
                                        ".": {},
                                        "f:image": {},
                                        "f:name": {},
                                        "f:env": {'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}}},
                                    }
                                }
                            }
                        },
                    }
                },
            },
            {
                "manager": "kubectl-edit",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": manager_time,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:spec": {
                        "f:template": {
                            "f:spec": {
                                "f:containers": {
                                    'k:{"name":"app"}': {"f:env": {'k:{"name":"LOG_LEVEL"}': {"f:value": {}}}}
                                }
                            }
                        }
                    }
                },
            },
        ]
    return obj


def test_yaml_lines_carry_pointers() -> None:
    lines = dict(
        diffview.yaml_lines({"a": {"b": [1, {"c": "x y", "d": "true"}]}, "e": "multi\nline", "f": []})
    )
    assert lines["  - c: x y"] == "/a/b/1/c"  # the first key of a list item sits on its dash
    assert lines['    d: "true"'] == "/a/b/1/d"  # quoted: plain `true` would read as a bool
    assert lines["  - 1"] == "/a/b/0"
    assert lines["e: |"] == "/e" and lines["  line"] == "/e"
    assert lines["f: []"] == "/f"


def test_the_changed_field_is_attributed_beside_it() -> None:
    diff = diff_resource(deployment("info"), deployment("debug", "2026-03-01T11:00:00Z"))
    lines = diffview.render(diff)
    [removed] = [ln for ln in lines if ln.kind == "remove"]
    [added] = [ln for ln in lines if ln.kind == "add"]
    assert removed.text.strip() == "-          value: debug".strip()
    assert removed.path == "/spec/template/spec/containers/0/env/0/value"
    assert removed.note == "# drift: kubectl-edit (Update) 2026-03-01T11:00:00Z"
    assert added.text.endswith("value: info") and added.note == ""  # one note per change
    text = diffview.plain(lines)
    assert text.startswith("--- live\n+++ desired\n@@ ") and "# drift: kubectl-edit" in text
    assert diffview.render(diff_resource(deployment("info"), deployment("info"))) == []


def test_ignored_fields_are_listed() -> None:
    rules = [
        IgnoreRule(group="apps", kind="Deployment", json_pointers=("/spec/replicas",)),
        IgnoreRule(kind="ConfigMap", jq_path_expressions=(".data",)),
        IgnoreRule(group="*", kind="*", managed_fields_managers=("kube-controller-manager",)),
    ]
    assert diffview.ignored_fields(rules, "apps", "Deployment", "ns", "web", ignore_status=True) == [
        "/status (ignoreResourceStatusField)",
        "/spec/replicas (jsonPointers)",
        "fields owned by kube-controller-manager (managedFieldsManagers)",
    ]


def test_runbook_links_from_info_and_annotations() -> None:
    app = {
        "metadata": {"annotations": {"link.argocd.argoproj.io/Grafana": "https://grafana.invalid/d/1"}},
        "spec": {
            "info": [
                {"name": "Runbook", "value": "https://rb.invalid/app"},
                {"name": "Escalation", "value": "#oncall"},
            ]
        },
    }
    objs = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "ns",
                "annotations": {
                    "acme.example/runbook": "https://rb.invalid/web",
                    "other/runbook": "javascript:alert(1)",
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "annotations": {"x/runbook-url": "https://rb.invalid/app"}},
        },
    ]
    found = links.links(app, objs)
    assert [(lk.title, lk.url, lk.source) for lk in found] == [
        ("Runbook", "https://rb.invalid/app", "Application"),
        ("Grafana", "https://grafana.invalid/d/1", "Application"),
        ("Runbook", "https://rb.invalid/web", "apps/Deployment ns/web"),
    ]  # only http(s), first declaration of a URL wins
    assert links.info_notes(app) == [("Escalation", "#oncall")]
