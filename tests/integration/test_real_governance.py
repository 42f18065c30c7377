"""Governance on the real control plane: the kubeconfig identity is who acts, whatever $TRUEUP_USER
says; the RBAC policy comes from the control cluster's ConfigMap; the audit chain and its Events are
written in the cluster by the identity that attempted the action (a read-only person included)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest

from console.cluster.kube.client import KubeCluster
from console.engine.audit.chain import AuditChain
from console.engine.audit.verify import verify_chain
from tests.conftest import run_cli
from tests.helpers import commit_files
from tests.integration.controlplane import VIEWER_GROUP, VIEWER_USER, ControlPlane, viewer_audit_rbac

pytestmark = pytest.mark.realcluster
APP = "gov-app"
NS = "gov"

FILES = {
    "gov/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gov-config}\ndata: {LOG_LEVEL: info}\n",
}


def _workspace(root: Path, kubeconfig: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "trueup.yaml").write_text(
        f"""apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: real
clusters:
  - {{name: real, type: kube, kubeconfig: {kubeconfig}}}
repositories: {{allowFileURLs: true}}
# not trusted on a real control cluster: the ConfigMap trueup/trueup-rbac-cm is the policy
users:
  trueup-viewer: {{groups: [sre-oncall]}}
rbac:
  policy: "g, sre-oncall, role:admin"
  default: role:admin
