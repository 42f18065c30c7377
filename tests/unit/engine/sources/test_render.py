"""Rendering Directory, Kustomize (real kubectl) and Helm (real helm) sources, and the manifest cache."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from console.engine.sources import GitCache, ManifestCache, RenderError, detect_source_type, render
from console.engine.sources.render import glob_match
from console.engine.sources.tools import find_tool

SHA = "0123456789abcdef0123456789abcdef01234567"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


def run(tree: Path, source: dict[str, Any], **kw: Any) -> Any:
    return render(
        tree, source, app_name=kw.pop("app_name", "guestbook"), namespace=kw.pop("namespace", "apps"), **kw
    )


# -- Directory -------------------------------------------------------------------------------


@pytest.fixture
def dir_tree(tmp_path: Path) -> Path:
    return write(
        tmp_path / "repo",
        {
            "app/b.yaml": cm("b1") + "---\n" + cm("b2") + "---\n",
            "app/a.json": json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}),
            "app/c.yml": "apiVersion: v1\nkind: List\nitems:\n- " + cm("c1").replace("\n", "\n  ") + "\n- "
            + cm("c2").replace("\n", "\n  "),
            "app/README.md": "# not yaml: {",
            "app/sub/d.yaml": cm("d"),
            "app/sub/deeper/e.yaml": cm("e"),
            "app/.github/ci.yaml": "on: push\n",
        },
    )  # fmt: skip


def test_directory_top_level_only_sorted_with_json_multidoc_and_list(dir_tree: Path) -> None:
    result = run(dir_tree, {"path": "app"})
    assert result.source_type == "Directory"
    assert names(result.objects) == ["a", "b1", "b2", "c1", "c2"]
    assert result.objects[0]["kind"] == "Service"


def test_directory_recurse_include_exclude(dir_tree: Path) -> None:
    assert names(run(dir_tree, {"path": "app", "directory": {"recurse": True}}).objects) == [
        "a",
        "b1",
        "b2",
        "c1",
        "c2",
        "d",
        "e",
    ]  # fmt: skip  (.github is hidden: skipped)
    inc = {"path": "app", "directory": {"recurse": True, "include": "{a.json,sub/*}"}}
    assert names(run(dir_tree, inc).objects) == ["a", "d", "e"]  # '*' crosses '/' (Argo's glob)
    exc = {"path": "app", "directory": {"recurse": True, "exclude": "{*.yml,**/deeper/*}"}}
    assert names(run(dir_tree, exc).objects) == ["a", "b1", "b2", "d"]
    both = {"path": "app", "directory": {"recurse": True, "include": "*.yaml", "exclude": "b.yaml"}}
    assert names(run(dir_tree, both).objects) == ["d", "e"]


def test_glob_semantics() -> None:
    assert glob_match("*.yaml", "x/y.yaml")
    assert glob_match("{a,b}/*.yaml", "b/c.yaml")
    assert not glob_match("{a,b}/*.yaml", "c/c.yaml")
    assert glob_match("config-?.yaml", "config-1.yaml")
    assert glob_match("[!x]*.yaml", "a.yaml") and not glob_match("[!x]*.yaml", "x.yaml")


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, {"app/good.yaml": cm("ok"), "app/bad.yaml": "apiVersion: v1\nkind: [unclosed\n"})
    with pytest.raises(RenderError) as err:
        run(tmp_path, {"path": "app"})
    assert str(err.value).startswith("app/bad.yaml: malformed YAML")
    assert err.value.tool == "directory" and "\n" not in str(err.value)


def test_alias_bomb_is_refused_with_file_name(tmp_path: Path) -> None:
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, (prev, cur) in enumerate(zip("abcdefgh", "bcdefghi", strict=True)):
        bomb.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
        del i
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: boom}\ndata:\n"
        + "\n".join("  " + b for b in bomb)
        + "\n"
    )
    write(tmp_path, {"app/bomb.yaml": text})
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"^app/bomb.yaml: .*alias"):
        run(tmp_path, {"path": "app"})
    assert time.monotonic() - started < 10  # refused before expansion: no hang


def test_huge_manifest_is_refused_quickly(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    with open(tmp_path / "app" / "huge.yaml", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"^app/huge.yaml: 50.0 MB exceeds the 8 MB manifest limit"):
        run(tmp_path, {"path": "app"})
    assert time.monotonic() - started < 10  # refused from the size, without reading 50 MB


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (cm("a") + "---\n- just\n- a list\n", "app/x.yaml: document 2 is a list, not a Kubernetes object"),
        (cm("a") + "---\nplain scalar\n", "app/x.yaml: document 2 is a str, not a Kubernetes object"),
        ("kind: ConfigMap\nmetadata: {name: a}\n", "app/x.yaml: document 1: object is missing apiVersion"),
        (
            cm("a") + "---\napiVersion: v1\nkind: ConfigMap\n",
            "app/x.yaml: document 2: object is missing metadata",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\n",
            "generateName is only allowed on hooks",
        ),
        ("apiVersion: v1\nkind: List\nitems: [3]\n", "app/x.yaml: document 1"),
    ],
)
def test_invalid_objects_name_file_and_document(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, {"app/x.yaml": text})
    with pytest.raises(RenderError) as err:
        run(tmp_path, {"path": "app"})
    assert expected in str(err.value)


def test_generate_name_is_fine_on_hooks(tmp_path: Path) -> None:
    hook = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  annotations:\n"
    write(tmp_path, {"app/job.yaml": hook + "    argocd.argoproj.io/hook: PreSync\n"})
    assert run(tmp_path, {"path": "app"}).objects[0]["metadata"]["generateName"] == "migrate-"


def test_yaml_dates_become_strings(tmp_path: Path) -> None:
    write(tmp_path, {"app/x.yaml": cm("a") + "data:\n  day: 2024-01-02\n"})
    assert run(tmp_path, {"path": "app"}).objects[0]["data"]["day"] == "2024-01-02"


def test_jsonnet_renders_next_to_yaml_and_libsonnet_is_not_a_manifest(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/a.yaml": cm("a"),
            "app/b.jsonnet": "local l = import 'l.libsonnet'; {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: l.n}}",
            "app/l.libsonnet": "{n: 'b'}",
        },
    )
    names = [o["metadata"]["name"] for o in run(tmp_path, {"path": "app"}).objects]
    assert names == ["a", "b"]


def test_jsonnet_errors_are_repo_relative(tmp_path: Path) -> None:
    write(tmp_path, {"app/b.jsonnet": "error 'boom'"})
    with pytest.raises(RenderError) as err:
        run(tmp_path, {"path": "app"})
    assert (
        "app/b.jsonnet" in str(err.value) and "boom" in str(err.value) and str(tmp_path) not in str(err.value)
    )


# -- paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../..", "must not contain '..'"),
        ("app/../../etc", "must not contain '..'"),
        ("/etc", "app path is absolute"),
        ("missing", "app path does not exist"),
        ("app/a.yaml", "app path is not a directory"),
        ("escape", "app path outside root"),
    ],
)
def test_app_path_must_stay_in_the_tree(tmp_path: Path, path: str, message: str) -> None:
    outside = write(tmp_path / "outside", {"secret.yaml": cm("secret")})
    repo = write(tmp_path / "repo", {"app/a.yaml": cm("a")})
    os.symlink(outside, repo / "escape")
    with pytest.raises(RenderError) as err:
        run(repo, {"path": path})
    assert message in str(err.value)


def test_out_of_bounds_symlink_fails_like_argo_and_in_bounds_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "outside", {"secret.yaml": cm("secret")})
    repo = write(tmp_path / "repo", {"app/a.yaml": cm("a"), "shared/s.yaml": cm("shared")})
    os.symlink("../shared/s.yaml", repo / "app" / "s.yaml")
    assert names(run(repo, {"path": "app"}).objects) == ["a", "shared"]
    other = write(tmp_path / "repo2", {"app/a.yaml": cm("a")})
    os.symlink(tmp_path / "outside" / "secret.yaml", other / "app" / "leak.yaml")
    with pytest.raises(RenderError, match="repository contains out-of-bounds symlinks. file: app/leak.yaml"):
        run(other, {"path": "app"})


def test_detect_source_type(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"k/kustomization.yaml": "resources: []\n", "k2/Kustomization": "", "h/Chart.yaml": "name: h\n"},
    )
    (tmp_path / "d").mkdir()
    assert detect_source_type(tmp_path / "k", {}) == "Kustomize"
    assert detect_source_type(tmp_path / "k2", {}) == "Kustomize"
    assert detect_source_type(tmp_path / "h", {}) == "Helm"
    assert detect_source_type(tmp_path / "d", {}) == "Directory"
    assert detect_source_type(tmp_path / "k", {"directory": {"recurse": True}}) == "Directory"
    assert detect_source_type(tmp_path / "k", {"directory": {"recurse": False}}) == "Kustomize"  # zero block
    assert detect_source_type(tmp_path / "d", {"helm": {"releaseName": "x"}}) == "Helm"
    with pytest.raises(RenderError, match="multiple application sources defined: Helm,Kustomize"):
        detect_source_type(tmp_path / "d", {"helm": {"releaseName": "x"}, "kustomize": {"namePrefix": "p-"}})


# -- Kustomize (real kubectl) ----------------------------------------------------------------

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
"""


