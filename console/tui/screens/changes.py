"""The change timeline (`:changes`, `c`): commits, syncs, live edits, health transitions and
Warning events, newest first, for the fleet or one application — what changed before it broke,
and who did it. Enter opens the application of the selected change."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from console.engine import changes
from console.tui.format import age, clock
from console.tui.messages import Loaded
from console.tui.screens.base import ConsoleScreen
from widgets.fleet_table import Cell, Column, FleetTable, Row
from widgets.safe_text import visible
from widgets.text import append_safe, safe_text

KIND_TONE = {"commit": "info", "sync": "ok", "live-edit": "warn", "health": "progress", "event": "bad"}
RELOAD_EVERY = 5.0
COLUMNS = [
    Column("time", "TIME", 20, 40),
    Column("age", "AGE", 6, 92),
    Column("app", "APP", 28, 90),
    Column("kind", "KIND", 9, 85),
    Column("actor", "WHO", 24, 60),
    Column("summary", "WHAT", 0, 95, min_width=24, flex=True),
]


class ChangesScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "open", "Open app", id="changes.open", tooltip="Open the application of this change"
        ),
        Binding(
            "a",
            "scope",
            "Fleet/app",
            id="changes.scope",
            tooltip="Switch between this application and the whole fleet",
        ),
    ]

    def __init__(self, app_name: str | None) -> None:
        super().__init__()
        self.app_name = app_name
        self.origin = app_name
        self.items: list[changes.Change] = []
        self.errors: list[str] = []
        self._gen = 0
        self._dirty = False
        self.loading = True

    def crumbs(self) -> list[str]:
        return ["trueup", "Changes", self.app_name or "fleet"]

    def compose(self) -> ComposeResult:
        yield from self.top()
        yield FleetTable(COLUMNS, grouped=False, id="changes-table")
        yield Static(id="detail", classes="detail")
        yield from self.bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#detail", Static).update(
            safe_text("reading Git, the clusters and application status…")
        )
        self.reload()
        if self.console.live:
            self.set_interval(RELOAD_EVERY, self._maybe_reload)
        self.table.focus()

    @property
    def table(self) -> FleetTable:
        return self.query_one("#changes-table", FleetTable)

    def focus_body(self) -> None:
        self.table.focus()

    def fleet_changed(self, changed: dict[str, Any]) -> None:
        if self.app_name is None or self.app_name in changed:
            self._dirty = True

    def _maybe_reload(self) -> None:
        if self._dirty and not self.console.paused:
            self._dirty = False
            self.reload()

    def reload(self) -> None:
        c = self.console
        ws = c.worker_ws
        apps = (
            [c.fleet[self.app_name]] if self.app_name and self.app_name in c.fleet else list(c.fleet.values())
        )
        self._gen = c.next_generation()
        c.load(self, "changes", self._gen, lambda: changes.timeline(ws, apps))

    def on_loaded(self, message: Loaded) -> None:
        if message.what != "changes" or message.generation != self._gen:
            return
        message.stop()
        self.loading = False
        if message.error:
            self.errors = [message.error]
        else:
            self.items = list(message.value.changes)
            self.errors = list(message.value.errors)
        self._render_table()
        self.refresh_status()

    def _render_table(self) -> None:
        c = self.console
        built: list[Row] = []
        self._by_key: dict[str, changes.Change] = {}
        seen: dict[str, int] = {}
        for i, ch in enumerate(self.items):
            base = f"{ch.at.isoformat()}|{ch.app}|{ch.kind}|{ch.summary}"
            seen[base] = seen.get(base, 0) + 1
            key = f"{base}|{seen[base]}"
            self._by_key[key] = ch
            built.append(
                Row(
                    key,
                    "",
                    {
                        "time": Cell(clock(ch.at), "muted"),
                        "age": Cell(age(ch.at, c.now())),
                        "app": Cell(ch.app),
                        "kind": Cell(ch.kind, KIND_TONE.get(ch.kind, "")),
                        "actor": Cell(ch.actor, "muted" if ch.actor == "trueup" else ""),
                        "summary": Cell(ch.summary),
                    },
                    (i,),
                )
            )
        self.table.set_rows(built, {})
        self._detail()

    def on_fleet_table_highlighted(self, event: FleetTable.Highlighted) -> None:
        self._detail()

    def on_fleet_table_selected(self, event: FleetTable.Selected) -> None:
        self.action_open()

    def selected(self) -> changes.Change | None:
        key = self.table.cursor_key
        return getattr(self, "_by_key", {}).get(key or "")

    def _detail(self) -> None:
        box = self.query_one("#detail", Static)
        ch = self.selected()
        if self.loading:
            return
        if ch is None:
            box.update(safe_text("no changes recorded" + (f" for {self.app_name}" if self.app_name else "")))
            return
        text = f"{ch.kind} · {ch.app} · {ch.actor} · {clock(ch.at)}"
        if ch.revision:
            text += f" · {ch.revision[:12]}"
        out = safe_text(text)
        out.append("\n")
        append_safe(out, " ".join(ch.summary.split()))
        box.update(out)

    def action_open(self) -> None:
        ch = self.selected()
        if ch is not None:
            self.console.open_app(ch.app)

    def action_scope(self) -> None:
        chosen = self.selected()
        self.app_name = None if self.app_name else (self.origin or (chosen.app if chosen else None))
        self.refresh_crumbs()
        self.reload()

    def status_extra(self) -> str:
        n = len(self.items)
        text = "loading changes…" if self.loading else f"{n} changes"
        if self.errors:
            text += " · " + "; ".join(visible(e) for e in self.errors[:2])
        return text
