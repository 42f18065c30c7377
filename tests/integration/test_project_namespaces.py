"""Every resource's own namespace is checked against its project (CVE-2022-24768 class).

A team app allowed into `team-a` whose Git content (rendered by the real `kubectl kustomize`)
also carries an admin RoleBinding in `kube-system`, a ConfigMap in `team-b` (another team's
namespace, where a ConfigMap of the same name already exists) and a PreSync hook Job in
`kube-system`: compare names each violation with Argo's message, and a sync applies nothing at
all — not the permitted ConfigMap in team-a, not the hook, not the SyncFail hook — asserted on the
sim cluster itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cluster.api import NotFound
from console.engine.appstore import AppStore
from console.engine.sync.operation import operation_state
from console.engine.workspace import Workspace
from tests.conftest import run_cli
from tests.helpers import application, make_workspace, project

KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - config.yaml
  - escalate.yaml
  - takeover.yaml
  - hook.yaml
  - on-fail.yaml
"""
CONFIG = """apiVersion: v1
kind: ConfigMap
metadata: {name: team-a-config}
data: {LOG_LEVEL: info}
"""
ESCALATE = """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: team-a-admin, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: Group, name: team-a, apiGroup: rbac.authorization.k8s.io}
"""
TAKEOVER = """apiVersion: v1
kind: ConfigMap
metadata: {name: payments-config, namespace: team-b}
data: {DATABASE_URL: "postgres://attacker.example.invalid/payments"}
"""
HOOK = """apiVersion: batch/v1
kind: Job
metadata:
  name: pre-sync
  namespace: kube-system
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: run, image: registry.example.invalid/tool:1}]
"""
ON_FAIL = """apiVersion: batch/v1
kind: Job
metadata:
  name: on-fail
  annotations: {argocd.argoproj.io/hook: SyncFail}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: run, image: registry.example.invalid/tool:1}]
"""
OTHER_TEAMS = {"DATABASE_URL": "postgres://db.team-b.svc/payments"}
FORBIDDEN = (
    "namespace kube-system is not permitted in project 'team-a'",
    "namespace team-b is not permitted in project 'team-a'",
)


def _setup(tmp_path: Path) -> Workspace:
    ws, repo, _ = make_workspace(
        tmp_path,
        {
            "team-a/kustomization.yaml": KUSTOMIZATION,
            "team-a/config.yaml": CONFIG,
            "team-a/escalate.yaml": ESCALATE,
            "team-a/takeover.yaml": TAKEOVER,
            "team-a/hook.yaml": HOOK,
            "team-a/on-fail.yaml": ON_FAIL,
            "clean/config.yaml": CONFIG,
            "staged/config.yaml": CONFIG.replace("team-a-config", "staged-config"),
            "staged/hook.yaml": HOOK.replace(
                "name: pre-sync\n  namespace: kube-system", "name: migrate\n  namespace: team-hooks"
            ),
        },
    )
    dev = ws.open_cluster("dev")
    for ns in ("team-a", "team-b", "team-hooks"):
        dev.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, field_manager="admin")
    dev.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "payments-config", "namespace": "team-b"},
            "data": OTHER_TEAMS,
        },
        field_manager="team-b",
    )
    control = ws.control()
    control.create(
        project(
            "team-a",
            sourceRepos=["*"],
            destinations=[{"name": "dev", "namespace": "team-a"}, {"name": "dev", "namespace": "team-hooks"}],
        ),
        field_manager="t",
    )
    control.create(
        application("team-a-app", repo, "team-a", namespace="team-a", project="team-a"), field_manager="t"
    )
    control.create(
        application("team-a-clean", repo, "clean", namespace="team-a", project="team-a"), field_manager="t"
    )
    control.create(
        application("team-a-staged", repo, "staged", namespace="team-a", project="team-a"), field_manager="t"
    )
    return ws