"""
    )
    return root


@pytest.fixture(scope="module")
def gov(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("gov-real")
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    work.create_remote("origin", bare.as_uri())
    commit_files(work, root / "work", FILES, "gov")
    admin_ws = _workspace(root / "admin-ws", control_plane.admin_kubeconfig)
    viewer_ws = _workspace(root / "viewer-ws", control_plane.viewer_kubeconfig)
    r = run_cli("-w", str(admin_ws), "install")
    assert r.returncode == 0, r.stderr
    control_plane.apply(
        *viewer_audit_rbac("trueup"),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "trueup-rbac-cm", "namespace": "trueup"},
            "data": {"policy.csv": f"g, {VIEWER_GROUP}, role:readonly\n", "policy.default": ""},
        },
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": APP, "namespace": "trueup"},
            "spec": {
                "project": "default",
                "source": {"repoURL": bare.as_uri(), "path": "gov", "targetRevision": "main"},
                "destination": {"name": "real", "namespace": NS},
                "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
            },
        },
    )
    return {"admin": admin_ws, "viewer": viewer_ws, "cp": control_plane}


def _records(cp: ControlPlane) -> list[dict[str, Any]]:
    return AuditChain(KubeCluster("audit-read", kubeconfig=str(cp.admin_kubeconfig))).records()


def test_a_read_only_kubeconfig_cannot_sync_whatever_trueup_user_says(gov: dict[str, Any]) -> None:
    for claimed in ("admin", "alice", "system:trueup-controller"):
        r = run_cli("-w", str(gov["viewer"]), "app", "sync", APP, env={"TRUEUP_USER": claimed})
        assert r.returncode == 3, r.stderr
        lines = r.stderr.strip().splitlines()
        assert lines[0] == (
            f"trueup: warning: $TRUEUP_USER={claimed} ignored: the control cluster authenticates you as "
            f"{VIEWER_USER} (SelfSubjectReview)"
        )
        assert lines[-1] == (
            f"trueup: permission denied: {VIEWER_USER} may not sync applications/default/{APP} "
            f"(needs: applications, sync, default/{APP})"
        )
    app = KubeCluster("a", kubeconfig=str(gov["cp"].admin_kubeconfig)).get(
        "trueup.dev/v1alpha1", "Application", "trueup", APP
    )
    assert not app.get("operation")  # nothing was requested
    denied = [x for x in _records(gov["cp"]) if x["outcome"] == "denied" and x["app"] == APP]
    assert len(denied) >= 3
    actor = denied[-1]["actor"]
    assert (
        actor["user"] == VIEWER_USER and actor["verified"] is True and actor["source"] == "SelfSubjectReview"
    )
    assert VIEWER_GROUP in actor["groups"] and "sre-oncall" not in actor["groups"]  # trueup.yaml not trusted


def test_whoami_on_the_real_control_cluster(gov: dict[str, Any]) -> None:
    r = run_cli("-w", str(gov["viewer"]), "whoami", "-o", "json", env={"TRUEUP_USER": "admin"})
    assert r.returncode == 0, r.stderr
    who = json.loads(r.stdout)
    assert who["user"] == VIEWER_USER and who["verified"] is True and who["real"] is True
    assert VIEWER_GROUP in who["groups"]
    assert who["policy"]["source"] == "ConfigMap trueup/trueup-rbac-cm" and who["policy"]["defaultRole"] == ""
    r = run_cli("-w", str(gov["viewer"]), "whoami", env={"TRUEUP_USER": VIEWER_USER})
    assert r.returncode == 0 and r.stderr == ""  # no warning when the claim agrees
    assert "verified by the control cluster real (SelfSubjectReview)" in r.stdout
    # reads are allowed by role:readonly
    r = run_cli("-w", str(gov["viewer"]), "app", "list", "-o", "name", env={"TRUEUP_USER": VIEWER_USER})
    assert r.returncode == 0 and APP in r.stdout.split()


def test_impersonation_needs_the_kubernetes_verb(gov: dict[str, Any]) -> None:
    r = run_cli("-w", str(gov["viewer"]), "--as", "admin", "whoami", env={"TRUEUP_USER": VIEWER_USER})
    assert r.returncode == 3
    assert (
        "trueup-viewer may not impersonate admin (needs: kubernetes RBAC impersonate on users/admin)"
        in r.stderr
    )
    r = run_cli(
        "-w", str(gov["admin"]), "--as", VIEWER_USER, "whoami", "-o", "json", env={"TRUEUP_USER": "admin"}
    )
    assert r.returncode == 0, r.stderr
    who = json.loads(r.stdout)
    assert who["user"] == VIEWER_USER and who["impersonatedBy"] == "admin"
    # impersonating the viewer, admin cannot sync either (RBAC is evaluated for the impersonated user)
    r = run_cli(
        "-w", str(gov["admin"]), "--as", VIEWER_USER, "app", "sync", APP, env={"TRUEUP_USER": "admin"}
    )
    assert r.returncode == 3 and f"{VIEWER_USER} may not sync" in r.stderr


def test_admin_syncs_and_the_chain_verifies_in_the_cluster(gov: dict[str, Any]) -> None:
    r = run_cli(
        "-w",
        str(gov["admin"]),
        "app",
        "sync",
        APP,
        "--timeout",
        "120",
        "--reason",
        "CHG-1",
        env={"TRUEUP_USER": "admin"},
    )
    assert r.returncode == 0, r.stderr
    recs = _records(gov["cp"])
    mine = [x for x in recs if x["actor"]["user"] == "admin" and x["app"] == APP]
    assert [x["phase"] for x in mine[-2:]] == ["intent", "result"] and mine[-1]["outcome"] == "succeeded"
    assert mine[-1]["reason"] == "CHG-1" and mine[-1]["actor"]["verified"] is True
    verdict = verify_chain(AuditChain(KubeCluster("v", kubeconfig=str(gov["cp"].admin_kubeconfig))))
    assert verdict.ok, verdict.problem
    r = run_cli("-w", str(gov["viewer"]), "audit", "verify", env={"TRUEUP_USER": VIEWER_USER})
    assert r.returncode == 0, r.stderr
    # each audited action is an events.k8s.io/v1 Event on the Application, written in the cluster
    events = (
        KubeCluster("e", kubeconfig=str(gov["cp"].admin_kubeconfig))
        .list("events.k8s.io/v1", "Event", "trueup")
        .items
    )
    reasons = {(e["reason"], e["regarding"]["name"]) for e in events}
    assert ("PermissionDenied", APP) in reasons and ("ActionCompleted", APP) in reasons
