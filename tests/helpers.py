"""Build small real workspaces for tests: a bare Git repo with files, sim clusters, Applications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git

from console.cluster.sim import SimCluster
from console.engine import yamlsafe
from console.engine.appstore import AppStore
from console.engine.workspace import Workspace, load


def commit_files(work: git.Repo, root: Path, files: dict[str, str | None], message: str) -> str:
    """Write (or delete, for None) files in the working clone, commit, push to origin main."""
    for rel, text in files.items():
        p = root / rel
        if text is None:
            p.unlink()
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    work.git.add("--all")
    sha = work.index.commit(message).hexsha
    work.git.push("origin", "main")
    return sha


def make_workspace(
    root: Path,
    files: dict[str, str],
    *,
    settings: dict[str, Any] | None = None,
    clusters: tuple[str, ...] = ("dev",),
) -> tuple[Workspace, str, git.Repo]:
    """A workspace with control cluster `in-cluster` plus `clusters`, and a repo holding `files`."""
    doc = {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Workspace",
        "controlCluster": "in-cluster",
        "clusters": [{"name": "in-cluster", "server": "https://kubernetes.default.svc", "type": "sim"}]
        + [{"name": c, "server": f"https://{c}.k8s.sim.invalid", "type": "sim"} for c in clusters],
        "repositories": {"allowFileURLs": True},
        "settings": settings or {},
    }
    (root / "trueup.yaml").write_text(yamlsafe.dump(doc))
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    work.create_remote("origin", bare.as_uri())
    commit_files(work, root / "work", files, "initial")
    ws = load(root)
    for c in ws.clusters.values():
        p = ws.sim_path(c.name)
        p.parent.mkdir(parents=True, exist_ok=True)
        SimCluster.create_db(p, c.name, c.server)
    AppStore(ws.control()).install()
    return ws, bare.as_uri(), work


def application(
    name: str,
    repo: str,
    path: str,
    *,
    cluster: str = "dev",
    namespace: str = "default",
    project: str = "default",
    **spec: Any,
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "project": project,
        "source": {"repoURL": repo, "path": path, "targetRevision": "main"},
        "destination": {"name": cluster, "namespace": namespace},
    }
    base.update(spec)
    return {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "trueup"},
        "spec": base,
    }


def project(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": "trueup"},
        "spec": spec,
    }
