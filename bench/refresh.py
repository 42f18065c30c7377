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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fleet import build  # noqa: E402
from console.engine import tracking  # noqa: E402
from console.engine.refresh import refresh  # noqa: E402
from console.engine.workspace import load  # noqa: E402


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
    t0 = time.perf_counter()
    fleet = build(root, args.apps, args.resources)
    ws = fleet.ws
    print(f"setup: repo and {args.apps} Applications in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    bench = ws.open_cluster("bench")
    for i, objs in fleet.manifests.items():
        for obj in objs:
            bench.create(
                tracking.set_tracking(
                    obj,
                    f"app-{i}",
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
