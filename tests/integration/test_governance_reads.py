"""Reads are filtered to what the user may `get`; `--as` needs `accounts, impersonate`; a workspace
with no policy denies everyone but Argo's built-in `admin`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.engine import yamlsafe
from tests.conftest import run_cli
from tests.helpers import application, make_workspace, project

POLICY = """p, viewer-a, applications, get, team-a/*, allow
p, viewer-a, projects, get, team-a, allow
p, lead, accounts, impersonate, viewer-*, allow
g, lead, role:admin
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reads")
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n"
    workspace, url, _work = make_workspace(root, {"a/cm.yaml": cm, "b/cm.yaml": cm})
    doc = yamlsafe.load_one((root / "trueup.yaml").read_bytes(), "trueup.yaml")
    doc["rbac"] = {"policy": POLICY, "default": ""}
    (root / "trueup.yaml").write_text(yamlsafe.dump(doc))
    control = workspace.control()
    for team in ("team-a", "team-b"):
        control.create(
            project(team, sourceRepos=["*"], destinations=[{"name": "dev", "namespace": "*"}]),
            field_manager="t",
        )
    control.create(application("a1", url, "a", project="team-a"), field_manager="t")
    control.create(application("b1", url, "b", project="team-b"), field_manager="t")
    return root


def cli(ws: Path, user: str, *args: str) -> Any:
    return run_cli("-w", str(ws), *args, env={"TRUEUP_USER": user})


def test_lists_show_only_what_the_user_may_get(ws: Path) -> None:
    assert cli(ws, "viewer-a", "app", "list", "-o", "name").stdout.split() == ["a1"]
    assert [
        p["metadata"]["name"] for p in json.loads(cli(ws, "viewer-a", "project", "list", "-o", "json").stdout)
    ] == ["team-a"]
    assert cli(ws, "lead", "app", "list", "-o", "name").stdout.split() == ["a1", "b1"]
    assert cli(ws, "nobody", "app", "list", "-o", "name").stdout == ""


@pytest.mark.parametrize(
    "cmd", [("app", "get", "b1"), ("app", "diff", "b1"), ("app", "history", "b1"), ("app", "manifests", "b1")]
)
def test_reading_another_projects_app_is_denied(ws: Path, cmd: tuple[str, ...]) -> None:
    r = cli(ws, "viewer-a", *cmd)
    assert r.returncode == 3
    assert r.stderr.strip() == (
        "trueup: permission denied: viewer-a may not get applications/team-b/b1 "
        "(needs: applications, get, team-b/b1) [identity unverified]"
    )


def test_refresh_needs_get(ws: Path) -> None:
    r = cli(ws, "viewer-a", "refresh", "b1")
    assert r.returncode == 3 and "viewer-a may not get applications/team-b/b1" in r.stderr
    r = cli(ws, "nobody", "refresh")
    assert r.returncode == 3 and "nothing to refresh" in r.stderr
    r = cli(ws, "viewer-a", "refresh", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert [a["name"] for a in json.loads(r.stdout)["applications"]] == ["a1"]


def test_no_policy_means_only_admin(ws: Path) -> None:
    r = cli(ws, "viewer-a", "app", "sync", "a1")
    assert r.returncode == 3 and "(needs: applications, sync, team-a/a1)" in r.stderr
    r = cli(ws, "admin", "app", "sync", "a1", "--dry-run")
    assert r.returncode == 0, r.stderr


def test_impersonation(ws: Path) -> None:
    r = cli(ws, "lead", "--as", "viewer-a", "app", "list", "-o", "name")
    assert r.returncode == 0 and r.stdout.split() == ["a1"]
    r = cli(ws, "lead", "app", "sync", "b1", "--dry-run", "--as", "viewer-a")
    assert r.returncode == 3 and "viewer-a may not sync" in r.stderr
    records = json.loads(cli(ws, "lead", "audit", "list", "--app", "b1", "-o", "json").stdout)
    assert records[-1]["actor"]["user"] == "viewer-a" and records[-1]["actor"]["impersonatedBy"] == "lead"
    r = cli(ws, "lead", "--as", "admin", "whoami")
    assert (
        r.returncode == 3
        and "lead (unverified) may not impersonate admin (needs: accounts, impersonate, admin)" in r.stderr
    )
    r = cli(ws, "viewer-a", "--as", "lead", "whoami")
    assert r.returncode == 3


def test_create_set_and_apply_go_through_the_gate(ws: Path, tmp_path: Path) -> None:
    """onboarding's mutations (manage.attempt) are authorised and audited like the others."""
    r = cli(ws, "viewer-a", "app", "set", "a1", "--dest-namespace", "elsewhere")
    assert (
        r.returncode == 3
        and "viewer-a may not update applications/team-a/a1 (needs: applications, update, team-a/a1)"
        in r.stderr
    )
    manifest = tmp_path / "app.yaml"
    manifest.write_text(cli(ws, "lead", "app", "get", "a1", "-o", "yaml").stdout)
    r = cli(ws, "viewer-a", "apply", "-f", str(manifest))
    assert r.returncode == 3 and "may not update applications/team-a/a1" in r.stderr
    r = cli(ws, "lead", "app", "set", "a1", "--sync-option", "CreateNamespace=true", "--reason", "CHG-9")
    assert r.returncode == 0, r.stderr
    recs = json.loads(cli(ws, "lead", "audit", "list", "--app", "a1", "-o", "json").stdout)
    assert [(x["actor"]["user"], x["action"], x["outcome"]) for x in recs[-2:]] == [
        ("lead", "update", "pending"),
        ("lead", "update", "succeeded"),
    ]
    assert recs[-1]["reason"] == "CHG-9"
    assert any(x["actor"]["user"] == "viewer-a" and x["outcome"] == "denied" for x in recs)
    r = cli(ws, "lead", "app", "set", "a1", "--auto-sync", "on", "--dest-namespace", "x")
    assert r.returncode == 2 and "--auto-sync is its own (audited) action" in r.stderr


def test_observing_another_projects_app_is_denied(ws: Path) -> None:
    """`app resources|events|logs` are reads like `app get`; logs also need `logs, get`."""
    for cmd in (("app", "resources", "b1"), ("app", "events", "b1"), ("app", "logs", "b1")):
        r = cli(ws, "viewer-a", *cmd)
        assert r.returncode == 3, (cmd, r.stderr)
        assert "viewer-a may not get applications/team-b/b1" in r.stderr
    r = cli(ws, "viewer-a", "app", "logs", "a1")  # may get the app, not its logs
    assert r.returncode == 3
    assert "viewer-a may not get logs/team-a/a1 (needs: logs, get, team-a/a1)" in r.stderr


def test_the_change_timeline_shows_only_visible_apps_and_their_audit_records(ws: Path) -> None:
    r = cli(ws, "lead", "app", "set", "b1", "--sync-option", "CreateNamespace=true", "--reason", "CHG-77")
    assert r.returncode == 0, r.stderr
    rows = json.loads(cli(ws, "lead", "changes", "-o", "json").stdout)
    audit = [c for c in rows if c["kind"] == "audit" and c["app"] == "b1"]
    assert audit and audit[0]["actor"] == "lead (unverified)"
    assert audit[0]["outcome"] == "succeeded" and 'reason: "CHG-77"' in audit[0]["summary"]
    seen = {c["app"] for c in json.loads(cli(ws, "viewer-a", "changes", "-o", "json").stdout)}
    assert seen <= {"a1"}
    r = cli(ws, "viewer-a", "changes", "b1")
    assert r.returncode == 2 and "application 'b1' not found" in r.stderr


async def test_the_console_shows_only_what_the_user_may_get(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.engine.workspace import load
    from console.tui.app import TrueupApp

    for user, expected in (("viewer-a", {"a1"}), ("lead", {"a1", "b1"}), ("nobody", set())):
        monkeypatch.setenv("TRUEUP_USER", user)
        app = TrueupApp(load(ws), live=False)
        async with app.run_test(size=(120, 36)) as pilot:
            for _ in range(400):
                if app.loaded:
                    break
                await pilot.pause(0.05)
            assert app.loaded and set(app.fleet) == expected, user
            assert app.user == user and app.identity_note == "unverified"
