"""The operations console (`trueup console`, `trueup demo`): read-only, live, keyboard-first.

Structure (Harlequin/Posting style): this module is the App (workspace, live feed, themes,
keymap, the command registry's actions); screens/ hold the views, modals/ the dialogs,
commands.py the one registry behind `:` and the palette, live.py the feed and the embedded
controller, messages.py what workers post. Every read runs in a thread worker; the UI thread only
applies results, so it never blocks on a cluster.

Read-only by default: the mutating actions (console.tui.actions.MUTATING: sync, rollback,
terminate, auto-sync, restart, delete) are greyed until write mode is switched on (`w` or
`--write`, itself an audit record), and greyed when RBAC denies them, with the missing permission
in the tooltip. Each runs through an ActionModal and the same engine call as the CLI, in a worker;
`start_action(action_id, app_name, **prefill)` is the entry point for any screen (runbooks).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message_pump import MessagePump
from textual.screen import Screen

import themes
from console.cluster.api import ClusterError
from console.engine import fleet
from console.engine.compare import cluster_time
from console.engine.gate.attempt import Gate
from console.engine.gate.identity import resolve as resolve_identity
from console.engine.gate.policy import PolicyUnavailable
from console.engine.governance.identity import Identity
from console.engine.governance.rbac import PolicyError
from console.engine.refresh import refresh
from console.engine.workspace import Workspace, current_user, load
from console.tui import actions as acts
from console.tui import commands
from console.tui.gcpause import gc_paused
from console.tui.live import FLUSH_SECONDS, EmbeddedController, FleetFeed
from console.tui.messages import (
    ActionFinished,
    ActionPlanned,
    ActionProgress,
    FeedStatus,
    FleetChanged,
    FleetLoaded,
    Loaded,
    Notice,
    WriteModeRecorded,
)

Obj = dict[str, Any]
CSS_FILE = Path(__file__).with_name("app.tcss")
MUTATING_ACTIONS: frozenset[str] = acts.MUTATING


@dataclass
class LogEntry:
    """One line of the command log: what this console ran in this session."""

    at: datetime
    view: str
    command: str
    outcome: str = "running"
    audit: str = ""
    message: str = ""


class TrueupApp(App[int]):
    """Read-only by default: nothing here mutates a cluster."""

    TITLE = "trueup"
    COMMANDS: ClassVar[set[Any]] = {commands.TrueupCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="help", tooltip="Keys and commands of this screen"),
        Binding(
            "colon",
            "command_line",
            "Command",
            id="command",
            tooltip="Type a command (:app NAME, :changes, :q)",
        ),
        Binding(
            "p",
            "toggle_pause",
            "Pause",
            id="pause",
            tooltip="Freeze the view while reading (updates queue up)",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            id="refresh",
            tooltip="Compare every application with Git and the clusters now",
        ),
        Binding(
            "w",
            "toggle_write",
            "Write mode",
            id="write",
            tooltip="Switch write mode on or off (audited); read-only greys every mutation",
        ),
        Binding(
            "at",
            "command_log",
            "Command log",
            show=False,
            id="command-log",
            tooltip="What this console ran in this session, as trueup commands",
        ),
        Binding(
            "A", "audit", "Audit", show=False, id="audit", tooltip="The audit chain: filter, verify, export"
        ),
        Binding(
            "ctrl+s",
            "save_screenshot",
            "Screenshot",
            show=False,
            id="screenshot",
            tooltip="Save an SVG of this screen in .trueup/screenshots",
        ),
        Binding("q", "quit_console", "Quit", id="quit", tooltip="Leave the console"),
    ]

    def __init__(
        self,
        ws: Workspace,
        *,
        embedded_controller: bool = False,
        live: bool = True,
        theme: str | None = None,
        no_color: bool = False,
        ascii: bool | None = None,
        poll_seconds: float | None = None,
        clock: Callable[[], datetime] | None = None,
        identity: Identity | None = None,
        write: bool = False,
        **kw: Any,
    ) -> None:
        """`live=False`: load once, no watch (snapshots); `poll_seconds` is the old name for it
        (0 = not live). `clock`: the "now" ages are measured against (default: the control
        cluster's clock, read once a second)."""
        name = theme or ws.console.theme or themes.DEFAULT
        bad_theme = name not in themes.BASES
        if bad_theme:
            name = themes.DEFAULT
        self.theme_file = themes.path(name)
        previous = os.environ.get("NO_COLOR")
        if no_color:  # Textual reads NO_COLOR once, when the App is made
            os.environ["NO_COLOR"] = "1"
        try:
            super().__init__(css_path=[CSS_FILE, self.theme_file], **kw)
        finally:
            if no_color and previous is None:
                del os.environ["NO_COLOR"]
        self.register_theme(themes.high_contrast())
        self.theme_name = name
        self.theme = themes.BASES[name]
        self.ws = ws
        self.worker_ws = load(ws.root)  # the workspace UI workers read through (own connections)
        self._clock_ws = load(ws.root)
        self.ascii = bool(ws.console.ascii if ascii is None else ascii)
        self.live = live if poll_seconds is None else poll_seconds > 0
        self._clock = clock
        self._now = self._read_clock()
        self.read_only = True
        self.controller = EmbeddedController(ws.root) if embedded_controller else None
        self.feed = FleetFeed(ws.root, self.post_message, watch=self.live)
        self.feed.admit = self._may_see
        self.fleet: dict[str, Obj] = {}
        self.projects: dict[str, Obj] = {}
        self.facts: dict[str, fleet.AppFacts] = {}
        self.windows = fleet.WindowIndex({})
        self.servers = {c.server: c.name for c in ws.clusters.values()}
        self.subjects: dict[str, str] = {}
        self.paused = False
        self.loaded = False
        self.notice = (
            f"unknown theme {ws.console.theme!r} in trueup.yaml console.theme (themes: {', '.join(themes.names())})"
            if bad_theme
            else ""
        )
        self.notice_error = bad_theme
        self.feed_error = ""
        self.retry_in = 0.0
        self.identity: Identity | None = identity
        self.gate: Gate | None = None
        self.user = current_user()
        self.identity_note = "identity pending"
        self.incident = ""  # the incident reference runbook walk-throughs are recorded under
        self._resolve_identity()
        self._generation = 0
        self.write_on_start = write
        self.command_log: list[LogEntry] = []
        self._log_of: dict[int, LogEntry] = {}

    # ------------------------------------------------------------------ lifecycle

    def get_default_screen(self) -> Screen[Any]:
        from console.tui.screens.applications import ApplicationsScreen

        return ApplicationsScreen()

    def on_mount(self) -> None:
        if self.ws.console.keymap:
            self.set_keymap(self.ws.console.keymap)
        if self.controller is not None:
            self.controller.start()
        self._run_feed()
        if self.write_on_start:
            self.toggle_write()
        self.set_interval(FLUSH_SECONDS, self.flush)
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        self.feed.stop()
        if self.controller is not None:
            self.controller.stop()

    @work(thread=True, group="feed", exit_on_error=False, description="watching applications")
    def _run_feed(self) -> None:
        self.feed.run()

    # ------------------------------------------------------------------ clock and status

    def _read_clock(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        try:
            return cluster_time(self._clock_ws.control())
        except Exception:  # noqa: BLE001 - an unreadable control cluster shows up in the feed
            return datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def _tick(self) -> None:
        self._now = self._read_clock()
        if self.controller is not None and self.controller.error and self.notice != self.controller.error:
            self.set_notice(self.controller.error, error=True)
        self.refresh_status()

    def data_age(self) -> float | None:
        last = self.feed.last_contact
        return None if last is None else max(0.0, time.monotonic() - last)

    def status_line(self, extra: str = "") -> tuple[str, str]:
        """(text, css class) of the status bar: errors and the last notice first, then the
        screen's own part (`extra`), then context, counts and liveness."""
        parts = []
        age = self.data_age()
        cls = ""
        if self.feed_error:
            parts.append(f"⚠ control cluster unreachable: {self.feed_error}")
            parts.append(
                (f"data {int(age)}s old, " if age is not None else "no data yet, ")
                + f"retrying{f' in {self.retry_in:.0f}s' if self.retry_in else ''}"
            )
            cls = "-error"
        if self.notice:
            parts.append(self.notice)
            if self.notice_error:
                cls = "-error"
        if extra:
            parts.append(extra)
        parts.append(f"ctx {self.ws.control_cluster}")
        if not self.loaded:
            parts.append("loading applications…")
        else:
            problems = sum(1 for f in self.facts.values() if f.problem)
            parts.append(f"{len(self.facts)} apps, {problems} need attention")
        if self.paused:
            parts.append(f"PAUSED ({self.feed.waiting} updates waiting; p resumes)")
        elif self.live:
            parts.append("live")
        if self.feed_error:
            pass
        elif age is not None and self.live:
            if age > 15:
                parts.append(f"stale: updated {int(age)}s ago")
                cls = "-stale"
            else:
                parts.append(f"updated {int(age)}s ago")
        return " · ".join(parts), cls

    def set_notice(self, text: str, *, error: bool = False) -> None:
        self.notice_serial = getattr(self, "notice_serial", 0) + 1
        self.notice = " ".join(text.split())
        self.notice_error = error
        self.refresh_status()

    def refresh_status(self) -> None:
        for screen in self.screen_stack:
            fn = getattr(screen, "refresh_status", None)
            if callable(fn):
                fn()

    # ------------------------------------------------------------------ fleet data

    def _facts_of(self, app: Obj) -> fleet.AppFacts:
        return fleet.facts(app, cluster_by_server=self.servers, windows_index=self.windows, now=self._now)

    def _resolve_identity(self) -> None:
        """Who the console acts as. On a real control cluster that is a SelfSubjectReview; while
        the cluster is unreachable the identity stays pending and nothing is shown (deny by
        default), and the first load that reaches the cluster resolves it."""
        if self.identity is None:
            try:
                self.identity = resolve_identity(self.ws)
            except ClusterError:
                return
        self.gate = Gate(self.ws, self.identity)
        self.user = self.identity.user
        self.identity_note = "verified" if self.identity.verified else "unverified"
        if self.identity.impersonated_by:
            self.identity_note += f", as, by {self.identity.impersonated_by}"

    def _may_see(self, app: Obj) -> bool:
        """RBAC `applications, get` (deny by default: an unreadable policy shows nothing)."""
        if self.gate is None:
            self._resolve_identity()
            if self.gate is None:
                return False
        try:
            return bool(self.gate.can_get_app(app))
        except (PolicyUnavailable, PolicyError) as exc:
            self.notice, self.notice_error = f"RBAC policy unavailable: {exc}", True
            return False

    def on_fleet_loaded(self, message: FleetLoaded) -> None:
        with gc_paused():
            self._fleet_loaded(message)

    def _fleet_loaded(self, message: FleetLoaded) -> None:
        self.projects = {p["metadata"]["name"]: p for p in message.projects}
        self.windows = fleet.WindowIndex(self.projects)
        self.fleet = {a["metadata"]["name"]: a for a in message.apps}  # the feed admitted them
        self.facts = {n: self._facts_of(a) for n, a in self.fleet.items()}
        self.loaded = True
        self._notify("fleet_loaded", None)
        self._load_subjects()
        self._warm_search()
        self.refresh_status()

    def on_feed_status(self, message: FeedStatus) -> None:
        self.feed_error = message.error
        self.retry_in = message.retry_in
        self.refresh_status()

    def on_notice(self, message: Notice) -> None:
        self.set_notice(message.text, error=message.error)

    def flush(self) -> None:
        """At most every 500 ms: apply what the watch saw since the last flush (not while paused)."""
        if self.paused or not self.loaded:
            return
        changed = self.feed.drain()
        if changed:
            self.apply_changes(changed)

    def apply_changes(self, changed: dict[str, Obj | None]) -> None:
        with gc_paused():
            self._apply_changes(changed)

    def _apply_changes(self, changed: dict[str, Obj | None]) -> None:
        for name, obj in changed.items():
            if obj is None:
                self.fleet.pop(name, None)
                self.facts.pop(name, None)
            else:
                self.fleet[name] = obj
                self.facts[name] = self._facts_of(obj)
        self._notify("fleet_changed", changed)
        self.post_message(FleetChanged(changed))
        if any(obj is not None and self._sha(obj) not in self.subjects for obj in changed.values()):
            self._load_subjects()

    def _notify(self, hook: str, arg: Any) -> None:
        for screen in self.screen_stack:
            fn = getattr(screen, hook, None)
            if callable(fn):
                fn() if arg is None else fn(arg)

    @staticmethod
    def _sha(app: Obj) -> str:
        sync = (app.get("status") or {}).get("sync") or {}
        return str(sync.get("revision") or "")

    @work(thread=True, group="warm", exclusive=True, exit_on_error=False)
    def _warm_search(self) -> None:
        """Fill the filter's search-text cache off the UI thread: the first `/` keystroke on a
        fleet of thousands must not pay for it."""
        from console.engine.fleetfilter import search_text

        for f in list(self.facts.values()):
            search_text(f)

    @work(thread=True, group="subjects", exclusive=True, exit_on_error=False)
    def _load_subjects(self) -> None:
        """Commit subjects for the REV/COMMIT column (once per SHA; commits never change)."""
        from console.engine import repos
        from console.engine.sources import RepoError

        gitc = repos.git_cache(self.worker_ws)
        found: dict[str, str] = {}
        for f in list(self.facts.values()):
            for sha in (f.revision, f.synced_revision):
                if not sha or sha in self.subjects or sha in found or not f.repo:
                    continue
                try:
                    found[sha] = gitc.commit_info(f.repo, sha).subject
                except (RepoError, OSError, ValueError):
                    found[sha] = ""
        if found:
            self.call_from_thread(self._subjects_loaded, found)

    def _subjects_loaded(self, found: dict[str, str]) -> None:
        self.subjects.update(found)
        self._notify("subjects_loaded", None)

    # ------------------------------------------------------------------ workers for screens

    def next_generation(self) -> int:
        self._generation += 1
        return self._generation

    def load(self, target: MessagePump, what: str, generation: int, fn: Callable[[], Any]) -> None:
        """Run fn in a thread; post Loaded(what, generation, value | error) to target. A failure
        is one line for the view, never a traceback."""

        def job() -> None:
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - shown in the view
                text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                target.post_message(Loaded(what, generation, None, " ".join(str(text).split())[:500]))
                return
            target.post_message(Loaded(what, generation, value))

        self.run_worker(
            job, thread=True, group=f"load-{what}", exit_on_error=False, description=f"loading {what}"
        )

    # ------------------------------------------------------------------ the registry's actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MUTATING_ACTIONS and self.read_only:
            return None  # shown greyed out: read-only console
        return True

    # ------------------------------------------------------------------ write mode

    def toggle_write(self) -> None:
        """On: only once the audit record is written (no record, no write mode). Off: at once."""
        if self.gate is None:
            self.set_notice(
                "write mode needs the identity: the control cluster has not answered yet", error=True
            )
            return
        turning_on = self.read_only
        if not turning_on:
            self.read_only = True
            self._mode_changed()
        self._record_write(turning_on)

    @work(thread=True, group="write-mode", exit_on_error=False, description="auditing the write-mode switch")
    def _record_write(self, on: bool) -> None:
        from console.engine.gate import actions as engine_actions

        assert self.identity is not None
        gate = Gate(load(self.ws.root), self.identity)
        gate.warnings.clear()
        word = "on" if on else "off"
        seq = engine_actions.record_session(
            gate, "console-write-mode", f"console write mode {word}", {"writeMode": word}
        )
        self.post_message(WriteModeRecorded(on, seq, "; ".join(gate.warnings)))

    def on_write_mode_recorded(self, message: WriteModeRecorded) -> None:
        if message.seq is None:
            if message.on:
                self.set_notice(
                    f"write mode stays off: {message.warning or 'the audit record could not be written'}",
                    error=True,
                )
            return
        if message.on:
            self.read_only = False
            self.set_notice(
                f"WRITE MODE on (audit record {message.seq}): actions ask before they run; w switches it off"
            )
        else:
            self.set_notice(f"read-only again (audit record {message.seq})")
        self._log_command(
            LogEntry(self._now, self._view(), acts_command("write_mode"), "succeeded", str(message.seq))
        )
        self._mode_changed()

    def _mode_changed(self) -> None:
        for screen in self.screen_stack:
            fn = getattr(screen, "refresh_crumbs", None)
            if callable(fn) and screen.is_mounted:
                fn()
        self.refresh_bindings()
        self.screen.refresh_bindings()

    # ------------------------------------------------------------------ actions

    def autosync_action(self, app_name: str) -> str:
        from console.engine.governance import breakglass

        obj = self.fleet.get(app_name) or {}
        s = breakglass.suspension_of(obj)
        return acts.RESUME if s is not None and not s.expired(self._now) else acts.SUSPEND

    def action_state(self, action: str, app_name: str | None) -> tuple[bool | None, str]:
        """(check_action answer, why it is greyed): read-only, no identity, RBAC."""
        if action not in MUTATING_ACTIONS:
            return (True, "") if app_name or action in (acts.REFRESH,) else (None, "select an application")
        if self.read_only:
            return None, "read-only (w switches write mode on)"
        if app_name is None or app_name not in self.fleet:
            return None, "select an application"
        if self.gate is None:
            return None, "identity pending (control cluster unreachable)"
        from console.engine.gate.attempt import PERMISSIONS, app_rbac_object
        from console.engine.governance import rbac

        perm = (
            "action/apps/Deployment/restart"
            if action == acts.RESTART
            else PERMISSIONS[acts.GATE_ACTION[action]]
        )
        obj = app_rbac_object(self.fleet[app_name])
        try:
            allowed = self.gate.can(rbac.RES_APPLICATIONS, perm, obj)
        except (PolicyUnavailable, PolicyError) as exc:
            return None, f"RBAC policy unavailable: {exc}"
        if not allowed:
            return None, f"{self.user} lacks permission: applications, {perm}, {obj}"
        return True, ""

    def _view(self) -> str:
        screen = self.screen
        crumbs = getattr(screen, "crumbs", None)
        return " › ".join(crumbs()[1:]) if callable(crumbs) else type(screen).__name__

    def start_action(self, action: str, app_name: str, **prefill: Any) -> bool:
        """Open the flow of `action` (a command registry id) on `app_name`: refresh runs at
        once; every other action opens its modal (preview, options, break-glass, confirm).
        False (with the reason in the status bar) when it is unavailable here."""
        from console.tui.modals.action import ActionModal

        if action in (acts.REFRESH, acts.HARD_REFRESH):
            self.run_refresh([app_name] if app_name else None, hard=action == acts.HARD_REFRESH)
            return True
        if action == "autosync":
            action = self.autosync_action(app_name)
        if action not in MUTATING_ACTIONS:
            self.set_notice(f"unknown action {action!r}", error=True)
            return False
        state, why = self.action_state(action, app_name)
        if state is not True:
            self.set_notice(f"{action.replace('_', ' ')} {app_name}: unavailable: {why}", error=True)
            return False
        self.push_screen(ActionModal(action, app_name, prefill, view=self._view()))
        return True

    def plan_action(self, modal: Any) -> None:
        identity = self.identity
        subjects = dict(self.subjects)
        now = self._now
        root = self.ws.root

        def job() -> None:
            try:
                assert identity is not None
                ws = load(root)
                gate = Gate(ws, identity)
                plan = acts.build_plan(
                    ws, gate, modal.action, modal.app_name, subjects=subjects, now=now, prefill=modal.prefill
                )
            except Exception as exc:  # noqa: BLE001 - shown in the modal
                text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                self.post_message(ActionPlanned(modal, None, " ".join(str(text).split())[:300]))
                return
            self.post_message(ActionPlanned(modal, plan))

        self.run_worker(
            job, thread=True, group="action-plan", exit_on_error=False, description="planning an action"
        )

    def on_action_planned(self, message: ActionPlanned) -> None:
        if message.modal.is_attached:
            message.modal.plan_loaded(message.plan, message.error)

    def execute_action(self, modal: Any, values: dict[str, Any]) -> None:
        """The mutation, once, in a worker (never retried); results go back to `modal` (the view
        that asked), the command log, and the application's own screens."""
        plan = modal.plan
        identity = self.identity
        root = self.ws.root
        entry = LogEntry(self._now, modal.view, modal.command(values))
        self._log_command(entry)
        self._log_of[id(modal)] = entry

        def job() -> None:
            try:
                assert identity is not None
                ws = load(root)
                gate = Gate(ws, identity)
                gate.warnings.clear()
                result = acts.execute(
                    ws, gate, plan, values, lambda obj: self.post_message(ActionProgress(modal, obj))
                )
            except Exception as exc:  # noqa: BLE001 - shown in the modal; the gate audited what ran
                text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                self.post_message(ActionFinished(modal, values, None, " ".join(str(text).split())[:300]))
                return
            self.post_message(ActionFinished(modal, values, result))

        self.run_worker(
            job,
            thread=True,
            group=f"action-{plan.app}",
            exit_on_error=False,
            description=f"{plan.action} {plan.app}",
        )

    def on_action_progress(self, message: ActionProgress) -> None:
        obj = message.obj
        name = str((obj.get("metadata") or {}).get("name") or "")
        if name and name in self.fleet and not self.paused:
            self.apply_changes({name: obj})
        state = (obj.get("status") or {}).get("operationState") or {}
        if message.modal.is_attached:
            message.modal.progress(
                f"{state.get('phase', '')}: {' '.join(str(state.get('message') or '').split())}"
            )

    def on_action_finished(self, message: ActionFinished) -> None:
        modal, result = message.modal, message.result
        entry = self._log_of.pop(id(modal), None)
        tag = f"[{modal.view}] {modal.action.replace('_', ' ')} {modal.app_name}"
        if result is not None:
            seqs = " → ".join(str(s) for s in (result.audit_seq, result.result_seq) if s is not None)
            if entry is not None:
                entry.outcome, entry.audit, entry.message = result.outcome, seqs, result.message
            text = f"{tag}: {result.outcome}: {result.message}" + (f" (audit {seqs})" if seqs else "")
            self.set_notice(text, error=not result.ok)
        else:
            if entry is not None:
                entry.outcome, entry.message = "error", message.error
            self.set_notice(f"{tag}: error: {message.error}", error=True)
        if modal.is_attached:
            modal.finished(result, message.error)
        else:
            modal.result, modal.error, modal.state = result, message.error, "done"
        self._reload_app(modal.app_name)
        self.refresh_bindings()

    def _reload_app(self, name: str) -> None:
        """The app as it is now (the watch brings it too; this makes it prompt when not live)."""
        root = self.ws.root

        def job() -> None:
            from console.cluster.api import NotFound
            from console.engine.appstore import AppStore

            try:
                obj: Obj | None = AppStore(load(root).control()).get_app(name)
            except NotFound:
                obj = None
            except Exception:  # noqa: BLE001 - the feed catches up
                return
            self.call_from_thread(self.apply_changes, {name: obj})

        self.run_worker(job, thread=True, group="reload", exit_on_error=False, description="reloading an app")

    def _log_command(self, entry: LogEntry) -> None:
        self.command_log.append(entry)
        del self.command_log[:-500]

    def show_command_log(self) -> None:
        from console.tui.modals.command_log import CommandLogScreen

        if not isinstance(self.screen, CommandLogScreen):
            self.push_screen(CommandLogScreen())

    def open_audit(self, app: str | None = None) -> None:
        from console.tui.screens.audit import AuditScreen

        self.push_screen(AuditScreen(f"app:{app}" if app else ""))

    def run_command_line(self, line: str) -> None:
        self.notice_serial = getattr(self, "notice_serial", 0)
        before = self.notice_serial
        try:
            cmd = commands.run(self, line)
        except commands.CommandError as exc:
            self.set_notice(str(exc), error=True)
            return
        if cmd.name not in ("q",) and self.notice_serial == before:
            self.set_notice("")  # clear an old notice, not the one this command just gave

    def app_names(self) -> list[str]:
        return sorted(self.fleet)

    def project_names(self) -> list[str]:
        return sorted(set(self.projects) | {f.project for f in self.facts.values()})

    def theme_names(self) -> list[str]:
        return themes.names()

    def _home(self) -> Any:
        from console.tui.screens.applications import ApplicationsScreen

        screen = self.screen_stack[0]
        assert isinstance(screen, ApplicationsScreen)
        return screen

    def go_home(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def open_app(self, name: str) -> None:
        from console.tui.screens.application import ApplicationScreen

        if name not in self.fleet:
            self.set_notice(f"no application named {name!r}", error=True)
            return
        current = self.screen
        if isinstance(current, ApplicationScreen) and current.app_name == name:
            return
        self.push_screen(ApplicationScreen(name))

    def open_changes(self, app: str | None) -> None:
        from console.tui.screens.changes import ChangesScreen

        self.push_screen(ChangesScreen(app))

    def open_runbook(self, runbook: str | None = None, app_name: str | None = None) -> None:
        from console.tui.screens.runbook import open_runbook

        open_runbook(self, runbook, app_name)

    def runbook_names(self, *, aliases: bool = False) -> list[str]:
        from console.tui.screens.runbook import runbook_names

        return runbook_names(self, aliases=aliases)

    def filter_project(self, name: str) -> None:
        self.go_home()
        self._home().set_filter_text(f"project:{name}")

    def set_filter_text(self, text: str) -> None:
        self.go_home()
        self._home().set_filter_text(text)

    def use_theme(self, name: str) -> None:
        if name not in themes.BASES:
            self.set_notice(f"no theme {name!r} (themes: {', '.join(themes.names())})", error=True)
            return
        old = (str(self.theme_file), "")
        self.theme_file = themes.path(name)
        self.stylesheet.source.pop(old, None)
        self.stylesheet.read(self.theme_file)
        self.theme_name = name
        if self.theme != themes.BASES[name]:
            self.theme = themes.BASES[name]
        else:
            self.refresh_css(animate=False)
        self.set_notice(f"theme {name}")

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.flush()
        self.refresh_status()
        self.refresh_bindings()

    def show_help(self) -> None:
        from console.tui.modals.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen.for_screen(self, self.screen))

    def quit_console(self) -> None:
        self.exit(0)

    def run_refresh(self, apps: list[str] | None = None, *, hard: bool = False) -> None:
        what = "hard refresh" if hard else "refresh"
        self.set_notice(f"{what}ing…" if not apps else f"{what}ing {', '.join(apps)}…")
        action = acts.HARD_REFRESH if hard else acts.REFRESH
        for app in apps or [""]:
            self._log_command(LogEntry(self._now, self._view(), acts_command(action, app), "succeeded"))
        self._refresh_worker(apps, hard)

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False)
    def _refresh_worker(self, apps: list[str] | None, hard: bool = False) -> None:
        try:
            report = refresh(self.worker_ws, apps, hard=hard)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never kills the console
            text = getattr(exc, "message", None) or str(exc)
            self.post_message(Notice(f"refresh failed: {text}", error=True))
            return
        self.post_message(
            Notice(f"refreshed {len(report.comparisons)} applications in {report.seconds:.1f}s")
        )
        if not self.live:
            self.feed.run()  # one more list: no watch brings the new status in

    # ------------------------------------------------------------------ key actions

    def action_help(self) -> None:
        self.show_help()

    def action_command_line(self) -> None:
        open_line = getattr(self.screen, "open_command_line", None)
        if callable(open_line):
            open_line()

    def action_toggle_pause(self) -> None:
        self.toggle_pause()

    def action_refresh(self) -> None:
        self.run_refresh(None)

    def action_toggle_write(self) -> None:
        self.toggle_write()

    def action_command_log(self) -> None:
        self.show_command_log()

    def action_audit(self) -> None:
        self.open_audit(None)

    def action_quit_console(self) -> None:
        self.quit_console()

    def action_save_screenshot(self) -> None:
        folder = self.ws.state_dir / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        path = self.save_screenshot(path=str(folder))
        self.set_notice(f"screenshot saved: {Path(path).relative_to(self.ws.root)}")


def run_console(
    ws: Workspace,
    *,
    embedded_controller: bool = True,
    theme: str | None = None,
    no_color: bool = False,
    ascii: bool | None = None,
    identity: Identity | None = None,
    write: bool = False,
) -> int:
    result = TrueupApp(
        ws,
        embedded_controller=embedded_controller,
        theme=theme,
        no_color=no_color,
        ascii=ascii,
        identity=identity,
        write=write,
    ).run()
    return int(result or 0)


def acts_command(action: str, app: str = "") -> str:
    from console.tui.equivalent import command_line

    return command_line(action, app, {})
