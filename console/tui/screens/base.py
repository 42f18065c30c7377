"""What every console screen has: the breadcrumb bar (where am I, which context, who), the `:`
command line, the status bar (live/paused, data age, errors) and the footer."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
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
        yield Input(id="command", placeholder=":app NAME · :changes · :runbook · :audit · :q", classes="line")
        yield Static(id="status", classes="bar")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#command", Input).display = False
        self.refresh_crumbs()
        self.call_after_refresh(self.refresh_status)

    def refresh_crumbs(self) -> None:
        """Where, and always who and in which mode (the parts that fit; mode and user last to go)."""
        c = self.console
        left = " › ".join(visible(p) for p in self.crumbs())
        mode = "read-only (w: write)" if c.read_only else "WRITE MODE (w: read-only)"
        who = f"{c.user} ({c.identity_note})"
        width = self.app.size.width
        text = f" {left}"
        for right in (
            f"{c.ws.root.name} · ctl {c.ws.control_cluster} · {who} · {mode}",
            f"ctl {c.ws.control_cluster} · {who} · {mode}",
            f"{who} · {mode}",
            f"{c.user} · {mode.split(' (')[0]}",
        ):
            right = visible(right)
            if width >= len(left) + len(right) + 4:
                text = f" {left}{' ' * (width - len(left) - len(right) - 2)}{right} "
                break
        bar = self.query_one("#crumbs", Static)
        bar.update(safe_text(text))
        bar.set_class(not c.read_only, "-write")

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


ACTION_BINDINGS: list[BindingType] = [
    Binding(
        "s", "act('sync')", "Sync", id="action.sync", tooltip="Sync: preview, options, confirm (write mode)"
    ),
    Binding(
        "R",
        "act('rollback')",
        "Rollback",
        show=False,
        id="action.rollback",
        tooltip="Roll back to a deployed revision (History)",
    ),
    Binding(
        "S",
        "act('autosync')",
        "Auto-sync",
        show=False,
        id="action.autosync",
        tooltip="Suspend auto-sync for a while (break-glass), or resume it",
    ),
    Binding(
        "T",
        "act('terminate')",
        "Terminate",
        show=False,
        id="action.terminate",
        tooltip="Terminate the running operation (break-glass)",
    ),
    Binding(
        "a",
        "act('restart')",
        "Restart",
        show=False,
        id="action.restart",
        tooltip="Resource action: restart a Deployment/StatefulSet/DaemonSet",
    ),
    Binding(
        "ctrl+d",
        "act('delete')",
        "Delete",
        show=False,
        id="action.delete",
        tooltip="Delete the application (cascade choices, typed name)",
    ),
    Binding(
        "H",
        "act('hard_refresh')",
        "Hard refresh",
        show=False,
        id="action.hard-refresh",
        tooltip="Refresh, regenerating manifests (ignore the manifest cache)",
    ),
]


class ActionScreen(ConsoleScreen):
    """A screen whose keys act on one application (`target_app`): bindings greyed while the
    console is read-only or when RBAC denies the action, the missing permission in the tooltip."""

    BINDINGS: ClassVar[list[BindingType]] = ACTION_BINDINGS

    def target_app(self) -> str | None:
        return None

    def action_state(self, action: str, parameters: tuple[object, ...]) -> tuple[bool | None, str]:
        if action != "act" or not parameters:
            return True, ""
        app = self.target_app()
        act = str(parameters[0])
        if act == "autosync":
            act = self.console.autosync_action(app) if app else "suspend_autosync"
        return self.console.action_state(act, app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.action_state(action, parameters)[0]

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Greyed actions say why in their tooltip (footer hover and `?` help)."""
        out = super().active_bindings
        for key, ab in list(out.items()):
            if ab.enabled or ab.binding.action.split("(")[0] != "act":
                continue
            params = tuple(p.strip("'\" ") for p in ab.binding.action.split("(", 1)[1].rstrip(")").split(","))
            _, why = self.action_state("act", params)
            if why:
                out[key] = ActiveBinding(
                    ab.node, ab.binding, ab.enabled, f"{ab.binding.tooltip} — unavailable: {why}"
                )
        return out

    def action_act(self, action: str) -> None:
        app = self.target_app()
        if app is None:
            self.console.set_notice("select an application first", error=True)
            return
        if action == "autosync":
            action = self.console.autosync_action(app)
        self.console.start_action(action, app, **self.prefill(action))

    def prefill(self, action: str) -> dict[str, Any]:
        """Values the screen knows (the selected resource, the highlighted history entry)."""
        return {}
