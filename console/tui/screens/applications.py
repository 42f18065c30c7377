"""The Applications screen: the fleet grouped by project, problems first, live.

`/` filters (substring, regex, `!`, `health:Degraded sync:OutOfSync project:payments cluster:prod-eu`),
`n`/`N` step through matches (without a filter: through the apps that need attention), Enter
opens an application, Esc clears the filter. The selected row's whole message is in the detail
line under the table, so nothing an on-call engineer needs is cut off at 80 columns.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from console.engine import fleetfilter
from console.engine.fleet import AppFacts
from console.tui import rows
from console.tui.format import age, plural, short
from console.tui.screens.base import ConsoleScreen
from widgets.fleet_table import FleetTable, Group, Row, group_key
from widgets.safe_text import visible
from widgets.status import label
from widgets.text import append_safe, safe_text


class ApplicationsScreen(ConsoleScreen):
    CRUMBS = ("Applications",)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="apps.filter",
            tooltip="Filter: text, regex, !not, health:Degraded sync:OutOfSync project:X cluster:Y",
        ),
        Binding(
            "n",
            "next_match(True)",
            "Next",
            id="apps.next",
            tooltip="Next match (no filter: next app that needs attention)",
        ),
        Binding(
            "N",
            "next_match(False)",
            "Prev",
            show=False,
            id="apps.previous",
            tooltip="Previous match (no filter: previous app that needs attention)",
        ),
        Binding("c", "changes", "Changes", id="apps.changes", tooltip="Change timeline of the whole fleet"),
        Binding(
            "y",
            "copy_name",
            "Copy",
            show=False,
            id="apps.copy",
            tooltip="Copy the selected application's name (OSC 52)",
        ),
        Binding(
            "z",
            "fold_all",
            "Fold all",
            show=False,
            id="apps.fold-all",
            tooltip="Collapse every project, or expand them all again",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = fleetfilter.parse("")
        self._shown: set[str] | None = None
        self._name_width = 0
        self._rows: dict[str, Row] = {}
        self._stats: dict[str, rows.ProjectStats] | None = None
        self._key_of: dict[str, str] = {}
        self._subjects_stale = False

    def compose(self) -> ComposeResult:
        yield from self.top()
        yield FleetTable(rows.columns(24), id="fleet")
        yield Static(id="detail", classes="detail")
        yield Input(
            id="filter",
            placeholder="filter: text  regex  !not  health:Degraded  sync:OutOfSync  project:NAME  cluster:NAME",
            classes="line",
        )
        yield from self.bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#filter", Input).display = False
        self.table.focus()
        if self.console.loaded:
            self.fleet_loaded()
        else:
            self.call_after_refresh(self._update_detail)

    @property
    def table(self) -> FleetTable:
        return self.query_one("#fleet", FleetTable)

    def focus_body(self) -> None:
        self.table.focus()

    # ------------------------------------------------------------------ data

    def _row(self, f: AppFacts) -> Row:
        c = self.console
        return rows.row(f, c.now(), ascii=c.ascii, subjects=c.subjects)

    def fleet_loaded(self) -> None:
        facts = self.console.facts
        width = rows.name_width(facts)
        if width != self._name_width:
            self._name_width = width
            self.table.set_columns(rows.columns(width))
        self._stats = None
        built = {rows.row_key(f): self._row(f) for f in facts.values()}
        self._key_of = {f.name: rows.row_key(f) for f in facts.values()}
        self._rows = built
        self._apply_filter(rebuild_groups=False)
        first = self.table.cursor_key is None
        self.table.set_rows(built.values(), self._groups())
        self._apply_filter()
        if first and self.table.row_keys:
            self.table.move_to(self.table.row_keys[0])
        self._update_detail()

    def fleet_changed(self, changed: dict[str, object]) -> None:
        """Apply one flush: only the changed applications' rows are rebuilt and compared; the
        table repaints the rows that differ (no clear and refill)."""
        facts = self.console.facts
        longest = max((len(n) for n in changed if n in facts), default=0)
        if rows.name_width([" " * longest]) > self._name_width:
            self.fleet_loaded()
            return
        self._stats = None
        updates, removed = [], []
        for name in changed:
            f = facts.get(name)
            old_key = self._key_of.get(name)
            new_key = rows.row_key(f) if f is not None else None
            if old_key is not None and old_key != new_key:
                removed.append(old_key)
                self._rows.pop(old_key, None)
                self._key_of.pop(name, None)
                if self._shown is not None:
                    self._shown.discard(old_key)
            if f is None or new_key is None:
                continue
            self._key_of[name] = new_key
            row = self._row(f)
            if self._rows.get(new_key) != row:
                updates.append(row)
                self._rows[new_key] = row
            if self._shown is not None:
                if self.filter.matches(f):
                    self._shown.add(new_key)
                else:
                    self._shown.discard(new_key)
        self.table.update_rows(updates, removed=removed, groups=self._groups())
        if self.filter.active:
            self.table.set_filter(self._shown)
        self._update_detail()

    def subjects_loaded(self) -> None:
        """Commit subjects only show in the COMMIT column of wide terminals: rows are rebuilt
        when it is on screen (and on the resize that shows it), not for every new subject."""
        if "subject" in self.table.shown_columns():
            self.fleet_changed({n: None for n in self.console.facts})
        else:
            self._subjects_stale = True

    def on_resize(self) -> None:
        super().on_resize()
        self.call_after_refresh(self._subjects_if_shown)

    def _subjects_if_shown(self) -> None:
        if self._subjects_stale and "subject" in self.table.shown_columns():
            self._subjects_stale = False
            self.fleet_changed({n: None for n in self.console.facts})

    def refresh_ages(self) -> None:
        self.fleet_changed({n: None for n in self.console.facts})

    def _groups(self) -> dict[str, Group]:
        if self._stats is None:
            self._stats = rows.stats(self.console.facts.values())
        return rows.titles(self._stats, ascii=self.console.ascii, shown=self._shown)

    # ------------------------------------------------------------------ filter

    def set_filter_text(self, text: str) -> None:
        self.filter = fleetfilter.parse(text)
        box = self.query_one("#filter", Input)
        if box.value != text:
            box.value = text
        self._apply_filter()

    def _apply_filter(self, rebuild_groups: bool = True) -> None:
        facts = self.console.facts.values()
        self._shown = (
            {rows.row_key(f) for f in facts if self.filter.matches(f)} if self.filter.active else None
        )
        if rebuild_groups:
            self.table.update_rows((), groups=self._groups())
            self.table.set_filter(self._shown)
            if self.filter.active and self._shown and self.table.cursor_key not in self._shown:
                first = next((k for k in self.table.row_keys if k in self._shown), None)
                if first:
                    self.table.move_to(first)
        self._update_detail()
        self.refresh_status()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter = fleetfilter.parse(event.value)
            self._apply_filter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.input.display = bool(event.value)
            self.table.focus()
            event.stop()
            return
        super().on_input_submitted(event)

    def back(self) -> bool:
        box = self.query_one("#filter", Input)
        if box.has_focus:
            box.display = bool(box.value)
            self.table.focus()
            return True
        if self.filter.active:
            box.value = ""
            box.display = False
            self.set_filter_text("")
            return True
        return False

    def action_next_match(self, forward: bool) -> None:
        if self.filter.active:
            keys = self._shown or set()
        else:
            keys = {rows.row_key(f) for f in self.console.facts.values() if f.problem}
        if not self.table.jump(keys, forward):
            self.console.set_notice("no match" if self.filter.active else "no application needs attention")

    def action_fold_all(self) -> None:
        projects = {f.project for f in self.console.facts.values()}
        collapse = not all(self.table.collapsed(p) for p in projects)
        for p in projects:
            self.table.set_collapsed(p, collapse)

    # ------------------------------------------------------------------ selection

    def selected(self) -> AppFacts | None:
        key = self.table.cursor_key
        if not key or key.startswith(group_key("")):
            return None
        project, _, name = key.partition("/")
        f = self.console.facts.get(name)
        return f if f is not None and f.project == project else None

    def on_fleet_table_highlighted(self, event: FleetTable.Highlighted) -> None:
        self._update_detail()

    def on_fleet_table_selected(self, event: FleetTable.Selected) -> None:
        f = self.selected()
        if f is not None:
            self.console.open_app(f.name)

    def action_changes(self) -> None:
        self.console.open_changes(None)

    def action_copy_name(self) -> None:
        f = self.selected()
        if f is not None:
            self.app.copy_to_clipboard(f.name)
            self.console.set_notice(f"copied {f.name}")

    def _update_detail(self) -> None:
        if not self.is_mounted:
            return
        detail = self.query_one("#detail", Static)
        c = self.console
        if not c.loaded:
            detail.update(safe_text("loading applications from the control cluster…"))
            return
        if not c.facts:
            detail.update(
                safe_text("no applications in this workspace: add some with `trueup apply -f FILE`")
            )
            return
        f = self.selected()
        if f is None:
            key = self.table.cursor_key or ""
            project = key[len(group_key("")) :]
            apps = [x for x in c.facts.values() if x.project == project]
            bad = sum(1 for x in apps if x.problem)
            detail.update(
                safe_text(
                    f"project {project}: {plural(len(apps), 'application')}, {bad} need attention · space folds"
                )
            )
            return
        parts = [f.name, label(f.overall, ascii=c.ascii)]
        if f.health_since and f.health != "Healthy":
            parts.append(f"{f.health} for {age(f.health_since, c.now())}")
        if f.sync != "Synced":
            parts.append(f"{f.sync}" + (f" to {short(f.revision)}" if f.revision else ""))
            if f.synced_revision and f.revision and f.synced_revision != f.revision:
                parts.append(f"running {short(f.synced_revision)}")
        if f.operation:
            parts.append(f"operation {f.operation}")
        if f.window:
            parts.append(f"window: {f.window}")
        head = " · ".join(visible(p) for p in parts)
        out = safe_text(head)
        if f.message:
            out.append("\n")
            append_safe(out, f.message)
        detail.update(out)

    def status_extra(self) -> str:
        if not self.filter.active:
            return ""
        n = len(self._shown or ())
        text = f"filter {visible(self.filter.text)} → {n} of {len(self.console.facts)}"
        if self.filter.error:
            text += f" ({self.filter.error})"
        return text
