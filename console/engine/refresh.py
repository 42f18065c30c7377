"""One refresh cycle: compare the selected Applications and write their status.

Shared by `trueup refresh`, the console and (later) the controller loop.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from console.cluster.api import ClusterError, NotFound, Obj, Timeout, Unavailable
from console.engine.appstore import AppStore
from console.engine.compare import (
    CompareContext,
    Comparison,
    compare_app,
    cycle_clock,
    stale,
    status_fingerprint,
    status_of,
)
from console.engine.sources import ManifestCache, RenderResult
from console.engine.workspace import Workspace


class UnknownApplication(LookupError):
    pass


@dataclass
class RefreshReport:
    comparisons: list[Comparison] = field(default_factory=list)
    seconds: float = 0.0
    written: int = 0


def select_apps(apps: Sequence[Obj], names: Sequence[str] | None) -> list[Obj]:
    if not names:
        return list(apps)
    by_name = {a["metadata"]["name"]: a for a in apps}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise UnknownApplication(
            f"application{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} not found "
            f"(see `trueup app list`)"
        )
    return [by_name[n] for n in names]


def new_context(ws: Workspace, store: AppStore, *, hard: bool = False) -> CompareContext:
    projects = {p["metadata"]["name"]: p for p in store.list_projects()}
    ctx = CompareContext.create(ws, projects)
    ctx.clock = cycle_clock(store.cluster)  # status times on the control cluster's clock
    ctx.git.begin_cycle()
    if hard and ctx.manifests is not None:
        ctx.manifests = RegeneratingCache(ctx.manifests.root)
    return ctx


class RegeneratingCache(ManifestCache):
    """Hard refresh (Argo's `noCache`): never read a cached render, but store the fresh one, so a
    stale or damaged entry is replaced and the next normal refresh uses the regenerated result."""

    def get(self, key: str | None) -> RenderResult | None:
        return None


def refresh(
    ws: Workspace,
    names: Sequence[str] | None = None,
    *,
    hard: bool = False,
    write: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> RefreshReport:
    started = time.perf_counter()
    # A cycle allocates ~100k short-lived containers and holds the live snapshot; the cyclic GC
    # would rescan that snapshot over and over (~40% of a 1,000-app refresh). Nothing here makes
    # cycles, so collection is paused for the cycle and left to run afterwards.
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        return _refresh(ws, names, hard=hard, write=write, progress=progress, started=started)
    finally:
        if gc_enabled:
            gc.enable()


def _refresh(
    ws: Workspace,
    names: Sequence[str] | None,
    *,
    hard: bool,
    write: bool,
    progress: Callable[[int, int, str], None] | None,
    started: float,
) -> RefreshReport:
    store = AppStore(ws.control())
    apps = select_apps(store.list_apps(), names)
    ctx = new_context(ws, store, hard=hard)
    report = RefreshReport()
    for i, app in enumerate(apps):
        cmp = compare_app(ctx, app)  # never raises: this app's problems become its conditions
        report.comparisons.append(cmp)
        if write:
            prev = app.get("status") or {}
            status = status_of(cmp, prev)
            if status_fingerprint(status) != status_fingerprint(prev) or stale(prev, status):
                try:
                    store.write_status(cmp.name, status)
                    report.written += 1
                except NotFound:
                    pass  # deleted while we compared it
                except (Unavailable, Timeout):
                    raise  # the control cluster itself is down: the whole command fails in one line
                except ClusterError as exc:  # refused for this app only (e.g. a status too large)
                    cmp.add_condition("ComparisonError", f"cannot write the status: {exc.message}")
        if write and len(apps) > 1:
            cmp.resources = []  # written to status; dropping them keeps a fleet refresh's memory flat
        if progress:
            progress(i + 1, len(apps), cmp.name)
    report.seconds = time.perf_counter() - started
    return report


def compare_one(ws: Workspace, name: str, *, revision: str | None = None) -> Comparison:
    """Compare without writing (for `app diff`, `app get -o tree`, `app manifests`)."""
    store = AppStore(ws.control())
    try:
        app = store.get_app(name)
    except NotFound:
        raise UnknownApplication(f"application {name!r} not found (see `trueup app list`)") from None
    ctx = new_context(ws, store)
    return compare_app(ctx, app, revision_override=revision)
