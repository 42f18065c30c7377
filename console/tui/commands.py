"""The console's one command registry: the `:` command line and the command palette both list
and run exactly these (k9s/argonaut `:` mode; Textual's palette with trueup's commands).

A command is read-only unless it says otherwise. The actions (`sync`, `break_glass_sync`,
`rollback`, `terminate`, `suspend_autosync`, `resume_autosync`, `restart`, `delete`) have
`mutates=True` and all go to `Console.start_action(id, app)`, which checks write mode and RBAC
and opens the action's modal; nothing mutates without it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider

from widgets.safe_text import visible


class Console(Protocol):
    """What commands may ask of the console app."""

    def open_app(self, name: str) -> None: ...
    def filter_project(self, name: str) -> None: ...
    def open_changes(self, app: str | None) -> None: ...
    def open_runbook(self, runbook: str | None = None, app_name: str | None = None) -> None: ...
    def runbook_names(self, *, aliases: bool = False) -> list[str]: ...
    def go_home(self) -> None: ...
    def run_refresh(self, apps: list[str] | None = None, *, hard: bool = False) -> None: ...
    def use_theme(self, name: str) -> None: ...
    def set_filter_text(self, text: str) -> None: ...
    def toggle_pause(self) -> None: ...
    def show_help(self) -> None: ...
    def quit_console(self) -> None: ...
    def app_names(self) -> list[str]: ...
    def project_names(self) -> list[str]: ...
    def theme_names(self) -> list[str]: ...
    def start_action(self, action: str, app_name: str, **prefill: Any) -> bool: ...
    def toggle_write(self) -> None: ...
    def open_audit(self, app: str | None = None) -> None: ...
    def show_command_log(self) -> None: ...


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[Console, list[str]], None]
    usage: str = ""
    aliases: tuple[str, ...] = ()
    arg: str = ""  # "app" | "project" | "theme" | "runbook" | "": what the argument names (palette)
    arg_required: bool = False
    mutates: bool = False
    examples: tuple[str, ...] = field(default_factory=tuple)

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class CommandError(Exception):
    """A command line that cannot run; the message is one sentence for the status bar."""


def _one(c: Console, args: list[str], what: str, known: list[str]) -> str:
    if len(args) != 1:
        raise CommandError(f"give one {what} name")
    if args[0] not in known:
        raise CommandError(f"no {what} named {visible(args[0])!r}")
    return args[0]


def _app(c: Console, args: list[str]) -> None:
    c.open_app(_one(c, args, "application", c.app_names()))


def _project(c: Console, args: list[str]) -> None:
    c.filter_project(_one(c, args, "project", c.project_names()))


def _changes(c: Console, args: list[str]) -> None:
    if len(args) > 1:
        raise CommandError("give at most one application name")
    c.open_changes(_one(c, args, "application", c.app_names()) if args else None)


def _runbook(c: Console, args: list[str]) -> None:
    if len(args) > 2:
        raise CommandError("usage: :runbook [NAME] [APP]")
    if args and args[0] not in c.runbook_names(aliases=True):
        # a lone application name walks the runbook that fits it
        if len(args) == 1 and args[0] in c.app_names():
            c.open_runbook(None, args[0])
            return
        raise CommandError(
            f"no runbook named {visible(args[0])!r} (runbooks: {', '.join(c.runbook_names())})"
        )
    if len(args) == 2 and args[1] not in c.app_names():
        raise CommandError(f"no application named {visible(args[1])!r}")
    c.open_runbook(args[0] if args else None, args[1] if len(args) == 2 else None)


def _refresh(c: Console, args: list[str]) -> None:
    unknown = [a for a in args if a not in c.app_names()]
    if unknown:
        raise CommandError(f"no application named {visible(unknown[0])!r}")
    c.run_refresh(args or None)


def _hard_refresh(c: Console, args: list[str]) -> None:
    unknown = [a for a in args if a not in c.app_names()]
    if unknown:
        raise CommandError(f"no application named {visible(unknown[0])!r}")
    c.run_refresh(args or None, hard=True)


def _action(action: str) -> Callable[[Console, list[str]], None]:
    def run(c: Console, args: list[str]) -> None:
        app = _one(c, args[:1], "application", c.app_names())
        prefill: dict[str, Any] = {}
        if action == "rollback" and len(args) > 1:
            if not args[1].isdigit():
                raise CommandError(f"history id must be a number (got {visible(args[1])!r})")
            prefill["history_id"] = int(args[1])
        elif len(args) > 1:
            raise CommandError(f"usage: :{action} APP")
        c.start_action(action, app, **prefill)

    return run


def _audit(c: Console, args: list[str]) -> None:
    if len(args) > 1:
        raise CommandError("give at most one application name")
    c.open_audit(args[0] if args else None)


def _theme(c: Console, args: list[str]) -> None:
    c.use_theme(_one(c, args, "theme", c.theme_names()))


def _filter(c: Console, args: list[str]) -> None:
    c.set_filter_text(" ".join(shlex.quote(a) if " " in a else a for a in args))


REGISTRY: list[Command] = [
    Command("app", "open an application", _app, "NAME", ("a", "application"), "app", True),
    Command("project", "show one project's applications", _project, "NAME", ("proj", "p"), "project", True),
    Command(
        "apps", "back to the application list", lambda c, a: c.go_home(), aliases=("applications", "home")
    ),
    Command(
        "changes", "change timeline (fleet, or one application)", _changes, "[APP]", ("ch", "timeline"), "app"
    ),
    Command(
        "runbook",
        "walk a runbook for the application in view (default: the one that fits), with live evidence",
        _runbook,
        "[NAME] [APP]",
        ("rb",),
        "runbook",
    ),
    Command("filter", "filter the application list (as `/`)", _filter, "EXPR", ("f",)),
    Command(
        "refresh", "compare applications with Git and the clusters now", _refresh, "[APP...]", ("r",), "app"
    ),
    Command(
        "hard_refresh",
        "refresh, regenerating manifests",
        _hard_refresh,
        "[APP...]",
        ("refresh!", "hard-refresh"),
        "app",
    ),
    Command(
        "sync",
        "sync an application: preview, options, confirm",
        _action("sync"),
        "APP",
        (),
        "app",
        True,
        True,
    ),
    Command(
        "break_glass_sync",
        "sync through a deny window / auto-sync (typed name + reason)",
        _action("break_glass_sync"),
        "APP",
        ("sync!", "break-glass-sync"),
        "app",
        True,
        True,
    ),
    Command(
        "rollback", "roll back to a deployed revision", _action("rollback"), "APP [ID]", (), "app", True, True
    ),
    Command(
        "terminate",
        "terminate the running operation (break-glass)",
        _action("terminate"),
        "APP",
        ("terminate-op",),
        "app",
        True,
        True,
    ),
    Command(
        "suspend_autosync",
        "suspend auto-sync for a while (break-glass)",
        _action("suspend_autosync"),
        "APP",
        ("suspend",),
        "app",
        True,
        True,
    ),
    Command(
        "resume_autosync",
        "lift an auto-sync suspension",
        _action("resume_autosync"),
        "APP",
        ("resume",),
        "app",
        True,
        True,
    ),
    Command(
        "restart",
        "restart a Deployment of the app (resource action)",
        _action("restart"),
        "APP",
        (),
        "app",
        True,
        True,
    ),
    Command(
        "delete",
        "delete an application (cascade choice, typed name)",
        _action("delete"),
        "APP",
        (),
        "app",
        True,
        True,
    ),
    Command("write", "switch write mode on or off (audited)", lambda c, a: c.toggle_write(), aliases=("w",)),
    Command("audit", "the audit chain (filter, verify, export a report)", _audit, "[APP]", (), "app"),
    Command(
        "log", "the commands this console ran", lambda c, a: c.show_command_log(), aliases=("cmdlog", "@")
    ),
    Command("theme", "switch colours", _theme, "NAME", (), "theme", True),
    Command("pause", "pause or resume live updates", lambda c, a: c.toggle_pause()),
    Command("help", "keys and commands of this screen", lambda c, a: c.show_help(), aliases=("h", "?")),
    Command("q", "quit the console", lambda c, a: c.quit_console(), aliases=("quit", "q!", "exit")),
]
BY_WORD = {w: c for c in REGISTRY for w in c.words}


def parse(line: str) -> tuple[Command, list[str]]:
    """`:app payments-api` -> (the app command, ["payments-api"]); CommandError otherwise."""
    text = line.strip().lstrip(":").strip()
    if not text:
        raise CommandError("type a command, e.g. :app NAME (see :help)")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot read the command line: {exc}") from None
    cmd = BY_WORD.get(words[0].lower())
    if cmd is None:
        known = ", ".join(f":{c.name}" for c in REGISTRY)
        raise CommandError(f"unknown command :{visible(words[0])} (commands: {known})")
    args = words[1:]
    if cmd.arg_required and not args:
        raise CommandError(f"usage: :{cmd.name} {cmd.usage}")
    return cmd, args


def run(console: Console, line: str) -> Command:
    cmd, args = parse(line)
    cmd.run(console, args)
    return cmd


def arguments(console: Console, cmd: Command) -> list[str]:
    if cmd.arg == "app":
        return console.app_names()
    if cmd.arg == "project":
        return console.project_names()
    if cmd.arg == "theme":
        return console.theme_names()
    if cmd.arg == "runbook":
        return console.runbook_names()
    return []


def entries(console: Console) -> Iterable[tuple[str, str, str]]:
    """(title, command line, help) for the palette: each command, and each with its arguments."""
    for cmd in REGISTRY:
        if not cmd.arg_required and cmd.name != "filter":
            yield f":{cmd.name}", cmd.name, cmd.help
        for value in arguments(console, cmd):
            yield f":{cmd.name} {visible(value)}", f"{cmd.name} {shlex.quote(value)}", cmd.help


def completions(console: Console) -> list[str]:
    """Every complete command line, for the `:` line's suggester."""
    return [line for _, line, _ in entries(console)]


class TrueupCommands(Provider):
    """The palette shows trueup's commands (the same registry as `:`)."""

    def _console(self) -> Console:
        return self.app  # type: ignore[return-value]

    def _runner(self, line: str) -> Callable[[], None]:
        return partial(self.app.run_command_line, line)  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for title, line, help_text in entries(self._console()):
            if " " not in line:
                yield DiscoveryHit(title, self._runner(line), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query.lstrip(":"))
        for title, line, help_text in entries(self._console()):
            score = matcher.match(title.lstrip(":"))
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._runner(line), help=help_text)
