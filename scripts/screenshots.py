"""Regenerate screenshots/*.svg of every console screen from the demo fleet (`make screenshots`).

The demo is built reproducibly (fixed directory, sim clocks frozen at a fixed instant, seeded pod
names), so regenerating changes an SVG only when the console changed. A screenshot that would
contain the demo's Secret value is refused.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.demo.bootstrap import init_demo  # noqa: E402
from console.engine.refresh import refresh  # noqa: E402
from console.engine.workspace import load  # noqa: E402
from console.tui.app import TrueupApp  # noqa: E402

SECRET = "demo-s3cr3t-value"
DEMO = Path("/tmp/trueup-screenshots/demo")
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SIZES = ((80, 24), (120, 36))

Drive = Callable[[Any], Awaitable[None]]


async def _settle(pilot: Any) -> None:
    app = pilot.app
    while not app.loaded:
        await pilot.pause(0.05)
    for _ in range(4):
        workers = [w for w in app.workers if w.group not in ("feed", "logs")]
        if workers:
            await app.workers.wait_for_complete(workers)
        await pilot.pause(0.1)


def _keys(*keys: str) -> Drive:
    async def drive(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press(*keys)
        await _settle(pilot)

    return drive


def _app(name: str, *keys: str) -> Drive:
    async def drive(pilot: Any) -> None:
        await _settle(pilot)
        pilot.app.open_app(name)
        await _settle(pilot)
        if keys:
            await pilot.press(*keys)
            await _settle(pilot)

    return drive


def _command(line: str) -> Drive:
    async def drive(pilot: Any) -> None:
        await _settle(pilot)
        pilot.app.run_command_line(line)
        await _settle(pilot)

    return drive


SCREENS: dict[str, tuple[str, Drive]] = {
    "applications": ("Applications, grouped by project, problems first", _keys()),
    "applications-filter": ("Filter health:Degraded", _keys("slash", *"health:Degraded", "enter")),
    "help": ("Help, generated from the screen's bindings", _keys("question_mark")),
    "app-resources": ("risk-engine-prod-eu: live resource tree", _app("risk-engine-prod-eu")),
    "app-diff": ("identity-api-prod-us: the kubectl edit, attributed", _app("identity-api-prod-us", "2")),
    "app-operation": ("payments-api-prod-us: last operation", _app("payments-api-prod-us", "3")),
    "app-history": ("payments-api-prod-us: history", _app("payments-api-prod-us", "4")),
    "app-events": ("risk-engine-prod-eu: Events", _app("risk-engine-prod-eu", "5")),
    "app-logs": ("identity-api-prod-us: logs", _app("identity-api-prod-us", "l")),
    "changes": ("The fleet change timeline", _keys("c")),
    "runbook": (
        "risk-engine-prod-eu: the runbook that fits, walked with live evidence",
        _command(":runbook risk-engine-prod-eu"),
    ),
}


def _action(action: str, app_name: str) -> Drive:
    async def drive(pilot: Any) -> None:
        from console.tui.modals.action import ActionModal

        await _settle(pilot)
        while pilot.app.read_only:
            await pilot.pause(0.05)
        pilot.app.start_action(action, app_name)
        while not (isinstance(pilot.app.screen, ActionModal) and pilot.app.screen.state != "loading"):
            await pilot.pause(0.05)
        await _settle(pilot)

    return drive


# write mode writes an audit record: these run on a fresh copy of the demo each
ACTIONS: dict[str, tuple[str, str, Drive]] = {
    "action-sync": (
        "bob syncs payments-api-prod-us: preview, options",
        "bob",
        _action("sync", "payments-api-prod-us"),
    ),
    "action-break-glass": (
        "Break-glass sync through the EU deny window",
        "alice",
        _action("sync", "payments-api-prod-eu"),
    ),
    "action-rollback": (
        "Rollback of an auto-synced app (suspends auto-sync)",
        "alice",
        _action("rollback", "identity-api-prod-us"),
    ),
    "audit": ("The audit chain, verified", "alice", _keys("A")),
}


def _copy(ws_dir: Path) -> Path:
    target = ws_dir.parent / "actions" / ws_dir.name
    shutil.rmtree(target.parent, ignore_errors=True)
    shutil.copytree(ws_dir, target, symlinks=True)
    return target


async def shoot(ws_dir: Path, out: Path) -> list[Path]:
    from console.engine.gate.identity import resolve

    written = []
    shots = [(n, t, None, d) for n, (t, d) in SCREENS.items()] + [
        (n, t, u, d) for n, (t, u, d) in ACTIONS.items()
    ]
    for name, title, user, drive in shots:
        for w, h in SIZES:
            if user is None:
                app = TrueupApp(load(ws_dir), live=False, clock=lambda: AT)
            else:
                ws = load(_copy(ws_dir))
                ident = resolve(ws, env={"TRUEUP_USER": user})
                app = TrueupApp(ws, live=False, clock=lambda: AT, identity=ident, write=True)
            async with app.run_test(size=(w, h)) as pilot:
                await drive(pilot)
                svg = app.export_screenshot(title=f"trueup — {title}")
            if SECRET in svg:
                raise SystemExit(f"refusing to write {name}: it contains the demo secret")
            path = out / f"{name}-{w}x{h}.svg"
            path.write_text(svg)
            written.append(path)
    return written


def main() -> None:
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.svg"):
        old.unlink()
    shutil.rmtree(DEMO.parent, ignore_errors=True)
    random.seed(20260302)
    try:
        ws = init_demo(DEMO, frozen_at=AT)
        refresh(ws)
        for p in asyncio.run(shoot(ws.root, out)):
            print(p.relative_to(ROOT))
    finally:
        shutil.rmtree(DEMO.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
