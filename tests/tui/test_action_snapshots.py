"""SVG snapshots of every action modal (and the command log and audit screens) at 80x24 and
120x36, on a frozen demo of its own: write mode writes an audit record, so each test restores
the demo from a pristine copy at one fixed path (the path is part of the repo URL on screen)."""

from __future__ import annotations

import fcntl
import random
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.demo.bootstrap import init_demo
from console.engine.gate.identity import resolve
from console.engine.refresh import refresh
from console.engine.workspace import load
from console.tui.app import TrueupApp
from console.tui.modals.action import ActionModal
from tests.tui.conftest import FROZEN_AT, SEED, settle

ROOT = Path("/tmp/trueup-tui-action-snapshots")
ROOT_REPO = Path(__file__).resolve().parents[2]
Drive = Callable[[Any], Awaitable[None]]


@pytest.fixture(scope="module")
def pristine() -> Iterator[Path]:
    with open(f"{ROOT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(ROOT, ignore_errors=True)
        state = random.getstate()
        random.seed(SEED)
        try:
            refresh(init_demo(ROOT / "demo", frozen_at=FROZEN_AT))
        finally:
            random.setstate(state)
        shutil.copytree(ROOT / "demo", ROOT / "pristine", symlinks=True)
        yield ROOT / "demo"
        shutil.rmtree(ROOT, ignore_errors=True)


def fresh(pristine: Path, user: str) -> TrueupApp:
    shutil.rmtree(pristine)
    shutil.copytree(ROOT / "pristine", pristine, symlinks=True)
    ws = load(pristine)
    identity = resolve(ws, env={"TRUEUP_USER": user})
    return TrueupApp(ws, live=False, clock=lambda: FROZEN_AT, identity=identity, write=True)


def _action(action: str, app_name: str, **prefill: Any) -> Drive:
    async def drive(pilot: Any) -> None:
        await settle(pilot)
        for _ in range(200):
            if not pilot.app.read_only:
                break
            await pilot.pause(0.05)
        pilot.app.start_action(action, app_name, **prefill)
        for _ in range(400):
            screen = pilot.app.screen
            if isinstance(screen, ActionModal) and screen.state != "loading":
                break
            await pilot.pause(0.05)
        await settle(pilot)

    return drive


def _keys(*keys: str) -> Drive:
    async def drive(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return drive


MODALS: dict[str, tuple[str, Drive]] = {
    "sync-bob": ("bob", _action("sync", "payments-api-prod-us")),
    "break-glass-sync": ("alice", _action("sync", "payments-api-prod-eu")),
    "rollback-auto-sync": ("alice", _action("rollback", "identity-api-prod-us")),
    "terminate-nothing-running": ("alice", _action("terminate", "payments-api-prod-us")),
    "suspend-auto-sync": ("alice", _action("suspend_autosync", "risk-engine-prod-eu")),
    "restart": ("bob", _action("restart", "payments-api-prod-us")),
    "delete": ("alice", _action("delete", "payments-api-staging")),
    "command-log": ("alice", _keys("at")),
    "audit": ("alice", _keys("A")),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("modal", list(MODALS))
def test_modal(snap_compare: Any, pristine: Path, modal: str, size: tuple[int, int]) -> None:
    user, drive = MODALS[modal]
    assert snap_compare(fresh(pristine, user), terminal_size=size, run_before=drive)


def test_no_secret_value_in_any_modal(pristine: Path) -> None:
    """The demo's Secret (payments-api-db) carries a password; no modal shows any of its values."""
    import asyncio
    import base64

    from tests.tui.conftest import screen_text

    secret = (ROOT_REPO / "console/demo/content/repo/payments/api/base/secret.yaml").read_text()
    assert "DATABASE_PASSWORD: demo-s3cr3t-value" in secret
    values = ["demo-s3cr3t-value", base64.b64encode(b"demo-s3cr3t-value").decode()]

    async def run(name: str) -> str:
        user, drive = MODALS[name]
        app = fresh(pristine, user)
        async with app.run_test(size=(120, 36)) as pilot:
            await drive(pilot)
            return screen_text(app)

    for name in ("sync-bob", "break-glass-sync", "rollback-auto-sync", "delete"):
        text = asyncio.run(run(name))
        assert "payments-api" in text or "identity-api" in text
        for v in values:
            assert v not in text, f"{name} shows a secret value"
