"""The console's actions on the demo fleet, driven by Pilot: write mode, sync with preview and
confirmation, break-glass through the deny window, rollback from History with the auto-sync
suspension, RBAC-greyed keys, and the operation another console already runs. Each test gets its
own copy of a live (not frozen) demo: operations really run there, on sim clusters."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.demo.bootstrap import init_demo
from console.engine.appstore import AppStore
from console.engine.audit.chain import AuditChain
from console.engine.gate.identity import resolve
from console.engine.governance import breakglass
from console.engine.refresh import refresh
from console.engine.sync.operation import request_sync
from console.engine.workspace import load
from console.tui.app import TrueupApp
from console.tui.modals.action import ActionModal
from console.tui.modals.help import HelpScreen
from console.tui.screens.application import ApplicationScreen
from console.tui.screens.applications import ApplicationsScreen
from console.tui.screens.audit import AuditScreen
from tests.tui.conftest import screen_text

US, EU, IDENTITY = "payments-api-prod-us", "payments-api-prod-eu", "identity-api-prod-us"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("actions") / "demo"
    refresh(init_demo(root))
    return root


@pytest.fixture
def demo(pristine: Path, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "demo"
    shutil.copytree(pristine, root, symlinks=True)
    yield root


def console(root: Path, user: str, **kw: Any) -> TrueupApp:
    ws = load(root)
    return TrueupApp(ws, live=False, identity=resolve(ws, env={"TRUEUP_USER": user}), **kw)


async def wait_until(pilot: Any, cond: Any, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def ready(pilot: Any) -> None:
    await wait_until(pilot, lambda: pilot.app.loaded)
    await pilot.pause()


def select(app: TrueupApp, name: str) -> ApplicationsScreen:
    home = app.screen_stack[0]
    assert isinstance(home, ApplicationsScreen)
    f = app.facts[name]
    home.table.move_to(f"{f.project}/{name}")
    return home


async def open_modal(pilot: Any) -> ActionModal:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ActionModal))
    modal = pilot.app.screen
    assert isinstance(modal, ActionModal)
    await wait_until(pilot, lambda: modal.state != "loading")
    await pilot.pause()
    return modal


async def finished(pilot: Any, modal: ActionModal) -> None:
    await wait_until(pilot, lambda: modal.state == "done", timeout=120)
    await pilot.pause()


def records(root: Path) -> list[dict[str, Any]]:
    return AuditChain(load(root).control()).records()


def app_obj(root: Path, name: str) -> dict[str, Any]:
    return AppStore(load(root).control()).get_app(name)


async def test_read_only_runs_no_mutation(demo: Path) -> None:
    before_chain = records(demo)
    before = {n: app_obj(demo, n)["metadata"]["resourceVersion"] for n in (US, EU, IDENTITY)}
    app = console(demo, "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        assert app.read_only
        home = select(app, US)
        await pilot.pause()
        state = {k: ab for k, ab in home.active_bindings.items()}
        assert state["s"].enabled is False and "read-only" in (state["s"].tooltip or "")
        await pilot.press("s", "R", "S", "T", "a", "ctrl+d")
        for line in (
            f"sync {US}",
            f"break_glass_sync {EU}",
            f"rollback {US}",
            f"delete {US}",
            f"restart {US}",
        ):
            app.run_command_line(line)
            assert "read-only" in app.notice
        app.open_app(US)
        await pilot.pause(0.5)
        await pilot.press("s", "R", "S", "T", "a", "ctrl+d")
        await pilot.pause(0.5)
        assert not any(isinstance(s, ActionModal) for s in app.screen_stack)
        assert "read-only" in screen_text(app)
    after = {n: app_obj(demo, n)["metadata"]["resourceVersion"] for n in (US, EU, IDENTITY)}
    assert after == before
    assert records(demo) == before_chain


async def test_bob_syncs_prod_us_with_preview_and_confirmation(demo: Path) -> None:
    app = console(demo, "bob", write=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: not app.read_only)  # the write-mode switch is audited first
        select(app, US)
        await pilot.pause()
        await pilot.press("s")
        modal = await open_modal(pilot)
        plan = modal.plan
        assert plan is not None and plan.preview is not None
        assert not plan.break_glass(modal.values())
        assert [i.title for i in plan.preview.changes] == ["apps/Deployment payments/payments-api"]
        assert "1 to update" in screen_text(app)
        assert f"trueup app sync {US}" in screen_text(app)
        seen: list[str] = []
        orig = modal.progress

        def spy(text: str) -> None:
            seen.append(text)
            orig(text)

        modal.progress = spy  # type: ignore[method-assign]
        await pilot.press("enter")  # the Sync button has the focus
        await finished(pilot, modal)
        assert modal.result is not None and modal.result.ok, modal.result
        assert any(s.startswith("Running") for s in seen)  # shown live while it ran
        assert "audit record" in screen_text(app)
        await pilot.press("escape")
        app.open_app(US)
        await pilot.pause(0.5)
        await pilot.press("3")
        await pilot.pause(0.5)
        assert "Succeeded" in screen_text(app)
        assert app.command_log[-1].command == f"trueup app sync {US}"
        assert app.command_log[-1].outcome == "succeeded"
    ops = [r for r in records(demo) if r["action"] == "sync" and r["app"] == US]
    assert [(r["phase"], r["outcome"]) for r in ops] == [("intent", "pending"), ("result", "succeeded")]
    assert all(r["actor"]["user"] == "bob" for r in ops)
    assert ops[1]["intentSeq"] == ops[0]["seq"]
    write = [r for r in records(demo) if r["action"] == "console-write-mode"]
    assert write and write[0]["actor"]["user"] == "bob"
    assert (app_obj(demo, US)["status"]["operationState"])["phase"] == "Succeeded"


async def test_break_glass_refuses_wrong_name_and_empty_reason_then_succeeds(demo: Path) -> None:
    app = console(demo, "alice", write=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: not app.read_only)
        select(app, EU)
        await pilot.pause()
        await pilot.press("s")
        modal = await open_modal(pilot)
        assert modal.plan is not None and modal.plan.break_glass(modal.values())
        assert "BREAK-GLASS" in screen_text(app) and "deny" in screen_text(app)
        chain_before = records(demo)
        await pilot.press(*"payments-api-prod-us", "tab", *"INC-7", "enter")
        await pilot.pause()
        assert modal.state == "ready" and "typed name must be payments-api-prod-eu" in modal.error
        modal.query_one("#act-name").value = EU  # type: ignore[attr-defined]
        modal.query_one("#act-reason").value = ""  # type: ignore[attr-defined]
        modal.confirm()
        await pilot.pause()
        assert modal.state == "ready" and "needs a reason" in modal.error
        assert "needs a reason" in screen_text(app)
        assert records(demo) == chain_before  # refused in the modal: nothing ran
        modal.query_one("#act-reason").value = "INC-7 EU checkout down"  # type: ignore[attr-defined]
        modal.confirm()
        await finished(pilot, modal)
        assert modal.result is not None and modal.result.ok, modal.result
        seq = modal.result.audit_seq
        assert f"audit record {seq}" in screen_text(app)
        await pilot.press("escape")
        app.open_audit(EU)
        await wait_until(pilot, lambda: isinstance(app.screen, AuditScreen) and not app.screen.loading)
        await pilot.pause()
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        assert str(seq) in audit.table.row_keys
        assert "break-glass" in screen_text(app) and "chain verified" in screen_text(app)
        audit.filter_text = "incident:INC-7"
        audit.action_export()
        report = demo / ".trueup" / "reports" / "incident-INC-7.md"
        assert "payments-api-prod-eu" in report.read_text()
    intent = next(r for r in records(demo) if r["seq"] == seq)
    assert (
        intent["breakGlass"] and intent["reason"] == "INC-7 EU checkout down" and intent["phase"] == "intent"
    )


async def test_rollback_from_history_suspends_auto_sync(demo: Path) -> None:
    app = console(demo, "alice", write=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: not app.read_only)
        app.open_app(IDENTITY)
        await pilot.pause(0.5)
        await pilot.press("4", "R")
        modal = await open_modal(pilot)
        plan = modal.plan
        assert plan is not None and plan.auto_sync_on and plan.break_glass(modal.values())
        assert "will be suspended for 60m" in plan.suspension
        text = screen_text(app)
        assert "#0" in text and "→" in text and "auto-sync" in text
        assert plan.values["history_id"] == 0
        await pilot.press(*IDENTITY, "tab", *"CHG-12 roll back identity", "enter")
        await finished(pilot, modal)
        assert modal.result is not None and modal.result.ok, modal.result
        assert "suspended" in modal.result.message
    s = breakglass.suspension_of(app_obj(demo, IDENTITY))
    assert s is not None and s.by == "alice" and s.reason == "CHG-12 roll back identity"
    rb = [r for r in records(demo) if r["action"] == "rollback"]
    assert rb[0]["breakGlass"] and rb[-1]["phase"] == "result" and "suspended" in rb[-1]["message"]


async def test_bob_denied_action_is_greyed_with_the_missing_permission(demo: Path) -> None:
    app = console(demo, "bob", write=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: not app.read_only)
        home = select(app, US)
        await pilot.pause()
        active = home.active_bindings
        assert active["s"].enabled  # bob may sync payments/*
        assert active["ctrl+d"].enabled is False
        assert "applications, delete, payments/payments-api-prod-us" in (active["ctrl+d"].tooltip or "")
        assert active["S"].enabled is False
        assert "applications, update, payments/payments-api-prod-us" in (active["S"].tooltip or "")
        app.run_command_line(f"delete {US}")
        assert "lacks permission: applications, delete" in app.notice
        app.show_help()
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        delete = next(r for r in help_screen.rows if r[4] == "action.delete")
        assert not delete[3] and "unavailable: bob lacks permission: applications, delete" in delete[2]


async def test_another_operation_in_progress_is_shown_in_the_modal(demo: Path) -> None:
    store = AppStore(load(demo).control())
    request_sync(store, US, initiated_by={"username": "carol"})  # another console's sync, running
    app = console(demo, "alice", write=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: not app.read_only)
        app.start_action("sync", US)
        modal = await open_modal(pilot)
        modal.confirm()
        await finished(pilot, modal)
        assert modal.result is not None and modal.result.code == 4
        assert "another operation is already in progress" in screen_text(app)
        assert modal.query_one("#act-confirm").disabled  # type: ignore[attr-defined]
        modal.confirm()  # never again on its own, nor on a second press
        await pilot.pause()
    blocked = [r for r in records(demo) if r["action"] == "sync"]
    assert [r["outcome"] for r in blocked] == ["pending", "blocked"]


async def test_result_after_moving_on_goes_to_its_own_view(demo: Path) -> None:
    app = console(demo, "alice", write=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: not app.read_only)
        app.start_action("restart", US)
        modal = await open_modal(pilot)
        modal.confirm()
        await pilot.press("escape")  # the user moves on before the result
        await wait_until(pilot, lambda: not isinstance(app.screen, ActionModal))
        app.open_app(EU)
        await wait_until(pilot, lambda: app.command_log[-1].outcome != "running")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ApplicationScreen) and app.screen.app_name == EU
        assert "[Applications] restart payments-api-prod-us: succeeded" in app.notice
        assert modal.result is not None and modal.result.ok  # kept with the view that asked
        assert app.command_log[-1].outcome == "succeeded" and "restart" in app.command_log[-1].command
    restarted = [r for r in records(demo) if r["action"] == "resource-action"]
    assert restarted[-1]["outcome"] == "succeeded"
