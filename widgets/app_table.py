"""A table of Applications grouped by project, updated in place by stable row keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from widgets.status import status_text
from widgets.text import safe_text


@dataclass(frozen=True)
class AppRow:
    """Plain values; the console maps engine data onto this."""

    name: str
    project: str
    cluster: str
    namespace: str
    sync: str
    health: str
    message: str = ""


COLUMNS = (
    ("name", "NAME"),
    ("cluster", "CLUSTER"),
    ("namespace", "NAMESPACE"),
    ("sync", "SYNC"),
    ("health", "HEALTH"),
    ("message", "MESSAGE"),
)


class AppTable(DataTable[Text]):
    """Rows keyed `app:<name>` and `project:<name>`; unchanged cells are not touched on refresh."""

    DEFAULT_CSS = """
    AppTable { height: 1fr; }
    """

    def __init__(self, *, color: bool = True, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._color = color
        self._rows: list[str] = []
        self._values: dict[str, tuple[Text, ...]] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def _cells(self, row: AppRow) -> tuple[Text, ...]:
        """Every value is untrusted (names and messages come from Git and clusters): safe_text
        makes control characters visible and never parses markup."""
        return (
            safe_text("  " + row.name),
            safe_text(row.cluster),
            safe_text(row.namespace or "-"),
            status_text(row.sync, color=self._color),
            status_text(row.health, color=self._color),
            safe_text(row.message[:120]),
        )

    def show(self, rows: Sequence[AppRow]) -> None:
        """Replace the content; rebuilds only when the set/order of rows changed, else updates cells."""
        ordered = sorted(rows, key=lambda r: (r.project, r.name))
        keys: list[str] = []
        values: dict[str, tuple[Text, ...]] = {}
        last_project = None
        for r in ordered:
            if r.project != last_project:
                pk = f"project:{r.project}"
                keys.append(pk)
                count = sum(1 for x in ordered if x.project == r.project)
                values[pk] = (safe_text(f"▾ {r.project} ({count})", style="bold"),) + tuple(
                    Text("") for _ in COLUMNS[1:]
                )
                last_project = r.project
            k = f"app:{r.name}"
            keys.append(k)
            values[k] = self._cells(r)
        if keys != self._rows:
            self.clear()
            for k in keys:
                self.add_row(*values[k], key=k)
        else:
            for k in keys:
                old = self._values.get(k)
                for (col, _label), new, prev in zip(COLUMNS, values[k], old or (), strict=False):
                    if new != prev:
                        self.update_cell(k, col, new)
        self._rows = keys
        self._values = values

    def selected_app(self) -> str | None:
        if not self._rows or self.cursor_row >= len(self._rows):
            return None
        key = self._rows[self.cursor_row]
        return key.split(":", 1)[1] if key.startswith("app:") else None
