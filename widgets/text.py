"""Rich `Text` built from untrusted strings by the one escaping policy of `widgets.safe_text`."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from widgets.safe_text import visible


def safe_text(value: object, style: str | Style = "", *, keep_newlines: bool = False) -> Text:
    """A `Text` for a table cell or a status line: unsafe characters visible, never markup."""
    return Text(visible(value, keep_newlines=keep_newlines), style=style)


def append_safe(out: Text, value: object, style: str | Style = "") -> None:
    """Append `value` to `out`: newlines stay line breaks, every other unsafe character is made
    visible, nothing is parsed as markup (for multi-line views built piece by piece)."""
    for i, part in enumerate(str(value).split("\n")):
        if i:
            out.append("\n")
        if part:
            out.append(visible(part), style=style)
