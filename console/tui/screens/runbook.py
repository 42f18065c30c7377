"""A runbook walked against one application (`b` on the app screen, `:runbook [NAME]`).

The checks run in a thread worker against live facts (never on the UI thread); the screen shows
each step's question, answer, evidence, the decision branches (the one the answer selects is
pre-chosen; ←/→ picks another) and the suggested action.

Recording: opening the screen records nothing (reading a runbook is a read, `applications,
get`). Each decision (Enter) and each action taken (`a`) is an audit record through the gate,
under the incident reference (`i`; asked for at the first decision). Recording is allowed in the
read-only console: it is an audit write by the identified user, not a change to an application
or a cluster. Actions: a revert is prepared on a branch of the working clone (never pushed) and an
ignore rule is shown (and copied) here; sync, break-glass sync and terminate are handed to the
console's action path (`TrueupApp.start_action`, with RBAC and break-glass) or, where the console
has none, shown as the CLI line to run.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.engine.gate.attempt import Gate
from console.engine.runbooks import library
from console.engine.runbooks import record as walk_record
from console.engine.runbooks.actions import Suggestion
from console.engine.runbooks.schema import Branch
from console.engine.runbooks.walk import Walk, suggest, take_action, walk
from console.tui.format import clock
from console.tui.messages import Loaded
from console.tui.screens.base import ConsoleScreen
from widgets.safe_text import visible
from widgets.text import append_safe, safe_text
from widgets.tones import TONE_CLASSES, tone_styles

INCIDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/#-]{0,79}$")
# runbook actions the console's action path takes (ids of TrueupApp.start_action)
CONSOLE_ACTIONS = {"sync": "sync", "break-glass-sync": "break_glass_sync", "terminate-operation": "terminate"}
LOCAL_ACTIONS = ("revert-commit", "ignore-rule")


@dataclass
class Decided:
    branch: Branch
    seq: int
    by: str
    at: str


class StepList(OptionList):
    """The steps; carries the theme's tone classes for the screen's toned text."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(OptionList.COMPONENT_CLASSES) | set(TONE_CLASSES)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select",
            "Decide",
            id="runbook.steps.decide",
            tooltip="Record the chosen decision for this step in the audit chain, then go to the next step",
        ),
        Binding(
            "left",
            "screen.branch(-1)",
            "Branch",
            id="runbook.prev-branch",
            tooltip="Choose the previous decision branch",
        ),
        Binding(
            "right",
            "screen.branch(1)",
            "Branch",
            show=False,
            id="runbook.next-branch",
            tooltip="Choose the next decision branch",
        ),
        Binding(
            "ctrl+d",
            "screen.scroll_detail(1)",
            "Detail down",
            show=False,
            id="runbook.detail-down",
            tooltip="Scroll the step's evidence and suggestions down",
        ),
        Binding(
            "ctrl+u",
            "screen.scroll_detail(-1)",
            "Detail up",
            show=False,
            id="runbook.detail-up",
            tooltip="Scroll the step's evidence and suggestions up",
        ),
    ]


