"""`app get --refresh / --hard-refresh` (issue 7 item 16), as in argocd: refresh that one app before
showing it; hard = regenerate its manifests instead of reading the manifest cache."""

from __future__ import annotations

import json
from pathlib import Path

from console.engine.workspace import load
from tests.conftest import run_cli
from tests.helpers import application, commit_files, make_workspace

CM = """apiVersion: v1
kind: ConfigMap
metadata: {{name: web-config}}
data: {{greeting: {greeting}}}
"""


def _field(stdout: str, key: str) -> str:
    line = next(line for line in stdout.splitlines() if line.startswith(f"{key}:"))
    return line.split(":", 1)[1].strip()


def test_get_refresh_shows_the_new_commit_and_hard_refresh_ignores_the_manifest_cache(tmp_path: Path) -> None:
    ws, repo, work = make_workspace(tmp_path, {"web/cm.yaml": CM.format(greeting="hello")})
    ws.control().create(application("web", repo, "web"), field_manager="test")
    root = str(tmp_path)
    sync = run_cli("-w", root, "app", "sync", "web")
    assert sync.returncode == 0, sync.stderr
    old = work.head.commit.hexsha
    assert _field(run_cli("-w", root, "app", "get", "web").stdout, "Sync Status") == f"Synced to {old[:7]}"

    # Git moves on: plain `app get` shows the stored (stale) status, --refresh the new commit
    new = commit_files(work, tmp_path / "work", {"web/cm.yaml": CM.format(greeting="bonjour")}, "bonjour")
    assert _field(run_cli("-w", root, "app", "get", "web").stdout, "Sync Status") == f"Synced to {old[:7]}"
    fresh = run_cli("-w", root, "app", "get", "web", "--refresh")
    assert fresh.returncode == 0, fresh.stderr
    assert _field(fresh.stdout, "Sync Status") == f"OutOfSync to {new[:7]}"
    as_json = json.loads(run_cli("-w", root, "app", "get", "web", "--refresh", "-o", "json").stdout)
    assert as_json["status"]["sync"] == {**as_json["status"]["sync"], "status": "OutOfSync", "revision": new}

    # a damaged cached render: --refresh trusts the cache, --hard-refresh regenerates (and re-caches)
    assert run_cli("-w", root, "app", "sync", "web").returncode == 0
    entries = list((load(tmp_path).cache_dir / "manifests").rglob("*.json"))
    assert entries
    for entry in entries:
        data = json.loads(entry.read_text())
        data["o"] = []  # the cache now claims the commit renders nothing
        entry.write_text(json.dumps(data))
    stale = run_cli("-w", root, "app", "get", "web", "--refresh")
    assert _field(stale.stdout, "Sync Status") == f"OutOfSync to {new[:7]}"  # the ConfigMap "needs pruning"
    hard = run_cli("-w", root, "app", "get", "web", "--hard-refresh")
    assert hard.returncode == 0, hard.stderr
    assert _field(hard.stdout, "Sync Status") == f"Synced to {new[:7]}"
    again = run_cli("-w", root, "app", "get", "web", "--refresh")
    assert _field(again.stdout, "Sync Status") == f"Synced to {new[:7]}"  # the regenerated render was stored
    tree = run_cli("-w", root, "app", "get", "web", "--hard-refresh", "-o", "tree")
    assert tree.returncode == 0 and "ConfigMap/web-config" in tree.stdout
