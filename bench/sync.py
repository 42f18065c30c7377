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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fleet import build  # noqa: E402
from console.engine.sync.executor import run_operation  # noqa: E402
from console.engine.sync.operation import request_sync  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=200)
    ap.add_argument("--resources", type=int, default=20)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="trueup-bench-sync-"))
    fleet = build(root, args.apps, args.resources)
    ws, store = fleet.ws, fleet.store
    bench = ws.open_cluster("bench")
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