class RunbookScreen(ConsoleScreen):
    DEFAULT_CSS = """
    RunbookScreen #rb-header { height: auto; max-height: 3; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    RunbookScreen #rb-steps { height: auto; max-height: 35%; border: none; padding: 0; }
    RunbookScreen #rb-scroll { height: 1fr; }
    RunbookScreen #rb-detail { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "decide",
            "Decide",
            id="runbook.decide",
            tooltip="Record the chosen decision for this step in the audit chain, then go to the next step",
        ),
        Binding(
            "a",
            "act",
            "Act",
            id="runbook.act",
            tooltip="Take the chosen branch's action: prepare a revert (never pushed), copy an ignore rule, "
            "or open sync / break-glass through RBAC",
        ),
        Binding(
            "i",
            "incident",
            "Incident",
            id="runbook.incident",
            tooltip="Set the incident reference the walk-through is recorded under",
        ),
        Binding(
            "r",  # the console's refresh key: here it refreshes the evidence (`w` stays write mode)
            "rewalk",
            "Re-check",
            id="runbook.rewalk",
            tooltip="Run every check again against live state (decisions stay recorded)",
        ),
        Binding(
            "y",
            "copy",
            "Copy",
            show=False,
            id="runbook.copy",
            tooltip="Copy the suggested command lines or snippet (OSC 52)",
        ),
    ]

    def __init__(self, app_name: str, runbook: str | None = None) -> None:
        super().__init__()
        self.app_name = app_name
        self.runbook = runbook
        self.walk: Walk | None = None
        self.error = ""
        self.note = ""
        self.busy = True
        self.chosen: dict[int, int] = {}  # step index -> branch index
        self.decided: dict[int, Decided] = {}
        self.taken: dict[int, Suggestion] = {}
        self.walk_seq: int | None = None
        self._gen = 0
        self._lock = threading.Lock()
        self._gate: Gate | None = None
        self._pending_decide = False
        self._tones: dict[str, Any] | None = None

    # ------------------------------------------------------------------ layout

    def crumbs(self) -> list[str]:
        name = self.walk.runbook.name if self.walk else (self.runbook or "…")
        return ["trueup", "Applications", self.app_name, f"Runbook {name}"]

    def compose(self) -> ComposeResult:
        yield from self.top()
        yield Static(id="rb-header")
        yield StepList(id="rb-steps")
        yield VerticalScroll(Static(id="rb-detail"), id="rb-scroll")
        yield Input(
            id="incident",
            placeholder="incident reference, e.g. INC-42 (Enter sets it, Esc cancels)",
            classes="line",
        )
        yield from self.bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#incident", Input).display = False
        self.query_one("#rb-detail", Static).update(safe_text("running the checks against live state…"))
        self._render_header()
        self.start_walk()
        self.steps.focus()

    @property
    def steps(self) -> StepList:
        return self.query_one("#rb-steps", StepList)

    def focus_body(self) -> None:
        self.steps.focus()

    def tones(self) -> dict[str, Any]:
        if self._tones is None:
            self._tones = tone_styles(self.steps)
        return self._tones

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._tones = None

    @property
    def incident(self) -> str:
        return str(getattr(self.app, "incident", "") or "")

    # ------------------------------------------------------------------ the walk (worker)

    def start_walk(self) -> None:
        c = self.console
        ws, app, wanted = c.worker_ws, self.app_name, self.runbook
        user = c.user

        def job() -> tuple[Walk | None, str]:
            lib = library.load(ws)
            if wanted:
                loaded = lib.get(wanted)
                return walk(ws, loaded, app, prepare=False, actor=user), ""
            fits, facts = suggest(ws, lib, app)
            if not fits:
                return None, f"no runbook fits {app} now; :runbook NAME walks one (:runbook lists them)"
            return walk(ws, fits[0].loaded, app, prepare=False, facts=facts, actor=user), "; ".join(
                fits[0].why
            )

        self.busy = True
        self._gen = c.next_generation()
        c.load(self, "runbook-walk", self._gen, job)

    def on_loaded(self, message: Loaded) -> None:
        if message.what == "runbook-walk":
            message.stop()
            if message.generation != self._gen:
                return
            self.busy = False
            if message.error:
                self.error = message.error
            else:
                w, why = message.value
                self.error = ""
                if w is None:
                    self.error = why
                else:
                    if self.walk is not None and self.walk.runbook.name != w.runbook.name:
                        self.decided.clear()
                        self.walk_seq = None
                    self.walk = w
                    self.runbook = w.runbook.name
                    self.note = f"suggested because {why}" if why else ""
            self.refresh_crumbs()
            self._render_steps()
            self._render_header()
            self._render_detail()
            self.refresh_status()
        elif message.what in ("runbook-record", "runbook-action"):
            message.stop()
            self._recorded(message)

    # ------------------------------------------------------------------ rendering

    def index(self) -> int:
        i = self.steps.highlighted
        return 0 if i is None else int(i)

    def branch_of(self, index: int) -> Branch | None:
        w = self.walk
        if w is None or not w.steps[index].step.branches:
            return None
        branches = w.steps[index].step.branches
        if index in self.chosen:
            return branches[self.chosen[index] % len(branches)]
        so = w.steps[index]
        return so.branch

    def _render_header(self) -> None:
        out = Text()
        st = self.tones()
        w = self.walk
        if w is not None:
            spec = w.runbook.runbook.spec
            append_safe(out, spec.title, "bold")
            if spec.reference:
                append_safe(out, f" ({spec.reference})")
            append_safe(out, f" · checked {clock(w.at)}")
        elif self.error:
            append_safe(out, self.error, st.get("bad") or "")
        else:
            append_safe(
                out, "choosing the runbook that fits…" if not self.runbook else f"walking {self.runbook}…"
            )
        out.append("\n")
        if self.incident:
            append_safe(out, f"incident {self.incident}")
        else:
            append_safe(out, "incident: none (i sets it)", st.get("warn") or "")
        if self.walk_seq is not None:
            append_safe(out, f" · recorded: walk #{self.walk_seq}, {len(self.decided)} decisions")
        else:
            append_safe(out, " · nothing recorded yet")
        append_safe(out, f" · as {self.console.user}")
        if self.note:
            out.append("\n")
            append_safe(out, self.note, st.get("muted") or "")
        self.query_one("#rb-header", Static).update(out)

    def _step_line(self, i: int) -> Text:
        assert self.walk is not None
        so = self.walk.steps[i]
        st = self.tones()
        ascii_ = self.console.ascii
        out = Text()
        if i in self.decided:
            out.append("V " if ascii_ else "✔ ", st.get("ok") or "")
        elif so.decisive:
            out.append("* " if ascii_ else "★ ", st.get("warn") or "")
        else:
            out.append("  ")
        out.append(f"{i + 1}. ")
        append_safe(out, so.step.question)
        tone = {"unknown": "muted", "manual": "info"}.get(so.outcome, "")
        out.append("  ")
        append_safe(out, f"[{so.outcome}]", st.get(tone) or "")
        return out

    def _render_steps(self) -> None:
        ol = self.steps
        keep = ol.highlighted
        ol.clear_options()
        if self.walk is None:
            return
        ol.add_options([Option(self._step_line(i), id=f"step-{i}") for i in range(len(self.walk.steps))])
        if self.walk.steps:
            ol.highlighted = keep if keep is not None and keep < len(self.walk.steps) else self._first_open()

    def _first_open(self) -> int:
        assert self.walk is not None
        return next((i for i in range(len(self.walk.steps)) if i not in self.decided), 0)

    def _refresh_step(self, i: int) -> None:
        try:
            self.steps.replace_option_prompt_at_index(i, self._step_line(i))
        except Exception:  # noqa: BLE001 - the list was rebuilt meanwhile
            self._render_steps()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._render_detail()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_decide()

    def _render_detail(self) -> None:
        box = self.query_one("#rb-detail", Static)
        w = self.walk
        if w is None:
            box.update(safe_text(self.error or "running the checks against live state…"))
            return
        i = self.index()
        so = w.steps[i]
        st = self.tones()
        out = Text()

        def put(text: str, tone: str = "", bold: bool = False) -> None:
            append_safe(out, text, (st.get(tone) or "") if not bold else "bold")

        put(f"{i + 1}/{len(w.steps)} {so.step.question}", bold=True)
        out.append("\n")
        if so.result is not None:
            put(f"{so.step.check}: ", "muted")
            put(f"{so.outcome} — {so.result.summary}", "muted" if so.outcome == "unknown" else "")
        else:
            put("a question for you: ", "info")
            put(so.step.hint or "answer it, then choose the branch that fits")
        # what to do first (the chosen decision, its action, what is recorded), then why
        chosen = self.branch_of(i)
        taken = self.taken.get(i)
        if chosen is not None:
            out.append("\n")
            put("> " if self.console.ascii else "▶ ", "info")
            put(chosen.decision)
            if chosen.action != "none":
                put(f"  → {chosen.action}", "warn" if chosen.conclusive else "info")
                out.append("\n")
                put(
                    "  a: again (reports the same branch)" if taken else f"  {self._act_hint(chosen)}", "info"
                )
        d = self.decided.get(i)
        if d is not None:
            out.append("\n")
            put(f"Recorded: {d.branch.decision[:80]} — by {d.by} at {d.at} (audit #{d.seq})", "ok")
        elif chosen is not None:
            out.append("\n")
            put(
                "Enter records this decision"
                + (" (←/→: another branch)" if len(so.step.branches) > 1 else ""),
                "muted",
            )
        if so.result is not None and so.result.evidence:
            out.append("\n")
            put("Evidence:", "muted")
            for e in so.result.evidence:
                out.append("\n")
                put(f"  - {e}")
        others = [b for b in so.step.branches if b is not chosen]
        if others:
            out.append("\n")
            put("Other branches:", "muted")
        for b in others:
            out.append("\n")
            put(f"  [{'/'.join(b.when)}] ", "muted")
            put(b.decision, "muted")
            if b.action != "none":
                put(f"  → {b.action}", "muted")
            if b is so.branch:
                put("  (the check's answer)", "info")
        sugg = taken or (so.suggestion if chosen is so.branch else None)
        if chosen is not None and chosen.action != "none" and sugg is not None:
            out.append("\n")
            put(("Done: " if taken else "Suggested: ") + sugg.text, "ok" if taken else "")
            for cmd in sugg.commands:
                out.append("\n")
                put(f"  $ {cmd}", "muted")
            if sugg.snippet:
                for line in sugg.snippet.rstrip("\n").splitlines():
                    out.append("\n")
                    put(f"    {line}", "muted")
        box.update(out)

    def _act_hint(self, b: Branch) -> str:
        if b.action == "revert-commit":
            return "a: prepare the revert on a branch of the working clone (never pushed)"
        if b.action == "ignore-rule":
            return "a: copy the ignore rule (add it to the Application in Git)"
        if b.action in CONSOLE_ACTIONS:
            return f"a: {b.action} (through the console's RBAC and break-glass path)"
        return "a: show what to do"

    # ------------------------------------------------------------------ keys

    def action_branch(self, step: int) -> None:
        w = self.walk
        if w is None:
            return
        i = self.index()
        branches = w.steps[i].step.branches
        if not branches:
            return
        current = self.branch_of(i)
        at = branches.index(current) if current in branches else -1
        self.chosen[i] = (at + step) % len(branches)
        self._render_detail()

    def action_incident(self) -> None:
        line = self.query_one("#incident", Input)
        line.value = self.incident
        line.display = True
        line.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "incident":
            super().on_input_submitted(event)
            return
        event.stop()
        value = event.value.strip()
        if not INCIDENT.match(value):
            self.console.set_notice(
                f"incident reference {visible(value)!r}: letters, digits and _.:/#- (at most 80), e.g. INC-42",
                error=True,
            )
            return
        event.input.display = False
        self.app.incident = value  # type: ignore[attr-defined]
        self.console.set_notice(f"incident {value}: decisions are recorded under it")
        self._render_header()
        self.steps.focus()
        if self._pending_decide:
            self._pending_decide = False
            self.action_decide()

    def back(self) -> bool:
        line = self.query_one("#incident", Input)
        if line.display:
            line.display = False
            self._pending_decide = False
            self.steps.focus()
            return True
        return False

    def _gate_for(self) -> Gate:
        """A gate on the workers' workspace, for the console's identity (made in the worker)."""
        if self._gate is None:
            identity = getattr(self.app, "identity", None)
            if identity is None:
                raise RuntimeError("the console's identity is not resolved yet (control cluster unreachable)")
            self._gate = Gate(self.console.worker_ws, identity)
        return self._gate

    def action_decide(self) -> None:
        w = self.walk
        if w is None or self.busy:
            return
        i = self.index()
        branch = self.branch_of(i)
        if branch is None:
            self.console.set_notice("this step has no decision to record", error=True)
            return
        if not self.incident:
            self._pending_decide = True
            self.console.set_notice("set the incident reference first: the walk-through is recorded under it")
            self.action_incident()
            return
        incident = self.incident

        def job() -> tuple[int, Branch, Any]:
            with self._lock:
                gate = self._gate_for()
                if self.walk_seq is None:
                    opened = walk_record.open_walk(gate, w, incident=incident)
                    if not opened.ok or opened.audit_seq is None:
                        raise RuntimeError(opened.message)
                    self.walk_seq = opened.audit_seq
                return (
                    i,
                    branch,
                    walk_record.record_step(gate, w, self.walk_seq, i, branch, incident=incident),
                )

        self.console.load(self, "runbook-record", self._gen, job)

    def action_act(self) -> None:
        w = self.walk
        if w is None or self.busy:
            return
        i = self.index()
        branch = self.branch_of(i)
        so = w.steps[i]
        if branch is None or branch.action == "none":
            self.console.set_notice("this decision has no action to take")
            return
        if branch.action in CONSOLE_ACTIONS:
            self._hand_off(branch, so.suggestion)
            return
        if branch.action not in LOCAL_ACTIONS:
            sugg = so.suggestion
            self.console.set_notice(
                sugg.text if sugg else f"{branch.action}: nothing trueup can do from here"
            )
            return
        if not self.incident:
            self.console.set_notice("set the incident reference first: the action is recorded under it")
            self.action_incident()
            return
        incident, user = self.incident, self.console.user

        def job() -> tuple[int, Branch, Any]:
            with self._lock:
                gate = self._gate_for()
                if self.walk_seq is None:
                    opened = walk_record.open_walk(gate, w, incident=incident)
                    if not opened.ok or opened.audit_seq is None:
                        raise RuntimeError(opened.message)
                    self.walk_seq = opened.audit_seq
                result = walk_record.record_action(
                    gate,
                    w,
                    self.walk_seq,
                    i,
                    branch,
                    lambda: take_action(w, i, branch, incident=incident, actor=user),
                    incident=incident,
                )
                return i, branch, result

        self.console.set_notice(f"{branch.action}: working…")
        self.console.load(self, "runbook-action", self._gen, job)

    def _hand_off(self, branch: Branch, sugg: Suggestion | None) -> None:
        """Cluster actions go through the console's own RBAC / break-glass path."""
        action_id = CONSOLE_ACTIONS[branch.action]
        start = getattr(self.app, "start_action", None)
        reason = self.incident
        if callable(start):
            start(action_id, self.app_name, reason=reason)
            return
        line = sugg.commands[0] if sugg and sugg.commands else f"trueup app sync {self.app_name}"
        self.console.set_notice(f"run it from a shell (RBAC and break-glass apply): {line}")

    def _recorded(self, message: Loaded) -> None:
        if message.error:
            self.console.set_notice(f"not recorded: {message.error}", error=True)
            return
        i, branch, result = message.value
        if not result.ok and message.what == "runbook-record":
            self.console.set_notice(f"not recorded: {result.message}", error=True)
            return
        if message.what == "runbook-action":
            sugg = result.value
            if isinstance(sugg, Suggestion):
                self.taken[i] = sugg
                if sugg.action == "ignore-rule" and sugg.snippet:
                    self.app.copy_to_clipboard(sugg.snippet)
            note = (
                _short(result.message) if result.ok else f"{branch.action} failed: {_short(result.message)}"
            )
            self.console.set_notice(f"{note} (audit #{result.audit_seq})", error=not result.ok)
        else:
            self.decided[i] = Decided(
                branch, int(result.audit_seq or 0), self.console.user, clock(self.console.now())
            )
            self.console.set_notice(f"step {i + 1} recorded (audit #{result.audit_seq})")
            self._refresh_step(i)
            if self.walk is not None and i + 1 < len(self.walk.steps):
                self.steps.highlighted = i + 1
        self._render_header()
        self._render_detail()

    def action_scroll_detail(self, direction: int) -> None:
        scroll = self.query_one("#rb-scroll", VerticalScroll)
        scroll.scroll_relative(y=direction * max(1, scroll.size.height - 2), animate=False)

    def action_rewalk(self) -> None:
        self.start_walk()

    def action_copy(self) -> None:
        w = self.walk
        if w is None:
            return
        i = self.index()
        sugg = self.taken.get(i) or w.steps[i].suggestion
        if sugg is None:
            self.console.set_notice("nothing to copy for this step")
            return
        text = sugg.snippet or "\n".join(sugg.commands) or sugg.text
        self.app.copy_to_clipboard(text)
        self.console.set_notice("copied")

    def status_extra(self) -> str:
        if self.busy:
            return "running checks…"
        if self.walk is None:
            return ""
        c = self.walk.conclusion
        return f"conclusion: step {self.walk.steps.index(c) + 1}" if c is not None else "no conclusion"


