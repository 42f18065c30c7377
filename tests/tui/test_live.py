"""Live behaviour: watch-driven updates from another process, pause, and an unreachable backend."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.demo.bootstrap import init_demo
from console.engine.appstore import AppStore
from console.engine.refresh import refresh
from console.engine.workspace import load
from console.tui.app import TrueupApp
from console.tui.live import FLUSH_SECONDS
from console.tui.screens.application import ApplicationScreen
from tests.tui.conftest import screen_text, settle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live_demo(tmp_path: Path) -> Path:
    ws = init_demo(tmp_path / "demo")
    refresh(ws)
    return ws.root


def _phase(root: Path, name: str) -> str:
    app = AppStore(load(root).control()).get_app(name)
    return str(((app.get("status") or {}).get("operationState") or {}).get("phase") or "")


async def test_a_sync_started_from_the_cli_shows_as_a_running_operation(live_demo: Path) -> None:
    app = TrueupApp(load(live_demo), live=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_app("payments-api-prod-us")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ApplicationScreen)
        await pilot.press("3")
        proc = subprocess.Popen(  # what an on-call engineer types in another terminal
            [
                sys.executable,
                "-m",
                "console.cli.main",
                "-w",
                str(live_demo),
                "app",
                "sync",
                "payments-api-prod-us",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            written = None
            shown = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and shown is None:
                if written is None and _phase(live_demo, "payments-api-prod-us") == "Running":
                    written = time.monotonic()
                facts = app.facts.get("payments-api-prod-us")
                if facts is not None and facts.operation == "Running" and "◷ Running" in screen_text(app):
                    shown = time.monotonic()
                    break
                await pilot.pause(0.05)
            assert shown is not None, "the running operation never showed"
            row = screen_text(app)
            assert "Running" in row
            # the row on the list shows it too (the home screen's table is live underneath)
            home = app.screen_stack[0]
            assert home.table.row("payments/payments-api-prod-us").cells["status"].text == "◷ Syncing"  # type: ignore[attr-defined]
            if written is not None:
                assert shown - written < 1.0 + FLUSH_SECONDS, (
                    f"shown {shown - written:.2f}s after it was written"
                )
        finally:
            proc.wait(timeout=120)
        for _ in range(100):
            if app.facts["payments-api-prod-us"].operation == "":
                break
            await pilot.pause(0.1)
        assert app.facts["payments-api-prod-us"].last_sync_phase in ("Succeeded", "Failed")


async def test_pause_freezes_the_view_and_resume_applies_what_queued(live_demo: Path) -> None:
    app = TrueupApp(load(live_demo), live=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert app.paused and "PAUSED" in screen_text(app)
        store = AppStore(load(live_demo).control())
        obj = store.get_app("payments-worker-prod-us")
        status = dict(obj.get("status") or {})
        status["health"] = {"status": "Degraded", "message": "worker queue stuck"}
        store.write_status("payments-worker-prod-us", status)
        for _ in range(60):
            if app.feed.waiting:
                break
            await pilot.pause(0.05)
        await pilot.pause(FLUSH_SECONDS * 2)
        assert app.facts["payments-worker-prod-us"].health == "Healthy"  # frozen while paused
        assert "1 updates waiting" in screen_text(app)
        await pilot.press("p")
        await pilot.pause(0.2)
        assert app.facts["payments-worker-prod-us"].health == "Degraded"
        row = app.screen_stack[0].table.row("payments/payments-worker-prod-us")  # type: ignore[attr-defined]
        assert row.cells["status"].text == "✖ Degraded" and row.cells["message"].text == "worker queue stuck"


async def test_an_unreachable_control_cluster_is_a_status_line_not_a_traceback(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "clusters: [{name: dead, cluster: {server: 'https://127.0.0.1:9', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n"
    )
    (tmp_path / "trueup.yaml").write_text(
        "apiVersion: trueup.dev/v1alpha1\nkind: Workspace\ncontrolCluster: prod\n"
        f"clusters:\n  - name: prod\n    type: kube\n    kubeconfig: {kubeconfig}\n"
    )
    app = TrueupApp(load(tmp_path), live=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):
            if app.feed_error:
                break
            await pilot.pause(0.05)
        app.refresh_status()
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "control cluster unreachable:" in text and "127.0.0.1:9" in text
        assert "Traceback" not in text
        assert "loading applications from the control cluster" in text  # still usable, honest
        await pilot.press("question_mark")  # the UI answers
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
