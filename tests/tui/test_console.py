"""Console behaviour (Pilot) and SVG snapshots at 80x24 and 120x36 on the demo fleet."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from console.engine.workspace import load
from console.tui.app import TrueupApp
from widgets.app_table import AppRow, AppTable


async def _loaded(app: TrueupApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_lists_the_fleet_grouped_by_project(demo_workspace: Path) -> None:
    app = TrueupApp(load(demo_workspace), poll_seconds=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await _loaded(app, pilot)
        table = app.query_one(AppTable)
        keys = [row.key.value for row in table.ordered_rows]
        projects = [k for k in keys if k and k.startswith("project:")]
        assert projects == [
            "project:customer-identity",
            "project:default",
            "project:payments",
            "project:platform",
            "project:risk",
        ]
        # each app sits below its project header
        assert keys.index("app:risk-engine-prod-eu") > keys.index("project:risk")
        row = table.get_row("app:risk-engine-prod-eu")
        assert isinstance(row[4], Text) and row[4].plain == "✗ Degraded"
        assert table.get_row("app:payments-api-prod-us")[3].plain == "↻ OutOfSync"
        status = str(app.query_one("#status").render())
        assert "11 applications" in status and "4 need attention" in status


async def test_cursor_moves_and_refresh_keeps_rows(demo_workspace: Path) -> None:
    app = TrueupApp(load(demo_workspace), poll_seconds=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await _loaded(app, pilot)
        table = app.query_one(AppTable)
        await pilot.press("down", "down")
        selected = table.selected_app()
        assert selected is not None
        before = table.row_count
        await pilot.press("r")
        await _loaded(app, pilot)
        await app.workers.wait_for_complete()
        assert table.row_count == before
        assert table.selected_app() == selected  # in-place update, cursor kept


class _TableOnly(App[None]):
    def __init__(self, rows: list[AppRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield AppTable()

    def on_mount(self) -> None:
        self.query_one(AppTable).show(self.rows)


async def test_untrusted_text_is_not_markup() -> None:
    """A message like `[/x]` would crash a markup-parsing cell; it must render literally."""
    rows = [AppRow("app-a", "p", "c", "ns", "Synced", "Degraded", "weird[/x] message [bold]not bold[/bold]")]
    app = _TableOnly(rows)
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        cell = app.query_one(AppTable).get_row("app:app-a")[5]
        assert cell.plain == "weird[/x] message [bold]not bold[/bold]"


async def test_update_in_place_without_rebuild() -> None:
    rows = [
        AppRow("a", "p", "c", "ns", "Synced", "Healthy"),
        AppRow("b", "p", "c", "ns", "Synced", "Healthy"),
    ]
    app = _TableOnly(rows)
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(AppTable)
        table.move_cursor(row=2)
        table.show([rows[0], AppRow("b", "p", "c", "ns", "OutOfSync", "Healthy")])
        await pilot.pause()
        assert table.cursor_row == 2
        assert table.get_row("app:b")[3].plain == "↻ OutOfSync"


def test_bindings_have_id_description_and_tooltip() -> None:
    for b in TrueupApp.BINDINGS:
        assert b.id and b.description and b.tooltip  # type: ignore[union-attr]


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_snapshot(snap_compare, demo_workspace: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def loaded(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    app = TrueupApp(load(demo_workspace), poll_seconds=0)
    assert snap_compare(app, terminal_size=size, run_before=loaded)


async def test_embedded_controller_runs_and_stops_with_the_console(tmp_path: Path) -> None:
    from console.demo.bootstrap import init_demo

    ws = init_demo(tmp_path / "demo")
    app = TrueupApp(load(ws.root), poll_seconds=0, embedded_controller=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await _loaded(app, pilot)
        assert app.controller is not None
        log = ws.state_dir / "controller.log"
        for _ in range(100):
            if log.exists() and "controller started" in log.read_text():
                break
            await pilot.pause(0.05)
        assert "controller started" in log.read_text()
    thread = app.controller._thread
    assert thread is not None and not thread.is_alive()
    assert "demo-s3cr3t-value" not in log.read_text()
