"""Status as symbol + word + tone (never colour alone), for sync, health, operation and event words.

Plain strings in, so it stays independent of the engine. A *tone* (ok, warn, bad, progress,
muted, info) is what a theme colours (`.tone--bad { color: $error; }` in the .tcss files); with
NO_COLOR the symbol and the word still say everything. `ascii=True` is the fallback for
terminals without Unicode (argonaut's `V ^ ! . ?`).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from rich.text import Text

from widgets.text import safe_text

TONES = ("ok", "warn", "bad", "progress", "muted", "info")

# word -> (symbol, ascii symbol, tone)
_SYMBOLS: dict[str, tuple[str, str, str]] = {
    "Healthy": ("✔", "V", "ok"),
    "Synced": ("✔", "V", "ok"),
    "Succeeded": ("✔", "V", "ok"),
    "Normal": ("·", ".", "muted"),
    "OutOfSync": ("Δ", "^", "warn"),
    "Progressing": ("◷", ".", "progress"),
    "Running": ("◷", ".", "progress"),
    "Syncing": ("◷", ".", "progress"),
    "Terminating": ("◷", ".", "progress"),
    "Pending": ("◷", ".", "progress"),
    "Suspended": ("⏸", "=", "info"),
    "Missing": ("∅", "-", "warn"),
    "Degraded": ("✖", "!", "bad"),
    "Failed": ("✖", "!", "bad"),
    "Error": ("✖", "!", "bad"),
    "SyncFailed": ("✖", "!", "bad"),
    "Warning": ("⚠", "!", "bad"),
    "Unknown": ("?", "?", "muted"),
    "Pruned": ("✂", "x", "muted"),
    "PruneSkipped": ("✂", "x", "muted"),
    "Sync Denied": ("⛔", "#", "bad"),
    "Manual Allowed": ("✋", "~", "warn"),
    "Sync Allowed": ("✔", "V", "ok"),
}


def tone_of(word: str) -> str:
    return _SYMBOLS.get(word, ("·", ".", ""))[2]


def symbol_of(word: str, *, ascii: bool = False) -> str:
    entry = _SYMBOLS.get(word, ("·", ".", ""))
    return entry[1] if ascii else entry[0]


def label(word: str, *, ascii: bool = False) -> str:
    """`✖ Degraded` (or `! Degraded`): the text of a status, tone not applied."""
    return f"{symbol_of(word, ascii=ascii)} {word}" if word else ""


def status_text(word: str, *, ascii: bool = False, styles: Mapping[str, Style] | None = None) -> Text:
    """A `Text` (never markup), so an unexpected value from a cluster cannot inject styles;
    `styles` maps tones to the theme's styles (none: unstyled)."""
    style = (styles or {}).get(tone_of(word))
    return safe_text(label(word, ascii=ascii), style=style or "")
