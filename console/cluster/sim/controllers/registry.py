"""Which controller reconciles which kind, and the loop that drains the due-time queue."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from console.cluster.api import ClusterError
from console.cluster.sim import gc
from console.cluster.sim.core import Core
from console.cluster.sim.persist import CONTROLLED, GC_KIND
from console.cluster.sim.store import DamagedStore, Key

log = logging.getLogger(__name__)
Reconciler = Callable[[Core, Key], None]
REGISTRY: dict[tuple[str, str], Reconciler] = {}
BATCH = 100
ERRORS_KEY = "controller_errors"


def register(group: str, kind: str) -> Callable[[Reconciler], Reconciler]:
    def deco(fn: Reconciler) -> Reconciler:
        REGISTRY[(group, kind)] = fn
        CONTROLLED.add((group, kind))
        return fn

    return deco


def _dispatch(core: Core, key: Key) -> None:
    if key[1] == GC_KIND:
        gc.reconcile(core, key[3])
        return
    fn = REGISTRY.get((key[0], key[1]))
    if fn is not None:
        fn(core, key)


def run_due(core: Core, budget: int = 50_000) -> int:
    """Reconcile everything due up to the current sim time, as a discrete-event simulation: items
    run in due-time order with the controllers' clock set to each item's due time, so jumping the
    clock forward by ten minutes gives the same world as watching it minute by minute.

    Each reconcile runs in a savepoint: a failing one is rolled back and retried 10 s (sim) later,
    the way a real controller requeues with backoff.
    """
    target = core.clock.now()
    if not core.store.has_due(target.timestamp()):
        return 0
    done = 0
    sim_now = None
    while done < budget:
        with core.store.write() as conn:
            next_at = core.store.next_due()
            if next_at is None or next_at > target.timestamp():
                break
            at = datetime.fromtimestamp(next_at, tz=UTC)
            sim_now = at if sim_now is None or at > sim_now else sim_now
            core._now = sim_now
            try:
                keys = core.store.pop_due(sim_now.timestamp(), BATCH)
                for key in keys:
                    conn.execute("SAVEPOINT reconcile")
                    try:
                        _dispatch(core, key)
                    except DamagedStore:
                        raise  # the file itself is broken: nothing to retry here
                    except ClusterError as exc:
                        conn.execute("ROLLBACK TO reconcile")
                        log.debug("sim controller %s: %s", key, exc)
                        core.store.enqueue(key, sim_now.timestamp() + 10)
                    except Exception:  # a sim bug must not take the API down; record it
                        conn.execute("ROLLBACK TO reconcile")
                        log.exception("sim controller failed on %s", key)
                        errors = list(core.store.meta_get(ERRORS_KEY, []))[-19:]
                        errors.append(f"{key}: {traceback.format_exc(limit=5)}")
                        core.store.meta_set(ERRORS_KEY, errors)
                        core.store.enqueue(key, sim_now.timestamp() + 10)
                    conn.execute("RELEASE reconcile")
            finally:
                core._now = None
        done += len(keys)
    return done
