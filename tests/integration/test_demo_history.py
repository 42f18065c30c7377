"""The demo records its initial deployment as a sync would (issue 7 item 13): history entry 0 with
the revision, source, deployedAt and initiatedBy, so the README's `app rollback APP 0` works."""

from __future__ import annotations

import json
from pathlib import Path

import git

from tests.conftest import run_cli


def test_every_demo_app_has_its_initial_deployment_and_rollback_to_0_works(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    assert run_cli("demo", "init", str(ws)).returncode == 0
    root = str(ws)
    first = list(git.Repo(ws / "git" / "fleet.git").iter_commits("main"))[-1].hexsha
    apps = json.loads(run_cli("-w", root, "app", "list", "-o", "json").stdout)
    assert len(apps) == 11
    for app in apps:
        r = run_cli("-w", root, "app", "history", app["name"], "-o", "json")
        assert r.returncode == 0, r.stderr
        (entry,) = json.loads(r.stdout)
        assert entry["id"] == 0 and entry["revision"] == first
        assert entry["source"]["repoURL"] == app["repoURL"] and entry["source"]["path"] == app["path"]
        assert entry["deployedAt"].endswith("Z")
        assert entry["initiatedBy"] == {"username": "demo-bootstrap", "automated": False}
    table = run_cli("-w", root, "app", "history", "payments-api-prod-us")
    row = table.stdout.splitlines()[1].split()  # ID DATE REVISION INITIATED-BY
    assert (row[0], row[2], row[3]) == ("0", first, "demo-bootstrap")

    assert run_cli("-w", root, "refresh").returncode == 0
    rb = run_cli("-w", root, "app", "rollback", "payments-api-prod-us", "0", "-o", "json")
    assert rb.returncode == 0, rb.stderr
    state = json.loads(rb.stdout)["operationState"]
    assert state["phase"] == "Succeeded" and state["syncResult"]["revision"] == first
    ids = [
        h["id"]
        for h in json.loads(
            run_cli("-w", root, "app", "history", "payments-api-prod-us", "-o", "json").stdout
        )
    ]
    assert ids == [0, 1]
    # auto-sync apps refuse, as in Argo CD (exit 4), naming the reason in one line
    refused = run_cli("-w", root, "app", "rollback", "identity-api-prod-us", "0")
    assert refused.returncode == 4 and len(refused.stderr.strip().splitlines()) == 1
    assert "rollback cannot be initiated when auto-sync is enabled" in refused.stderr
    assert "--break-glass --reason <incident> --confirm identity-api-prod-us" in refused.stderr
