"""The console's themes: one .tcss file per theme in this directory (dark, light, high-contrast,
ansi), each on a Textual base palette. The files style only colours (status tones, diff lines,
bars); layout lives in console/tui/app.tcss, so a theme can never break the layout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.theme import Theme

DEFAULT = "dark"

# theme name -> Textual base theme (the palette behind $success, $error, $panel, ...)
BASES = {
    "dark": "textual-dark",
    "light": "textual-light",
    "high-contrast": "trueup-high-contrast",
    "ansi": "ansi-dark",
}


def high_contrast() -> Theme:
    """The palette behind "high-contrast" (Textual is imported only when the console opens)."""
    from textual.theme import Theme

    return Theme(
        name="trueup-high-contrast",
        primary="#ffff00",
        secondary="#00ffff",
        accent="#00ffff",
        warning="#ffff00",
        error="#ff5f5f",
        success="#00ff00",
        foreground="#ffffff",
        background="#000000",
        surface="#000000",
        panel="#1c1c1c",
        boost="#303030",
        dark=True,
        variables={
            "block-cursor-background": "#ffffff",
            "block-cursor-foreground": "#000000",
            "block-cursor-blurred-background": "#808080",
            "text-muted": "#d0d0d0",
            "footer-key-foreground": "#ffff00",
        },
    )


def names() -> list[str]:
    return list(BASES)


def path(name: str) -> Path:
    """The .tcss file of a theme; KeyError for an unknown name."""
    if name not in BASES:
        raise KeyError(name)
    return Path(str(resources.files("themes") / f"{name}.tcss"))
