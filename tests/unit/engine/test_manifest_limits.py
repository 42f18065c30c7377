"""yamlsafe: duplicate keys (file + line, as kubectl), the same size/depth limits for JSON as for
YAML, alias limits that hold through anchors; then the same inputs from a real Git repository
through the real renderers (directory, `helm template`, `kubectl kustomize`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from console.engine import yamlsafe
from console.engine.diff.masking import MASK, mask_secret_pair
from console.engine.diff.normalize import LAST_APPLIED
from console.engine.health.checker import HealthChecker
from console.engine.sources import GitCache, RenderError, render

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}

DEPLOY_DUP = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.0-reviewed
        image: registry.example.com/web:evil
"""


def deep_json(levels: int) -> str:
    inner = '"x"'
    for _ in range(levels):
        inner = '{"a":' + inner + "}"
    return '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":' + inner + "}"


# -- yamlsafe ----------------------------------------------------------------------------------


def test_duplicate_key_names_file_and_both_lines() -> None:
    with pytest.raises(yamlsafe.ManifestError) as err:
        yamlsafe.load_all(DEPLOY_DUP, "apps/web/deploy.yaml")
    assert str(err.value) == 'apps/web/deploy.yaml: line 13: mapping key "image" already defined at line 12'
    assert err.value.line == 13


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("a: 1\n---\nb: 1\nb: 2\n", 4, "b"),  # lines count from the start of the stream
        ("x: {k: 1, k: 2}\n", 1, "k"),
        ("1: a\n'1': b\n", 2, "1"),  # the same key once the object is JSON
        ("true: a\n'true': b\n", 2, "true"),
        ('{"a": 1,\n "a": 2}', 2, "a"),  # JSON: the line comes from the YAML reading of it
    ],
)
def test_duplicates_everywhere(text: str, line: int, key: str) -> None:
    with pytest.raises(yamlsafe.ManifestError, match=f'line {line}: mapping key "{key}" already defined'):
        yamlsafe.load_all(text, "f.yaml")


def test_merge_keys_and_separate_documents_are_not_duplicates() -> None:
    docs = yamlsafe.load_all("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n---\nbase: 2\n", "f.yaml")
    assert docs == [{"base": {"x": 1, "y": 2}, "d": {"x": 3, "y": 2}}, {"base": 2}]


@pytest.mark.parametrize("levels", [150, 900, 5000])
def test_deep_json_gets_the_yaml_depth_limit_not_a_recursion_error(levels: int) -> None:
    with pytest.raises(yamlsafe.ManifestError, match="f.json: JSON nesting deeper than 100 levels"):
        yamlsafe.load_all(deep_json(levels), "f.json")
    with pytest.raises(yamlsafe.ManifestError, match="JSON nesting deeper than 100 levels"):
        yamlsafe.load_json("[" * levels + "]" * levels, "annotation")


def test_json_within_limits_is_unchanged() -> None:
    text = deep_json(90)
    assert yamlsafe.load_all(text, "f.json") == [json.loads(text)]
    assert yamlsafe.load_json('{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    with pytest.raises(yamlsafe.ManifestError, match="too big: 0.0 MB exceeds|exceeds the"):
        yamlsafe.load_json('{"a": "' + "x" * 100 + '"}', "too big", max_bytes=50)


def test_alias_chains_cannot_nest_deeper_than_the_limit() -> None:
    chain = "l0: &l0 [x]\n" + "".join(f"l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, 150))
    with pytest.raises(yamlsafe.ManifestError, match="nesting deeper than 100 levels"):
        yamlsafe.load_all(chain, "chain.yaml")


def test_recursive_anchor_is_refused() -> None:
    with pytest.raises(yamlsafe.ManifestError, match="recursive YAML alias"):
        yamlsafe.load_all("a: &a [*a]\n", "r.yaml")


def test_alias_expansion_is_budgeted_across_the_whole_stream() -> None:
    # one 6-level, 9-wide bomb per document stays under the per-document size, 40 of them do not
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(5)
    )
    yamlsafe.load_all(bomb, "one.yaml")
    with pytest.raises(yamlsafe.ManifestError, match="alias bomb"):
        yamlsafe.load_all("---\n".join([bomb] * 40), "many.yaml")


def test_cluster_json_gets_the_limits_too() -> None:
    deep = "[" * 3000 + "]" * 3000
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h", "annotations": {"autoscaling.alpha.kubernetes.io/conditions": deep}},
    }
    health = HealthChecker({}).resource_health(hpa)
    assert health is not None and health.status == "Unknown"
    assert "nesting deeper than 100 levels" in health.message
    live = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": {LAST_APPLIED: deep}},
        "data": {"pw": "aHVudGVyMg=="},
    }
    _, masked = mask_secret_pair(None, live)
    assert masked is not None and masked["metadata"]["annotations"][LAST_APPLIED] == MASK  # fail closed


# -- the same through a real repository and the real renderers ---------------------------------


def commit(tmp: Path, files: dict[str, str]) -> tuple[str, Path]:
    work = tmp / f"origin-{len(list(tmp.glob('origin-*')))}"
    for name, text in files.items():
        p = work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "c"]):
        subprocess.run(["git", "-C", str(work), *args], env=GIT_ENV, check=True, capture_output=True)
    sha, tree = GitCache(tmp / "cache", allow_file_urls=True).fetch(work.as_uri(), "main")
    return sha, tree


def render_err(tmp: Path, files: dict[str, str], source: dict[str, Any]) -> str:
    sha, tree = commit(tmp, files)
    with pytest.raises(RenderError) as err:
        render(tree, source, app_name="web", namespace="shop", revision=sha)
    message = str(err.value)
    assert str(tmp) not in message and "\n" not in message
    return message


def test_directory_app_with_a_second_image_key_is_rejected(tmp_path: Path) -> None:
    message = render_err(tmp_path, {"apps/web/deploy.yaml": DEPLOY_DUP}, {"path": "apps/web"})
    assert message == 'apps/web/deploy.yaml: line 13: mapping key "image" already defined at line 12'


def test_directory_app_with_deep_json_is_a_clean_error(tmp_path: Path) -> None:
    message = render_err(tmp_path, {"apps/web/cm.json": deep_json(900)}, {"path": "apps/web"})
    assert message == "apps/web/cm.json: JSON nesting deeper than 100 levels"


def test_helm_output_with_duplicate_keys_names_the_template(tmp_path: Path) -> None:
    files = {
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
        "chart/templates/deploy.yaml": DEPLOY_DUP,
    }
    message = render_err(tmp_path, files, {"path": "chart"})
    assert message.startswith("helm template of chart: line ")
    assert 'mapping key "image" already defined at line' in message
    assert message.endswith("(in web/templates/deploy.yaml)")


def test_kustomize_input_with_duplicate_keys_is_rejected(tmp_path: Path) -> None:
    files = {"k/kustomization.yaml": "resources: [deploy.yaml]\n", "k/deploy.yaml": DEPLOY_DUP}
    message = render_err(tmp_path, files, {"path": "k"})
    assert message.startswith("kustomize build of k failed: ")
    assert '"image" already defined' in message


def test_kustomization_file_with_duplicate_keys_is_rejected_with_its_line(tmp_path: Path) -> None:
    files = {"k/kustomization.yaml": "resources: [a.yaml]\nresources: [b.yaml]\n"}
    message = render_err(tmp_path, files, {"path": "k"})
    assert message.endswith('k/kustomization.yaml: line 2: mapping key "resources" already defined at line 1')
