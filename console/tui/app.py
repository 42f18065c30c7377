"""The operations console (read-only). This issue's scope: Applications grouped by Project, live."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from console.engine import views
from console.engine.appstore import AppStore
from console.engine.refresh import refresh
from console.engine.workspace import Workspace
from widgets.app_table import AppRow, AppTable
from widgets.safe_text import visible
from widgets.text import safe_text


def rows_from(ws: Workspace) -> list[AppRow]:
    servers = {c.server: c.name for c in ws.clusters.values()}
    out = []
    for app in AppStore(ws.control()).list_apps():
        s = views.app_summary(app, servers)
        msg = s["health"]["message"] or "; ".join(c["message"] for c in s["conditions"])
        out.append(
            AppRow(
                s["name"],
                s["project"],
                s["cluster"],
                s["namespace"],
                s["sync"]["status"],
                s["health"]["status"],
                " ".join(msg.split()),
            )
        )
    return out


class TrueupApp(App[int]):
    """Read-only by default: nothing here mutates a cluster."""

    TITLE = "trueup"
    CSS = """
    #status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "refresh",
            "Refresh",
            id="refresh",
            tooltip="Compare every application with Git and the clusters now",
        ),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave the console"),
    ]

    def __init__(
        self, ws: Workspace, *, poll_seconds: float = 5.0, embedded_controller: bool = False, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.ws = ws
        self.poll_seconds = poll_seconds
        self.controller = EmbeddedController(ws.root) if embedded_controller else None
        mode = " · controller" if self.controller else ""
        self.sub_title = visible(f"{ws.root.name} · control: {ws.control_cluster} · read-only{mode}")

    def compose(self) -> ComposeResult:
        yield Header()
        yield AppTable(id="apps", color="NO_COLOR" not in os.environ)
        yield Static("loading…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        if self.controller is not None:
            self.controller.start()
        self.load_rows()
        if self.poll_seconds > 0:
            self.set_interval(self.poll_seconds, self.load_rows)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_rows(self) -> None:
        try:
            rows = rows_from(self.ws)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never kills the console
            self.call_from_thread(self._set_status, f"cannot read applications: {exc}")
            return
        self.call_from_thread(self._show, rows)

    def _show(self, rows: list[AppRow]) -> None:
        self.query_one(AppTable).show(rows)
        bad = sum(1 for r in rows if r.sync != "Synced" or r.health != "Healthy")
        self._set_status(f"{len(rows)} applications · {bad} need attention")

    def _set_status(self, text: str) -> None:
        """Status lines quote engine errors and names: never markup, controls made visible."""
        self.query_one("#status", Static).update(safe_text(" ".join(text.split())))

    def action_refresh(self) -> None:
        self._set_status("refreshing…")
        self.run_refresh()

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False)
    def run_refresh(self) -> None:
        try:
            report = refresh(self.ws)
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self._set_status, f"refresh failed: {exc}")
            return
        self.call_from_thread(
            self._set_status, f"refreshed {len(report.comparisons)} applications in {report.seconds:.1f}s"
        )
        self.load_rows()

    def on_unmount(self) -> None:
        if self.controller is not None:
            self.controller.stop()


class EmbeddedController:
    """The reconcile loop in a daemon thread of the console process (its own Workspace, so no
    cluster connection is shared with UI workers); logs go to `.trueup/controller.log`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._controller: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="trueup-controller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from console.engine.controller.log import ControllerLog
        from console.engine.controller.loop import Controller
        from console.engine.workspace import load

        ws = load(self.root)
        log_path = ws.state_dir / "controller.log"
        with log_path.open("a", encoding="utf-8") as stream:
            self._controller = Controller(ws, holder=f"console-{os.getpid()}", log=ControllerLog(stream))
            self._controller.run(self._stop)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._controller is not None:
            self._controller.wake()
        if self._thread is not None:
            self._thread.join(timeout)


def run_console(ws: Workspace, *, embedded_controller: bool = True) -> int:
    result = TrueupApp(ws, embedded_controller=embedded_controller).run()
    return int(result or 0)
