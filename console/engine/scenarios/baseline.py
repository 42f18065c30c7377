"""The drill baseline: the workspace as it was before the first scenario, and putting it back.

`save` runs before the first drill since the last reset: every sim cluster through SQLite's online
backup (objects, clocks, events, controller queues, the audit chain), and the workspace's files —
`trueup.yaml` and every top-level directory except `.trueup/` (the Git repositories, the working
clone, team runbooks). `restore` writes the clusters back through their own connections (so an
open console sees the restored state at its next read) and replaces those files and directories
exactly; new top-level entries made since (an exported report, notes) are left alone and listed.
Caches under `.trueup/cache` are not part of it: they are keyed by commit SHA or refetched.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.engine.workspace import STATE_DIR, WORKSPACE_FILE, Workspace

DIR = "scenarios"
_MANIFEST = "manifest.json"


@dataclass
class RestoreReport:
    clusters: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    drills: list[dict[str, Any]] = field(default_factory=list)


def root(ws: Workspace) -> Path:
    return ws.state_dir / DIR / "baseline"


def exists(ws: Workspace) -> bool:
    return (root(ws) / _MANIFEST).is_file()


def manifest(ws: Workspace) -> dict[str, Any]:
    try:
        data = json.loads((root(ws) / _MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _entries(ws: Workspace) -> list[Path]:
    return sorted(p for p in ws.root.iterdir() if p.name != STATE_DIR and not p.name.startswith(".trueup"))


def save(ws: Workspace, when: str) -> None:
    """Take the baseline (atomically: a half-written one is never used)."""
    parent = ws.state_dir / DIR
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".baseline-", dir=parent))
    try:
        (tmp / "clusters").mkdir()
        for cfg in ws.clusters.values():
            cluster = ws.open_cluster(cfg.name)
            backup = getattr(cluster, "backup_to", None)
            if not callable(backup):
                raise ValueError(f"cluster {cfg.name} is not a sim cluster")
            backup(tmp / "clusters" / f"{cfg.name}.db")
        files = tmp / "files"
        files.mkdir()
        names = []
        for entry in _entries(ws):
            if entry.is_symlink() or entry.is_file():
                shutil.copy2(entry, files / entry.name, follow_symlinks=False)
            elif entry.is_dir():
                shutil.copytree(entry, files / entry.name, symlinks=True)
            names.append(entry.name)
        (tmp / _MANIFEST).write_text(
            json.dumps(
                {"savedAt": when, "clusters": sorted(ws.clusters), "paths": names, "drills": []}, indent=2
            )
        )
        tmp.rename(root(ws))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def record_drill(ws: Workspace, entry: dict[str, Any]) -> None:
    data = manifest(ws)
    data.setdefault("drills", []).append(entry)
    path = root(ws) / _MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def restore(ws: Workspace) -> RestoreReport:
    """Put everything the baseline holds back, then drop the baseline."""
    base = root(ws)
    data = manifest(ws)
    report = RestoreReport(drills=list(data.get("drills") or []))
    for name in data.get("clusters") or []:
        if name not in ws.clusters:
            continue
        cluster = ws.open_cluster(name)
        restore_from = getattr(cluster, "restore_from", None)
        src = base / "clusters" / f"{name}.db"
        if callable(restore_from) and src.is_file():
            restore_from(src)
            report.clusters.append(name)
    saved = set(data.get("paths") or [])
    files = base / "files"
    for name in sorted(saved):
        target = ws.root / name
        src = files / name
        if name == WORKSPACE_FILE or src.is_file() or src.is_symlink():
            _remove(target)
            if src.exists() or src.is_symlink():
                shutil.copy2(src, target, follow_symlinks=False)
        else:
            _remove(target)
            if src.is_dir():
                shutil.copytree(src, target, symlinks=True)
        report.paths.append(name)
    for entry in _entries(ws):
        if entry.name not in saved:
            # a drill may rename a saved entry (the Git server "losing" a repository inside it),
            # but never creates top-level entries: these are the person's own files
            report.left.append(entry.name)
    shutil.rmtree(base, ignore_errors=True)
    return report


def discard(ws: Workspace) -> None:
    shutil.rmtree(root(ws), ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
