"""Hostile repository content through the real `trueup` command (DESIGN.md §5).

One workspace, two real repositories: `apps` holds the hostile inputs (a kustomization reaching the
other repository's cached tree and /etc, a Helm value file outside the repository, a manifest with
a second `image:` key, 900-level JSON, an annotation listed in `sensitiveMaskAnnotations`), a
second repository holds a symlink and a directory of one name (refused by fsck) and a third an
out-of-bounds symlink. `refresh` must exit 0 with each bad app holding one ComparisonError
condition and every other app fine; `app diff` of a bad app prints exactly one line on stderr and
exits 2; nothing prints a traceback or a host path.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from console.engine.sources import GitCache
from console.engine.workspace import load
from tests.conftest import run_cli
from tests.helpers import application, commit_files, make_workspace

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}
TOKEN = "s3cr3t-t0ken-value"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {a: '1'}\n"
DUP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
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


def plumbing_repo(path: Path, entries: str) -> str:
    """A bare repository whose main commit has a tree made with `git mktree` (what no porcelain makes)."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], env=GIT_ENV, check=True)

    def git(*args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            ["git", "-C", str(path), *args],
            env=GIT_ENV,
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
        )
        return out.stdout.strip()

    link = git("hash-object", "-w", "--stdin", stdin="../../../../../../../../etc")
    blob = git("hash-object", "-w", "--stdin", stdin=CM % "pwned")
    sub = git("mktree", stdin=f"100644 blob {blob}\tcm.yaml\n")
    tree = git("mktree", stdin=entries.format(link=link, blob=blob, sub=sub))
    git("update-ref", "refs/heads/main", git("commit-tree", tree, "-m", "crafted"))
    return path.as_uri()


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    files = {
        "good/cm.yaml": CM % "good",
        "dupkeys/deploy.yaml": DUP,
        "deepjson/cm.json": deep_json(900),
        "kustomize-etc/kustomization.yaml": "resources: [../../../../../../../../../../etc]\n",
        "helm-etc/Chart.yaml": "apiVersion: v2\nname: h\nversion: 0.1.0\n",
        "helm-etc/templates/cm.yaml": CM % "h",
        "sensitive/cm.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sensitive\n"
            f"  annotations: {{example.com/token: {TOKEN}, example.com/plain: visible}}\ndata: {{a: '1'}}\n"
        ),
    }
    ws, repo, work = make_workspace(
        root, files, settings={"sensitiveMaskAnnotations": "example.com/token, other.example.com/key"}
    )
    # a second repository whose cached tree repo A then tries to include
    other_bare = root / "other.git"
    other_work = root / "other-work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(other_bare)], env=GIT_ENV, check=True)
    subprocess.run(["git", "clone", "-q", str(other_bare), str(other_work)], env=GIT_ENV, check=True)
    (other_work / "team-b").mkdir()
    (other_work / "team-b" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (other_work / "team-b" / "cm.yaml").write_text(CM % "team-b-only")
    for args in (["add", "-A"], ["commit", "-qm", "b"], ["push", "-q", "origin", "HEAD:main"]):
        subprocess.run(["git", "-C", str(other_work), *args], env=GIT_ENV, check=True, capture_output=True)
    other = other_bare.as_uri()
    _, other_tree = GitCache(ws.cache_dir / "git", allow_file_urls=True).fetch(other, "main")
    app_dir_guess = other_tree.parent / ("0" * 40) / "kustomize-other"
    to_other = os.path.relpath(other_tree / "team-b", app_dir_guess)
    commit_files(
        work, root / "work", {"kustomize-other/kustomization.yaml": f"resources: [{to_other}]\n"}, "b"
    )
    symdir = plumbing_repo(
        root / "symdir.git", "120000 blob {link}\tapp\n040000 tree {sub}\tapp\n"
    )  # a symlink and a directory, both `app`
    oob = plumbing_repo(root / "oob.git", "040000 tree {sub}\tapp\n120000 blob {link}\tleak\n")

    control = ws.control()
    apps = {
        "good": application("good", repo, "good"),
        "dupkeys": application("dupkeys", repo, "dupkeys"),
        "deepjson": application("deepjson", repo, "deepjson"),
        "kustomize-etc": application("kustomize-etc", repo, "kustomize-etc"),
        "kustomize-other": application("kustomize-other", repo, "kustomize-other"),
        "helm-etc": application(
            "helm-etc",
            repo,
            "helm-etc",
            source={
                "repoURL": repo,
                "path": "helm-etc",
                "targetRevision": "main",
                "helm": {"valueFiles": ["../../../../../../../etc/passwd"]},
            },
        ),
        "sensitive": application("sensitive", repo, "sensitive"),
        "symdir": application("symdir", symdir, "app"),
        "oob": application("oob", oob, "app"),
    }
    for obj in apps.values():
        control.create(obj, field_manager="test")
    r = run_cli("-w", str(root), "refresh")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return {"root": root, "to_other": to_other, "ws": load(root)}


def cli(ws: dict[str, Any], *args: str) -> Any:
    return run_cli("-w", str(ws["root"]), *args)


def status(ws: dict[str, Any], name: str) -> dict[str, Any]:
    r = cli(ws, "app", "get", name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout)["status"])


def no_host_paths(ws: dict[str, Any], text: str) -> None:
    shown = text.replace(ws["to_other"], "<entry>")
    for host in (str(ws["root"]), str(Path(ws["root"]).resolve()), "/tmp/"):
        assert host not in shown, text


