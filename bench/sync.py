"""Sync benchmark: N Applications x M resources synced from Git onto an empty sim cluster.

Each operation goes through the real path (request_sync -> run_operation: compare, plan, server-side
dry run, apply, persisted results after every step, history, post-sync refresh). Prints figures,
asserts nothing: operations per second and p50/p95 operation time.
Usage: python bench/sync.py [--apps 200] [--resources 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import git

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.cluster.sim import SimCluster  # noqa: E402
from console.engine import yamlsafe  # noqa: E402
from console.engine.appstore import AppStore  # noqa: E402
from console.engine.sync.executor import run_operation  # noqa: E402
from console.engine.sync.operation import request_sync  # noqa: E402
from console.engine.workspace import load  # noqa: E402

WORKSPACE = """apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: in-cluster
clusters:
  - {name: in-cluster, server: https://kubernetes.default.svc, type: sim}
  - {name: bench, server: https://bench.k8s.sim.invalid, type: sim}
repositories: {allowFileURLs: true}
"""


def manifests(i: int, n: int) -> list[dict]:
    """1 Service, 1 ServiceAccount, the rest ConfigMaps and (every fifth) Secrets."""
    ns = f"team-{i % 50}"
    objs: list[dict] = [
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=200)
    ap.add_argument("--resources", type=int, default=20)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="trueup-bench-sync-"))
    (root / "trueup.yaml").write_text(WORKSPACE)
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    for i in range(args.apps):
        d = root / "work" / f"app-{i}"
        d.mkdir(parents=True)
        (d / "manifests.yaml").write_text(yamlsafe.dump_all(manifests(i, args.resources)))
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
    for k in range(50):
        bench.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{k}"}},
            field_manager="bench",
        )
    for i in range(args.apps):
        control.create(
            {
                "apiVersion": "trueup.dev/v1alpha1",
                "kind": "Application",
                "metadata": {"name": f"app-{i}", "namespace": "trueup"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": bare.as_uri(), "path": f"app-{i}", "targetRevision": "main"},
                    "destination": {"name": "bench", "namespace": f"team-{i % 50}"},
                },
            },
            field_manager="bench",
        )
    print(f"setup: {args.apps} apps x {args.resources} resources in Git, empty cluster", flush=True)
    times: list[float] = []
    failed = 0
    t0 = time.perf_counter()
    for i in range(args.apps):
        name = f"app-{i}"
        start = time.perf_counter()
        request_sync(store, name, initiated_by={"username": "bench"})
        app = run_operation(ws, name, holder="bench", timeout=None, poll=0.0, wave_delay=0)
        times.append(time.perf_counter() - start)
        if (app["status"].get("operationState") or {}).get("phase") != "Succeeded":
            failed += 1
    total = time.perf_counter() - t0
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    print(
        f"synced {args.apps} apps ({args.apps * args.resources} resources) in {total:.1f}s, {failed} failed"
    )
    print(f"throughput: {args.apps / total:.2f} ops/s")
    print(f"operation time: p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    live = sum(1 for _ in bench.list_all_objects())  # type: ignore[attr-defined]
    print(f"live objects in the bench cluster: {live}")


if __name__ == "__main__":
    main()
