"""What every console screen has: the breadcrumb bar (where am I, which context, who), the `:`
command line, the status bar (live/paused, data age, errors) and the footer."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Static

from console.tui import commands
from console.tui.host import ConsoleHost
from widgets.safe_text import visible
from widgets.text import safe_text


class ConsoleScreen(Screen[Any]):
    """Subclasses set CRUMBS and compose their body between `top()` and `bottom()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "back",
            "Back",
            id="back",
            tooltip="Close the command line, clear the filter, or go back",
        ),
    ]
    CRUMBS: ClassVar[tuple[str, ...]] = ()

    @property
    def console(self) -> ConsoleHost:
        return cast(ConsoleHost, self.app)

    def crumbs(self) -> list[str]:
        return ["trueup", *self.CRUMBS]

    def top(self) -> ComposeResult:
        yield Static(id="crumbs", classes="bar")

    def bottom(self) -> ComposeResult:
        yield Input(id="command", placeholder=":app NAME · :changes · :theme NAME · :q", classes="line")
        yield Static(id="status", classes="bar")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#command", Input).display = False
        self.refresh_crumbs()
        self.call_after_refresh(self.refresh_status)

    def refresh_crumbs(self) -> None:
        c = self.console
        left = " › ".join(visible(p) for p in self.crumbs())
        right = f"{c.ws.root.name} · ctl {c.ws.control_cluster} · {c.user} ({c.identity_note}) · read-only"
        width = self.app.size.width
        pad = max(2, width - len(left) - len(right) - 2)
        text = f" {left}{' ' * pad}{visible(right)} " if width >= len(left) + len(right) + 4 else f" {left}"
        self.query_one("#crumbs", Static).update(safe_text(text))

    def on_resize(self) -> None:
        self.refresh_crumbs()

    def status_extra(self) -> str:
        """Screen-specific part of the status bar (filter, selection...)."""
        return ""

    def refresh_status(self) -> None:
        if not self.is_mounted:
            return
        try:
            bar = self.query_one("#status", Static)
        except Exception:  # noqa: BLE001 - not composed yet
            return
        text, cls = self.console.status_line(self.status_extra())
        bar.update(safe_text(" " + text))
        bar.set_classes(f"bar {cls}".strip())

    # -- the `:` command line ----------------------------------------------------------------
    def open_command_line(self) -> None:
        line = self.query_one("#command", Input)
        line.suggester = SuggestFromList(
            commands.completions(cast(commands.Console, self.app)), case_sensitive=False
        )
        line.value = ""
        line.display = True
        line.focus()

    def close_command_line(self) -> None:
        line = self.query_one("#command", Input)
        line.display = False
        line.value = ""
        self.focus_body()

    def focus_body(self) -> None:
        """Give focus back to the screen's main widget."""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "command":
            text = event.value
            self.close_command_line()
            self.console.run_command_line(text)
            event.stop()

    def action_back(self) -> None:
        line = self.query_one("#command", Input)
        if line.display:
            self.close_command_line()
            return
        if self.back():
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def back(self) -> bool:
        """Handle Esc inside the screen first (True: handled)."""
        return False
