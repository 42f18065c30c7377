"""The console on the demo fleet, driven by Pilot: what an on-call engineer does and sees."""

from __future__ import annotations

from pathlib import Path

from console.engine.workspace import ConsoleSettings, load
from console.tui import commands
from console.tui.app import TrueupApp
from console.tui.modals.help import HelpScreen
from console.tui.screens.application import ApplicationScreen, ResourceTree
from console.tui.screens.applications import ApplicationsScreen
from console.tui.screens.changes import ChangesScreen
from tests.tui.conftest import frozen_app, screen_text, settle
from widgets.fleet_table import FleetTable
from widgets.live_tree import LiveTree


def home(app: TrueupApp) -> ApplicationsScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, ApplicationsScreen)
    return screen


def table(app: TrueupApp) -> FleetTable:
    return home(app).table


async def test_fleet_is_grouped_by_project_with_problems_first(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        t = table(app)
        groups = [k.split(":", 1)[1] for k in t.lines if k.startswith("\x00group:")]
        assert groups[:3] == ["risk", "customer-identity", "payments"]  # Degraded, then OutOfSync
        assert set(groups[3:]) == {"default", "platform"}
        assert t.row_keys[0] == "risk/risk-engine-prod-eu"
        assert t.cursor_key == "risk/risk-engine-prod-eu"  # the worst app is selected first
        row = t.row("risk/risk-engine-prod-eu")
        assert row is not None
        assert row.cells["status"].text == "✖ Degraded" and row.cells["status"].tone == "bad"
        assert "exceeded its progress deadline" in row.cells["message"].text
        assert t.row("payments/payments-api-prod-us").cells["sync"].text == "Δ OutOfSync"  # type: ignore[union-attr]
        text = screen_text(app)
        assert "11 apps, 4 need attention" in text
        assert "✖ 1 Degraded" in text  # per-project counts by sync and health


async def test_filter_health_degraded_shows_only_risk_engine_prod_eu(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"health:Degraded", "enter")
        await pilot.pause()
        assert table(app).row_keys == ["risk/risk-engine-prod-eu"]
        assert "filter health:Degraded → 1 of 11" in screen_text(app)


async def test_filter_language(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = home(app)
        cases = {
            "sync:OutOfSync project:payments": [
                "payments/payments-api-prod-eu",
                "payments/payments-api-prod-us",
            ],
            "cluster:prod-eu !project:payments": [
                "risk/risk-engine-prod-eu",
                "customer-identity/identity-api-prod-eu",
                "platform/platform-namespaces-prod-eu",
            ],
            "^identity-api": [
                "customer-identity/identity-api-prod-us",
                "customer-identity/identity-api-prod-eu",
            ],
            "worker": ["payments/payments-worker-prod-us"],
            "! project:payments": None,
        }
        for text, expected in cases.items():
            screen.set_filter_text(text)
            await pilot.pause()
            if expected is None:
                assert not any(k.startswith("payments/") for k in table(app).row_keys)
                assert len(table(app).row_keys) == 7
            else:
                assert table(app).row_keys == expected, text
        screen.set_filter_text("bad[regex")
        await pilot.pause()
        assert "not a regular expression" in screen_text(app)  # said, and matched as text


async def test_n_steps_through_matches_and_problems(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        t = table(app)
        seen = []
        for _ in range(5):
            await pilot.press("n")
            seen.append(t.cursor_key)
        problems = [
            "customer-identity/identity-api-prod-us",
            "payments/payments-api-prod-eu",
            "payments/payments-api-prod-us",
        ]
        assert seen[:3] == problems and seen[3] == "risk/risk-engine-prod-eu"  # wraps around
        await pilot.press("N", "N")
        assert t.cursor_key == "payments/payments-api-prod-us"
        home(app).set_filter_text("prod-us")
        await pilot.pause()
        await pilot.press("n")
        first = t.cursor_key
        await pilot.press("n")
        assert t.cursor_key != first and t.cursor_key in t.row_keys


async def test_enter_on_identity_api_then_diff_shows_the_kubectl_edit(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert table(app).move_to("customer-identity/identity-api-prod-us")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApplicationScreen) and app.screen.app_name == "identity-api-prod-us"
        await pilot.press("2")
        await settle(pilot)
        text = screen_text(app)
        assert "apps/Deployment identity/identity-api" in text
        assert "-          value: debug" in text and "+          value: info" in text
        line = next(ln for ln in text.splitlines() if "value: debug" in ln)
        assert "# drift: kubectl-edit (Update)" in line  # beside the changed field
        assert "ignored: /status" in text


async def test_esc_returns_to_the_list_with_filter_cursor_and_scroll_kept(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"prod-us", "enter")
        await pilot.press("down", "down")
        t = table(app)
        cursor, scroll = t.cursor_key, t.scroll_offset.y
        assert cursor is not None and not cursor.startswith("\x00")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApplicationScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ApplicationsScreen)
        assert home(app).filter.text == "prod-us"
        assert t.cursor_key == cursor and t.scroll_offset.y == scroll
        assert all("prod-us" in k for k in t.row_keys)
        await pilot.press("escape")  # on the list, Esc clears the filter
        assert home(app).filter.text == "" and len(t.row_keys) == 11


async def test_command_line_and_palette_share_one_registry(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"app risk-engine-prod-eu", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ApplicationScreen) and app.screen.app_name == "risk-engine-prod-eu"
        await pilot.press("colon", *"project payments", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ApplicationsScreen) and home(app).filter.text == "project:payments"
        await pilot.press("colon", *"nonsense", "enter")
        await pilot.pause()
        assert "unknown command :nonsense" in screen_text(app)
        await pilot.press("colon", *"changes", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ChangesScreen) and app.screen.app_name is None
        await pilot.press("colon", *"q", "enter")
        await pilot.pause()
    assert app.return_code == 0
    # the palette lists exactly the registry: every command, and each with its arguments
    lines = {line.split()[0] for line in commands.completions(app)}
    assert lines == {c.name for c in commands.REGISTRY if c.name != "filter"}
    assert "app identity-api-prod-us" in commands.completions(app)
    assert "theme high-contrast" in commands.completions(app)


async def test_palette_runs_trueup_commands(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"changes")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ChangesScreen)


async def test_help_is_generated_from_the_focused_screens_bindings(frozen_demo: Path) -> None:
    ws = load(frozen_demo)
    ws.console = ConsoleSettings(keymap={"apps.filter": "f"})  # trueup.yaml `console: {keymap: ...}`
    app = TrueupApp(ws, live=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {desc: keys for keys, desc, _tip, _on, _id in app.screen.rows}
        assert rows["Filter"] == "f"  # remapped from the workspace, and the help says so
        assert "Next" in rows and "Fold" in rows and "Quit" in rows
        assert ("f", "apps.filter") in {(k, i) for k, _d, _t, _e, i in app.screen.rows}
        assert "Keys: trueup › Applications" in screen_text(app)
        assert ":changes [APP]" in app.screen._commands().plain
        await pilot.press("escape")
        await pilot.press("f", *"sync:OutOfSync", "enter")
        assert len(table(app).row_keys) == 3
        app.open_app("risk-engine-prod-eu")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        descs = [d for _k, d, _t, _e, _i in app.screen.rows]
        assert "Diff" in descs and "Logs" in descs and "Filter" not in descs  # the app screen's keys


def test_every_binding_has_an_id_a_description_and_a_tooltip() -> None:
    for cls in (
        TrueupApp,
        ApplicationsScreen,
        ApplicationScreen,
        ChangesScreen,
        HelpScreen,
        FleetTable,
        ResourceTree,
    ):
        for b in cls.BINDINGS:
            assert b.id and b.description and b.tooltip, (cls.__name__, b)  # type: ignore[union-attr]
    ids = [
        b.id
        for cls in (TrueupApp, ApplicationsScreen, ApplicationScreen, ChangesScreen, FleetTable)
        for b in cls.BINDINGS
    ]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids))