# (app, the one condition's message must contain)
BAD = [
    ("dupkeys", 'dupkeys/deploy.yaml: line 12: mapping key "image" already defined at line 11'),
    ("deepjson", "deepjson/cm.json: JSON nesting deeper than 100 levels"),
    (
        "kustomize-etc",
        'kustomize-etc/kustomization.yaml: resources entry "../../../../../../../../../../etc" points outside the repository',
    ),
    ("kustomize-other", "kustomize-other/kustomization.yaml: resources entry"),
    ("helm-etc", "value file ../../../../../../../etc/passwd resolved to outside repository root"),
    ("symdir", "failed object verification (git fsck)"),
    ("oob", "repository contains out-of-bounds symlinks. file: leak"),
]


@pytest.mark.parametrize(("app", "needle"), BAD, ids=[a for a, _ in BAD])
def test_refresh_gives_each_bad_app_one_clean_condition(
    hostile_ws: dict[str, Any], app: str, needle: str
) -> None:
    st = status(hostile_ws, app)
    conds = st.get("conditions") or []
    assert [c["type"] for c in conds] == ["ComparisonError"], conds
    message = conds[0]["message"]
    assert needle in message
    assert "\n" not in message and "Traceback" not in message
    if app != "symdir":  # that one names the repository URL, which the user gave
        no_host_paths(hostile_ws, message)
    assert st["sync"]["status"] == "Unknown"


def test_good_app_beside_them_is_unaffected(hostile_ws: dict[str, Any]) -> None:
    st = status(hostile_ws, "good")
    assert "conditions" not in st and st["sync"]["status"] == "OutOfSync"


def test_kustomize_other_repository_message_is_the_outside_message(hostile_ws: dict[str, Any]) -> None:
    message = status(hostile_ws, "kustomize-other")["conditions"][0]["message"]
    assert message.endswith(f'resources entry "{hostile_ws["to_other"]}" points outside the repository')
    assert "team-b-only" not in message


@pytest.mark.parametrize(("app", "needle"), BAD, ids=[a for a, _ in BAD])
def test_app_diff_of_a_bad_app_is_one_line_and_exit_2(
    hostile_ws: dict[str, Any], app: str, needle: str
) -> None:
    r = cli(hostile_ws, "app", "diff", app)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.endswith("\n")
    assert needle in r.stderr and "Traceback" not in r.stderr
    if app != "symdir":
        no_host_paths(hostile_ws, r.stderr)


@pytest.mark.parametrize("app", ["dupkeys", "kustomize-etc", "oob"])
def test_app_manifests_of_a_bad_app_is_one_line_and_exit_2(hostile_ws: dict[str, Any], app: str) -> None:
    r = cli(hostile_ws, "app", "manifests", app)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_nothing_was_written_outside_the_cache(hostile_ws: dict[str, Any]) -> None:
    trees = Path(hostile_ws["ws"].cache_dir) / "git" / "trees"
    assert not list(trees.rglob("pwned*")) and not list(trees.rglob("leak"))
    assert (trees.stat().st_mode & 0o777) == 0o700


def test_sensitive_annotation_is_masked_in_diff_manifests_and_app_get(hostile_ws: dict[str, Any]) -> None:
    outputs = {}
    outputs["diff"] = cli(hostile_ws, "app", "diff", "sensitive")
    assert outputs["diff"].returncode == 1  # not deployed yet: a diff
    outputs["diff-json"] = cli(hostile_ws, "app", "diff", "sensitive", "-o", "json")
    outputs["manifests"] = cli(hostile_ws, "app", "manifests", "sensitive")
    outputs["manifests-json"] = cli(hostile_ws, "app", "manifests", "sensitive", "-o", "json")
    for name, r in outputs.items():
        assert TOKEN not in r.stdout + r.stderr, name
    shown = json.loads(outputs["manifests-json"].stdout)[0]["metadata"]["annotations"]
    assert shown["example.com/token"] == "++++++++" and shown["example.com/plain"] == "visible"
    assert "example.com/token: ++++++++" in outputs["diff"].stdout
    assert "example.com/plain: visible" in outputs["diff"].stdout
    # deployed: live copies are masked too (manifests --source live, the diff against live)
    r = cli(hostile_ws, "app", "sync", "sensitive")
    assert r.returncode == 0, r.stderr
    live = cli(hostile_ws, "app", "manifests", "sensitive", "--source", "live", "-o", "json")
    assert live.returncode == 0, live.stderr
    assert TOKEN not in live.stdout
    assert json.loads(live.stdout)[0]["metadata"]["annotations"]["example.com/token"] == "++++++++"
    # the Application itself: its annotations are masked in app get -o json/yaml
    control = hostile_ws["ws"].control()
    control.patch(
        "trueup.dev/v1alpha1",
        "Application",
        "trueup",
        "sensitive",
        {"metadata": {"annotations": {"example.com/token": TOKEN}}},
        field_manager="test",
    )
    for fmt in ("json", "yaml"):
        r = cli(hostile_ws, "app", "get", "sensitive", "-o", fmt)
        assert r.returncode == 0 and TOKEN not in r.stdout and "++++++++" in r.stdout


def test_a_wrong_type_for_sensitive_mask_annotations_is_one_line_exit_2(tmp_path: Path) -> None:
    make_workspace(tmp_path, {"good/cm.yaml": CM % "good"})
    text = (
        (tmp_path / "trueup.yaml")
        .read_text()
        .replace("settings: {}", "settings: {sensitiveMaskAnnotations: [1, 2]}")
    )
    assert "sensitiveMaskAnnotations" in text
    (tmp_path / "trueup.yaml").write_text(text)
    r = run_cli("-w", str(tmp_path), "app", "list")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "settings.sensitiveMaskAnnotations[0]: must be a string, got 1" in r.stderr
