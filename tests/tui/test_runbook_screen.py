"""The runbook screen, driven by Pilot on a fresh demo after a drill: walk the runbook, record
each decision, take an action from a step (prepare the revert), and find the walk-through in the
incident report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from textual.widgets import Input

from console.demo.bootstrap import init_demo
from console.engine.audit.chain import AuditChain
from console.engine.refresh import refresh
from console.engine.scenarios import run as drills
from console.engine.workspace import load
from console.tui.app import TrueupApp
from console.tui.screens.runbook import RunbookScreen
from tests.conftest import run_cli
from tests.tui.conftest import screen_text, settle

pytestmark = pytest.mark.slow
APP = "risk-engine-prod-us"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def drilled(tmp_path: Path) -> tuple[Path, str]:
    init_demo(tmp_path / "demo")
    ws = load(tmp_path / "demo")
    refresh(ws)
    result = drills.run(ws, "bad-commit-autosynced")
    return ws.root, str(result.commits[0]["sha"])


async def test_walk_bad_commit_in_the_console_records_decisions_and_the_prepared_revert(
    drilled: tuple[Path, str],
) -> None:
    root, bad = drilled
    fleet = root / "fleet"
    remote_main = _git("-C", str(fleet), "ls-remote", "origin", "refs/heads/main").split()[0]
    app = TrueupApp(load(root), live=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_app(APP)
        await settle(pilot)
        await pilot.press("b")  # the app screen's runbook key: the runbook that fits
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        assert screen.walk is not None and screen.walk.runbook.name == "bad-commit-autosynced"
        text = screen_text(app)
        assert f"auto-sync deployed {bad[:7]} 'risk-engine: roll out 2.3.8 to prod-us'" in text
        assert "nothing recorded yet" in text

        # Enter without an incident asks for one, then records the decision
        await pilot.press("enter")
        await pilot.pause()
        line = screen.query_one("#incident", Input)
        assert line.display and line.has_focus
        await pilot.press(*"INC-77", "enter")
        await settle(pilot)
        assert 0 in screen.decided and screen.walk_seq is not None
        assert screen.steps.highlighted == 1  # on to the next step

        # the action of step 1: prepare the revert (a branch of the working clone, never pushed)
        await pilot.press("up")
        await pilot.press("a")
        await settle(pilot)
        prepared = screen.taken[0].details["prepared"]
        assert prepared["branch"] == f"trueup/revert/{APP}"
        assert _git("-C", str(fleet), "log", "-1", "--format=%s", prepared["branch"]).startswith("Revert ")
        assert _git("-C", str(fleet), "ls-remote", "origin", "refs/heads/main").split()[0] == remote_main
        assert "Done: revert" in screen_text(app)

        # the rest of the steps: each Enter records one decision and moves to the next step
        await pilot.press("down")
        for _ in range(len(screen.walk.steps) - 1):
            await pilot.press("enter")
            await settle(pilot)
        assert set(screen.decided) == set(range(len(screen.walk.steps)))
        assert f"{len(screen.walk.steps)} decisions" in screen_text(app)

    r = run_cli("-w", str(root), "audit", "report", "--incident", "INC-77", "-o", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["chain"]["ok"]
    [walk] = report["walks"]
    assert walk["runbook"] == "bad-commit-autosynced" and walk["app"] == APP and walk["via"] == "console"
    assert walk["actor"] == "admin (unverified)"
    steps = {s["step"]: s for s in walk["steps"]}
    first = steps["offending-commit"]
    assert first["result"] == "yes" and first["commit"]["sha"] == bad
    assert (
        first["decision"].startswith("Revert or fix the commit")
        and first["suggestedAction"] == "revert-commit"
    )
    assert len(walk["steps"]) == len(screen.walk.steps)
    [taken] = walk["actions"]
    assert taken["type"] == "revert-commit" and taken["prepared"]["branch"] == f"trueup/revert/{APP}"
    assert taken["outcome"] == "succeeded"
    kinds = [e["kind"] for e in report["timeline"]]
    assert "runbook-decision" in kinds and "runbook-action" in kinds
    commit = next(e for e in report["timeline"] if e["kind"] == "commit" and e["revision"] == bad)
    assert commit["summary"] == "risk-engine: roll out 2.3.8 to prod-us"
    assert any(e["kind"] == "action" and e["summary"].startswith("auto-sync") for e in report["timeline"])
    revs = {(x["app"], x["revision"]): x for x in report["revisions"]}
    assert revs[(APP, bad)]["subject"] == "risk-engine: roll out 2.3.8 to prod-us"
    assert (APP, prepared["sha"]) in revs
    assert all(p["rbac"].startswith("allowed (applications, get, risk/") for p in report["policyChecks"])
    assert report["outcome"]["resolved"] is False  # still Degraded: the revert is not pushed yet

    md = run_cli("-w", str(root), "audit", "report", "--incident", "INC-77").stdout
    assert f"## Runbook bad-commit-autosynced on {APP} (walk {walk['walk']})" in md
    assert "| 1 | Which commit did auto-sync deliver, and when? | auto-synced-commit |" in md
    assert "- Action taken: revert-commit:" in md and "## Policy checks" in md and "## Impact" in md


def _records(root: Path) -> list[dict[str, object]]:
    return AuditChain(load(root).control()).records()


async def test_runbook_command_names_apps_and_runbooks_and_records_nothing_by_looking(
    drilled: tuple[Path, str],
) -> None:
    root, _ = drilled
    before = len(_records(root))
    app = TrueupApp(load(root), live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command_line(":runbook nope")
        assert "no runbook named 'nope'" in app.notice and app.notice_error
        app.run_command_line(f":runbook degraded {APP}")  # an alias, for a named app
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunbookScreen) and screen.app_name == APP
        assert screen.walk is not None and screen.walk.runbook.name == "degraded-but-synced"
        await pilot.press("right", "down", "r")  # choose, move, re-check: still nothing recorded
        await settle(pilot)
        await pilot.press("escape")
        app.run_command_line(f":runbook {APP}")  # a lone app name: the runbook that fits it
        await settle(pilot)
        assert isinstance(app.screen, RunbookScreen)
        assert app.screen.walk is not None and app.screen.walk.runbook.name == "bad-commit-autosynced"
    assert len(_records(root)) == before


async def test_sync_suggestions_go_to_the_consoles_action_path(tmp_path: Path) -> None:
    """A sync suggestion opens the console's own action modal (RBAC, windows, break-glass, typed
    confirmation) with the incident as the reason; read-only mode refuses it before any modal."""
    from console.tui.modals.action import ActionModal

    init_demo(tmp_path / "demo")
    ws = load(tmp_path / "demo")
    refresh(ws)
    for write in (False, True):
        app = TrueupApp(load(ws.root), live=False, write=write)
        app.incident = "INC-5"
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            app.run_command_line(":runbook out-of-sync payments-api-prod-us")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, RunbookScreen) and screen.walk is not None
            assert screen.walk.steps[0].branch is not None and screen.walk.steps[0].branch.action == "sync"
            await pilot.press("a")
            await pilot.pause()
            if not write:
                assert "sync payments-api-prod-us: unavailable: read-only" in app.notice
                assert not isinstance(app.screen, ActionModal)
            else:
                modal = app.screen
                assert isinstance(modal, ActionModal)
                assert (modal.action, modal.app_name, modal.prefill) == (
                    "sync",
                    "payments-api-prod-us",
                    {"reason": "INC-5"},
                )
            # handing over runs nothing by itself: the modal asks first
            assert (app.fleet["payments-api-prod-us"].get("status") or {}).get("sync", {}).get(
                "status"
            ) == "OutOfSync"