@pytest.fixture
def kustomize_tree(tmp_path: Path) -> Path:
    return write(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources: [deploy.yaml, cm.yaml]\n",
            "base/deploy.yaml": DEPLOY,
            "base/cm.yaml": cm("settings"),
            "overlays/prod/kustomization.yaml": "resources: [../../base]\nnamePrefix: prod-\n",
            "overlays/prod/patch.yaml": "- op: add\n  path: /spec/minReadySeconds\n  value: 10\n",
        },
    )


def test_kustomize_overlay_plain(kustomize_tree: Path) -> None:
    result = run(kustomize_tree, {"path": "overlays/prod"})
    assert result.source_type == "Kustomize"
    assert sorted(names(result.objects)) == ["prod-settings", "prod-web"]


def test_kustomize_with_application_overrides(kustomize_tree: Path) -> None:
    source = {
        "path": "overlays/prod",
        "kustomize": {
            "namePrefix": "team-",
            "images": ["nginx=registry.local/nginx:1.26"],
            "commonLabels": {"owner": "sre"},
            "commonAnnotations": {"app": "${ARGOCD_APP_NAME}"},
            "commonAnnotationsEnvsubst": True,
            "namespace": "shop",
            "replicas": [{"name": "prod-web", "count": "3"}],
            "patches": [{"path": "patch.yaml", "target": {"kind": "Deployment"}}],
        },
    }
    result = run(kustomize_tree, source, app_name="shop-web")
    by_kind = {o["kind"]: o for o in result.objects}
    deploy = by_kind["Deployment"]
    assert deploy["metadata"]["name"] == "team-prod-web"
    assert deploy["metadata"]["namespace"] == "shop"
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/nginx:1.26"
    assert deploy["metadata"]["labels"]["owner"] == "sre"
    assert deploy["spec"]["selector"]["matchLabels"]["owner"] == "sre"
    assert deploy["metadata"]["annotations"]["app"] == "shop-web"
    assert deploy["spec"]["replicas"] == 3
    assert deploy["spec"]["minReadySeconds"] == 10  # patch file copied from the app dir
    assert by_kind["ConfigMap"]["metadata"]["name"] == "team-prod-settings"


