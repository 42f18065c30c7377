"""The state one pass of the sync executor works on, and how it is written back.

A pass is rebuilt from `status.operationState` every time (nothing lives in memory between passes):
the operation, the planned tasks with their results, the comparison it planned from. `persist`
writes operationState with the task results unless the state was superseded meanwhile (terminated,
or a new operation), which raises `Superseded` so the pass stops where it is.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from datetime import datetime

from console.cluster.api import Cluster, NotFound, Obj, ResourceKey, split_api_version
from console.engine.appstore import AppStore
from console.engine.compare import CompareContext, Comparison
from console.engine.health.checker import HealthChecker
from console.engine.sync import lease
from console.engine.sync import options as so
from console.engine.sync import tasks as tk
from console.engine.sync.operation import is_completed, parse_time, update_status
from console.engine.workspace import Workspace


class Superseded(Exception):
    """The operation state changed under us (terminated, or a new operation): stop this pass."""


@dataclass
class Pass:
    ws: Workspace
    store: AppStore
    app: Obj
    state: Obj
    now: datetime
    holder: str
    lease_seconds: float | None
    wave_delay: float | None
    sync_timeout: float | None
    tasks: list[tk.SyncTask] = field(default_factory=list)
    sync_fail: list[tk.SyncTask] = field(default_factory=list)
    extra_results: list[Obj] = field(default_factory=list)
    cmp: Comparison | None = None
    ctx: CompareContext | None = None
    dest: Cluster | None = None
    app_options: so.SyncOptions = field(default_factory=so.SyncOptions)
    out_of_sync: set[ResourceKey] = field(default_factory=set)
    last_renew: float = 0.0
    policy_messages: set[str] = field(default_factory=set)
    forbidden: set[int] = field(default_factory=set)  # id() of tasks the project forbids

    @property
    def name(self) -> str:
        return str(self.app["metadata"]["name"])

    @property
    def op(self) -> Obj:
        op = self.state.get("operation") or self.app.get("operation") or {}
        return op if isinstance(op, dict) else {}

    @property
    def sync(self) -> Obj:
        sync = self.op.get("sync") or {}
        return sync if isinstance(sync, dict) else {}

    @property
    def started_at(self) -> datetime:
        return parse_time(self.state.get("startedAt")) or self.now

    @property
    def attempt_mark(self) -> str:
        return f"{self.state.get('startedAt', '')}#{int(self.state.get('retryCount') or 0)}"

    @property
    def dry_run(self) -> bool:
        return bool(self.sync.get("dryRun"))

    @property
    def selective(self) -> bool:
        return bool(self.sync.get("resources"))

    @property
    def strategy_force(self) -> bool:
        strategy = self.sync.get("syncStrategy") or {}
        return any(bool((strategy.get(k) or {}).get("force")) for k in ("apply", "hook"))

    @property
    def skip_hooks(self) -> bool:
        return "apply" in (self.sync.get("syncStrategy") or {}) or self.selective

    def health(self) -> HealthChecker:
        assert self.ctx is not None
        return self.ctx.health

    def delete(self, t: tk.SyncTask, policy: str) -> bool:
        """Delete the live object; True when it is gone (not only marked)."""
        assert self.dest is not None
        try:
            out = self.dest.delete(
                t.api_version,
                t.key.kind,
                t.key.namespace,
                t.key.name,
                propagation_policy=policy,  # type: ignore[arg-type]
            )
        except NotFound:
            return True
        return out is None

    # --- persistence ---------------------------------------------------------------------------
    def results(self) -> list[Obj]:
        out: list[Obj] = []
        seen: set[str] = set()
        for t in [*self.tasks, *self.sync_fail]:
            if t.operation_state == "":
                continue
            seen.add(t.result_key)
            res: Obj = {
                "group": t.key.group,
                "version": split_api_version(t.api_version)[1],
                "kind": t.key.kind,
                "namespace": t.key.namespace,
                "name": t.key.name,
                "status": t.sync_status,
                "message": t.message,
                "hookPhase": t.operation_state,
                "syncPhase": t.phase,
            }
            if t.is_hook:
                res["hookType"] = t.hook_type
            out.append(res)
        for r in self.extra_results:
            if result_key(r) not in seen:
                out.append(r)
        return out

    def persist(self, *, results: bool = True) -> None:
        """Write operationState (and the task results) unless the state was superseded."""
        new = copy.deepcopy(self.state)
        if results and (self.tasks or self.sync_fail or self.extra_results):
            sr = dict(new.get("syncResult") or {})
            sr["resources"] = self.results()
            new["syncResult"] = sr
        started = self.state.get("startedAt")
        seen_terminating: list[bool] = []

        def mutate(status: Obj) -> None:
            live = status.get("operationState")
            if not isinstance(live, dict) or live.get("startedAt") != started or is_completed(live):
                raise Superseded()
            if live.get("phase") == tk.TERMINATING and new.get("phase") == tk.RUNNING:
                new["phase"] = tk.TERMINATING
                new["message"] = live.get("message", "")
                seen_terminating.append(True)
            status["operationState"] = new

        update_status(self.store, self.name, mutate)
        self.state = new
        self._renew()
        if seen_terminating:
            raise Superseded()

    def _renew(self) -> None:
        now = time.monotonic()
        if now - self.last_renew > lease.lease_seconds(self.lease_seconds) / 3:
            self.last_renew = now
            lease.acquire(self.store.cluster, self.name, self.holder, seconds=self.lease_seconds)

    def running(self, message: str) -> str:
        self.state["phase"] = tk.RUNNING
        self.state["message"] = message
        self.persist()
        return tk.RUNNING


def result_key(r: Obj) -> str:
    return f"{r.get('group') or ''}/{r.get('kind') or ''}/{r.get('namespace') or ''}/{r.get('name') or ''}:{r.get('syncPhase') or 'Sync'}"
