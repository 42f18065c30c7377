"""Refresh benchmark: N Applications x M resources on a sim cluster (budget: warm <= 10 s on 2 cores).

Prints figures, asserts nothing: cold refresh (empty Git and manifest caches), warm refresh (caches
filled, nothing changed), peak RSS. Usage: python bench/refresh.py [--apps 1000] [--resources 20]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import git

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.cluster.sim import SimCluster  # noqa: E402
from console.engine import tracking, yamlsafe  # noqa: E402
from console.engine.appstore import AppStore  # noqa: E402
from console.engine.refresh import refresh  # noqa: E402
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
    """A realistic mix per app: 1 Service, 1 ServiceAccount, the rest ConfigMaps and Secrets."""
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
                    "data": {"key": f"value-{i}-{j}", "LOG_LEVEL": "info", "FEATURE_X": "on"},
                }
            )
    return objs[:n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=1000)
    ap.add_argument("--resources", type=int, default=20)
    ap.add_argument("--measure", metavar="WORKSPACE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(Path(args.measure))
        return
    root = Path(tempfile.mkdtemp(prefix="trueup-bench-"))
    (root / "trueup.yaml").write_text(WORKSPACE)
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    t0 = time.perf_counter()
    all_objs: dict[int, list[dict]] = {}
    for i in range(args.apps):
        objs = manifests(i, args.resources)
        all_objs[i] = objs
        d = root / "work" / f"app-{i}"
        d.mkdir(parents=True)
        (d / "manifests.yaml").write_text(yamlsafe.dump_all(objs))
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
    print(f"setup: repo with {args.apps} apps written in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    for i in range(args.apps):
        name = f"app-{i}"
        control.create(
            {
                "apiVersion": "trueup.dev/v1alpha1",
                "kind": "Application",
                "metadata": {"name": name, "namespace": "trueup"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": bare.as_uri(), "path": name, "targetRevision": "main"},
                    "destination": {"name": "bench", "namespace": f"team-{i % 50}"},
                },
            },
            field_manager="bench",
        )
        for obj in all_objs[i]:
            bench.create(
                tracking.set_tracking(
                    obj,
                    name,
                    annotation=ws.settings.tracking_annotation,
                    default_namespace=obj["metadata"]["namespace"],
                    namespaced=True,
                ),
                field_manager="trueup",
            )
    n_live = args.apps * args.resources
    print(
        f"setup: {args.apps} Applications and {n_live} live resources created in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )

    # Refreshes run in a fresh process so its peak RSS is the engine's, not the setup's.
    subprocess.run([sys.executable, __file__, "--measure", str(root)], check=True)


def measure(root: Path) -> None:
    cold = refresh(load(root))
    print(
        f"cold refresh: {cold.seconds:.2f}s ({len(cold.comparisons)} apps, {cold.written} status writes)",
        flush=True,
    )
    warm = refresh(load(root))
    print(
        f"warm refresh: {warm.seconds:.2f}s ({len(warm.comparisons)} apps, {warm.written} status writes)",
        flush=True,
    )
    synced = sum(1 for c in warm.comparisons if c.sync_status == "Synced")
    print(f"synced: {synced}/{len(warm.comparisons)}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the refreshing process: {rss:.0f} MB")
    print(f"budget: warm refresh <= 10 s -> {'OK' if warm.seconds <= 10 else 'OVER'}")


if __name__ == "__main__":
    main()