def test_kustomize_failure_is_one_line_with_repo_relative_path(kustomize_tree: Path) -> None:
    write(kustomize_tree, {"broken/kustomization.yaml": "resources: [missing.yaml]\n"})
    with pytest.raises(RenderError) as err:
        run(kustomize_tree, {"path": "broken"})
    message = str(err.value)
    assert message.startswith("kustomize build of broken failed: ")
    assert "missing.yaml" in message and str(kustomize_tree) not in message and "\n" not in message
    assert err.value.tool == "kustomize"


def test_kustomize_cannot_read_outside_the_tree(kustomize_tree: Path, tmp_path: Path) -> None:
    write(tmp_path, {"secret.txt": "hunter2"})
    write(
        kustomize_tree,
        {"evil/kustomization.yaml": f"configMapGenerator:\n- name: x\n  files: [{tmp_path}/secret.txt]\n"},
    )
    with pytest.raises(RenderError) as err:
        run(kustomize_tree, {"path": "evil"})
    assert "hunter2" not in str(err.value)
    with pytest.raises(
        RenderError, match="kustomize patch ../../../secret.txt resolved to outside repository root"
    ):
        run(kustomize_tree, {"path": "base", "kustomize": {"patches": [{"path": "../../../secret.txt"}]}})


# -- Helm (real helm) ------------------------------------------------------------------------


