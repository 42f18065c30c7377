"""The console shows untrusted strings literally: control characters made visible, markup not
parsed (Rich's `Text` passes ESC through; a plain-str DataTable cell would parse markup)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from console.engine.refresh import refresh
from console.engine.workspace import load
from console.tui.app import TrueupApp
from tests.helpers import BIDI, MARKUP, OSC52, make_hostile_workspace
from widgets.app_table import AppRow, AppTable
from widgets.safe_text import is_unsafe


def _screen_text(widget: Widget) -> str:
    """What the widget sends to the terminal, line by line (the segments' text)."""
    lines = []
    for y in range(widget.size.height):
        lines.append("".join(seg.text for seg in widget.render_line(y)))
    return "\n".join(lines)


def _raw(text: str) -> list[str]:
    return sorted({repr(ch) for ch in text if is_unsafe(ch, keep_newlines=True)})


class _TableOnly(App[None]):
    def __init__(self, rows: list[AppRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield AppTable()

    def on_mount(self) -> None:
        self.query_one(AppTable).show(self.rows)


async def test_table_cells_show_controls_visibly_and_markup_literally() -> None:
    rows = [
        AppRow(
            "app-a",
            f"proj{OSC52}",
            "c\x1b[31m",
            f"ns{BIDI}",
            "Synced",
            "Degraded\x1b[5m",  # an unexpected status word from a cluster
            f"{OSC52} {MARKUP} {BIDI} bell\x07 c1\x9b",
        )
    ]
    app = _TableOnly(rows)
    async with app.run_test(size=(320, 8)) as pilot:
        await pilot.pause()
        table = app.query_one(AppTable)
        text = _screen_text(table)
        assert _raw(text) == [], text
        assert "\\x1b]52;c;" in text and "\\u202egpj.exe" in text and "\\x9b" in text
        assert MARKUP in text  # literal, not styled, and no MarkupError for `[/x]`
        assert "c\\x1b[31m" in text and "Degraded\\x1b[5m" in text
        assert "proj\\x1b]52" in text  # the project header row
        cell = table.get_row("app:app-a")[5]
        assert cell.spans == []  # no style came from the message's markup


@pytest.fixture(scope="module")
def hostile_console_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_hostile_workspace(tmp_path_factory.mktemp("hostile-tui"))
    refresh(load(root))
    return root


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_console_on_a_hostile_repository(hostile_console_ws: Path, size: tuple[int, int]) -> None:
    app = TrueupApp(load(hostile_console_ws), poll_seconds=0)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one(AppTable)
        message = table.get_row("app:broken")[5].plain
        assert "bad\\x1b[31m\\u202egpj.exe" in message and "\x1b" not in message
        for widget in (table, app.query_one("#status", Static)):
            assert _raw(_screen_text(widget)) == []
        # a refresh that fails with a hostile message is shown the same way on the status line
        app._set_status(f"refresh failed: {OSC52} {MARKUP}")
        await pilot.pause()
        status = _screen_text(app.query_one("#status", Static))
        assert _raw(status) == [] and "\\x1b]52" in status and "[bold]x[/]" in status
