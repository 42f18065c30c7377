"""The sync write path through the real `trueup` CLI on the demo workspace, and crash safety:
a sync process killed with SIGKILL mid-operation is finished by another executor, each hook Job
having been created exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import git
import pytest

from console.cluster.sim import SimCluster
from console.engine.appstore import AppStore
from console.engine.sync import executor as ex
from console.engine.sync import operation as op
from console.engine.workspace import Workspace, load
from tests.conftest import ROOT, run_cli

APP = "payments-api-prod-us"
DELETE_CONFIGMAP = """\
  - patch: |-
      $patch: delete
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: payments-api-config
"""
HOOKS = ("payments-api-db-migrate", "payments-api-smoke-test")


@contextmanager
def fast_clock(
    ws_root: Path, clusters: tuple[str, ...] = ("in-cluster", "prod-us"), rate: float = 25.0
) -> Iterator[None]:
    """Run the sim clocks `rate` times faster than real time (Job pods take 3 s of sim time)."""
    stop = threading.Event()

    def run() -> None:
        ws = load(ws_root)
        sims = [SimCluster(ws.sim_path(n), n, ws.clusters[n].server) for n in clusters]
        try:
            while not stop.wait(0.05):
                for s in sims:
                    s.clock.advance(0.05 * (rate - 1))
        finally:
            for s in sims:
                s.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(5)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("sync-demo") / "ws"
    r = run_cli("demo", "init", str(ws))
    assert r.returncode == 0, r.stderr
    r = run_cli("-w", str(ws), "refresh")
    assert r.returncode == 0, r.stderr
    return ws


def _app_json(ws: Path, name: str = APP) -> dict:
    r = run_cli("-w", str(ws), "app", "get", name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _resource(app: dict, kind: str, name: str) -> dict | None:
    for r in app["status"].get("resources") or []:
        if r["kind"] == kind and r["name"] == name:
            return r
    return None


def test_demo_sync_wait_history_and_prune(demo: Path) -> None:
    w = str(demo)
    with fast_clock(demo):
        r = run_cli("-w", w, "app", "sync", APP)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Phase:         Succeeded" in r.stdout
    assert "PreSync" in r.stdout and "PostSync" in r.stdout
    assert "waiting for completion of hook batch/Job/payments-api-db-migrate" in r.stderr
    r = run_cli("-w", w, "app", "wait", APP, "--health", "--sync", "--timeout", "60")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{APP}: Synced, Healthy"
    r = run_cli("-w", w, "app", "history", APP, "-o", "json")
    history = json.loads(r.stdout)
    head = git.Repo(demo / "fleet").head.commit.hexsha
    # entry 0 is the demo's initial deployment (commit 1), entry 1 this sync
    first = list(git.Repo(demo / "fleet").iter_commits("HEAD"))[-1].hexsha
    assert [(h["id"], h["revision"]) for h in history] == [(0, first), (1, head)]

    # remove the ConfigMap from Git; refresh shows it requiresPruning
    work = git.Repo(demo / "fleet")
    kfile = demo / "fleet" / "payments" / "api" / "overlays" / "prod-us" / "kustomization.yaml"
    text = kfile.read_text()
    assert "  - path: configmap-patch.yaml\n" in text
    kfile.write_text(text.replace("  - path: configmap-patch.yaml\n", DELETE_CONFIGMAP))
    work.git.add("--all")
    work.index.commit("payments-api: config moves to the config service")
    work.git.push("origin", "main")
    assert run_cli("-w", w, "refresh", APP).returncode == 0
    assert (_resource(_app_json(demo), "ConfigMap", "payments-api-config") or {}).get(
        "requiresPruning"
    ) is True

    with fast_clock(demo):
        r = run_cli("-w", w, "app", "sync", APP)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if "payments-api-config" in line)
    assert "PruneSkipped" in row and "ignored (requires pruning)" in row
    assert _resource(_app_json(demo), "ConfigMap", "payments-api-config") is not None

    with fast_clock(demo):
        r = run_cli("-w", w, "app", "sync", APP, "--prune", "-o", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    pruned = [
        x for x in out["operationState"]["syncResult"]["resources"] if x["name"] == "payments-api-config"
    ]
    assert [(x["status"], x["message"]) for x in pruned] == [("Pruned", "pruned")]
    assert _resource(_app_json(demo), "ConfigMap", "payments-api-config") is None
    r = run_cli("-w", w, "app", "history", APP, "-o", "json")
    assert [h["id"] for h in json.loads(r.stdout)] == [0, 1, 2, 3]


def test_one_operation_at_a_time_and_terminate(demo: Path) -> None:
    ws = load(demo)
    store = AppStore(ws.control())
    app_name = "payments-api-prod-us"  # manual, no sync window
    op.request_sync(store, app_name, initiated_by={"username": "someone-else"})
    r = run_cli("-w", str(demo), "app", "sync", app_name)
    assert r.returncode == 4
    assert "another operation is already in progress" in r.stderr
    r = run_cli("-w", str(demo), "app", "terminate-op", app_name)
    assert r.returncode == 4 and "is a break-glass action" in r.stderr and f"--confirm {app_name}" in r.stderr
    bg = ["--break-glass", "--reason", "INC-7", "--confirm", app_name]
    r = run_cli("-w", str(demo), "app", "terminate-op", app_name, *bg)
    assert r.returncode == 0, r.stderr
    app = ex.run_operation(ws, app_name, holder="test", timeout=30, poll=0.05)
    assert op.operation_state(app) is not None
    assert (app["status"]["operationState"]["phase"], app["status"]["operationState"]["message"]) == (
        "Failed",
        "Operation terminated",
    )
    r = run_cli("-w", str(demo), "app", "terminate-op", app_name, *bg)
    assert r.returncode == 2 and "No operation is in progress" in r.stderr


def test_rollback_refused_with_auto_sync_and_delete_needs_yes(demo: Path) -> None:
    r = run_cli("-w", str(demo), "app", "rollback", "payments-api-staging", "0")
    assert r.returncode == 4
    assert "rollback cannot be initiated when auto-sync is enabled" in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "console.cli.main", "-w", str(demo), "app", "delete", "risk-engine-prod-us"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2 and "--yes" in r.stderr
    assert _app_json(demo, "risk-engine-prod-us")["metadata"]["name"] == "risk-engine-prod-us"


def _job_events(ws: Workspace, since: str) -> list[tuple[str, str]]:
    cluster = ws.open_cluster("prod-us")
    return [
        (e.type, e.object["metadata"]["name"])
        for e in cluster.watch("batch/v1", "Job", "payments", resource_version=since, timeout_seconds=0.3)
        if e.type in ("ADDED", "DELETED")
    ]


def test_sigkill_mid_sync_is_resumed_by_another_executor(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert run_cli("demo", "init", str(root)).returncode == 0
    ws = load(root)
    prod = ws.open_cluster("prod-us")
    since = prod.current_resource_version()  # type: ignore[attr-defined]
    store = AppStore(ws.control())
    env = {**os.environ, "TRUEUP_OP_LEASE_SECONDS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli.main", "-w", str(root), "app", "sync", APP],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed_at = ""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            st = op.operation_state(store.get_app(APP)) or {}
            msg = str(st.get("message") or "")
            if msg.startswith("waiting for healthy state of apps/Deployment/payments-api"):
                proc.send_signal(signal.SIGKILL)
                killed_at = msg
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None and not killed_at:
            proc.kill()
        proc.wait(10)
    assert killed_at, "the sync finished before it could be killed mid-wave"
    assert proc.returncode == -signal.SIGKILL
    st = op.operation_state(store.get_app(APP)) or {}
    assert st["phase"] == "Running"
    recorded = {r["name"]: r["hookPhase"] for r in st["syncResult"]["resources"]}
    assert recorded["payments-api-db-migrate"] == "Succeeded"

    # another executor cannot act while the dead holder's lease is fresh, then takes over
    with fast_clock(root):
        app = ex.run_operation(ws, APP, holder="controller-2", timeout=120, poll=0.05, wave_delay=0)
    final = app["status"]["operationState"]
    assert final["phase"] == "Succeeded", final["message"]
    assert final["startedAt"] == st["startedAt"]
    assert app["status"]["sync"]["status"] == "Synced"
    assert [h["id"] for h in app["status"]["history"]] == [0, 1]  # 0: the demo's initial deployment
    events = _job_events(ws, since)
    for hook in HOOKS:
        assert events.count(("ADDED", hook)) == 1, events
    assert events.count(("DELETED", "payments-api-smoke-test")) == 1  # HookSucceeded


def test_dry_run_results_agree_with_the_real_sync(tmp_path: Path) -> None:
    """`unchanged (dry run)` only for what the real sync then reports `unchanged`, and
    `configured (dry run)` exactly for what it reports `configured` (the demo's payments-api is one
    image behind Git; its NetworkPolicy and Secret are rewritten by the server on every apply)."""
    root = tmp_path / "ws"
    assert run_cli("demo", "init", str(root)).returncode == 0
    w = str(root)
    r = run_cli("-w", w, "app", "sync", APP, "--dry-run", "-o", "json")
    assert r.returncode == 0, r.stderr
    dry = {
        (x["kind"], x["name"]): x["message"]
        for x in json.loads(r.stdout)["operationState"]["syncResult"]["resources"]
        if not x.get("hookType")
    }
    with fast_clock(root):
        r = run_cli("-w", w, "app", "sync", APP, "-o", "json")
    assert r.returncode == 0, r.stderr
    real = {
        (x["kind"], x["name"]): x["message"]
        for x in json.loads(r.stdout)["operationState"]["syncResult"]["resources"]
        if not x.get("hookType")
    }
    assert dry[("Deployment", "payments-api")] == "deployment.apps/payments-api configured (dry run)"
    for key in [
        ("NetworkPolicy", "payments-api-allow-ingress"),
        ("Secret", "payments-api-db"),
        ("ConfigMap", "payments-api-config"),
        ("Service", "payments-api"),
        ("Deployment", "payments-api"),
    ]:
        assert dry[key] == f"{real[key]} (dry run)", key
    assert "unchanged" in real[("Secret", "payments-api-db")]
    # and after the sync everything is unchanged, rehearsed and real alike
    r = run_cli("-w", w, "app", "sync", APP, "--dry-run", "-o", "json")
    again = json.loads(r.stdout)["operationState"]["syncResult"]["resources"]
    assert all(x["message"].endswith(" unchanged (dry run)") for x in again if not x.get("hookType"))
