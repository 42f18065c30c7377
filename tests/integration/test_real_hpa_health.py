"""HPA health on a real kube-controller-manager (Argo CD >= 3.5, argo-cd#26274).

An HPA scaling on an Object metric, in a cluster without a custom metrics API, is reported by the
real HPA controller as `AbleToScale=True` (SucceededGetScale) followed by `ScalingActive=False`
(FailedGetObjectMetric). Argo CD checks every condition for a degraded state before it looks for
a healthy one, so that HPA is Degraded; trueup used to stop at `AbleToScale=True` and say Healthy.
The app comes from a real Git repository and is deployed with `trueup app sync`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import git
import pytest

from tests.conftest import run_cli
from tests.helpers import commit_files
from tests.integration.controlplane import ControlPlane

pytestmark = pytest.mark.realcluster

NS = "hpa-health"
FILES = {
    "web/deploy.yaml": """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: registry.example.invalid/web:1.0}
""",
    "web/hpa.yaml": """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Object
    object:
      describedObject: {apiVersion: apps/v1, kind: Deployment, name: web}
      metric: {name: requests_per_second}
      target: {type: Value, value: "10"}
""",
}


@pytest.fixture(scope="module")
def hpa_ws(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hpa")
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    work.create_remote("origin", bare.as_uri())
    commit_files(work, root / "work", FILES, "web with an HPA on an object metric")
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
            "metadata": {"name": "hpa-web", "namespace": "trueup"},
            "spec": {
                "project": "default",
                "source": {"repoURL": bare.as_uri(), "path": "web", "targetRevision": "main"},
                "destination": {"name": "real", "namespace": NS},
                "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
            },
        }
    )
    return root


def test_hpa_with_a_failing_object_metric_is_degraded(control_plane: ControlPlane, hpa_ws: Path) -> None:
    r = run_cli("-w", str(hpa_ws), "app", "sync", "hpa-web", "--timeout", "240")
    assert r.returncode in (0, 1), r.stdout + r.stderr  # the sync may end while health is not Healthy
    deadline = time.monotonic() + 120
    conditions: list[dict[str, str]] = []
    while time.monotonic() < deadline:  # the HPA controller resyncs every 15 s
        got = control_plane.kubectl("-n", NS, "get", "hpa", "web", "-o", "json")
        conditions = (
            json.loads(got.stdout).get("status", {}).get("conditions", []) if got.returncode == 0 else []
        )
        by_type = {c["type"]: c for c in conditions}
        if (by_type.get("ScalingActive") or {}).get("reason") == "FailedGetObjectMetric":
            break
        time.sleep(2)
    types = [(c["type"], c["status"], c["reason"]) for c in conditions]
    assert ("ScalingActive", "False", "FailedGetObjectMetric") in types, types
    able = [t for t in types if t[0] == "AbleToScale"]
    assert able and able[0][1] == "True"  # the healthy-looking condition comes first
    assert types.index(able[0]) < types.index(("ScalingActive", "False", "FailedGetObjectMetric"))

    r = run_cli("-w", str(hpa_ws), "refresh", "hpa-web")
    assert r.returncode == 0, r.stderr
    got = run_cli("-w", str(hpa_ws), "app", "get", "hpa-web", "-o", "json")
    assert got.returncode == 0, got.stderr
    resources = {(x["kind"], x["name"]): x for x in json.loads(got.stdout)["status"]["resources"]}
    hpa = resources[("HorizontalPodAutoscaler", "web")]
    assert hpa["health"]["status"] == "Degraded"
    assert "unable to get" in hpa["health"]["message"] or "metric" in hpa["health"]["message"]
    assert json.loads(got.stdout)["status"]["health"]["status"] == "Degraded"
