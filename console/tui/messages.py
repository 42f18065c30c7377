"""Messages the console's thread workers post to the UI (post_message is thread-safe).

Results that belong to one view carry the generation they were requested for, so a late answer
for a screen the user already left (or an older request) is dropped instead of shown (argonaut's
SwitchEpoch lesson).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

Obj = dict[str, Any]


class FeedStatus(Message):
    """The Application feed reached the control cluster (error "") or failed (the error text)."""

    def __init__(self, error: str = "", *, retry_in: float = 0.0) -> None:
        super().__init__()
        self.error = error
        self.retry_in = retry_in


class FleetLoaded(Message):
    """A full list of Applications (first load or relist) and their projects."""

    def __init__(self, apps: list[Obj], projects: list[Obj]) -> None:
        super().__init__()
        self.apps = apps
        self.projects = projects


class FleetChanged(Message):
    """Applications changed since the last flush: name -> object (None: deleted)."""

    def __init__(self, changed: dict[str, Obj | None]) -> None:
        super().__init__()
        self.changed = changed


@dataclass
class Loaded(Message):
    """A worker's result for one view (`what`: detail, tree, diff, events, history, changes...)."""

    what: str
    generation: int
    value: Any = None
    error: str = ""


class LogLines(Message):
    """Lines read from a container log (a batch), or the end of the stream."""

    def __init__(self, generation: int, lines: list[str], *, done: bool = False, error: str = "") -> None:
        super().__init__()
        self.generation = generation
        self.lines = lines
        self.done = done
        self.error = error


class Notice(Message):
    """A one-line status for the status bar (refresh finished, controller failed...)."""

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__()
        self.text = text
        self.error = error
