"""Theme-driven tones for widgets that render `Text` themselves (tables, trees, diffs).

A widget lists `TONE_CLASSES` in its COMPONENT_CLASSES; the theme's .tcss styles `.tone--ok`,
`.tone--bad`, ...; `tone_styles(widget)` reads them back as Rich styles (foreground and text
style only, so the widget's own background, e.g. the cursor row, shows through).
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable

from widgets.status import TONES

TONE_CLASSES = frozenset(
    {f"tone--{t}" for t in TONES}
    | {"tone--group", "tone--dim", "tone--add", "tone--remove", "tone--hunk", "tone--note"}
)
EXTRA_TONES = ("group", "dim", "add", "remove", "hunk", "note")


def tone_styles(widget: Widget) -> dict[str, Style]:
    out: dict[str, Style] = {}
    for tone in (*TONES, *EXTRA_TONES):
        s = widget.get_component_rich_style(f"tone--{tone}", partial=True)
        out[tone] = Style(
            color=s.color, bold=s.bold, dim=s.dim, italic=s.italic, underline=s.underline, reverse=s.reverse
        )
    return out


class TonedTable(DataTable[Text]):
    """A DataTable whose cells are `Text` the owner styles with the theme's tones."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(DataTable.COMPONENT_CLASSES) | set(TONE_CLASSES)
