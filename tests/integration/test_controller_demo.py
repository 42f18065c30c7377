"""`trueup controller run` end to end: the demo fleet after one pass, and resuming an operation
whose controller was SIGKILLed in the middle of a hook."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from console.cluster.api import Obj
from console.engine.appstore import AppStore
from console.engine.controller.log import ControllerLog
from console.engine.controller.loop import Controller
from console.engine.sync import lease
from console.engine.sync.operation import operation_state
from console.engine.workspace import load
from tests.conftest import ROOT, run_cli
from tests.unit.engine.controller.test_loop import NS, _cm, make_fleet


def _state(apps: dict[str, Obj], name: str) -> Obj:
    return (apps[name].get("status") or {}).get("operationState") or {}


def test_demo_one_pass_syncs_nothing_it_should_not(tmp_path: Path) -> None:
    ws_dir = tmp_path / "demo"
    r = run_cli("demo", "init", str(ws_dir))
    assert r.returncode == 0, r.stderr
    ws = load(ws_dir)
    store = AppStore(ws.control())
    before = {a["metadata"]["name"]: a for a in store.list_apps()}
    bootstrap_sha = _state(before, "risk-engine-prod-eu")["syncResult"]["revision"]

    r = run_cli("-w", str(ws_dir), "controller", "run", "--once")
    assert r.returncode == 0, r.stderr
    log = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    skips = {line["app"]: line["msg"] for line in log if line["msg"].startswith("Skipping")}
    assert not [line for line in log if line["msg"].startswith("Initiated automated sync")], log

    after = {a["metadata"]["name"]: a for a in store.list_apps()}
    head = after["risk-engine-prod-eu"]["status"]["sync"]["revision"]
    assert head != bootstrap_sha  # Git moved one commit ahead of what was deployed
    for name in ("payments-api-prod-us", "payments-api-prod-eu"):  # manual
        assert not after[name].get("operation")
        assert _state(after, name) == _state(before, name)
        assert after[name]["status"]["sync"]["status"] == "OutOfSync"
        assert name not in skips  # "automated disabled" is not worth a log line
    # selfHeal off, last sync Succeeded; the new commit does not touch its manifests
    identity = after["identity-api-prod-us"]
    assert identity["status"]["sync"]["status"] == "OutOfSync"
    assert _state(after, "identity-api-prod-us") == _state(before, "identity-api-prod-us")
    assert skips["identity-api-prod-us"] == f"Skipping auto-sync: most recent sync already to {head}"
    # risk-engine's manifests are identical at both commits: Synced, so auto-sync skips
    risk = after["risk-engine-prod-eu"]
    assert risk["status"]["sync"]["status"] == "Synced"
    assert _state(after, "risk-engine-prod-eu") == _state(before, "risk-engine-prod-eu")
    assert skips["risk-engine-prod-eu"] == "Skipping auto-sync: application status is Synced"
    assert not any(
        c["type"] == "SyncError" for a in after.values() for c in a["status"].get("conditions") or []
    )


def _job(name: str, hook: str) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "annotations": {"argocd.argoproj.io/hook": hook}},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "run", "image": "registry.example.invalid/tool:1", "args": ["run"]}
                    ],
                }
            },
        },
    }


def test_controller_resumes_an_operation_after_sigkill(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    fleet.dev.clock.freeze()  # hook Jobs cannot finish until the test moves the workload clock
    second = _cm("wave-one")
    second["metadata"]["annotations"] = {"argocd.argoproj.io/sync-wave": "1"}
    fleet.write(
        "apps/hooks", [_job("migrate", "PreSync"), _cm("wave-zero"), second, _job("smoke", "PostSync")]
    )
    fleet.commit("hooks and waves")
    fleet.add_app("hooks", "apps/hooks", {"automated": {}})

    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL_")}
    env["TRUEUP_OP_LEASE_SECONDS"] = "1"
    doomed = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console.cli.main",
            "-w",
            str(fleet.ws.root),
            "controller",
            "run",
            "--holder",
            "doomed",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            state = operation_state(fleet.app("hooks")) or {}
            if "waiting for completion of hook batch/Job/migrate" in str(state.get("message")):
                break
            assert doomed.poll() is None, doomed.stderr.read() if doomed.stderr else ""
            assert time.monotonic() < deadline, state
            time.sleep(0.05)
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    assert lease.holder_of(fleet.control, "hooks") == "doomed"
    migrate = fleet.dev.get("batch/v1", "Job", NS, "migrate")
    assert state["phase"] == "Running"

    fleet.advance(2)  # the dead holder's 1 s lease expires on the control cluster's clock
    ctl = Controller(load(fleet.ws.root), holder="successor", watch=False, log=ControllerLog(io.StringIO()))
    for _ in range(40):
        fleet.dev.clock.advance(5)  # Jobs run 3 s on the sim
        ctl.run_once()
        state = operation_state(fleet.app("hooks")) or {}
        if state.get("phase") in ("Succeeded", "Failed", "Error"):
            break
    assert state.get("phase") == "Succeeded", state
    assert state["operation"]["initiatedBy"] == {"automated": True}
    # the PreSync hook was re-attached, not re-created; each hook ran exactly once
    assert fleet.dev.get("batch/v1", "Job", NS, "migrate")["metadata"]["uid"] == migrate["metadata"]["uid"]
    for job in ("migrate", "smoke"):
        uid = fleet.dev.get("batch/v1", "Job", NS, job)["metadata"]["uid"]
        pods = [
            p
            for p in fleet.dev.list("v1", "Pod", NS).items
            if any(ref.get("uid") == uid for ref in p["metadata"].get("ownerReferences") or [])
        ]
        assert len(pods) == 1, (job, pods)
    results = {(r["kind"], r["name"]): r for r in state["syncResult"]["resources"]}
    assert results[("Job", "migrate")]["hookPhase"] == "Succeeded"
    assert results[("ConfigMap", "wave-one")]["status"] == "Synced"
    app = fleet.app("hooks")
    assert len(app["status"]["history"]) == 1
    assert lease.holder_of(fleet.control, "hooks") is None  # released on completion


def test_sigterm_stops_the_controller_cleanly(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, freeze=False)
    fleet.add_app("auto", "apps/auto", {"automated": {}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console.cli.main",
            "-w",
            str(fleet.ws.root),
            "controller",
            "run",
            "--resync",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (fleet.app("auto").get("status") or {}).get("sync", {}).get("status") != "Synced":
            assert proc.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines()]
    assert lines[0]["msg"] == "controller started" and lines[0]["resync"] == 30
    assert any(line["msg"].startswith("Initiated automated sync to '") for line in lines)
    assert lines[-1]["msg"] == "controller stopped"
