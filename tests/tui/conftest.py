"""Fixtures for the console tests: a reproducible demo (fixed path, frozen sim clocks, seeded
names) for snapshots and read-only Pilot tests, and helpers to drive the App."""

from __future__ import annotations

import fcntl
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from console.demo.bootstrap import init_demo
from console.engine.refresh import refresh
from console.engine.workspace import load
from console.tui.app import TrueupApp

# The demo's repo URL (file:///tmp/...) is shown on screen and is part of every commit SHA, so
# snapshots need one fixed place; the lock serialises test sessions that share it.
FROZEN_ROOT = Path("/tmp/trueup-tui-snapshots")
FROZEN_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SEED = 20260302


@pytest.fixture(scope="session")
def frozen_demo() -> Iterator[Path]:
    FROZEN_ROOT.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{FROZEN_ROOT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(FROZEN_ROOT, ignore_errors=True)
        state = random.getstate()
        random.seed(SEED)
        try:
            ws = init_demo(FROZEN_ROOT / "demo", frozen_at=FROZEN_AT)
            refresh(ws)
        finally:
            random.setstate(state)
        yield ws.root
        shutil.rmtree(FROZEN_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def frozen_app(root: Path, **kw: Any) -> TrueupApp:
    return TrueupApp(load(root), live=False, clock=lambda: FROZEN_AT, **kw)


async def settle(pilot: Any, *, timeout: float = 20.0) -> None:
    """Until the fleet is loaded and no worker runs (each screen's loads are workers)."""
    app = pilot.app
    for _ in range(int(timeout / 0.05)):
        if app.loaded:
            break
        await pilot.pause(0.05)
    assert app.loaded, "the fleet never loaded"
    for _ in range(5):
        await wait_workers(app)
        await pilot.pause()
    await pilot.pause(0.1)
    await wait_workers(app)
    app.refresh_status()
    await pilot.pause(0.1)
    await pilot.pause()


async def wait_workers(app: Any) -> None:
    """Every worker that finishes (loads, refreshes); not the live feed or a followed log."""
    workers = [w for w in app.workers if w.group not in ("feed", "logs")]
    if workers:
        await app.workers.wait_for_complete(workers)


def screen_text(app: Any) -> str:
    """What the terminal shows now, line by line (the composited screen's segments)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)
