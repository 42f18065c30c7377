"""Console benchmark: 5,000 Applications in a sim control cluster (DESIGN.md §6 budgets: first
frame <= 1.5 s, filter keystroke <= 100 ms, a flush of 100 changed rows <= 50 ms, opening an
app's screen <= 300 ms). Prints figures, asserts nothing.

The console runs headless (Textual's run_test) at 120x36, not live (no watch thread competing for
the 2 cores), so each figure is the console's own cost: loading the fleet from the control
cluster and painting it; re-filtering 5,000 rows and repainting per keystroke; applying 100
changed Applications (facts, rows, group counts) and repainting; pushing the app screen and
painting its first frame (the tree, diff and events load in workers afterwards; the time until
the tree is shown is printed too).

Usage: python bench/console.py [--apps 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TRUEUP_USER", "admin")  # the fleet is visible to Argo's built-in admin
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fleet import WORKSPACE  # noqa: E402  (the same two sim clusters)
from console.cluster.sim import SimCluster  # noqa: E402
from console.engine.appstore import AppStore  # noqa: E402
from console.engine.workspace import load  # noqa: E402

PROJECTS = 25
HEALTH = ["Healthy"] * 16 + ["Progressing", "Degraded", "Missing", "Suspended"]
SYNC = ["Synced"] * 8 + ["OutOfSync", "Unknown"]


def status(i: int, sha: str) -> dict[str, Any]:
    health = HEALTH[i % len(HEALTH)]
    return {
        "sync": {"status": SYNC[i % len(SYNC)], "revision": sha},
        "health": {
            "status": health,
            "message": "" if health == "Healthy" else f"Deployment app-{i} has {i % 7} unavailable replicas",
            "lastTransitionTime": "2026-03-01T11:00:00Z",
        },
        "operationState": {
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "startedAt": "2026-03-01T10:59:00Z",
            "finishedAt": "2026-03-01T11:00:00Z",
            "operation": {"sync": {"revision": sha}, "initiatedBy": {"username": "bench"}},
        },
        "resources": [
            {
                "group": "apps",
                "version": "v1",
                "kind": "Deployment",
                "namespace": f"team-{i % 50}",
                "name": f"app-{i}",
                "status": "Synced",
                "health": {"status": health},
            },
            {
                "group": "",
                "version": "v1",
                "kind": "Service",
                "namespace": f"team-{i % 50}",
                "name": f"app-{i}",
                "status": "Synced",
                "health": {"status": "Healthy"},
            },
        ],
        "reconciledAt": "2026-03-01T11:00:00Z",
    }


def build(root: Path, apps: int) -> Path:
    (root / "trueup.yaml").write_text(WORKSPACE)
    ws = load(root)
    for c in ws.clusters.values():
        p = ws.sim_path(c.name)
        p.parent.mkdir(parents=True, exist_ok=True)
        SimCluster.create_db(p, c.name, c.server)
    control = ws.control()
    assert isinstance(control, SimCluster)
    AppStore(control).install()
    sha = "3f2a1bc" + "0" * 33
    objs = [
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": f"app-{i:05d}", "namespace": "trueup"},
            "spec": {
                "project": f"team-{i % PROJECTS:02d}",
                "source": {
                    "repoURL": "https://git.example.invalid/fleet.git",
                    "path": f"apps/{i}",
                    "targetRevision": "main",
                },
                "destination": {"name": "bench", "namespace": f"team-{i % 50}"},
            },
        }
        for i in range(apps)
    ]
    created = control.create_many(objs, field_manager="bench")

    def write_statuses() -> None:
        for i, obj in enumerate(created):
            new = copy.deepcopy(obj)
            new["status"] = status(i, sha)
            new["metadata"].pop("resourceVersion", None)
            control.core.update(new, field_manager="bench", subresource="status")

    control._write(write_statuses, False)
    return root


async def measure(root: Path, runs: int) -> None:
    from console.tui.app import TrueupApp
    from console.tui.screens.application import ApplicationScreen

    t0 = time.perf_counter()
    app = TrueupApp(load(root), live=False)
    async with app.run_test(size=(120, 36)) as pilot:
        first_paint = time.perf_counter() - t0
        while not app.loaded:
            await pilot.pause(0.005)
        await pilot.pause()
        shown = time.perf_counter() - t0
        home: Any = app.screen_stack[0]
        table = home.table
        assert len(table.row_keys) == len(app.facts), "every application is listed"
        print(f"applications: {len(app.facts)} in {len({f.project for f in app.facts.values()})} projects")
        print(f"time to first frame (loading screen): {first_paint * 1000:.0f} ms")
        print(
            f"time to first frame with the fleet (list + facts + rows + paint): {shown * 1000:.0f} ms  [budget 1500 ms]"
        )

        def paint() -> None:
            for y in range(table.size.height):
                table.render_line(y)

        # filter: one keystroke = parse, match 5,000 facts, regroup, repaint the visible window
        await pilot.press("slash")
        keys = []
        for ch in "health:Degraded":
            t = time.perf_counter()
            box = home.query_one("#filter")
            box.value = box.value + ch  # what a keystroke does to the Input; its Changed handler runs now
            await pilot.pause()
            paint()
            keys.append(time.perf_counter() - t)
        n = len(table.row_keys)
        print(
            f"filter keystroke (incl. event loop turn + repaint): median {statistics.median(keys) * 1000:.1f} ms, "
            f"max {max(keys) * 1000:.1f} ms over {len(keys)} keys -> {n} rows  [budget 100 ms]"
        )
        home.set_filter_text("")
        await pilot.press("escape")
        await pilot.pause()

        # one flush of 100 changed rows
        flushes = []
        names = sorted(app.fleet)
        for run in range(runs):
            changed: dict[str, Any] = {}
            for name in names[run * 100 : run * 100 + 100]:
                obj = copy.deepcopy(app.fleet[name])
                obj["status"]["health"] = {"status": "Degraded", "message": f"run {run}: pods crash-looping"}
                obj["status"]["sync"]["status"] = "OutOfSync"
                changed[name] = obj
            t = time.perf_counter()
            app.apply_changes(changed)
            paint()
            flushes.append(time.perf_counter() - t)
        print(
            f"flush of 100 changed rows (facts + rows + group counts + repaint): median "
            f"{statistics.median(flushes) * 1000:.1f} ms, max {max(flushes) * 1000:.1f} ms over {runs} flushes  [budget 50 ms]"
        )

        # open an app screen
        opens, trees = [], []
        for run in range(runs):
            name = names[(min(1000, len(names) // 2) + run) % len(names)]
            t = time.perf_counter()
            app.open_app(name)
            while not (isinstance(app.screen, ApplicationScreen) and app.screen.first_frame_at is not None):
                await pilot.pause(0.001)
            screen = app.screen
            assert isinstance(screen, ApplicationScreen) and screen.first_frame_at is not None
            opens.append(screen.first_frame_at - t)
            while "tree" not in screen.loaded and "tree" not in screen.errors:
                await pilot.pause(0.005)
            trees.append(time.perf_counter() - t)
            await app.workers.wait_for_complete([w for w in app.workers if w.group != "feed"])
            app.pop_screen()
            await pilot.pause()
        print(
            f"open an app screen (push until its first frame is drawn): median {statistics.median(opens) * 1000:.0f} ms, "
            f"max {max(opens) * 1000:.0f} ms  [budget 300 ms]; resource tree shown after median "
            f"{statistics.median(trees) * 1000:.0f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="trueup-bench-console-") as tmp:
        t = time.perf_counter()
        root = build(Path(tmp), args.apps)
        print(f"setup: {args.apps} Applications with status in {time.perf_counter() - t:.1f}s", flush=True)
        asyncio.run(measure(root, args.runs))


if __name__ == "__main__":
    main()
