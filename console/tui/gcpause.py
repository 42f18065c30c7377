"""Pausing the cyclic garbage collector around bulk work on the fleet."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk work on the fleet (thousands of rows) allocates many small objects; the cyclic GC
    would rescan the whole fleet's object graph several times meanwhile (3x the cost at 5,000
    apps). Nothing here makes cycles, so collection waits until the work is done (as refresh does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