def _app(ws: Path, name: str) -> dict:
    r = run_cli("-w", str(ws), "app", "get", name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _assert_nothing_applied(ws: Workspace) -> None:
    dev = ws.open_cluster("dev")
    for kind, api, ns, name in [
        ("ConfigMap", "v1", "team-a", "team-a-config"),
        ("RoleBinding", "rbac.authorization.k8s.io/v1", "kube-system", "team-a-admin"),
        ("Job", "batch/v1", "kube-system", "pre-sync"),
        ("Job", "batch/v1", "team-a", "on-fail"),
    ]:
        with pytest.raises(NotFound):
            dev.get(api, kind, ns, name)
    theirs = dev.get("v1", "ConfigMap", "team-b", "payments-config")
    assert theirs["data"] == OTHER_TEAMS
    assert ws.settings.tracking_annotation not in ((theirs["metadata"].get("annotations")) or {})
    assert {m["manager"] for m in theirs["metadata"]["managedFields"]} == {"team-b"}


def test_resources_outside_the_projects_namespaces_are_reported_and_never_applied(tmp_path: Path) -> None:
    ws = _setup(tmp_path)
    w = str(tmp_path)
    r = run_cli("-w", w, "refresh")
    assert r.returncode == 0, r.stderr
    app = _app(tmp_path, "team-a-app")
    conditions = [(c["type"], c["message"]) for c in app["status"]["conditions"]]
    for message in FORBIDDEN:
        assert ("InvalidSpecError", message) in conditions
    by_name = {(r["kind"], r["name"]): r for r in app["status"]["resources"]}
    assert by_name[("RoleBinding", "team-a-admin")]["status"] == "Unknown"
    assert by_name[("RoleBinding", "team-a-admin")]["message"] == FORBIDDEN[0]
    assert by_name[("ConfigMap", "payments-config")]["message"] == FORBIDDEN[1]
    assert by_name[("ConfigMap", "team-a-config")]["status"] == "OutOfSync"
    # the other app of the same project is untouched by its neighbour's violation
    assert "conditions" not in _app(tmp_path, "team-a-clean")["status"]

    r = run_cli("-w", w, "app", "sync", "team-a-app", "-o", "json")
    assert r.returncode == 1, r.stderr
    state = json.loads(r.stdout)["operationState"]
    assert state["phase"] == "Failed"
    assert state["message"].startswith("one or more synchronization tasks are not valid, reason: ")
    for message in FORBIDDEN:
        assert message in state["message"]
    results = {(x["kind"], x["name"]): x for x in state["syncResult"]["resources"]}
    assert results[("Job", "pre-sync")]["hookType"] == "PreSync"
    assert results[("Job", "pre-sync")]["status"] == "SyncFailed"
    assert results[("Job", "pre-sync")]["message"] == FORBIDDEN[0]
    assert ("Job", "on-fail") not in results  # SyncFail hooks do not run on a project violation
    _assert_nothing_applied(ws)

    # neither does a selective sync of the one permitted resource, nor the apply strategy (no hooks)
    r = run_cli("-w", w, "app", "sync", "team-a-app", "--resource", ":ConfigMap:team-a/team-a-config")
    assert r.returncode == 1, r.stderr
    assert "namespace kube-system is not permitted in project 'team-a'" in r.stdout
    _assert_nothing_applied(ws)
    state = operation_state(AppStore(ws.control()).get_app("team-a-app")) or {}
    assert state["phase"] == "Failed"

    # the clean app of the same project syncs
    r = run_cli("-w", w, "app", "sync", "team-a-clean")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ws.open_cluster("dev").get("v1", "ConfigMap", "team-a", "team-a-config")["data"] == {
        "LOG_LEVEL": "info"
    }

    # deleting the app (cascade) deletes what it owns in team-a, never an object in a namespace the
    # project forbids, even one carrying the app's tracking id
    dev = ws.open_cluster("dev")
    planted = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "coredns-extra",
            "namespace": "kube-system",
            "annotations": {
                ws.settings.tracking_annotation: "team-a-clean:/ConfigMap:kube-system/coredns-extra",
            },
        },
        "data": {"k": "v"},
    }
    dev.create(planted, field_manager="kube-admin")
    r = run_cli("-w", w, "app", "delete", "team-a-clean", "--yes", "--timeout", "60")
    assert r.returncode == 0, r.stderr
    with pytest.raises(NotFound):
        dev.get("v1", "ConfigMap", "team-a", "team-a-config")
    assert dev.get("v1", "ConfigMap", "kube-system", "coredns-extra")["data"] == {"k": "v"}


def test_project_tightened_mid_operation_stops_the_remaining_waves(tmp_path: Path) -> None:
    """Every pass re-checks: the project loses `team-hooks` while the PreSync hook runs there, so the next
    pass fails the operation and the Sync-phase ConfigMap is never applied; the hook this
    operation created is still cleaned up (its finalizer removed), nothing else is touched."""
    from console.engine.sync import executor as ex
    from console.engine.sync.operation import request_sync

    ws = _setup(tmp_path)
    dev = ws.open_cluster("dev")
    dev.clock.freeze()  # type: ignore[attr-defined]  # the hook Job stays running between passes
    store = AppStore(ws.control())
    request_sync(store, "team-a-staged", initiated_by={"username": "t"})
    assert ex.process_operation(ws, "team-a-staged", holder="t") == "Running"
    state = operation_state(store.get_app("team-a-staged")) or {}
    assert state["message"] == "waiting for completion of hook batch/Job/migrate"
    proj = ws.control().get("trueup.dev/v1alpha1", "AppProject", "trueup", "team-a")
    proj["spec"]["destinations"] = [{"name": "dev", "namespace": "team-a"}]
    ws.control().update(proj, field_manager="admin")
    assert ex.process_operation(ws, "team-a-staged", holder="t") == "Failed"
    state = operation_state(store.get_app("team-a-staged")) or {}
    assert state["message"].startswith("one or more synchronization tasks are not valid, reason: ")
    assert state["message"].endswith("reason: namespace team-hooks is not permitted in project 'team-a'")
    with pytest.raises(NotFound):
        dev.get("v1", "ConfigMap", "team-a", "staged-config")
    job = dev.get("batch/v1", "Job", "team-hooks", "migrate")
    assert "trueup.dev/hook-finalizer" not in (job["metadata"].get("finalizers") or [])
