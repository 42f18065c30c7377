"""Drill edits read like a teammate's: comments and layout kept, the result still valid YAML."""

from __future__ import annotations

import pytest

from console.engine import yamlsafe
from console.engine.scenarios import edits

KZ = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: risk
resources:
  - ../../base
images:
  # pinned by the release train
  - name: registry.acme.example/risk/engine
    newTag: 2.3.7
replicas:
  - name: risk-engine
    count: 4
"""


def test_set_image_replaces_only_the_tag_and_keeps_comments() -> None:
    text, before = edits.set_kustomize_image(KZ, "registry.acme.example/risk/engine", "2.3.8", "k.yaml")
    assert before == "newTag 2.3.7"
    assert "  # pinned by the release train\n" in text
    assert '    newTag: "2.3.8"\n' in text
    doc = yamlsafe.load_one(text)
    assert doc["images"] == [{"name": "registry.acme.example/risk/engine", "newTag": "2.3.8"}]
    assert doc["replicas"][0]["count"] == 4


def test_set_image_replaces_a_digest_and_adds_a_missing_entry() -> None:
    digest = KZ.replace("newTag: 2.3.7", "digest: sha256:abc")
    text, before = edits.set_kustomize_image(
        digest, "registry.acme.example/risk/engine", "1.43.0-rc1", "k.yaml"
    )
    assert before == "digest sha256:abc"
    assert yamlsafe.load_one(text)["images"][0] == {
        "name": "registry.acme.example/risk/engine",
        "newTag": "1.43.0-rc1",
    }
    text, _ = edits.set_kustomize_image(KZ, "registry.acme.example/other", "1.0.0", "k.yaml")
    assert [i["name"] for i in yamlsafe.load_one(text)["images"]] == [
        "registry.acme.example/risk/engine",
        "registry.acme.example/other",
    ]


def test_add_list_item_appends_inside_the_list_or_creates_it() -> None:
    text = edits.add_list_item(KZ, "resources", ["  - servicemonitor.yaml"], "k.yaml")
    assert yamlsafe.load_one(text)["resources"] == ["../../base", "servicemonitor.yaml"]
    text = edits.add_list_item(KZ, "patches", ["  - path: p.yaml"], "k.yaml")
    assert yamlsafe.load_one(text)["patches"] == [{"path": "p.yaml"}]


APP = """\
spec:
  project: payments
  # The HPA owns the replica count.
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers:
        - /spec/replicas
  info:
    - name: Runbook
"""


def test_remove_mapping_key_takes_its_comment_along() -> None:
    text = edits.remove_mapping_key(APP, "ignoreDifferences", 2, "app.yaml")
    assert "HPA" not in text and "ignoreDifferences" not in text
    assert yamlsafe.load_one(text) == {"spec": {"project": "payments", "info": [{"name": "Runbook"}]}}


def test_append_to_mapping_needs_the_mapping_last() -> None:
    text = edits.append_to_mapping(APP, "spec", ["  syncWindows:", "    - kind: deny"], "p.yaml")
    assert yamlsafe.load_one(text)["spec"]["syncWindows"] == [{"kind": "deny"}]
    with pytest.raises(edits.EditError, match="not the last top-level key"):
        edits.append_to_mapping(APP + "status: {}\n", "spec", ["  syncWindows: []"], "p.yaml")


def test_an_edit_that_breaks_the_yaml_is_refused() -> None:
    with pytest.raises(edits.EditError, match="invalid YAML"):
        edits.add_list_item(KZ, "resources", ["  - [unclosed"], "k.yaml")
