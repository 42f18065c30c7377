"""`@`: the command log (lazygit's): every action this console ran in this session, as the
`trueup` command that does the same, with its outcome and audit records. `y` copies the selected
command (OSC 52); the line itself is the visible fallback."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from widgets.safe_text import visible


class CommandLogScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,at", "dismiss", "Close", id="log.close", tooltip="Close the command log"),
        Binding("y", "copy", "Copy", id="log.copy", tooltip="Copy the selected command (OSC 52)"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="log-box"):
            yield Static(
                Text("Command log: what this console ran in this session (y copies, esc closes)"),
                id="log-title",
            )
            yield OptionList(id="log-list")
            yield Static(id="log-detail")

    def on_mount(self) -> None:
        entries = list(getattr(self.app, "command_log", []))
        box = self.query_one("#log-list", OptionList)
        if not entries:
            box.add_option(
                Option(Text("nothing yet: actions, refreshes and write-mode switches appear here"), id="none")
            )
        for i, e in enumerate(reversed(entries)):
            line = Text()
            line.append(f"{e.at.strftime('%H:%M:%S')} ", style="dim")
            mark = {"succeeded": "✔", "requested": "✔", "running": "◷"}.get(e.outcome, "✖")
            line.append(f"{mark} {e.outcome:<9} ")
            line.append(visible(e.command))
            if e.audit:
                line.append(f"  audit {e.audit}", style="dim")
            box.add_option(Option(line, id=str(len(entries) - 1 - i)))
        box.highlighted = 0
        box.focus()
        self._detail()

    def _entry(self) -> Any:
        box = self.query_one("#log-list", OptionList)
        if box.highlighted is None:
            return None
        opt = box.get_option_at_index(box.highlighted)
        if opt.id in (None, "none"):
            return None
        return self.app.command_log[int(opt.id)]  # type: ignore[attr-defined]

    def on_option_list_option_highlighted(self) -> None:
        self._detail()

    def _detail(self) -> None:
        e = self._entry()
        text = Text()
        if e is not None:
            text.append(f"from {visible(e.view)}", style="dim")
            if e.message:
                text.append(f" · {visible(e.message)}")
        self.query_one("#log-detail", Static).update(text)

    def action_copy(self) -> None:
        e = self._entry()
        if e is not None:
            self.app.copy_to_clipboard(e.command)
            fn = getattr(self.app, "set_notice", None)
            if callable(fn):
                fn(f"copied (OSC 52): {e.command}")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
