"""The one action modal: states exactly what an action will do, takes its options, asks for the
typed application name and a reason when it breaks glass, shows the equivalent `trueup` command,
runs it once (never again on its own) and shows the result with its audit record numbers.

Its life: loading (the plan is built in a worker) -> ready -> running -> done. A refusal (wrong
name, empty reason, nothing to terminate, "another operation is already in progress") is shown in
the modal; the user corrects it or leaves with Esc. Only names and counts are shown, never a
resource's values, so a screenshot of it cannot carry a Secret.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from console.engine.gate.attempt import GateResult
from console.engine.governance import breakglass
from console.engine.preview import CREATE, PRUNE
from console.tui import actions as acts
from console.tui.equivalent import command_line
from widgets.safe_text import visible
from widgets.text import safe_text
from widgets.toggle import Toggle

OPTIONS = {
    acts.SYNC: (
        ("prune", "prune"),
        ("dry_run", "dry run"),
        ("force", "force"),
        ("out_of_sync_only", "out-of-sync only"),
    ),
    acts.BREAK_GLASS_SYNC: (
        ("prune", "prune"),
        ("dry_run", "dry run"),
        ("force", "force"),
        ("out_of_sync_only", "out-of-sync only"),
    ),
    acts.ROLLBACK: (("prune", "prune"), ("dry_run", "dry run")),
    acts.SUSPEND: (("self_heal_only", "self-heal only"),),
}
VERB = {
    acts.SYNC: "Sync",
    acts.BREAK_GLASS_SYNC: "Break glass: sync",
    acts.ROLLBACK: "Roll back",
    acts.TERMINATE: "Break glass: terminate",
    acts.SUSPEND: "Break glass: suspend",
    acts.RESUME: "Resume",
    acts.RESTART: "Restart",
    acts.DELETE: "Delete",
}


class ActionModal(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="action.close", tooltip="Cancel (or close after the result)"),
        Binding(
            "ctrl+y",
            "copy_command",
            "Copy command",
            id="action.copy",
            tooltip="Copy the equivalent trueup command (OSC 52)",
        ),
    ]

    def __init__(
        self, action: str, app_name: str, prefill: dict[str, Any] | None = None, *, view: str = ""
    ) -> None:
        super().__init__()
        self.action = action
        self.app_name = app_name
        self.prefill = dict(prefill or {})
        self.view = view  # the screen this action was started from (results are tagged with it)
        self.plan: acts.Plan | None = None
        self.state = "loading"
        self.result: GateResult | None = None
        self.error = ""
        self.progress_text = ""

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="act-box"):
            yield Static(
                safe_text(f"{acts.TITLES.get(self.action, self.action)} {self.app_name}"), id="act-title"
            )
            with VerticalScroll(id="act-body"):
                yield Static(safe_text("reading the application and asking the gate…"), id="act-facts")
                yield Static(id="act-preview")
                yield Vertical(id="act-changes")
                yield Static(id="act-prunes-title")
                yield Vertical(id="act-prunes")
                yield RadioSet(id="act-choice")
                yield Horizontal(id="act-options")
                yield Static(id="act-bg")
                yield Input(placeholder="type the application name to confirm", id="act-name")
                yield Input(
                    placeholder="reason: incident or change reference (e.g. INC-1234)", id="act-reason"
                )
                yield Static(id="act-cmd")
                yield Static(id="act-result")
            with Horizontal(id="act-buttons"):
                yield Button("…", id="act-confirm", compact=True, disabled=True)
                yield Static(id="act-hint")

    def on_mount(self) -> None:
        for wid in (
            "#act-changes",
            "#act-prunes",
            "#act-prunes-title",
            "#act-choice",
            "#act-name",
            "#act-reason",
            "#act-bg",
        ):
            self.query_one(wid).display = False
        self._hint()
        host = self.app
        start = getattr(host, "plan_action", None)
        if callable(start):
            start(self)

    # ------------------------------------------------------------------ plan

    def plan_loaded(self, plan: acts.Plan | None, error: str) -> None:
        if error or plan is None:
            self.state = "done"
            self.error = error or "cannot plan this action"
            self._show_result()
            return
        self.plan = plan
        self.state = "ready"
        self._render_plan()

    def _render_plan(self) -> None:
        plan = self.plan
        assert plan is not None
        facts = Text()
        for label_text, value in plan.facts:
            facts.append(f"{label_text:<12}", style="dim")
            facts.append(visible(value) + "\n")
        if plan.suspension:
            facts.append(f"{'auto-sync':<12}", style="dim")
            facts.append(visible(plan.suspension) + "\n", style="bold")
        facts.rstrip()
        self.query_one("#act-facts", Static).update(facts)
        if plan.preview is not None:
            self._render_preview(plan)
        self._render_choice(plan)
        opts = self.query_one("#act-options", Horizontal)
        for key, text in OPTIONS.get(plan.action, ()):
            opts.mount(Toggle(text, bool(plan.values.get(key)), id=f"opt-{key}", compact=True))
        reason = self.query_one("#act-reason", Input)
        reason.display = True
        reason.value = str(plan.values.get("reason") or "")
        self._refresh_needs()
        confirm = self.query_one("#act-confirm", Button)
        confirm.label = VERB.get(plan.action, "Confirm")
        if plan.refusal:
            self.error = plan.refusal
            confirm.disabled = True
            self._show_result()
        elif not plan.preflight.allowed:
            self.error = plan.preflight.denied
            confirm.disabled = True
            self._show_result()
        else:
            confirm.disabled = False
        self.call_after_refresh(self._initial_focus)

    def _initial_focus(self) -> None:
        name = self.query_one("#act-name", Input)
        if name.display:
            name.focus()
        elif not self.query_one("#act-confirm", Button).disabled:
            self.query_one("#act-confirm", Button).focus()

    def _render_preview(self, plan: acts.Plan) -> None:
        pv = plan.preview
        assert pv is not None
        n = pv.counts()
        line = Text()
        line.append("preview     ", style="dim")
        line.append(
            f"{n['update']} to update, {n[CREATE]} to create, {n[PRUNE]} to prune, {n['none']} unchanged"
        )
        if pv.changes:
            line.append("  (untick = selective sync)", style="dim")
        if pv.error:
            line.append(f"\n{'':12}{visible(pv.error)}", style="bold")
        self.query_one("#act-preview", Static).update(line)
        chosen = set(plan.values.get("resources") or [])
        self._resources: dict[str, str] = {}
        boxes = []
        for i, item in enumerate(pv.changes):
            n_fields = f"{item.fields} field{'s' if item.fields != 1 else ''}"
            word = "create" if item.change == CREATE else f"update ({n_fields})"
            self._resources[f"res-{i}"] = item.selector
            ticked = not chosen or item.selector in chosen
            boxes.append(Toggle(safe_text(f"{word:<18} {item.title}"), ticked, id=f"res-{i}", compact=True))
        changes = self.query_one("#act-changes", Vertical)
        if boxes:
            changes.mount(*boxes)
        changes.display = bool(boxes)
        if pv.prunes:
            title = self.query_one("#act-prunes-title", Static)
            title.update(safe_text(f"{len(pv.prunes)} no longer in Git: deleted only with prune ticked"))
            title.display = True
            boxes = []
            for i, item in enumerate(pv.prunes):
                self._resources[f"prn-{i}"] = item.selector
                boxes.append(
                    Toggle(safe_text(f"prune              {item.title}"), True, id=f"prn-{i}", compact=True)
                )
            prunes = self.query_one("#act-prunes", Vertical)
            prunes.mount(*boxes)
            prunes.display = True

    def _render_choice(self, plan: acts.Plan) -> None:
        radio = self.query_one("#act-choice", RadioSet)
        buttons: list[RadioButton] = []
        self._choices: list[tuple[str, Any]] = []
        if plan.action == acts.ROLLBACK:
            current = plan.current.revision if plan.current else ""
            for h in plan.history:
                tag = "  (deployed now)" if h is plan.current else ""
                self._choices.append(("history_id", h.id))
                buttons.append(
                    RadioButton(
                        safe_text(f"→ {h.text()}{tag}"), h.id == plan.values.get("history_id"), compact=True
                    )
                )
            del current
        elif plan.action == acts.DELETE:
            for value, text in acts.CASCADES:
                self._choices.append(("cascade", value))
                buttons.append(
                    RadioButton(safe_text(text), value == plan.values.get("cascade"), compact=True)
                )
        elif plan.action == acts.SUSPEND:
            for value in acts.EXPIRIES:
                self._choices.append(("for", value))
                buttons.append(
                    RadioButton(safe_text(f"for {value}"), value == plan.values.get("for"), compact=True)
                )
        elif plan.action == acts.RESTART:
            for ref in plan.targets:
                self._choices.append(("target", ref))
                buttons.append(
                    RadioButton(safe_text(ref.text), ref == plan.values.get("target"), compact=True)
                )
        if buttons:
            radio.mount(*buttons)
            radio.display = True

    # ------------------------------------------------------------------ values

    def values(self) -> dict[str, Any]:
        plan = self.plan
        out: dict[str, Any] = dict(plan.values) if plan else {}
        for key, _ in OPTIONS.get(self.action, ()):
            try:
                out[key] = self.query_one(f"#opt-{key}", Checkbox).value
            except Exception:  # noqa: BLE001 - not mounted yet
                pass
        if plan is not None and plan.preview is not None:
            res = getattr(self, "_resources", {})
            ticks = {wid: self.query_one(f"#{wid}", Toggle).value for wid in res if self.query(f"#{wid}")}
            picked = [res[w] for w, on in ticks.items() if on and w.startswith("res-")]
            pruned = [res[w] for w, on in ticks.items() if on and w.startswith("prn-")]
            if not all(ticks.values()):
                out["resources"] = picked + (pruned if out.get("prune") else [])
            else:
                out.pop("resources", None)
        radio = self.query_one("#act-choice", RadioSet)
        if (
            radio.display
            and radio.pressed_index >= 0
            and radio.pressed_index < len(getattr(self, "_choices", []))
        ):
            key, value = self._choices[radio.pressed_index]
            out[key] = value
        out["reason"] = self.query_one("#act-reason", Input).value.strip()
        out["confirm"] = self.query_one("#act-name", Input).value.strip()
        return out

    def _refresh_needs(self) -> None:
        plan = self.plan
        if plan is None:
            return
        values = self.values()
        bg = plan.break_glass(values)
        name_box = self.query_one("#act-name", Input)
        name_box.display = plan.needs_name(values)
        box = self.query_one("#act-bg", Static)
        if bg:
            text = Text()
            text.append("BREAK-GLASS", style="bold reverse")
            text.append(
                f" {visible(acts.break_glass_why(plan))}: type {plan.app} and a reason; both are audited"
            )
            if not plan.preflight.can_override:
                text.append("\n" + visible(plan.preflight.override_denied), style="bold")
            box.update(text)
            box.display = True
            self.query_one(
                "#act-reason", Input
            ).placeholder = "reason (required): incident reference, e.g. INC-1234"
        elif plan.typed_name:
            box.update(safe_text(f"type {plan.app} to confirm the deletion"))
            box.display = True
        else:
            box.display = False
            self.query_one(
                "#act-reason", Input
            ).placeholder = "reason (optional): recorded in the audit record"
        self._render_command(values)

    def command(self, values: dict[str, Any] | None = None) -> str:
        plan = self.plan
        if plan is None:
            return ""
        vals = acts.command_values(plan, values if values is not None else self.values())
        if vals.get("break_glass") and not vals.get("reason"):
            vals["reason"] = "REASON"
        return command_line(plan.action, plan.app, vals)

    def _render_command(self, values: dict[str, Any]) -> None:
        text = Text()
        plan = self.plan
        if plan is not None and plan.action == acts.ROLLBACK and plan.current is not None:
            target = next((h for h in plan.history if h.id == values.get("history_id")), None)
            if target is not None:
                text.append("rollback    ", style="dim")
                text.append(visible(f"{plan.current.text()}  →  {target.text()}") + "\n")
        text.append("command     ", style="dim")
        text.append(visible(self.command(values)))
        self.query_one("#act-cmd", Static).update(text)

    def _hint(self) -> None:
        if self.state == "done":
            hint = "esc closes · ctrl+y copies the command · @ command log"
        elif self.state == "running":
            hint = "running… the result appears here (esc: keep it running, watch the Operation tab)"
        else:
            hint = "tab next · space ticks · enter confirms · esc cancels · ctrl+y copies the command"
        self.query_one("#act-hint", Static).update(safe_text(hint))

    @on(Checkbox.Changed)
    @on(RadioSet.Changed)
    def _changed(self) -> None:
        if self.state == "ready":
            self._refresh_needs()

    @on(Input.Changed)
    def _typed(self) -> None:
        if self.state == "ready":
            self._render_command(self.values())

    # ------------------------------------------------------------------ confirm and result

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "act-name" and not self.query_one("#act-reason", Input).value.strip():
            self.query_one("#act-reason", Input).focus()
            return
        self.confirm()

    @on(Button.Pressed, "#act-confirm")
    def _pressed(self) -> None:
        self.confirm()

    def refusal(self, values: dict[str, Any]) -> str:
        """Why the typed confirmation does not allow the action (checked before anything runs)."""
        plan = self.plan
        assert plan is not None
        if plan.needs_name(values) and values.get("confirm") != plan.app:
            typed = values.get("confirm") or ""
            got = f"{visible(typed)!r}" if typed else "nothing"
            return f"the typed name must be {plan.app} exactly (typed {got}); nothing was done"
        if plan.break_glass(values) and len(str(values.get("reason") or "")) < breakglass.MIN_REASON:
            return f"a break-glass action needs a reason (an incident reference, at least {breakglass.MIN_REASON} characters); nothing was done"
        if plan.action in (acts.ROLLBACK,) and "history_id" not in values:
            return "choose the history entry to roll back to"
        return ""

    def confirm(self) -> None:
        if self.state != "ready" or self.plan is None:
            return  # loading, running, or done: an action runs once, never again on its own
        values = self.values()
        why = self.refusal(values)
        if why:
            self.error = why
            self._show_result()
            return
        self.error = ""
        self.state = "running"
        self.query_one("#act-confirm", Button).disabled = True
        for w in self.query("Input, Checkbox, RadioSet"):
            w.disabled = True
        self._hint()
        self._show_result()
        run = getattr(self.app, "execute_action", None)
        if callable(run):
            run(self, values)

    def progress(self, text: str) -> None:
        self.progress_text = text
        if self.state == "running":
            self._show_result()

    def finished(self, result: GateResult | None, error: str = "") -> None:
        self.state = "done"
        self.result = result
        self.error = error
        self.query_one("#act-confirm", Button).label = "Done"
        self._hint()
        self._show_result()

    def _show_result(self) -> None:
        box = self.query_one("#act-result", Static)
        out = Text()
        if self.state == "running":
            out.append("◷ running", style="bold")
            if self.progress_text:
                out.append(f": {visible(self.progress_text)}")
        elif self.result is not None:
            r = self.result
            ok = r.ok
            out.append("✔ " if ok else "✖ ", style="bold")
            out.append(f"{r.outcome}: {visible(r.message)}", style="bold" if not ok else "")
            seqs = [str(s) for s in (r.audit_seq, r.result_seq) if s is not None]
            if seqs:
                out.append(
                    f"\naudit record {' → '.join(seqs)}" + (" (intent → result)" if len(seqs) == 2 else ""),
                    style="dim",
                )
            for w in r.warnings:
                out.append(f"\n⚠ {visible(w)}")
        if self.error:
            if out:
                out.append("\n")
            out.append("✖ " + visible(self.error), style="bold")
        box.update(out)
        box.set_class(bool(self.error) or (self.result is not None and not self.result.ok), "-error")
        if out:
            self.call_after_refresh(lambda: box.scroll_visible(animate=False))

    # ------------------------------------------------------------------ keys

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_command(self) -> None:
        text = self.command()
        if not text:
            return
        self.app.copy_to_clipboard(text)
        notice = getattr(self.app, "set_notice", None)
        if callable(notice):
            notice(f"copied (OSC 52): {text} — if your terminal ignores OSC 52, it is in the command log (@)")
