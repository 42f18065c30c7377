"""A Checkbox whose box says its state in a symbol (✔ / blank), not only in colour, so it reads
the same with NO_COLOR and on monochrome terminals."""

from __future__ import annotations

from textual.widgets import Checkbox


class Toggle(Checkbox):
    BUTTON_INNER = " "

    def on_mount(self) -> None:
        self.BUTTON_INNER = "✔" if self.value else " "
        self.refresh()

    def watch_value(self) -> None:
        self.BUTTON_INNER = "✔" if self.value else " "
        super().watch_value()
