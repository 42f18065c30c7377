"""End to end on the real control plane, through the CLI with the harness's admin kubeconfig:
sync with waves and PreSync/PostSync hooks -> Pods Running on kwok -> Healthy; prune; drift
attributed to `kubectl edit`'s field manager."""

from __future__ import annotations

import json
import time

import git
import pytest

from tests.conftest import run_cli
from tests.helpers import commit_files
from tests.integration.controlplane import ControlPlane

pytestmark = pytest.mark.realcluster

NS = "shop"
FILES = {
    "shop/config.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  annotations: {argocd.argoproj.io/sync-wave: "-1"}
data: {LOG_LEVEL: info}
""",
    "shop/extra.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: shop-extra}
data: {feature: "on"}
""",
    "shop/deploy.yaml": """apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
        - name: shop
          image: registry.example.invalid/shop:1.0
          env: [{name: LOG_LEVEL, value: info}]
""",
    "shop/service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: shop
  annotations: {argocd.argoproj.io/sync-wave: "1"}
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: 8080}]
""",
    "shop/migrate.yaml": """apiVersion: batch/v1
kind: Job
metadata:
  generateName: shop-migrate-
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: registry.example.invalid/shop-migrate:1.0}]
""",
    "shop/smoke.yaml": """apiVersion: batch/v1
kind: Job
metadata:
  name: shop-smoke
  annotations: {argocd.argoproj.io/hook: PostSync}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: smoke, image: registry.example.invalid/shop-smoke:1.0}]
""",
}


@pytest.fixture(scope="module")
def shop(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    work.create_remote("origin", bare.as_uri())
    commit_files(work, root / "work", FILES, "shop")
    (root / "trueup.yaml").write_text(
        f"""apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: real
clusters:
  - {{name: real, type: kube, kubeconfig: {control_plane.admin_kubeconfig}}}
repositories: {{allowFileURLs: true}}
"""
    )
    assert run_cli("-w", str(root), "install").returncode == 0
    control_plane.apply(
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "shop", "namespace": "trueup"},
            "spec": {
                "project": "default",
                "source": {"repoURL": bare.as_uri(), "path": "shop", "targetRevision": "main"},
                "destination": {"name": "real", "namespace": NS},
                "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
            },
        }
    )
    return {"ws": root, "work": work, "workdir": root / "work", "cp": control_plane}


def _cli(shop: dict, *args: str, timeout: float = 300):  # type: ignore[no-untyped-def]
    return run_cli("-w", str(shop["ws"]), *args, timeout=timeout)


def _app(shop: dict) -> dict:
    r = _cli(shop, "app", "get", "shop", "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_1_sync_with_hooks_reaches_healthy(shop: dict) -> None:
    r = _cli(shop, "app", "sync", "shop", "--timeout", "240")
    assert r.returncode == 0, r.stdout + r.stderr
    w = _cli(shop, "app", "wait", "shop", "--health", "--sync", "--timeout", "180")
    assert w.returncode == 0, w.stdout + w.stderr
    app = _app(shop)
    assert app["status"]["sync"]["status"] == "Synced"
    assert app["status"]["health"]["status"] == "Healthy"
    assert app["status"]["operationState"]["phase"] == "Succeeded"
    cp: ControlPlane = shop["cp"]
    pods = json.loads(cp.kubectl("-n", NS, "get", "pods", "-l", "app=shop", "-o", "json").stdout)["items"]
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)
    assert all(p["spec"]["nodeName"] == cp.node_name for p in pods)
    jobs = json.loads(cp.kubectl("-n", NS, "get", "jobs", "-o", "json").stdout)["items"]
    names = {j["metadata"]["name"] for j in jobs}
    assert "shop-smoke" in names and any(n.startswith("shop-migrate-") for n in names)
    for j in jobs:
        conds = {c["type"]: c["status"] for c in j["status"].get("conditions", [])}
        assert conds.get("Complete") == "True", j["metadata"]["name"]
    hist = _cli(shop, "app", "history", "shop", "-o", "json")
    assert hist.returncode == 0 and len(json.loads(hist.stdout)) == 1


def test_2_prune_with_foreground_deletion(shop: dict) -> None:
    commit_files(shop["work"], shop["workdir"], {"shop/extra.yaml": None}, "drop extra config")
    assert _cli(shop, "refresh", "shop").returncode == 0
    res = {r["name"]: r for r in _app(shop)["status"]["resources"]}
    assert res["shop-extra"].get("requiresPruning") is True
    r = _cli(shop, "app", "sync", "shop", "--timeout", "240")
    assert r.returncode == 0, r.stdout + r.stderr
    cp: ControlPlane = shop["cp"]
    assert (
        cp.kubectl("-n", NS, "get", "configmap", "shop-extra").returncode == 0
    )  # PruneSkipped without --prune
    r = _cli(shop, "app", "sync", "shop", "--prune", "--timeout", "240")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "pruned" in r.stdout.lower()
    deadline = time.monotonic() + 60
    while cp.kubectl("-n", NS, "get", "configmap", "shop-extra").returncode == 0:
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_3_kubectl_edit_is_drift_attributed_to_its_manager(shop: dict) -> None:
    cp: ControlPlane = shop["cp"]
    patch = json.dumps(
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "shop", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]
                    }
                }
            }
        }
    )
    r = cp.kubectl("-n", NS, "patch", "deployment", "shop", "--field-manager=kubectl-edit", "-p", patch)
    assert r.returncode == 0, r.stderr
    assert _cli(shop, "refresh", "shop").returncode == 0
    assert _app(shop)["status"]["sync"]["status"] == "OutOfSync"
    d = _cli(shop, "app", "diff", "shop")
    assert d.returncode == 1
    assert "kubectl-edit" in d.stdout and "debug" in d.stdout


def test_4_self_heal_reverts_the_edit(shop: dict) -> None:
    cp: ControlPlane = shop["cp"]
    r = cp.kubectl(
        "-n",
        "trueup",
        "patch",
        "applications.trueup.dev",
        "shop",
        "--type=merge",
        "-p",
        json.dumps({"spec": {"syncPolicy": {"automated": {"selfHeal": True}}}}),
    )
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 180
    while True:
        c = _cli(shop, "controller", "run", "--once", "--holder", "e2e-controller")
        assert c.returncode == 0, c.stderr
        dep = json.loads(cp.kubectl("-n", NS, "get", "deployment", "shop", "-o", "json").stdout)
        env = dep["spec"]["template"]["spec"]["containers"][0]["env"]
        if env == [{"name": "LOG_LEVEL", "value": "info"}]:
            break
        assert time.monotonic() < deadline, c.stderr[-2000:]
    assert _cli(shop, "refresh", "shop").returncode == 0
    app = _app(shop)
    assert app["status"]["sync"]["status"] == "Synced"
    op = app["status"]["operationState"]
    assert op["operation"]["initiatedBy"].get("automated") is True
    assert [r["kind"] for r in op["operation"]["sync"].get("resources", [])] == ["Deployment"]  # selective
