"""Each render sees only its own repository's tree (CVE-2022-24348 class), with real git and tools.

Two real repositories are fetched into one GitCache. Repository A's kustomization (and Helm chart)
tries to read repository B's cached tree, whose location the test computes the way an attacker who
knew the layout would, and host paths such as /etc. Every attempt fails before the tool runs, with
a message that names repo-relative paths only and reads the same whether the outside path exists.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

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

CM_B = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: team-b-secret-config}\ndata: {token: b-only}\n"


def repo(path: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        p = path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "content"]):
        subprocess.run(["git", "-C", str(path), *args], env=GIT_ENV, check=True, capture_output=True)
    return path.as_uri()


@pytest.fixture
def two_repos(tmp_path: Path) -> dict[str, Any]:
    b_url = repo(tmp_path / "b", {"team-b/kustomization.yaml": "resources: [cm.yaml]\n", "team-b/cm.yaml": CM_B,
                                  "team-b/values.yaml": "token: b-only\n"})  # fmt: skip
    cache = GitCache(tmp_path / "cache", allow_file_urls=True)
    _, b_tree = cache.fetch(b_url, "main")
    a_app = "apps/a"
    # from A's app directory to B's tree, as an attacker who knew the cache layout would write it
    a_tree_guess = cache.root / "trees" / "x" / ("0" * 40) / a_app
    to_b = os.path.relpath(b_tree / "team-b", a_tree_guess)
    up = "../" * 12
    return {"tmp": tmp_path, "cache": cache, "b_tree": b_tree, "to_b": to_b, "up": up}


def render_a(setup: dict[str, Any], files: dict[str, str], source: dict[str, Any]) -> Any:
    tmp: Path = setup["tmp"]
    url = repo(tmp / f"a-{len(list(tmp.glob('a-*')))}", files)
    cache: GitCache = setup["cache"]
    sha, tree = cache.fetch(url, "main")
    return render(tree, source, app_name="team-a", namespace="team-a", revision=sha)


def refused(setup: dict[str, Any], files: dict[str, str], source: dict[str, Any]) -> str:
    with pytest.raises(RenderError) as err:
        render_a(setup, files, source)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for host in (str(setup["tmp"]), str(setup["cache"].root), "/tmp/", "b-only"):
        assert host not in message.replace(setup["to_b"], "<entry>"), message
    return message


def test_kustomize_resources_cannot_reach_another_repositorys_tree(two_repos: dict[str, Any]) -> None:
    files = {"apps/a/kustomization.yaml": f"resources: [{two_repos['to_b']}]\n"}
    message = refused(two_repos, files, {"path": "apps/a"})
    assert message == (
        f'kustomize build of apps/a failed: apps/a/kustomization.yaml: resources entry "{two_repos["to_b"]}" '
        "points outside the repository"
    )


@pytest.mark.parametrize(
    "field",
    ["resources", "bases", "components", "generators", "transformers", "validators"],
)
def test_every_directory_field_is_confined(two_repos: dict[str, Any], field: str) -> None:
    files = {"apps/a/kustomization.yaml": f"{field}: ['{two_repos['up']}etc']\n"}
    message = refused(two_repos, files, {"path": "apps/a"})
    assert f'{field} entry "{two_repos["up"]}etc" points outside the repository' in message


@pytest.mark.parametrize(
    "kustomization",
    [
        "configMapGenerator:\n- name: x\n  files: [k={p}]\n",
        "secretGenerator:\n- name: x\n  envs: [{p}]\n",
        "patches:\n- path: {p}\n",
        "patchesStrategicMerge: [{p}]\n",
        "crds: [{p}]\n",
        "configurations: [{p}]\n",
        "openapi: {{path: {p}}}\n",
        "replacements:\n- path: {p}\n",
        "transformers:\n- |-\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata: {{name: t}}\n  path: {p}\n",
    ],
    ids=["cm-files", "secret-envs", "patches", "psm", "crds", "configurations", "openapi", "replacements",
         "inline-transformer"],
)  # fmt: skip
def test_file_fields_give_one_message_whether_or_not_the_host_path_exists(
    two_repos: dict[str, Any], kustomization: str
) -> None:
    messages = []
    for outside in ("/etc/passwd", "/etc/no-such-file-here", "../../../../../../etc/passwd"):
        files = {"apps/a/kustomization.yaml": kustomization.format(p=outside)}
        messages.append(refused(two_repos, files, {"path": "apps/a"}).replace(outside, "<p>"))
    assert messages[0] == messages[1] == messages[2]
    assert messages[0].endswith('"<p>" points outside the repository')


def test_plugin_config_file_paths_are_confined(two_repos: dict[str, Any]) -> None:
    files = {
        "apps/a/kustomization.yaml": "resources: [cm.yaml]\ntransformers: [patch.yaml]\n",
        "apps/a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "apps/a/patch.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: /etc/passwd\n",
    }
    message = refused(two_repos, files, {"path": "apps/a"})
    assert message.endswith(
        'transformers entry (PatchTransformer) path "/etc/passwd" points outside the repository'
    )


def test_a_base_inside_the_repository_still_renders(two_repos: dict[str, Any]) -> None:
    files = {
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n",
        "apps/a/kustomization.yaml": "resources: [../../base]\nnamePrefix: a-\n",
    }
    result = render_a(two_repos, files, {"path": "apps/a"})
    assert [o["metadata"]["name"] for o in result.objects] == ["a-shared"]


def test_nested_base_escaping_is_refused_with_its_own_file_named(two_repos: dict[str, Any]) -> None:
    files = {
        "base/kustomization.yaml": f"resources: [{two_repos['up']}etc]\n",
        "apps/a/kustomization.yaml": "resources: [../../base]\n",
    }
    message = refused(two_repos, files, {"path": "apps/a"})
    assert "base/kustomization.yaml: resources entry" in message


def test_remote_and_missing_bases_are_clear(two_repos: dict[str, Any]) -> None:
    files = {"apps/a/kustomization.yaml": "resources: ['github.com/org/repo//deploy?ref=v1']\n"}
    assert "is a remote base: trueup renders offline" in refused(two_repos, files, {"path": "apps/a"})
    files = {"apps/a/kustomization.yaml": "resources: [../nope]\n"}
    assert refused(two_repos, files, {"path": "apps/a"}).endswith(
        '"../nope" does not exist in the repository'
    )


def test_helm_value_files_and_dependencies_cannot_leave_the_repository(two_repos: dict[str, Any]) -> None:
    chart = {
        "chart/Chart.yaml": "apiVersion: v2\nname: a\nversion: 0.1.0\n",
        "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    }
    messages = []
    for vf in (os.path.join(two_repos["to_b"], "values.yaml"), f"{two_repos['up']}etc/passwd",
               f"{two_repos['up']}etc/no-such-file-here"):  # fmt: skip
        msg = refused(two_repos, chart, {"path": "chart", "helm": {"valueFiles": [vf]}})
        messages.append(msg.replace(vf, "<vf>"))
    assert messages[0] == messages[1] == messages[2] == "value file <vf> resolved to outside repository root"
    # as in Argo CD, an absolute value file is relative to the repository root: /etc is the repo's etc/
    messages = [
        refused(two_repos, chart, {"path": "chart", "helm": {"valueFiles": [vf]}}).replace(vf, "<vf>")
        for vf in ("/etc/passwd", "/etc/no-such-file-here")
    ]
    assert messages[0] == messages[1] == "chart: value file <vf> does not exist"
    dep = {
        **chart,
        "chart/Chart.yaml": "apiVersion: v2\nname: a\nversion: 0.1.0\ndependencies:\n"
        f"- name: b\n  version: 0.1.0\n  repository: file://{two_repos['up']}etc\n",
    }
    message = refused(two_repos, dep, {"path": "chart"})
    assert message.startswith('chart/Chart.yaml: dependency "b" repository "file://')
    assert message.endswith("points outside the repository")


def test_directory_source_symlink_into_another_tree_is_refused_at_export(two_repos: dict[str, Any]) -> None:
    tmp: Path = two_repos["tmp"]
    a = tmp / "a-link"
    (a / "apps" / "a").mkdir(parents=True)
    os.symlink(os.path.join(two_repos["to_b"], "cm.yaml"), a / "apps" / "a" / "stolen.yaml")
    url = repo(a, {})
    from console.engine.sources import RepoError

    with pytest.raises(
        RepoError, match=r"^repository contains out-of-bounds symlinks. file: apps/a/stolen.yaml$"
    ):
        two_repos["cache"].fetch(url, "main")
