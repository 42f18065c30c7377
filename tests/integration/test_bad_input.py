"""Bad input gets one clear error and no traceback, through the CLI (DESIGN.md §5)."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from console.cluster.sim import SimCluster
from console.engine.appstore import AppStore
from console.engine.workspace import load
from tests.conftest import run_cli

WORKSPACE = """apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: in-cluster
clusters:
  - {name: in-cluster, server: https://kubernetes.default.svc, type: sim}
  - {name: dev, server: https://dev.k8s.sim.invalid, type: sim}
repositories: {allowFileURLs: true}
"""

GOOD = """apiVersion: v1
kind: ConfigMap
metadata: {name: good}
data: {a: "1"}
"""
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(7)
)


def _app(name: str, repo: str, path: str, **spec: object) -> dict:
    base: dict = {
        "project": "default",
        "source": {"repoURL": repo, "path": path, "targetRevision": "main"},
        "destination": {"name": "dev", "namespace": "default"},
    }
    base.update(spec)
    return {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "trueup"},
        "spec": base,
    }


@pytest.fixture(scope="module")
def bad_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    (root / "trueup.yaml").write_text(WORKSPACE)
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    files = {
        "good/cm.yaml": GOOD,
        "malformed/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  data: [\n",
        "bomb/cm.yaml": BOMB,
        "unknownkind/thing.yaml": "apiVersion: example.com/v1\nkind: Frobnicator\nmetadata: {name: f}\nspec: {}\n",
        "notobject/list.yaml": "- just\n- a list\n",
    }
    for rel, text in files.items():
        p = root / "work" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    huge = root / "work" / "huge" / "big.yaml"
    huge.parent.mkdir()
    with huge.open("w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n")
        line = "  k{}: " + "x" * 1000 + "\n"
        for i in range(50 * 1024):
            f.write(line.format(i))
    work.git.add("--all")
    work.index.commit("fixtures")
    work.create_remote("origin", bare.as_uri()).push("main")
    ws = load(root)
    for c in ws.clusters.values():
        p = ws.sim_path(c.name)
        p.parent.mkdir(parents=True, exist_ok=True)
        SimCluster.create_db(p, c.name, c.server)
    store = AppStore(ws.control())
    store.install()
    repo = bare.as_uri()
    control = ws.control()
    for name, path in [
        ("good", "good"),
        ("malformed", "malformed"),
        ("bomb", "bomb"),
        ("huge", "huge"),
        ("unknownkind", "unknownkind"),
        ("notobject", "notobject"),
    ]:
        control.create(_app(name, repo, path), field_manager="test")
    control.create(_app("unreachable", (root / "nope.git").as_uri(), "good"), field_manager="test")
    control.create(
        _app(
            "badref",
            repo,
            "good",
            source={"repoURL": repo, "path": "good", "targetRevision": "no-such-branch"},
        ),
        field_manager="test",
    )
    invalid = _app("invalid", repo, "good")
    del invalid["spec"]["destination"]
    control.create(invalid, field_manager="test")
    typo = _app("typo", repo, "good")
    typo["spec"]["sourc"] = typo["spec"].pop("source")
    control.create(typo, field_manager="test")
    r = run_cli("-w", str(root), "refresh")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return root


def _status(ws: Path, name: str) -> dict:
    r = run_cli("-w", str(ws), "app", "get", name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["status"]


def _conditions(ws: Path, name: str) -> dict[str, str]:
    return {c["type"]: c["message"] for c in _status(ws, name).get("conditions", [])}


def test_good_app_is_fine(bad_ws: Path) -> None:
    st = _status(bad_ws, "good")
    assert st["sync"]["status"] == "OutOfSync"  # not deployed yet
    assert "conditions" not in st


@pytest.mark.parametrize(
    ("app", "ctype", "needle"),
    [
        ("malformed", "ComparisonError", "malformed YAML"),
        ("bomb", "ComparisonError", "alias"),
        ("huge", "ComparisonError", "MB"),
        ("notobject", "ComparisonError", "list.yaml"),
        ("unreachable", "ComparisonError", "unreachable"),
        ("badref", "ComparisonError", "no-such-branch"),
        ("invalid", "InvalidSpecError", "spec.destination"),
        ("typo", "InvalidSpecError", "sourc"),
    ],
)
def test_bad_input_becomes_one_clear_condition(bad_ws: Path, app: str, ctype: str, needle: str) -> None:
    conds = _conditions(bad_ws, app)
    assert ctype in conds, conds
    assert needle in conds[ctype]
    assert "Traceback" not in conds[ctype] and "\n" not in conds[ctype]
    st = _status(bad_ws, app)
    assert st["sync"]["status"] == "Unknown"


def test_unknown_kind_is_named(bad_ws: Path) -> None:
    st = _status(bad_ws, "unknownkind")
    res = st["resources"][0]
    assert res["kind"] == "Frobnicator"
    assert "Frobnicator" in res.get("message", "")


def test_diff_of_broken_app_exits_2(bad_ws: Path) -> None:
    r = run_cli("-w", str(bad_ws), "app", "diff", "malformed")
    assert r.returncode == 2
    assert "malformed" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1


def test_malformed_workspace_file(tmp_path: Path) -> None:
    (tmp_path / "trueup.yaml").write_text("kind: Workspace\nclusters: [\n")
    r = run_cli("-w", str(tmp_path), "app", "list")
    assert r.returncode == 2
    assert "trueup.yaml" in r.stderr and "Traceback" not in r.stderr
