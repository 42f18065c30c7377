"""AppFacts (engine) -> FleetTable rows, groups and columns (plain widget values).

Kept free of screens so the benchmark and tests build exactly what the console shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

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


@lru_cache(maxsize=256)
def _status_unicode(word: str) -> Cell:
    return Cell(label(word), tone_of(word))


@lru_cache(maxsize=256)
def _status_ascii(word: str) -> Cell:
    return Cell(label(word, ascii=True), tone_of(word))


def cells(f: AppFacts, now: datetime, *, ascii: bool, subjects: Mapping[str, str]) -> dict[str, Cell]:
    status = _status_ascii if ascii else _status_unicode
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


@dataclass
class ProjectStats:
    keys: list[str]
    syncs: Counter[str]
    healths: Counter[str]
    worst: int


def stats(facts: Iterable[AppFacts]) -> dict[str, ProjectStats]:
    """Per-project counts, computed when the fleet changes (not on every filter keystroke)."""
    out: dict[str, ProjectStats] = {}
    for f in facts:
        st = out.get(f.project)
        if st is None:
            st = out[f.project] = ProjectStats([], Counter(), Counter(), f.rank)
        st.keys.append(row_key(f))
        st.syncs[f.sync] += 1
        st.healths[f.health] += 1
        st.worst = min(st.worst, f.rank)
    return out


def groups(facts: Iterable[AppFacts], *, ascii: bool, shown: set[str] | None = None) -> dict[str, Group]:
    return titles(stats(facts), ascii=ascii, shown=shown)


def titles(by: Mapping[str, ProjectStats], *, ascii: bool, shown: set[str] | None = None) -> dict[str, Group]:
    """One header per project: counts by sync and health; projects with problems first."""
    out: dict[str, Group] = {}
    for project, st in by.items():
        syncs, healths = st.syncs, st.healths
        n_apps = len(st.keys)
        title = [Cell(project), Cell(f"  {n_apps} app{'s' if n_apps != 1 else ''}", "muted")]
        if shown is not None:
            n = sum(1 for k in st.keys if k in shown)
            title.append(Cell(f" ({n} shown)", "muted"))
        title.append(Cell("  · ", "muted"))
        for word in ("Synced", "OutOfSync", "Unknown"):
            if syncs.get(word):
                title.append(Cell(f"{symbol_of(word, ascii=ascii)} {syncs[word]} {word} ", tone_of(word)))
        title.append(Cell(" · ", "muted"))
        for word in ("Healthy", "Progressing", "Suspended", "Missing", "Degraded", "Unknown"):
            if healths.get(word):
                title.append(Cell(f"{symbol_of(word, ascii=ascii)} {healths[word]} {word} ", tone_of(word)))
        out[project] = Group(project, title, (st.worst, project))
    return out
