"""The console shows untrusted strings literally: control characters made visible, markup never
parsed (Rich's `Text` passes ESC through; a str cell of a DataTable would parse markup)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from console.engine.refresh import refresh
from console.engine.workspace import load
from console.tui.app import TrueupApp
from console.tui.screens.application import ApplicationScreen
from console.tui.screens.changes import ChangesScreen
from console.tui.screens.runbook import RunbookScreen
from tests.helpers import BIDI, MARKUP, OSC52, SUBJECT, make_hostile_workspace
from tests.tui.conftest import screen_text, settle
from widgets.fleet_table import Cell, Column, FleetTable, Group, Row
from widgets.live_tree import LiveTree, TreeItem
from widgets.safe_text import is_unsafe


def raw(text: str) -> list[str]:
    return sorted({repr(ch) for ch in text if is_unsafe(ch, keep_newlines=True)})


class _Widgets(App[None]):
    def compose(self) -> ComposeResult:
        yield FleetTable(
            [Column("name", "NAME", 30, 100), Column("msg", "MESSAGE", 0, 90, min_width=10, flex=True)]
        )
        yield LiveTree(id="tree")


HOSTILE = f"{OSC52} {MARKUP} {BIDI} bell\x07 c1\x9b"


async def test_widgets_show_controls_visibly_and_markup_literally() -> None:
    app = _Widgets()
    async with app.run_test(size=(200, 12)) as pilot:
        table = app.query_one(FleetTable)
        table.set_rows(
            [Row("k", f"proj{OSC52}", {"name": Cell(f"app{BIDI}"), "msg": Cell(HOSTILE, "bad")})],
            {f"proj{OSC52}": Group(f"proj{OSC52}", (Cell(f"proj{OSC52}"), Cell(MARKUP)))},
        )
        tree = app.query_one(LiveTree)
        tree.show([TreeItem("n", (Cell(f"Pod {OSC52}"), Cell(MARKUP)))])
        await pilot.pause(0.2)
        text = screen_text(app)
        assert raw(text) == [], raw(text)
        assert "\\x1b]52;c;" in text and "\\u202egpj.exe" in text and "\\x9b" in text and "\\x07" in text
        assert text.count(MARKUP) >= 3  # literal in a cell, a group header and a tree label: no MarkupError


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_hostile_workspace(tmp_path_factory.mktemp("hostile-tui"))
    refresh(load(root))
    return root


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_every_screen_on_a_hostile_repository(hostile_ws: Path, size: tuple[int, int]) -> None:
    app = TrueupApp(load(hostile_ws), live=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        home = app.screen
        message = home.table.row("default/broken").cells["message"].text  # type: ignore[attr-defined]
        assert "\x1b" in message  # the value is exact; only its rendering is made safe
        assert raw(screen_text(app)) == []
        home.table.move_to("default/broken")  # type: ignore[attr-defined]
        await pilot.pause(0.2)
        text = screen_text(app)
        assert raw(text) == [] and "bad\\x1b[31m\\u202egpj.exe" in text  # in the detail line
        for name in ("hostile", "broken"):
            app.open_app(name)
            await settle(pilot)
            assert isinstance(app.screen, ApplicationScreen)
            for tab in "123456":
                await pilot.press(tab)
                await settle(pilot)
                assert raw(screen_text(app)) == [], (name, tab)
            app.open_runbook(None, name)  # the runbook that fits: its evidence quotes the hostile strings
            await settle(pilot)
            assert isinstance(app.screen, RunbookScreen) and app.screen.walk is not None
            shown = []
            for _ in app.screen.walk.steps:
                shown.append(screen_text(app))
                assert raw(shown[-1]) == [], (name, app.screen.index())
                await pilot.press("down")
                await settle(pilot)
            assert any("\\x1b" in t for t in shown), name  # the evidence did quote the hostile strings
            app.pop_screen()
            app.pop_screen()
        app.open_changes(None)
        await settle(pilot)
        assert isinstance(app.screen, ChangesScreen)
        subjects = [c.summary for c in app.screen.items if c.kind == "commit"]
        assert SUBJECT in subjects  # the hostile commit subject, exact in the data
        assert raw(screen_text(app)) == []
        app.set_notice(f"refresh failed: {OSC52} {MARKUP}", error=True)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert raw(text) == [] and "\\x1b]52" in text and MARKUP in text
