"""SVG snapshots of every console screen at 80x24 and 120x36, on the reproducible demo (fixed
path, frozen sim clocks, seeded pod names, no cursor blink, clean environment: tests/conftest.py
removes NO_COLOR and TEXTUAL_*). `pytest --snapshot-update tests/tui/test_snapshots.py` after an
intended change; review the SVGs in the diff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import frozen_app, settle

Drive = Callable[[Any], Awaitable[None]]


def _open(app_name: str, tab: str | None = None) -> Drive:
    async def drive(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.open_app(app_name)
        await settle(pilot)
        if tab:
            await pilot.press(tab)
            await settle(pilot)

    return drive


def _keys(*keys: str) -> Drive:
    async def drive(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return drive


SCREENS: dict[str, Drive] = {
    "applications": _keys(),
    "applications-filter": _keys("slash", *"health:Degraded"),
    "command-line": _keys("colon", *"app ident"),
    "help": _keys("question_mark"),
    "app-resources": _open("risk-engine-prod-eu"),
    "app-diff": _open("identity-api-prod-us", "2"),
    "app-operation": _open("payments-api-prod-us", "3"),
    "app-history": _open("payments-api-prod-us", "4"),
    "app-events": _open("risk-engine-prod-eu", "5"),
    "app-logs": _open("identity-api-prod-us", "l"),
    "changes": _keys("c"),
    "runbook": _open("risk-engine-prod-eu", "b"),
    "runbook-branch": _open("payments-api-prod-us", "b"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, frozen_demo: Path, screen: str, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(frozen_demo), terminal_size=size, run_before=SCREENS[screen])
