"""Status as symbol + word + colour (never colour alone), for sync and health values.

Takes plain strings so it stays independent of the engine; unknown values render neutrally.
"""

from __future__ import annotations

from rich.text import Text

from widgets.text import safe_text

# word -> (symbol, theme-variable style)
_SYMBOLS: dict[str, tuple[str, str]] = {
    "Healthy": ("♥", "green"),
    "Synced": ("✓", "green"),
    "OutOfSync": ("↻", "yellow"),
    "Progressing": ("◐", "cyan"),
    "Suspended": ("⏸", "magenta"),
    "Missing": ("?", "yellow"),
    "Degraded": ("✗", "red"),
    "Unknown": ("·", "bright_black"),
    "Running": ("◐", "cyan"),
    "Succeeded": ("✓", "green"),
    "Failed": ("✗", "red"),
    "Error": ("✗", "red"),
}


def status_text(word: str, *, color: bool = True) -> Text:
    """`Text` (never markup) so an unexpected value cannot inject styles."""
    symbol, style = _SYMBOLS.get(word, ("·", ""))
    return safe_text(f"{symbol} {word}", style=style if color else "")
