"""The controller runs the resources finalizer of an Application whose deletion was requested
(e.g. by a `trueup app delete` that was interrupted): resources go, wave by wave, then the app."""

from __future__ import annotations

import io
from pathlib import Path

from console.cluster.api import NotFound
from console.engine.appstore import AppStore
from console.engine.controller.log import ControllerLog
from console.engine.controller.loop import Controller
from console.engine.refresh import refresh
from console.engine.sync.deletion import request_delete
from console.engine.sync.executor import run_operation
from console.engine.sync.operation import request_sync
from tests.helpers import application, make_workspace

FILES = {
    "app/cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: first, annotations: {argocd.argoproj.io/sync-wave: "0"}}
data: {a: "1"}
""",
    "app/cm2.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: last, annotations: {argocd.argoproj.io/sync-wave: "5"}}
data: {b: "2"}
""",
    "app/keep.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: keep, annotations: {argocd.argoproj.io/sync-options: Delete=false}}
data: {c: "3"}
""",
}


def _exists(cluster, name: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        cluster.get("v1", "ConfigMap", "default", name)
        return True
    except NotFound:
        return False


def test_controller_finishes_a_requested_cascade_deletion(tmp_path: Path) -> None:
    ws, repo, _ = make_workspace(tmp_path, FILES)
    store = AppStore(ws.control())
    ws.control().create(application("app", repo, "app"), field_manager="t")
    refresh(ws)
    request_sync(store, "app", initiated_by={"username": "t"})
    run_operation(ws, "app", holder="t", timeout=60, poll=0.0, wave_delay=0)
    dev = ws.open_cluster("dev")
    assert all(_exists(dev, n) for n in ("first", "last", "keep"))

    assert request_delete(store, "app", "foreground") is not None  # held by the finalizer
    ctl = Controller(ws, holder="test-controller", log=ControllerLog(io.StringIO()), watch=False)
    seen: list[tuple[bool, bool]] = []
    for _ in range(20):
        decisions = ctl.run_once()
        dev.tick()  # type: ignore[attr-defined]
        seen.append((_exists(dev, "first"), _exists(dev, "last")))
        try:
            store.get_app("app")
        except NotFound:
            break
        assert any(d.action == "delete" for d in decisions)
    else:
        raise AssertionError(f"application was never deleted: {seen}")
    assert not _exists(dev, "first") and not _exists(dev, "last")
    assert _exists(dev, "keep")  # Delete=false
    # the highest wave went first, in its own pass: "last" gone while "first" still there
    assert seen[0] == (True, False), seen
    assert (False, True) not in seen
