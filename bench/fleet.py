"""A synthetic fleet for the benchmarks: N apps x M resources in a real Git repo, a sim control
cluster with the Applications, and a sim workload cluster `bench` with 50 team namespaces."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.cluster.sim import SimCluster  # noqa: E402
from console.engine import yamlsafe  # noqa: E402
from console.engine.appstore import AppStore  # noqa: E402
from console.engine.workspace import Workspace, load  # noqa: E402

WORKSPACE = """apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: in-cluster
clusters:
  - {name: in-cluster, server: https://kubernetes.default.svc, type: sim}
  - {name: bench, server: https://bench.k8s.sim.invalid, type: sim}
repositories: {allowFileURLs: true}
"""
NAMESPACES = 50


def namespace_of(i: int) -> str:
    return f"team-{i % NAMESPACES}"


def manifests(i: int, n: int) -> list[dict[str, Any]]:
    """A realistic mix per app: 1 Service, 1 ServiceAccount, the rest ConfigMaps and (every fifth) Secrets."""
    ns = namespace_of(i)
    objs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"svc-{i}", "namespace": ns},
            "spec": {"selector": {"app": f"app-{i}"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"sa-{i}", "namespace": ns}},
    ]
    for j in range(n - len(objs)):
        if j % 5 == 4:
            objs.append(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": f"s-{i}-{j}", "namespace": ns},
                    "type": "Opaque",
                    "stringData": {"token": f"value-{i}-{j}"},
                }
            )
        else:
            objs.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i}-{j}", "namespace": ns},
                    "data": {"key": f"value-{i}-{j}", "LOG_LEVEL": "info"},
                }
            )
    return objs[:n]


@dataclass
class Fleet:
    ws: Workspace
    store: AppStore
    repo_url: str
    manifests: dict[int, list[dict[str, Any]]]


def build(root: Path, apps: int, resources: int) -> Fleet:
    (root / "trueup.yaml").write_text(WORKSPACE)
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    all_objs: dict[int, list[dict[str, Any]]] = {}
    for i in range(apps):
        all_objs[i] = manifests(i, resources)
        d = root / "work" / f"app-{i}"
        d.mkdir(parents=True)
        (d / "manifests.yaml").write_text(yamlsafe.dump_all(all_objs[i]))
    work.git.add("--all")
    work.index.commit("bench fleet")
    work.create_remote("origin", bare.as_uri()).push("main")
    ws = load(root)
    for c in ws.clusters.values():
        p = ws.sim_path(c.name)
        p.parent.mkdir(parents=True, exist_ok=True)
        SimCluster.create_db(p, c.name, c.server)
    control = ws.control()
    store = AppStore(control)
    store.install()
    bench = ws.open_cluster("bench")
    for k in range(NAMESPACES):
        bench.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{k}"}},
            field_manager="bench",
        )
    for i in range(apps):
        control.create(
            {
                "apiVersion": "trueup.dev/v1alpha1",
                "kind": "Application",
                "metadata": {"name": f"app-{i}", "namespace": "trueup"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": bare.as_uri(), "path": f"app-{i}", "targetRevision": "main"},
                    "destination": {"name": "bench", "namespace": namespace_of(i)},
                },
            },
            field_manager="bench",
        )
    return Fleet(ws, store, bare.as_uri(), all_objs)
