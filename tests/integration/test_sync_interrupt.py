"""Ctrl-C (SIGINT) during a foreground `trueup app sync`, through the real CLI process, while the
PreSync hook Job of the demo's payments-api runs on the sim (its pod takes 3 s of sim time):

* no controller running: the CLI terminates the operation itself — running hook deleted, phase
  Failed "Operation terminated", Lease released — says so in one line and exits 130;
* a controller running (its heartbeat Lease is fresh): the CLI leaves the operation to it, says
  so in one line; the controller finishes the sync.

Either way a new sync is accepted afterwards. `terminate-op` with no controller finishes the
termination itself instead of leaving the operation Terminating.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.cluster.api import NotFound
from console.engine.appstore import AppStore
from console.engine.sync import lease
from console.engine.sync import operation as op
from console.engine.workspace import load
from tests.conftest import ROOT, run_cli

APP = "payments-api-prod-us"
HOOK_WAIT = "waiting for completion of hook batch/Job/payments-api-db-migrate"


def _trueup(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL_")}
    return subprocess.Popen(
        [sys.executable, "-m", "console.cli.main", "-w", str(root), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _interrupt_mid_hook(root: Path) -> tuple[int, str, str]:
    store = AppStore(load(root).control())
    proc = _trueup(root, "app", "sync", APP)
    try:
        _wait_for(
            lambda: str((op.operation_state(store.get_app(APP)) or {}).get("message")) == HOOK_WAIT,
            "the PreSync hook to run",
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return proc.returncode, out, err


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    r = run_cli("demo", "init", str(root))
    assert r.returncode == 0, r.stderr
    return root


def test_sigint_without_a_controller_terminates_the_operation(demo: Path) -> None:
    ws = load(demo)
    store = AppStore(ws.control())
    assert lease.running_controller(store.cluster) is None
    code, _, err = _interrupt_mid_hook(demo)
    assert code == 130, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert (
        lines[-1]
        == f"trueup: interrupted: the operation of {APP} was terminated (Failed: Operation terminated)"
    )
    assert all(line.startswith(("Running:", "trueup:")) for line in lines), lines
    app = store.get_app(APP)
    state = op.operation_state(app) or {}
    assert (state["phase"], state["message"]) == ("Failed", "Operation terminated")
    assert not op.is_in_progress(app) and "operation" not in app
    assert lease.holder_of(store.cluster, APP) is None
    prod = ws.open_cluster("prod-us")
    try:
        job = prod.get("batch/v1", "Job", "payments", "payments-api-db-migrate")
        assert job["metadata"].get("deletionTimestamp"), "the running hook was not deleted"
    except NotFound:
        pass

    # a new sync is accepted, and terminate-op finishes it here (no controller to wait for)
    r = run_cli("-w", str(demo), "app", "sync", APP, "--async")
    assert r.returncode == 0, r.stderr
    r = run_cli(
        "-w", str(demo), "app", "terminate-op", APP, "--break-glass", "--reason", "INC-9", "--confirm", APP
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"Application '{APP}' operation terminated (Failed: Operation terminated)"
    assert not op.is_in_progress(store.get_app(APP))
    r = run_cli("-w", str(demo), "app", "sync", APP, "--async")
    assert r.returncode == 0, r.stderr


def test_sigint_with_a_running_controller_leaves_the_operation_to_it(demo: Path) -> None:
    ws = load(demo)
    store = AppStore(ws.control())
    controller = _trueup(demo, "controller", "run", "--resync", "3600", "--holder", "ctl-under-test")
    try:
        _wait_for(
            lambda: lease.running_controller(store.cluster) == "ctl-under-test", "the controller heartbeat"
        )
        code, _, err = _interrupt_mid_hook(demo)
        assert code == 130, err
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            f"trueup: interrupted: the operation of {APP} goes on in controller ctl-under-test; "
            f"follow it with `trueup app wait {APP} --operation`"
        )
        _wait_for(lambda: not op.is_in_progress(store.get_app(APP)), "the controller to finish the sync", 120)
        state = op.operation_state(store.get_app(APP)) or {}
        assert state["phase"] == "Succeeded", state.get("message")
        r = run_cli("-w", str(demo), "app", "sync", APP, "--async")
        assert r.returncode == 0, r.stderr
    finally:
        controller.send_signal(signal.SIGTERM)
        try:
            controller.wait(30)
        finally:
            if controller.poll() is None:
                controller.kill()
                controller.wait(10)
    assert controller.returncode == 0
    assert lease.running_controller(store.cluster) is None  # the heartbeat is gone with it