@pytest.fixture
def chart_tree(tmp_path: Path) -> Path:
    return write(
        tmp_path / "repo",
        {
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            "charts/web/values.yaml": "replicas: 1\ncolor: blue\nextra: none\n",
            "charts/web/values-prod.yaml": "replicas: 4\n",
            "charts/web/templates/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
                "  namespace: {{ .Release.Namespace }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n"
                "  color: {{ .Values.color | quote }}\n  extra: {{ .Values.extra | quote }}\n"
                "  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n"
            ),
            "charts/web/templates/tests/t.yaml": (
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n"
                "  annotations: {helm.sh/hook: test}\nspec: {containers: [{name: t, image: busybox}]}\n"
            ),
            "values/shared.yaml": "color: green\n",
        },
    )


def test_helm_template_with_values(chart_tree: Path) -> None:
    source = {
        "path": "charts/web",
        "helm": {
            "releaseName": "shop",
            "valueFiles": ["values-prod.yaml", "../../values/shared.yaml"],
            "valuesObject": {"extra": "from-object"},
            "parameters": [{"name": "color", "value": "red,white"}],
            "skipTests": True,
        },
    }
    result = run(chart_tree, source, namespace="prod", kube_version="1.31.0")
    assert result.source_type == "Helm"
    assert len(result.objects) == 1  # the test hook is skipped
    data = result.objects[0]["data"]
    assert result.objects[0]["metadata"] == {"name": "shop-cfg", "namespace": "prod"}
    assert data == {"replicas": "4", "color": "red,white", "extra": "from-object", "kube": "v1.31.0"}


def test_helm_defaults_release_to_app_name_and_keeps_tests(chart_tree: Path) -> None:
    result = run(chart_tree, {"path": "charts/web"}, app_name="guestbook")
    assert sorted(names(result.objects)) == ["guestbook-cfg", "guestbook-test"]


@pytest.mark.parametrize(
    ("helm", "message"),
    [
        (
            {"valueFiles": ["../../../outside.yaml"]},
            "value file ../../../outside.yaml resolved to outside repository root",
        ),
        ({"valueFiles": ["https://example.com/v.yaml"]}, "remote files are not supported"),
        ({"valueFiles": ["nope.yaml"]}, "value file nope.yaml does not exist"),
        ({"releaseName": "--dry-run"}, "invalid Helm release name"),
        (
            {"parameters": [{"name": "x", "value": "{{"}], "values": "a: [unclosed"},
            "helm.values: malformed YAML",
        ),
    ],
)
def test_helm_rejects_bad_inputs(chart_tree: Path, helm: dict[str, Any], message: str) -> None:
    write(chart_tree.parent, {"outside.yaml": "color: stolen\n"})
    with pytest.raises(RenderError) as err:
        run(chart_tree, {"path": "charts/web", "helm": helm})
    assert message in str(err.value)
    assert err.value.tool == "helm"


def test_helm_missing_value_file_can_be_ignored(chart_tree: Path) -> None:
    result = run(
        chart_tree,
        {"path": "charts/web", "helm": {"valueFiles": ["nope.yaml"], "ignoreMissingValueFiles": True}},
    )
    assert result.warnings == ["value file nope.yaml does not exist; ignored"]


