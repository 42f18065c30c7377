"""The read path against a real kube-apiserver, through the CLI, with the harness's admin kubeconfig
(a kubeconfig trueup did not write): install, refresh, app list/get/diff with drift attribution."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from tests.conftest import run_cli
from tests.integration.controlplane import ControlPlane

pytestmark = pytest.mark.realcluster

MANIFESTS = """apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  LOG_LEVEL: info
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.invalid/web:1.0
          env:
            - {name: LOG_LEVEL, value: info}
          ports:
            - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: 8080
"""


@pytest.fixture(scope="module")
def real_ws(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("realws")
    ns = "readpath"
    control_plane.kubectl("create", "namespace", ns)
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    (root / "work" / "web").mkdir()
    (root / "work" / "web" / "all.yaml").write_text(MANIFESTS)
    work.git.add("--all")
    work.index.commit("web")
    work.create_remote("origin", bare.as_uri()).push("main")
    (root / "trueup.yaml").write_text(
        f"""apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: real
clusters:
  - {{name: real, type: kube, kubeconfig: {control_plane.admin_kubeconfig}}}
repositories: {{allowFileURLs: true}}
"""
    )
    r = run_cli("-w", str(root), "install")
    assert r.returncode == 0, r.stderr
    app = {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "trueup"},
        "spec": {
            "project": "default",
            "source": {"repoURL": bare.as_uri(), "path": "web", "targetRevision": "main"},
            "destination": {"name": "real", "namespace": ns},
        },
    }
    control_plane.apply(app)
    return root, ns


def _app(ws: Path) -> dict:
    r = run_cli("-w", str(ws), "app", "list", "-o", "json")
    assert r.returncode == 0, r.stderr
    return {a["name"]: a for a in json.loads(r.stdout)}["web"]


def test_missing_resources_are_out_of_sync(real_ws: tuple[Path, str]) -> None:
    ws, _ = real_ws
    r = run_cli("-w", str(ws), "refresh")
    assert r.returncode == 0, r.stderr
    app = _app(ws)
    assert app["sync"]["status"] == "OutOfSync"
    assert app["health"]["status"] == "Missing"
    assert app["cluster"] == "real"


def test_applied_resources_sync_then_kubectl_edit_is_attributed(
    control_plane: ControlPlane, real_ws: tuple[Path, str]
) -> None:
    ws, ns = real_ws
    # Deploy what Git says, as trueup's sync would: server-side apply with manager trueup + tracking id.
    import yaml

    for doc in yaml.safe_load_all(MANIFESTS):
        group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
        doc["metadata"]["namespace"] = ns
        doc["metadata"].setdefault("annotations", {})["trueup.dev/tracking-id"] = (
            f"web:{group}/{doc['kind']}:{ns}/{doc['metadata']['name']}"
        )
        r = control_plane.kubectl(
            "apply", "--server-side", "--field-manager=trueup", "-f", "-", input=json.dumps(doc)
        )
        assert r.returncode == 0, r.stderr
    r = run_cli("-w", str(ws), "refresh")
    assert r.returncode == 0, r.stderr
    app = _app(ws)
    assert app["sync"]["status"] == "Synced", run_cli("-w", str(ws), "app", "diff", "web").stdout
    d = run_cli("-w", str(ws), "app", "diff", "web")
    assert d.returncode == 0
    # A human edits the Deployment the way `kubectl edit` does (an Update by manager kubectl-edit).
    patch = json.dumps(
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "web", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]
                    }
                }
            }
        }
    )
    r = control_plane.kubectl(
        "-n", ns, "patch", "deployment", "web", "--field-manager=kubectl-edit", "-p", patch
    )
    assert r.returncode == 0, r.stderr
    r = run_cli("-w", str(ws), "refresh", "web")
    assert r.returncode == 0, r.stderr
    assert _app(ws)["sync"]["status"] == "OutOfSync"
    d = run_cli("-w", str(ws), "app", "diff", "web", "-o", "json")
    assert d.returncode == 1, d.stderr
    diffs = json.loads(d.stdout)
    assert [x["kind"] for x in diffs] == ["Deployment"]
    assert any(a["manager"] == "kubectl-edit" for a in diffs[0]["attributions"])


def test_tree_shows_pods_on_kwok(control_plane: ControlPlane, real_ws: tuple[Path, str]) -> None:
    ws, _ = real_ws
    import time

    deadline = time.monotonic() + 90
    while True:
        r = run_cli("-w", str(ws), "app", "get", "web", "-o", "tree")
        assert r.returncode == 0, r.stderr
        if "Pod/" in r.stdout and "ReplicaSet/" in r.stdout:
            break
        assert time.monotonic() < deadline, r.stdout
        time.sleep(1)


async def test_console_lists_apps_from_a_real_control_cluster(real_ws: tuple[Path, str]) -> None:
    from console.engine.workspace import load
    from console.tui.app import TrueupApp
    from tests.tui.conftest import settle

    ws, _ = real_ws
    app = TrueupApp(load(ws), live=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen_stack[0].table  # type: ignore[attr-defined]
        assert "\x00group:default" in table.lines and "default/web" in table.row_keys
        assert table.row("default/web").cells["dest"].text.startswith("real")


def test_events_and_logs_of_an_app_on_a_real_cluster(
    control_plane: ControlPlane, real_ws: tuple[Path, str]
) -> None:
    """kube-controller-manager and kube-scheduler wrote the Events; kwok serves the log file."""
    import time

    ws, _ = real_ws
    control_plane.write_pod_log(["web started", "listening on :8080"])
    deadline = time.monotonic() + 90
    while True:
        r = run_cli("-w", str(ws), "app", "events", "web", "-o", "json")
        assert r.returncode == 0, r.stderr
        reasons = {e["reason"] for e in json.loads(r.stdout)}
        if {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled"} <= reasons:
            break
        assert time.monotonic() < deadline, reasons
        time.sleep(1)
    r = run_cli("-w", str(ws), "app", "logs", "web", "--tail", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1].endswith("listening on :8080")
