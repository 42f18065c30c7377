"""AppFacts (engine) -> FleetTable rows, groups and columns (plain widget values).

Kept free of screens so the benchmark and tests build exactly what the console shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from console.engine.fleet import AppFacts
from console.tui.format import age, short
from widgets.fleet_table import Cell, Column, Group, Row
from widgets.status import label, symbol_of, tone_of

_AUTO = {
    "off": "off",
    "on": "on",
    "on, prune": "on+prune",
    "on, self-heal": "on+heal",
    "on, prune, self-heal": "on+prune+heal",
}


def columns(name_width: int) -> list[Column]:
    """Priorities decide what an 80-column terminal keeps: NAME, STATUS, SYNC, MESSAGE first."""
    return [
        Column("name", "NAME", name_width, 100),
        Column("status", "STATUS", 13, 95),
        Column("sync", "SYNC", 11, 85),
        Column("health", "HEALTH", 13, 80),
        Column("dest", "CLUSTER/NAMESPACE", 22, 60),
        Column("revision", "REV", 7, 50),
        Column("last", "LAST SYNC", 11, 55),
        Column("auto", "AUTO-SYNC", 13, 40),
        Column("window", "WINDOW", 16, 35),
        Column("subject", "COMMIT", 44, 10),
        Column("message", "MESSAGE", 0, 90, min_width=20, flex=True),
    ]


def name_width(names: Iterable[str]) -> int:
    return max(16, min(42, 2 + max((len(n) for n in names), default=0)))


def row_key(f: AppFacts) -> str:
    """Stable row id (project, name): never the name alone (argonaut #231)."""
    return f"{f.project}/{f.name}"


def cells(f: AppFacts, now: datetime, *, ascii: bool, subjects: Mapping[str, str]) -> dict[str, Cell]:
    def status(word: str) -> Cell:
        return Cell(label(word, ascii=ascii), tone_of(word))

    last = ""
    if f.last_sync:
        phase = f.last_sync_phase or "Succeeded"
        last = f"{symbol_of(phase, ascii=ascii)} {age(f.last_sync, now)}"
    rev = f.revision or f.synced_revision
    return {
        "name": Cell(f.name),
        "status": status(f.overall),
        "sync": status(f.sync),
        "health": status(f.health),
        "dest": Cell(f"{f.cluster}/{f.namespace}" if f.namespace else f.cluster),
        "revision": Cell(
            short(rev),
            "warn" if f.sync == "OutOfSync" and f.synced_revision and rev != f.synced_revision else "",
        ),
        "last": Cell(last, tone_of(f.last_sync_phase) if f.last_sync_phase != "Succeeded" else "muted"),
        "auto": Cell(_AUTO.get(f.auto_sync, f.auto_sync), "muted" if f.auto_sync == "off" else ""),
        "window": Cell(label(f.window, ascii=ascii), tone_of(f.window)) if f.window else Cell(""),
        "subject": Cell(subjects.get(rev, "")),
        "message": Cell(f.message, "bad" if f.overall in ("Degraded", "Error", "SyncFailed") else ""),
    }


def row(f: AppFacts, now: datetime, *, ascii: bool, subjects: Mapping[str, str]) -> Row:
    return Row(row_key(f), f.project, cells(f, now, ascii=ascii, subjects=subjects), (f.rank, f.name))


def groups(facts: Iterable[AppFacts], *, ascii: bool, shown: set[str] | None = None) -> dict[str, Group]:
    """One header per project: counts by sync and health; projects with problems first."""
    by: dict[str, list[AppFacts]] = {}
    for f in facts:
        by.setdefault(f.project, []).append(f)
    out: dict[str, Group] = {}
    for project, apps in by.items():
        syncs = Counter(a.sync for a in apps)
        healths = Counter(a.health for a in apps)
        title = [Cell(project), Cell(f"  {len(apps)} app{'s' if len(apps) != 1 else ''}", "muted")]
        if shown is not None:
            n = sum(1 for a in apps if row_key(a) in shown)
            title.append(Cell(f" ({n} shown)", "muted"))
        title.append(Cell("  · ", "muted"))
        for word in ("Synced", "OutOfSync", "Unknown"):
            if syncs.get(word):
                title.append(Cell(f"{symbol_of(word, ascii=ascii)} {syncs[word]} {word} ", tone_of(word)))
        title.append(Cell(" · ", "muted"))
        for word in ("Healthy", "Progressing", "Suspended", "Missing", "Degraded", "Unknown"):
            if healths.get(word):
                title.append(Cell(f"{symbol_of(word, ascii=ascii)} {healths[word]} {word} ", tone_of(word)))
        worst = min(a.rank for a in apps)
        out[project] = Group(project, title, (worst, project))
    return out
