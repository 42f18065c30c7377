"""Sync executor against a real sim cluster and a real Git repository (argocd-features.md §2.4).

`SyncEnv` builds a one-cluster workspace (control cluster = destination) with a frozen sim clock,
so waves, hooks, health waits and retry timing are driven pass by pass with explicit clock steps.
Other sync test modules import it from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import pytest

from console.cluster.api import NotFound, Obj
from console.cluster.sim import SimCluster
from console.engine import yamlsafe
from console.engine.appstore import API_VERSION, NAMESPACE, AppStore
from console.engine.sync import executor as ex
from console.engine.sync import operation as op
from console.engine.workspace import Workspace, load

TRACKING = "trueup.dev/tracking-id"
START = datetime(2030, 3, 4, 14, 0, 0, tzinfo=UTC)
WS_FILE = """\
apiVersion: trueup.dev/v1alpha1
kind: Workspace
controlCluster: in-cluster
clusters:
  - name: in-cluster
    server: https://kubernetes.default.svc
    type: sim
repositories:
  allowFileURLs: true
"""


def cm(name: str, wave: int | None = None, data: dict[str, str] | None = None, **ann: str) -> Obj:
    annotations = dict(ann)
    if wave is not None:
        annotations["argocd.argoproj.io/sync-wave"] = str(wave)
    md: Obj = {"name": name}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data or {"k": "v"}}


def deployment(name: str, wave: int | None = None, image: str = "nginx:1.27", replicas: int = 1) -> Obj:
    md: Obj = {"name": name}
    if wave is not None:
        md["annotations"] = {"argocd.argoproj.io/sync-wave": str(wave)}
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": md,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def job(
    name: str,
    hook: str | None = None,
    *,
    policy: str | None = None,
    fail: bool = False,
    image: str = "busybox:1",
) -> Obj:
    ann: dict[str, str] = {}
    if hook:
        ann["argocd.argoproj.io/hook"] = hook
    if policy:
        ann["argocd.argoproj.io/hook-delete-policy"] = policy
    md: Obj = {"annotations": ann} if ann else {}
    if name.endswith("-"):
        md["generateName"] = name
    else:
        md["name"] = name
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": md,
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "c", "image": image, "command": ["sh", "-c", "exit 1" if fail else "true"]}
                    ],
                }
            },
        },
    }


class SyncEnv:
    def __init__(self, root: Path) -> None:
        self.root = root
        bare = root / "git" / "repo.git"
        git.Repo.init(bare, bare=True, initial_branch="main")
        self.url = bare.as_uri()
        self.work = git.Repo.init(root / "work", initial_branch="main")
        self.work.create_remote("origin", self.url)
        (root / "ws").mkdir()
        (root / "ws" / "trueup.yaml").write_text(WS_FILE)
        self.ws: Workspace = load(root / "ws")
        path = self.ws.sim_path("in-cluster")
        path.parent.mkdir(parents=True)
        sim = SimCluster.create_db(path, "in-cluster", "https://kubernetes.default.svc")
        sim.clock.freeze(START)
        sim.close()
        self.cluster: SimCluster = self.ws.control()  # type: ignore[assignment]
        self.store = AppStore(self.cluster)
        self.store.install()
        self.cluster.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}, field_manager="test"
        )

    # git -------------------------------------------------------------------------------------
    def commit(self, objs: list[Obj], message: str = "update") -> str:
        d = self.root / "work" / "app"
        if d.exists():
            for f in d.iterdir():
                f.unlink()
        d.mkdir(parents=True, exist_ok=True)
        for i, o in enumerate(objs):
            (d / f"{i:02d}-{o['kind'].lower()}.yaml").write_text(yamlsafe.dump(o))
        self.work.git.add("--all")
        sha = self.work.index.commit(message).hexsha
        self.work.git.push("origin", "main")
        return sha

    # apps ------------------------------------------------------------------------------------
    def app(self, name: str = "web", *, sync_policy: Obj | None = None, **spec: Any) -> Obj:
        obj = {
            "apiVersion": API_VERSION,
            "kind": "Application",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "project": "default",
                "source": {"repoURL": self.url, "targetRevision": "main", "path": "app"},
                "destination": {"name": "in-cluster", "namespace": "demo"},
                "syncPolicy": sync_policy or {},
                **spec,
            },
        }
        return self.cluster.apply(obj, field_manager="test")

    def get(self, kind: str, name: str, api_version: str = "v1", namespace: str = "demo") -> Obj | None:
        try:
            return self.cluster.get(api_version, kind, namespace, name)
        except NotFound:
            return None

    def request(self, name: str = "web", **kw: Any) -> Obj:
        kw.setdefault("initiated_by", {"username": "tester"})
        return op.request_sync(self.store, name, **kw)

    def step(self, name: str = "web", advance: float = 1.0, **kw: Any) -> str | None:
        phase = ex.process_operation(self.ws, name, holder="tester", wave_delay=0, **kw)
        self.cluster.clock.advance(advance)
        self.cluster.tick()
        return phase

    def drive(self, name: str = "web", *, passes: int = 60, advance: float = 1.0, **kw: Any) -> Obj:
        """Pass after pass (clock +advance each) until the operation completes."""
        for _ in range(passes):
            phase = self.step(name, advance, **kw)
            if phase is None or phase in op.COMPLETED_PHASES:
                break
        return self.store.get_app(name)

    def sync(self, name: str = "web", **kw: Any) -> Obj:
        self.request(name, **kw)
        return self.drive(name)


def state(app: Obj) -> Obj:
    return (app.get("status") or {}).get("operationState") or {}


def results(app: Obj) -> dict[str, Obj]:
    return {r["name"]: r for r in (state(app).get("syncResult") or {}).get("resources") or []}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[SyncEnv]:
    e = SyncEnv(tmp_path)
    yield e


# --- basic sync, history ------------------------------------------------------------------------


def test_single_wave_sync_applies_records_history_and_clears_operation(env: SyncEnv) -> None:
    sha = env.commit([cm("a"), cm("b")])
    env.app()
    app = env.sync()
    st = state(app)
    assert st["phase"] == "Succeeded"
    assert st["message"] == "successfully synced (all tasks run)"
    assert st["syncResult"]["revision"] == sha
    res = results(app)
    assert res["a"]["status"] == "Synced" and res["a"]["message"] == "configmap/a created"
    assert res["a"]["syncPhase"] == "Sync"
    assert "operation" not in app
    assert env.get("ConfigMap", "a") is not None
    hist = app["status"]["history"]
    assert [h["id"] for h in hist] == [0]
    assert hist[0]["revision"] == sha and hist[0]["initiatedBy"] == {"username": "tester"}
    assert hist[0]["deployStartedAt"] == st["startedAt"]
    assert app["status"]["sync"]["status"] == "Synced"  # refreshed after completion
    # a second sync: nothing changed, id grows by one
    app = env.sync()
    assert results(app)["a"]["message"] == "configmap/a unchanged"
    assert [h["id"] for h in app["status"]["history"]] == [0, 1]


def test_history_trimmed_to_revision_history_limit(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app(revisionHistoryLimit=2)
    for _ in range(3):
        app = env.sync()
    assert [h["id"] for h in app["status"]["history"]] == [1, 2]


def test_waves_wait_for_health_before_the_next_wave(env: SyncEnv) -> None:
    env.commit([deployment("api", wave=0), cm("after", wave=1), cm("before", wave=-1)])
    env.app()
    env.request()
    phase = ex.process_operation(env.ws, "web", holder="tester", wave_delay=0)
    app = env.store.get_app("web")
    assert phase == "Running"
    assert env.get("ConfigMap", "before") is not None and env.get("Deployment", "api", "apps/v1") is None
    assert state(app)["message"] == "waiting for healthy state of /ConfigMap/before"
    ex.process_operation(env.ws, "web", holder="tester", wave_delay=0)  # wave -1 healthy -> wave 0
    app = env.store.get_app("web")
    assert env.get("Deployment", "api", "apps/v1") is not None and env.get("ConfigMap", "after") is None
    assert state(app)["message"] == "waiting for healthy state of apps/Deployment/api"
    app = env.drive()
    assert state(app)["phase"] == "Succeeded"
    assert env.get("ConfigMap", "after") is not None
    assert results(app)["api"]["hookPhase"] == "Succeeded"


def test_degraded_resource_fails_a_multi_wave_sync(env: SyncEnv) -> None:
    env.cluster.set_meta("unpullable_images", ["registry.invalid/*"])
    bad = deployment("api", wave=0, image="registry.invalid/nope:1")
    bad["spec"]["progressDeadlineSeconds"] = 5
    env.commit([bad, cm("after", wave=1)])
    env.app()
    app = env.sync()
    st = state(app)
    assert st["phase"] == "Failed"
    assert st["message"].startswith("one or more synchronization tasks completed unsuccessfully, reason: ")
    assert results(app)["api"]["hookPhase"] == "Failed"
    assert env.get("ConfigMap", "after") is None
    assert "history" not in app["status"]


# --- hooks ---------------------------------------------------------------------------------------


def test_hooks_run_in_phase_order_and_generated_names(env: SyncEnv) -> None:
    sha = env.commit([job("pre-", "PreSync"), cm("cfg"), job("post", "PostSync", policy="HookSucceeded")])
    env.app()
    env.request()
    ex.process_operation(env.ws, "web", holder="tester", wave_delay=0)
    app = env.store.get_app("web")
    started = int(datetime.fromisoformat(state(app)["startedAt"].replace("Z", "+00:00")).timestamp())
    pre_name = f"pre-{sha[:7]}-presync-{started}"
    assert env.get("Job", pre_name, "batch/v1") is not None
    assert env.get("ConfigMap", "cfg") is None
    assert state(app)["message"] == f"waiting for completion of hook batch/Job/{pre_name}"
    live_pre = env.get("Job", pre_name, "batch/v1")
    assert live_pre is not None and "trueup.dev/hook-finalizer" in live_pre["metadata"]["finalizers"]
    app = env.drive()
    st = state(app)
    assert st["phase"] == "Succeeded" and st["message"] == "successfully synced (no more tasks)"
    res = results(app)
    assert res[pre_name]["hookType"] == "PreSync" and res[pre_name]["hookPhase"] == "Succeeded"
    assert res["post"]["hookType"] == "PostSync" and res["post"]["syncPhase"] == "PostSync"
    # HookSucceeded: gone; default BeforeHookCreation: kept, finalizer removed
    assert env.get("Job", "post", "batch/v1") is None
    kept = env.get("Job", pre_name, "batch/v1")
    assert kept is not None and "trueup.dev/hook-finalizer" not in (kept["metadata"].get("finalizers") or [])
    # hooks are not part of the sync status
    assert app["status"]["sync"]["status"] == "Synced"


@pytest.mark.parametrize(
    ("policy", "fail", "exists_after"),
    [
        ("BeforeHookCreation", False, True),
        ("HookSucceeded", False, False),
        ("HookSucceeded", True, True),
        ("HookFailed", True, False),
        ("HookFailed", False, True),
    ],
)
def test_hook_delete_policies(env: SyncEnv, policy: str, fail: bool, exists_after: bool) -> None:
    env.commit([job("hook", "PreSync", policy=policy, fail=fail), cm("cfg")])
    env.app()
    app = env.sync()
    assert state(app)["phase"] == ("Failed" if fail else "Succeeded")
    assert (env.get("Job", "hook", "batch/v1") is not None) is exists_after


def test_before_hook_creation_recreates_the_hook_on_the_next_sync(env: SyncEnv) -> None:
    env.commit([job("migrate", "PreSync"), cm("cfg")])
    env.app()
    env.sync()
    first = env.get("Job", "migrate", "batch/v1")
    assert first is not None
    env.commit([job("migrate", "PreSync", image="busybox:2"), cm("cfg")])  # immutable template changes
    app = env.sync()
    second = env.get("Job", "migrate", "batch/v1")
    assert state(app)["phase"] == "Succeeded"
    assert second is not None and second["metadata"]["uid"] != first["metadata"]["uid"]


def test_failed_presync_hook_stops_the_sync_and_runs_syncfail_hooks(env: SyncEnv) -> None:
    env.commit([job("migrate", "PreSync", fail=True), cm("cfg"), job("page-oncall", "SyncFail")])
    env.app()
    app = env.sync()
    st = state(app)
    assert st["phase"] == "Failed"
    assert st["message"].startswith("one or more synchronization tasks completed unsuccessfully")
    assert env.get("ConfigMap", "cfg") is None
    res = results(app)
    assert res["migrate"]["hookPhase"] == "Failed"
    assert res["page-oncall"]["hookType"] == "SyncFail" and res["page-oncall"]["hookPhase"] == "Succeeded"


def test_syncfail_hooks_do_not_run_on_success(env: SyncEnv) -> None:
    env.commit([cm("cfg"), job("page-oncall", "SyncFail")])
    env.app()
    app = env.sync()
    assert state(app)["phase"] == "Succeeded"
    assert env.get("Job", "page-oncall", "batch/v1") is None


# --- prune ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "prune", "status", "message", "exists_after"),
    [
        (None, False, "PruneSkipped", "ignored (requires pruning)", True),
        (None, True, "Pruned", "pruned", False),
        ("Prune=false", True, "PruneSkipped", "ignored (no prune)", True),
    ],
)
def test_prune_results(
    env: SyncEnv, annotation: str | None, prune: bool, status: str, message: str, exists_after: bool
) -> None:
    extra = {"argocd.argoproj.io/sync-options": annotation} if annotation else {}
    env.commit([cm("keep"), cm("old", **extra)])
    env.app()
    env.sync()
    env.commit([cm("keep")])
    app = env.sync(prune=prune)
    res = results(app)["old"]
    assert (res["status"], res["message"]) == (status, message)
    assert state(app)["phase"] == "Succeeded"
    assert (env.get("ConfigMap", "old") is not None) is exists_after
    requires = {r["name"]: r.get("requiresPruning") for r in app["status"]["resources"]}
    assert requires.get("old") is (True if exists_after else None)


def test_prune_confirm_waits_for_deletion_approved(env: SyncEnv) -> None:
    env.commit([cm("keep"), cm("old", **{"argocd.argoproj.io/sync-options": "Prune=confirm"})])
    env.app()
    env.sync()
    env.commit([cm("keep")])
    env.request(prune=True)
    app = env.drive(passes=3)
    assert state(app)["phase"] == "Running"
    assert state(app)["message"] == "Waiting for pruning confirmation of v1/ConfigMap/old"
    assert env.get("ConfigMap", "old") is not None
    now = env.cluster.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    op.update_app(
        env.store,
        "web",
        lambda a: (
            a["metadata"].setdefault("annotations", {}).update({"argocd.argoproj.io/deletion-approved": now})
        ),
    )
    app = env.drive()
    assert state(app)["phase"] == "Succeeded"
    assert results(app)["old"]["status"] == "Pruned"
    assert env.get("ConfigMap", "old") is None


def test_prune_propagation_orphan_keeps_dependents(env: SyncEnv) -> None:
    env.commit([deployment("api"), cm("cfg")])
    env.app(sync_policy={"syncOptions": ["PrunePropagationPolicy=orphan"]})
    env.sync()
    env.drive()
    rs_before = env.cluster.list("apps/v1", "ReplicaSet", "demo").items
    assert rs_before
    env.commit([cm("cfg")])
    app = env.sync(prune=True)
    assert results(app)["api"]["status"] == "Pruned"
    assert env.get("Deployment", "api", "apps/v1") is None
    assert env.cluster.list("apps/v1", "ReplicaSet", "demo").items  # orphaned, not collected


# --- dry run, selective sync -------------------------------------------------------------------


def test_dry_run_changes_nothing_and_records_no_history(env: SyncEnv) -> None:
    env.commit([cm("a"), job("pre", "PreSync")])
    env.app()
    app = env.sync(dry_run=True)
    st = state(app)
    assert st["phase"] == "Succeeded"
    assert results(app)["a"]["message"] == "configmap/a created (dry run)"
    assert env.get("ConfigMap", "a") is None and env.get("Job", "pre", "batch/v1") is None
    assert "history" not in app["status"]


def test_selective_sync_applies_only_selected_and_skips_hooks_and_history(env: SyncEnv) -> None:
    env.commit([cm("a"), cm("b"), job("pre", "PreSync")])
    env.app()
    app = env.sync(resources=[{"group": "", "kind": "ConfigMap", "namespace": "demo", "name": "a"}])
    assert state(app)["phase"] == "Succeeded"
    assert set(results(app)) == {"a"}
    assert env.get("ConfigMap", "a") is not None and env.get("ConfigMap", "b") is None
    assert env.get("Job", "pre", "batch/v1") is None
    assert "history" not in app["status"]


# --- refusals ------------------------------------------------------------------------------------


def test_comparison_error_refuses_with_phase_error(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app()
    op.update_app(env.store, "web", lambda a: a["spec"]["source"].update({"path": "does-not-exist"}))
    app = env.sync()
    st = state(app)
    assert st["phase"] == "Error"
    assert st["message"].startswith("ComparisonError: ")


def test_unsupported_app_sync_option_is_an_error_not_ignored(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app(sync_policy={"syncOptions": ["prune=false"]})
    app = env.sync()
    assert state(app)["phase"] == "Error"
    assert 'did you mean "Prune=false"' in state(app)["message"]
    assert env.get("ConfigMap", "a") is None


def test_not_permitted_resource_is_an_invalid_task(env: SyncEnv) -> None:
    env.cluster.apply(
        {
            "apiVersion": API_VERSION,
            "kind": "AppProject",
            "metadata": {"name": "tight", "namespace": NAMESPACE},
            "spec": {
                "sourceRepos": ["*"],
                "destinations": [{"namespace": "*", "server": "*", "name": "*"}],
                "namespaceResourceBlacklist": [{"group": "", "kind": "ConfigMap"}],
            },
        },
        field_manager="test",
    )
    env.commit([cm("a"), deployment("api")])
    env.app(project="tight")
    app = env.sync()
    st = state(app)
    assert st["phase"] == "Failed"
    assert st["message"].startswith("one or more synchronization tasks are not valid, reason: ")
    assert results(app)["a"]["status"] == "SyncFailed"
    assert env.get("Deployment", "api", "apps/v1") is None


# --- an exception inside a pass -----------------------------------------------------------------


def test_an_unexpected_exception_ends_the_operation_error_and_frees_the_app(
    env: SyncEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection at the planner (no real input reaches it broken since compare isolates
    manifests): the operation ends Error with a one-line message, its Lease is released, and the
    next sync is accepted and runs."""
    from console.engine.sync import lease
    from console.engine.sync import tasks as tk

    env.commit([cm("a")])
    env.app()
    env.request()

    def broken(*_a: Any, **_kw: Any) -> list[Any]:
        raise RecursionError("maximum recursion depth exceeded while calling a Python object")

    monkeypatch.setattr(tk, "plan", broken)
    assert env.step() == "Error"
    app = env.store.get_app("web")
    assert state(app)["phase"] == "Error"
    assert state(app)["message"] == (
        "the operation stopped on an unexpected error: input nested too deeply to process (RecursionError)"
    )
    assert "operation" not in app and lease.holder_of(env.cluster, "web") is None
    monkeypatch.undo()
    app = env.sync()
    assert state(app)["phase"] == "Succeeded"
    assert env.get("ConfigMap", "a") is not None
