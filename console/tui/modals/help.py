"""`?`: the keys of the screen you are on, generated from its active bindings (so remapped keys
show as remapped and the help can never drift from the code), then the `:` commands."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from console.tui import commands
from widgets.safe_text import visible


def binding_rows(app: App[Any], screen: Screen[Any]) -> list[tuple[str, str, str, bool, str]]:
    """(keys, description, tooltip, enabled, binding id) per binding active on `screen`, in order
    (the id is what `console: {keymap: {ID: KEYS}}` in trueup.yaml remaps)."""
    by_id: dict[str, list[Any]] = {}
    order: list[str] = []
    for key, active in screen.active_bindings.items():
        b = active.binding
        ident = b.id or f"{b.action}"
        if ident not in by_id:
            by_id[ident] = [
                [],
                b.description or b.action,
                active.tooltip or b.tooltip,
                active.enabled,
                b.id or "",
            ]
            order.append(ident)
        shown = app.get_key_display(Binding(key, b.action))
        if shown not in by_id[ident][0]:
            by_id[ident][0].append(shown)
    order.sort(key=lambda i: not by_id[i][4])  # trueup's bindings (they have ids) first, then Textual's
    return [(" ".join(by_id[i][0]), by_id[i][1], by_id[i][2], by_id[i][3], by_id[i][4]) for i in order]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, title: str, rows: list[tuple[str, str, str, bool, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    @classmethod
    def for_screen(cls, app: App[Any], screen: Screen[Any]) -> HelpScreen:
        crumbs = getattr(screen, "crumbs", None)
        title = " › ".join(crumbs()) if callable(crumbs) else type(screen).__name__
        return cls(title, binding_rows(app, screen))

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text(f"Keys: {visible(self.title_text)}"), id="help-title")
            yield Static(self._keys())
            yield Static(self._commands())

    def _keys(self) -> Text:
        out = Text()
        width = max((len(k) for k, *_ in self.rows), default=4)
        for keys, desc, tip, enabled, ident in self.rows:
            out.append(f"{keys:<{width}}  ", style="bold")
            out.append(visible(desc), style="" if enabled else "dim")
            if tip:
                out.append(f" — {visible(tip)}", style="dim")
            if ident:
                out.append(f"  [{ident}]", style="dim")
            out.append("\n")
        return out

    def _commands(self) -> Text:
        out = Text("\nCommands (type : then the command; also in the palette, ctrl+p)\n", style="bold")
        for cmd in commands.REGISTRY:
            usage = f":{cmd.name} {cmd.usage}".rstrip()
            aliases = f" (also {', '.join(':' + a for a in cmd.aliases)})" if cmd.aliases else ""
            out.append(f"{usage:<22}", style="bold")
            out.append(f"{cmd.help}{aliases}\n")
        out.append(
            "\nFilter (/): text, regex, !negate, health:Degraded sync:OutOfSync project:NAME cluster:NAME ns:NAME\n",
            style="dim",
        )
        return out

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
