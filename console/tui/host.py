"""What screens and modals may ask of the console App (the App composes the screens; screens
reach back only through this Protocol, so the two never import each other in a cycle)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from textual.message_pump import MessagePump

from console.engine.fleet import AppFacts
from console.engine.workspace import Workspace

Obj = dict[str, Any]


class ConsoleHost(Protocol):
    ws: Workspace
    worker_ws: Workspace
    fleet: dict[str, Obj]
    facts: dict[str, AppFacts]
    subjects: dict[str, str]
    ascii: bool
    live: bool
    loaded: bool
    paused: bool
    user: str
    identity_note: str

    def now(self) -> datetime: ...
    def next_generation(self) -> int: ...
    def load(self, target: MessagePump, what: str, generation: int, fn: Callable[[], Any]) -> None: ...
    def set_notice(self, text: str, *, error: bool = False) -> None: ...
    def status_line(self, extra: str = "") -> tuple[str, str]: ...
    def refresh_status(self) -> None: ...
    def open_app(self, name: str) -> None: ...
    def open_changes(self, app: str | None) -> None: ...
    def open_runbook(self, runbook: str | None = None, app_name: str | None = None) -> None: ...
    def run_command_line(self, line: str) -> None: ...
    def run_refresh(self, apps: list[str] | None = None) -> None: ...
    def run_worker(self, work: Any, *args: Any, **kwargs: Any) -> Any: ...