def _short(text: str, limit: int = 100) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def current_app(console: Any) -> str | None:
    """The application the user is looking at: the open app screen's (or runbook's, or an app's
    change timeline), else the fleet table's selected row."""
    for screen in reversed(console.screen_stack):
        name = getattr(screen, "app_name", None)
        if isinstance(name, str) and name:
            return name
        table = getattr(screen, "table", None)
        key = getattr(table, "cursor_key", None)
        if isinstance(key, str) and "/" in key and not key.startswith("\x00"):
            return key.split("/", 1)[1]
    return None


def open_runbook(console: Any, runbook: str | None, app_name: str | None) -> None:
    """`:runbook [NAME] [APP]`, `b` on the app screen: the named runbook (default: the one that
    fits) for APP (default: the application in view)."""
    name = app_name or current_app(console)
    if not name or name not in console.fleet:
        console.set_notice("open an application first, or give one: :runbook NAME APP", error=True)
        return
    if runbook:
        try:
            runbook = library.load(console.ws).get(runbook).name
        except library.RunbookError as exc:
            console.set_notice(str(exc), error=True)
            return
    console.push_screen(RunbookScreen(name, runbook))


def runbook_names(console: Any, *, aliases: bool = False) -> list[str]:
    """The runbooks' names (with `aliases`, also their other names), for `:runbook`."""
    out = []
    for r in library.load(console.ws).ordered():
        out.append(r.name)
        if aliases:
            out += r.runbook.metadata.aliases
    return out