def test_helm_unvendored_dependency_is_a_clear_error(chart_tree: Path) -> None:
    write(chart_tree, {"charts/web/Chart.yaml": (
        "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n"
        "- name: redis\n  version: 1.0.0\n  repository: https://charts.example.com\n"
    )})  # fmt: skip
    with pytest.raises(RenderError, match="chart dependency 'redis' is not vendored in charts/"):
        run(chart_tree, {"path": "charts/web"})


def test_helm_template_error_is_one_line(chart_tree: Path) -> None:
    write(chart_tree, {"charts/web/templates/bad.yaml": "{{ .Values.nope.deeper }}\n"})
    with pytest.raises(RenderError) as err:
        run(chart_tree, {"path": "charts/web"})
    assert str(err.value).startswith("helm template of charts/web failed: ")
    assert "bad.yaml" in str(err.value) and "\n" not in str(err.value)


def test_missing_helm_binary(chart_tree: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRUEUP_HELM", str(tmp_path / "no-such-helm"))
    assert find_tool("helm") is None
    with pytest.raises(RenderError) as err:
        run(chart_tree, {"path": "charts/web"})
    assert str(err.value) == (
        "helm is not installed: Helm sources need the helm binary "
        f"(looked in $TRUEUP_HELM={tmp_path / 'no-such-helm'})"
    )


def test_find_tool_prefers_the_venv_kubectl() -> None:
    import sys

    assert find_tool("kubectl") == str(Path(sys.executable).parent / "kubectl")


# -- Git tree + manifest cache ---------------------------------------------------------------


def test_render_from_git_tree_and_manifest_cache_round_trip(tmp_path: Path) -> None:
    origin = write(tmp_path / "origin", {"app/a.yaml": cm("a")})
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "one"]):
        subprocess.run(["git", "-C", str(origin), *args], env=env, check=True)
    git = GitCache(tmp_path / "git", allow_file_urls=True)
    sha = git.resolve(str(origin), "main")
    tree = git.tree(str(origin), sha)
    manifests = ManifestCache(tmp_path / "manifests")

    first = run(tree, {"path": "app"}, cache=manifests, revision=sha)
    assert names(first.objects) == ["a"]
    assert len(list((tmp_path / "manifests").rglob("*.json"))) == 1

    # Served from the cache: the renderer does not read the tree again.
    os.chmod(tree / "app" / "a.yaml", 0o644)
    (tree / "app" / "a.yaml").write_text(cm("changed"))
    second = run(tree, {"path": "app"}, cache=manifests, revision=sha)
    assert second == first
    # A different namespace, app or tool block is a different key; a branch name is never cached.
    assert names(run(tree, {"path": "app"}, cache=manifests, revision=sha, namespace="other").objects) == [
        "changed"
    ]
    assert names(run(tree, {"path": "app"}, cache=manifests, revision="main").objects) == ["changed"]
    assert len(list((tmp_path / "manifests").rglob("*.json"))) == 2

    key = manifests.key(revision=sha, path="app", source_type="Directory", tool={}, app_name="guestbook",
                        namespace="apps")  # fmt: skip
    assert manifests.get(key) == first
    assert manifests.key(revision="main", path="app", source_type="Directory", tool={}, app_name="g",
                         namespace="a") is None  # fmt: skip
    started = time.monotonic()
    for _ in range(1000):
        assert manifests.get(key) is not None
    print(f"\nmanifest cache: 1,000 reads in {time.monotonic() - started:.3f} s")


def test_manifest_cache_ignores_torn_files(tmp_path: Path) -> None:
    manifests = ManifestCache(tmp_path)
    key = manifests.key(revision=SHA, path=".", source_type="Directory", tool={}, app_name="a", namespace="n")
    assert key is not None
    path = tmp_path / key[:2] / f"{key}.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"o": [')
    assert manifests.get(key) is None
    assert not path.exists()