async def test_app_screen_tabs(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_app("risk-engine-prod-eu")
        await settle(pilot)
        text = screen_text(app)
        assert "Runbook: https://runbooks.example.invalid/risk/risk-engine" in text
        assert "Pod risk-engine-" in text and "ImagePullBackOff" in text
        await pilot.press("5")
        await settle(pilot)
        text = screen_text(app)
        assert "Failed" in text and "ErrImagePull" in text and "kubelet" in text
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ApplicationScreen)
        assert screen.log_error.endswith("is waiting to start: trying and failing to pull image")
        text = screen_text(app)
        assert "no log: container" in text
        await pilot.press("4")
        await pilot.pause()
        assert "Initial fleet" in screen_text(app) and "demo-bootstrap" in screen_text(app)
        await pilot.press("3")
        await pilot.pause()
        assert "✔ Succeeded" in screen_text(app)
        app.open_app("identity-api-prod-us")
        await settle(pilot)
        await pilot.press("l")  # logs of the app's first pod: LOG_LEVEL=debug from the kubectl edit
        await settle(pilot)
        text = screen_text(app)
        assert "log level set to debug from LOG_LEVEL" in text or "DEBUG GET /ready" in text


async def test_changes_screen_lists_the_live_edit_and_the_commit_ahead(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        items = screen.items
        edit = [c for c in items if c.kind == "live-edit" and c.app == "identity-api-prod-us"]
        assert edit and edit[0].actor == "kubectl-edit" and "LOG_LEVEL" in edit[0].summary
        ahead = [
            c
            for c in items
            if c.kind == "commit" and c.app == "payments-api-prod-us" and not c.detail["deployed"]
        ]
        assert ahead and ahead[0].summary.startswith("payments-api: roll out new image digest to prod-us")
        text = screen_text(app)
        assert "kubectl-edit" in text and "live-edit" in text
        key = next(k for k, c in screen._by_key.items() if c is ahead[0])
        screen.table.move_to(key)
        await pilot.pause(0.2)
        assert "prod-eu config change (not synced yet)" in screen_text(app)  # the detail line
        assert [c.at for c in items] == sorted((c.at for c in items), reverse=True)  # newest first
        await pilot.press("a")  # scope: the selected change's app
        await settle(pilot)
        assert {c.app for c in screen.items} == {screen.app_name}


async def test_themes_ascii_and_no_color(frozen_demo: Path) -> None:
    app = frozen_app(frozen_demo, theme="high-contrast", ascii=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.theme == "trueup-high-contrast"
        assert table(app).row("risk/risk-engine-prod-eu").cells["status"].text == "! Degraded"  # type: ignore[union-attr]
        await pilot.press("colon", *"theme ansi", "enter")
        await pilot.pause()
        assert app.theme == "ansi-dark" and app.theme_name == "ansi"
        assert any(path.endswith("ansi.tcss") for path, _ in app.stylesheet.source)
        assert not any(path.endswith("high-contrast.tcss") for path, _ in app.stylesheet.source)
    plain = frozen_app(frozen_demo, no_color=True)
    async with plain.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert plain.no_color
        assert "✖ Degraded" in screen_text(plain)  # symbol and word carry the status without colour


async def test_resource_tree_keeps_expansion_and_cursor_across_live_updates(tmp_path: Path) -> None:
    from console.demo.bootstrap import init_demo
    from console.engine.refresh import refresh

    ws = init_demo(tmp_path / "demo")
    refresh(ws)
    app = TrueupApp(load(ws.root), live=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_app("risk-engine-prod-eu")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ApplicationScreen)
        tree = screen.query_one("#tree", LiveTree)
        rs_id = next(i for i in tree.node_ids if "/ReplicaSet/" in i)
        svc_id = "/Service/risk/risk-engine"
        rs_node, svc_node = tree.node_for(rs_id), tree.node_for(svc_id)
        assert rs_node is not None and svc_node is not None
        rs_node.collapse()
        tree.move_cursor(svc_node)
        await pilot.pause()
        before = set(tree.node_ids)
        # a live change: one pod goes away and its ReplicaSet makes another
        cluster = ws.open_cluster("prod-eu")
        pod = next(i for i in before if "/Pod/" in i).split("/")[-1]
        cluster.delete("v1", "Pod", "risk", pod)
        cluster.clock.advance(5)  # type: ignore[attr-defined]
        screen.load_tree()
        await settle(pilot)
        after = set(tree.node_ids)
        assert any(f"/Pod/risk/{pod}" in i for i in before - after) and len(after - before) == 1
        assert tree.node_for(rs_id) is rs_node and not rs_node.is_expanded  # same node, still folded
        assert tree.node_for(svc_id) is svc_node and tree.cursor_node is svc_node  # cursor kept
        assert screen.query_one("#tree", ResourceTree) is tree
