"""Running a drill and resetting the demo: the entry points the CLI and the console call.

Only sim workspaces: a drill commits, edits live objects and fast-forwards clocks, which must never
happen to a real cluster, so any cluster of another type refuses the whole command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.cluster.api import NotFound, Obj
from console.engine.appstore import AppStore
from console.engine.compare import cluster_time
from console.engine.scenarios import baseline
from console.engine.scenarios.catalog import SCENARIOS, Scenario
from console.engine.scenarios.drill import Drill, ScenarioError, Step
from console.engine.scenarios.edits import EditError
from console.engine.sync import lease
from console.engine.workspace import Workspace


class Blocked(ScenarioError):
    """Another process would see the world change under it (a running controller or console)."""


@dataclass
class DrillResult:
    scenario: Scenario
    app: str
    steps: list[Step]
    commits: list[dict[str, str]]
    sync: str = ""
    health: str = ""
    baseline_taken: bool = False
    conditions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "app": self.app,
            "runbook": self.scenario.runbook,
            "steps": [s.to_json() for s in self.steps],
            "commits": self.commits,
            "status": {"sync": self.sync, "health": self.health, "conditions": self.conditions},
            "baselineTaken": self.baseline_taken,
        }


def require_sim(ws: Workspace, what: str) -> None:
    real = [c for c in ws.clusters.values() if c.type != "sim"]
    if real:
        c = real[0]
        raise ScenarioError(
            f'{what}: cluster "{c.name}" is a real cluster (type {c.type}); drills run on sim '
            "workspaces only (`trueup demo init DIR`)"
        )


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ScenarioError(f"unknown scenario {name!r} (see `trueup scenario list`)") from None


def active(ws: Workspace) -> list[dict[str, Any]]:
    """The drills run since the last reset (from the baseline's manifest)."""
    return list(baseline.manifest(ws).get("drills") or []) if baseline.exists(ws) else []


def run(
    ws: Workspace, name: str, app: str | None = None, on_step: Callable[[Step], None] | None = None
) -> DrillResult:
    require_sim(ws, f"scenario run {name}")
    sc = get(name)
    target = app or sc.default_app
    store = AppStore(ws.control())
    try:
        obj: Obj = store.get_app(target)
    except NotFound:
        raise ScenarioError(f"application {target!r} not found (see `trueup app list`)") from None
    when = cluster_time(ws.control()).strftime("%Y-%m-%dT%H:%M:%SZ")
    taken = False
    if not baseline.exists(ws):
        baseline.save(ws, when)
        taken = True
    drill = Drill(ws, obj, on_step=on_step)
    try:
        sc.inject(drill)
    except EditError as exc:
        raise ScenarioError(f"scenario {name} cannot edit {target}'s files: {exc}") from None
    finally:
        if taken and not drill.steps:
            baseline.discard(ws)  # refused before it changed anything: nothing to reset
        elif drill.steps:
            baseline.record_drill(
                ws,
                {"scenario": name, "app": target, "at": when, "commits": drill.commits},
            )
    final = store.get_app(target)
    status = final.get("status") or {}
    return DrillResult(
        sc,
        target,
        drill.steps,
        drill.commits,
        sync=str((status.get("sync") or {}).get("status") or ""),
        health=str((status.get("health") or {}).get("status") or ""),
        baseline_taken=taken,
        conditions=[f"{c.get('type')}: {c.get('message')}" for c in status.get("conditions") or []],
    )


def reset(ws: Workspace, *, force: bool = False) -> baseline.RestoreReport | None:
    """Restore the baseline (None: nothing to reset). Refused while a controller runs (a console
    embeds one) unless `force`: its caches would hold a world that no longer exists."""
    require_sim(ws, "scenario reset")
    if not baseline.exists(ws):
        return None
    holder = lease.running_controller(ws.control())
    if holder and not force:
        raise Blocked(
            f"a controller is running ({holder}): close the console or stop `trueup controller run` first, "
            "or pass --force"
        )
    return baseline.restore(ws)
