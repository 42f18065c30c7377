"""What the noun modules share to declare their commands: typed argument parsers, the `-o` choices,
`--timeout`, and `with_workspace`, which opens the workspace before a handler runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from console.engine.workspace import Workspace, open_workspace

Handler = Callable[[argparse.Namespace], int]


SYNC_STATUSES = ("Synced", "OutOfSync", "Unknown")


HEALTH_STATUSES = ("Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown")


def choice(name: str, values: Sequence[str]) -> Callable[[str], str]:
    """A case-insensitive choice that returns the canonical spelling and names the valid values."""
    by_lower = {v.lower(): v for v in values}

    def parse(text: str) -> str:
        try:
            return by_lower[text.lower()]
        except KeyError:
            raise argparse.ArgumentTypeError(
                f"unknown {name} {text!r}: use one of {', '.join(values)}"
            ) from None

    parse.__name__ = name
    return parse


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value


def fmt(choices: Sequence[str], default: str | None = None) -> dict[str, Any]:
    return {
        "choices": list(choices),
        "default": default,
        "metavar": "|".join(choices),
        "help": "output format" + (f" (default {default})" if default else ""),
    }


def timeout(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--timeout", type=seconds, metavar="S", help=f"{what} (seconds; default: no limit)")


def history_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a history id (a number from `trueup app history APP`)"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: history ids are 0 or more")
    return value


def with_workspace(handler: Callable[[Workspace, argparse.Namespace], int]) -> Handler:
    """A handler that needs the workspace (`-w`, $TRUEUP_WORKSPACE or the current directory)."""

    def run(args: argparse.Namespace) -> int:
        return handler(open_workspace(args.workspace), args)

    return run
