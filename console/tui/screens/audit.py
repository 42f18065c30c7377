"""The audit screen (`:audit`, `A`): the control cluster's tamper-evident audit chain, newest
first, filtered by `app:NAME actor:USER incident:ID` (or free text), with the chain's
verification state (verified up to record N, or the first bad record) and `e` to export the
incident report of the filtered incident as Markdown (to `.trueup/reports/`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from console.engine.audit.report import actor_text, details, reason_matches
from console.tui.messages import Loaded
from console.tui.screens.base import ConsoleScreen
from widgets.fleet_table import Cell, Column, FleetTable, Row
from widgets.safe_text import visible
from widgets.text import append_safe, safe_text

COLUMNS = [
    Column("seq", "SEQ", 5, 99),
    Column("time", "TIME", 19, 60),
    Column("actor", "ACTOR", 18, 90),
    Column("action", "ACTION", 22, 95),
    Column("app", "APP", 22, 97),
    Column("phase", "PHASE", 7, 70),
    Column("outcome", "OUTCOME", 10, 92),
    Column("reason", "REASON", 0, 80, min_width=12, flex=True),
]
OUTCOME_TONE = {
    "succeeded": "ok",
    "requested": "ok",
    "pending": "progress",
    "denied": "bad",
    "blocked": "warn",
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class AuditFilter:
    app: str = ""
    actor: str = ""
    incident: str = ""
    text: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, line: str) -> AuditFilter:
        out = cls()
        for word in line.split():
            key, sep, value = word.partition(":")
            if sep and key in ("app", "actor", "incident"):
                setattr(out, key, value)
            else:
                out.text.append(word.lower())
        return out

    def matches(self, rec: dict[str, Any]) -> bool:
        if self.app and rec.get("app") != self.app:
            return False
        if self.actor and (rec.get("actor") or {}).get("user") != self.actor:
            return False
        if self.incident and not reason_matches(str(rec.get("reason") or ""), self.incident):
            return False
        hay = " ".join(
            str(rec.get(k) or "") for k in ("action", "app", "reason", "message", "outcome")
        ).lower()
        return all(t in hay for t in self.text)


class AuditScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="audit.filter",
            tooltip="Filter: app:NAME actor:USER incident:ID text",
        ),
        Binding(
            "e",
            "export",
            "Export report",
            id="audit.export",
            tooltip="Write the incident report (Markdown) to a file",
        ),
        Binding("v", "reload", "Verify", id="audit.verify", tooltip="Read and verify the chain again"),
    ]

    def __init__(self, filter_text: str = "") -> None:
        super().__init__()
        self.filter_text = filter_text
        self.records: list[dict[str, Any]] = []
        self.verdict: Any = None
        self.loading = True
        self.error = ""
        self._gen = 0

    def crumbs(self) -> list[str]:
        return ["trueup", "Audit", self.filter_text or "all"]

    def compose(self) -> ComposeResult:
        yield from self.top()
        yield Static(id="audit-verdict", classes="detail")
        yield Input(
            value=self.filter_text,
            placeholder="filter: app:NAME actor:USER incident:INC-1234 text",
            id="audit-filter",
            classes="line",
        )
        yield FleetTable(COLUMNS, grouped=False, id="audit-table")
        yield Static(id="detail", classes="detail")
        yield from self.bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#audit-filter", Input).display = bool(self.filter_text)
        self.query_one("#audit-verdict", Static).update(safe_text("reading and verifying the audit chain…"))
        self.reload()
        self.table.focus()

    @property
    def table(self) -> FleetTable:
        return self.query_one("#audit-table", FleetTable)

    def focus_body(self) -> None:
        self.table.focus()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        from console.engine.audit.chain import AuditChain
        from console.engine.audit.verify import verify_chain

        c = self.console
        root = c.ws.root

        def fetch() -> tuple[list[dict[str, Any]], Any]:
            from console.engine.workspace import load

            chain = AuditChain(load(root).control())
            return chain.records(), verify_chain(chain)

        self._gen = c.next_generation()
        c.load(self, "audit", self._gen, fetch)

    def on_loaded(self, message: Loaded) -> None:
        if message.what != "audit" or message.generation != self._gen:
            return
        message.stop()
        self.loading = False
        if message.error:
            self.error = message.error
        else:
            self.error = ""
            self.records, self.verdict = message.value
        self._render_records()

    def _render_records(self) -> None:
        v = self.verdict
        box = self.query_one("#audit-verdict", Static)
        if self.error:
            box.update(safe_text(f"✖ cannot read the audit chain: {self.error}"))
        elif v is not None and v.ok:
            box.update(
                safe_text(
                    f"✔ chain verified up to record {v.head_seq} ({v.records} records, head {v.head_hash[:12]})"
                )
            )
        elif v is not None:
            box.update(
                safe_text(f"✖ chain NOT verified: first bad record {v.bad_seq} ({v.bad_where}): {v.problem}")
            )
        flt = AuditFilter.parse(self.filter_text)
        rows = []
        for rec in reversed(self.records):
            if not flt.matches(rec):
                continue
            action = str(rec.get("action") or "") + (" ⚠break-glass" if rec.get("breakGlass") else "")
            outcome = str(rec.get("outcome") or "")
            rows.append(
                Row(
                    str(rec.get("seq")),
                    "",
                    {
                        "seq": Cell(str(rec.get("seq"))),
                        "time": Cell(str(rec.get("time") or "")[:19].replace("T", " "), "muted"),
                        "actor": Cell(actor_text(rec)),
                        "action": Cell(action, "warn" if rec.get("breakGlass") else ""),
                        "app": Cell(str(rec.get("app") or "-")),
                        "phase": Cell(str(rec.get("phase") or "")),
                        "outcome": Cell(
                            outcome,
                            OUTCOME_TONE.get(
                                outcome, "bad" if outcome in ("failed", "error", "invalid") else ""
                            ),
                        ),
                        "reason": Cell(str(rec.get("reason") or "-")),
                    },
                    (-int(rec.get("seq") or 0),),
                )
            )
        self.shown = len(rows)
        self.table.set_rows(rows, {})
        self._detail()
        self.refresh_crumbs()
        self.refresh_status()

    def selected(self) -> dict[str, Any] | None:
        key = self.table.cursor_key
        return next((r for r in self.records if str(r.get("seq")) == key), None)

    def on_fleet_table_highlighted(self, event: FleetTable.Highlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        rec = self.selected()
        box = self.query_one("#detail", Static)
        if rec is None:
            box.update(safe_text("no audit record matches" if not self.loading else ""))
            return
        out = safe_text(
            f"#{rec.get('seq')} {rec.get('time')} · {actor_text(rec)} · {rec.get('action')} {rec.get('phase')}"
        )
        out.append("\n")
        append_safe(out, details(rec) or "-")
        box.update(out)

    # -- filter ------------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#audit-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "audit-filter":
            self.filter_text = event.value.strip()
            if not self.loading:
                self._render_records()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "audit-filter":
            event.input.display = bool(event.value)
            self.table.focus()
            event.stop()
            return
        super().on_input_submitted(event)

    def back(self) -> bool:
        box = self.query_one("#audit-filter", Input)
        if box.has_focus:
            box.display = bool(box.value)
            self.table.focus()
            return True
        return False

    # -- export ------------------------------------------------------------------------------
    def incident(self) -> str:
        flt = AuditFilter.parse(self.filter_text)
        if flt.incident:
            return flt.incident
        rec = self.selected()
        return (
            str((rec or {}).get("reason") or "").split()[0].rstrip(":,;") if rec and rec.get("reason") else ""
        )

    def action_export(self) -> None:
        """The incident report of `incident:ID` (or of the selected record's reason) as Markdown."""
        from console.engine.audit.report import incident_report, render_markdown

        incident = self.incident()
        if not incident or self.verdict is None:
            self.console.set_notice(
                "filter by incident:ID (or select a record with a reason) to export its report", error=True
            )
            return
        report = incident_report(
            incident, self.records, self.verdict, f"control cluster {self.console.ws.control_cluster}"
        )
        folder = self.console.ws.state_dir / "reports"
        name = f"incident-{_SAFE.sub('_', incident)[:60] or 'report'}.md"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(render_markdown(report), encoding="utf-8")
        except OSError as exc:
            self.console.set_notice(f"cannot write the report: {exc.strerror}", error=True)
            return
        where = (folder / name).relative_to(self.console.ws.root)
        self.console.set_notice(
            f"incident report {visible(incident)} ({len(report['records'])} records) written to {where}"
        )

    def status_extra(self) -> str:
        if self.loading:
            return "loading the audit chain…"
        return f"{getattr(self, 'shown', 0)} of {len(self.records)} records"
