"""Rich `Text` built from untrusted strings by the one escaping policy of `widgets.safe_text`."""

from __future__ import annotations

from rich.text import Text

from widgets.safe_text import visible


def safe_text(value: object, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A `Text` for a table cell or a status line: unsafe characters visible, never markup."""
    return Text(visible(value, keep_newlines=keep_newlines), style=style)
