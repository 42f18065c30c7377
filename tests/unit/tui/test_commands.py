"""The one command registry behind `:` and the palette."""

from __future__ import annotations

import pytest

from console.tui import commands


class FakeConsole:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def open_app(self, name: str) -> None:
        self.calls.append(("open_app", name))

    def filter_project(self, name: str) -> None:
        self.calls.append(("filter_project", name))

    def open_changes(self, app: str | None) -> None:
        self.calls.append(("open_changes", app))

    def go_home(self) -> None:
        self.calls.append(("go_home", None))

    def run_refresh(self, apps: list[str] | None = None) -> None:
        self.calls.append(("run_refresh", apps))

    def use_theme(self, name: str) -> None:
        self.calls.append(("use_theme", name))

    def set_filter_text(self, text: str) -> None:
        self.calls.append(("set_filter_text", text))

    def toggle_pause(self) -> None:
        self.calls.append(("toggle_pause", None))

    def show_help(self) -> None:
        self.calls.append(("show_help", None))

    def quit_console(self) -> None:
        self.calls.append(("quit", None))

    def app_names(self) -> list[str]:
        return ["web", "api"]

    def project_names(self) -> list[str]:
        return ["payments"]

    def theme_names(self) -> list[str]:
        return ["dark", "light"]

    def open_runbook(self, runbook: str | None = None, app_name: str | None = None) -> None:
        self.calls.append(("open_runbook", (runbook, app_name)))

    def runbook_names(self, *, aliases: bool = False) -> list[str]:
        return ["out-of-sync", "freeze-change"] + (["outofsync"] if aliases else [])


@pytest.mark.parametrize(
    ("line", "call"),
    [
        (":app web", ("open_app", "web")),
        ("a api", ("open_app", "api")),
        (":project payments", ("filter_project", "payments")),
        (":changes", ("open_changes", None)),
        (":changes web", ("open_changes", "web")),
        (":refresh", ("run_refresh", None)),
        (":refresh web api", ("run_refresh", ["web", "api"])),
        (":theme light", ("use_theme", "light")),
        (":filter health:Degraded sync:OutOfSync", ("set_filter_text", "health:Degraded sync:OutOfSync")),
        (":pause", ("toggle_pause", None)),
        (":runbook", ("open_runbook", (None, None))),
        (":runbook out-of-sync", ("open_runbook", ("out-of-sync", None))),
        (":rb outofsync api", ("open_runbook", ("outofsync", "api"))),
        (":runbook web", ("open_runbook", (None, "web"))),
        (":q", ("quit", None)),
        (":QUIT", ("quit", None)),
    ],
)
def test_command_lines(line: str, call: tuple[str, object]) -> None:
    c = FakeConsole()
    commands.run(c, line)  # type: ignore[arg-type]
    assert c.calls == [call]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (":", "type a command"),
        (":nope", "unknown command :nope"),
        (":app", "usage: :app NAME"),
        (":app nope", "no application named 'nope'"),
        (":theme \x1b[31m", "no theme named '\\\\x1b[31m'"),
        (":app 'unclosed", "cannot read the command line"),
        (":runbook nope", "no runbook named 'nope' (runbooks: out-of-sync, freeze-change)"),
        (":runbook out-of-sync nope", "no application named 'nope'"),
        (":runbook out-of-sync web api", "usage: :runbook [NAME] [APP]"),
    ],
)
def test_bad_command_lines_are_one_sentence(line: str, message: str) -> None:
    with pytest.raises(commands.CommandError) as err:
        commands.run(FakeConsole(), line)  # type: ignore[arg-type]
    assert message in str(err.value)
    assert "\x1b" not in str(err.value)


def test_palette_entries_are_the_registry() -> None:
    entries = list(commands.entries(FakeConsole()))  # type: ignore[arg-type]
    lines = [line for _title, line, _help in entries]
    assert "app web" in lines and "theme light" in lines and "changes" in lines and "changes api" in lines
    assert "runbook" in lines and "runbook out-of-sync" in lines and "runbook outofsync" not in lines
    assert {line.split()[0] for line in lines} == {c.name for c in commands.REGISTRY if c.name != "filter"}
    from console.tui.actions import MUTATING

    assert {c.name for c in commands.REGISTRY if c.mutates} == set(MUTATING)  # the actions, and only them


class ActingConsole(FakeConsole):
    def start_action(self, action: str, app_name: str, **prefill: object) -> bool:
        self.calls.append(("start_action", (action, app_name, prefill)))
        return True

    def run_refresh(self, apps: list[str] | None = None, *, hard: bool = False) -> None:
        self.calls.append(("run_refresh", (apps, hard)))


def test_action_commands_go_through_start_action() -> None:
    c = ActingConsole()
    for line, want in [
        ("sync web", ("sync", "web", {})),
        ("sync! web", ("break_glass_sync", "web", {})),
        ("rollback web 3", ("rollback", "web", {"history_id": 3})),
        ("terminate web", ("terminate", "web", {})),
        ("suspend web", ("suspend_autosync", "web", {})),
        ("resume_autosync web", ("resume_autosync", "web", {})),
        ("restart web", ("restart", "web", {})),
        ("delete web", ("delete", "web", {})),
    ]:
        commands.run(c, line)  # type: ignore[arg-type]
        assert c.calls[-1] == ("start_action", want)
    commands.run(c, "refresh! web")  # type: ignore[arg-type]
    assert c.calls[-1] == ("run_refresh", (["web"], True))
    for bad in ("sync nope", "rollback web x", "delete", "sync web extra"):
        with pytest.raises(commands.CommandError):
            commands.run(c, bad)  # type: ignore[arg-type]
