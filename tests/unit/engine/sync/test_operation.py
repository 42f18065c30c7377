"""Operation lifecycle: request, one at a time, terminate, timeout, retry/backoff, Lease, crash
resume, rollback and deletion (argocd-features.md §1.3, §2.5, §2.8, §9)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.engine.sync import deletion, history, lease
from console.engine.sync import executor as ex
from console.engine.sync import operation as op
from console.engine.sync.options import UnsupportedSyncOption
from tests.unit.engine.sync.test_executor import START, SyncEnv, cm, env, job, results, state

__all__ = ["env"]

STUCK_IMAGE = "registry.invalid/stuck:1"


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        ({}, False),
        ({"operation": {"sync": {}}}, True),
        ({"status": {"operationState": {"phase": "Running"}}}, True),
        ({"status": {"operationState": {"phase": "Terminating"}}}, True),
        ({"status": {"operationState": {"phase": "Succeeded"}}}, False),
        ({"status": {"operationState": {"phase": "Failed"}}}, False),
        ({"status": {"operationState": {"phase": "Error"}}}, False),
    ],
)
def test_is_in_progress(app: dict, expected: bool) -> None:
    assert op.is_in_progress(app) is expected


def test_request_sets_operation_and_fresh_running_state(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app()
    app = env.request(prune=True, revision="main")
    assert app["operation"]["sync"] == {
        "revision": "main",
        "prune": True,
        "dryRun": False,
        "syncStrategy": {"hook": {}},
    }
    assert app["operation"]["initiatedBy"] == {"username": "tester"}
    st = state(app)
    assert st["phase"] == "Running" and st["operation"] == app["operation"]
    assert st["startedAt"] == "2030-03-04T14:00:00Z"
    with pytest.raises(op.OperationInProgress, match="^another operation is already in progress$"):
        env.request()


def test_request_refuses_unsupported_operation_sync_options(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app()
    with pytest.raises(UnsupportedSyncOption, match="Replace=True"):
        env.request(sync_options=["Replace=True"])
    assert "operation" not in env.store.get_app("web")


def test_terminate_without_operation(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app()
    with pytest.raises(op.NoOperation, match="^Unable to terminate operation. No operation is in progress$"):
        op.request_terminate(env.store, "web")


def _stuck(env: SyncEnv) -> None:
    env.cluster.set_meta("unpullable_images", ["registry.invalid/*"])
    env.commit([job("migrate", "PreSync", image=STUCK_IMAGE), cm("a")])
    env.app()


def test_terminate_deletes_running_hooks(env: SyncEnv) -> None:
    _stuck(env)
    env.request()
    env.drive(passes=3)
    assert env.get("Job", "migrate", "batch/v1") is not None
    assert state(op.request_terminate(env.store, "web"))["phase"] == "Terminating"
    app = env.drive()
    st = state(app)
    assert (st["phase"], st["message"]) == ("Failed", "Operation terminated")
    assert env.get("Job", "migrate", "batch/v1") is None
    assert env.get("ConfigMap", "a") is None
    assert "operation" not in app and "history" not in app["status"]


def test_sync_timeout_terminates(env: SyncEnv) -> None:
    _stuck(env)
    env.request()
    assert env.step(sync_timeout=30) == "Running"
    phase = ex.process_operation(
        env.ws, "web", holder="tester", sync_timeout=30, now=START + timedelta(seconds=31)
    )
    assert phase == "Terminating"
    assert state(env.store.get_app("web"))["message"] == "operation is terminating due to timeout"
    assert ex.process_operation(env.ws, "web", holder="tester") == "Failed"
    assert state(env.store.get_app("web"))["message"] == "Operation terminated"
    assert env.get("Job", "migrate", "batch/v1") is None


def test_retry_backoff_timing_and_messages(env: SyncEnv) -> None:
    bad = job("bad")
    del bad["spec"]["template"]["spec"]["restartPolicy"]
    env.commit([bad])
    env.app()
    env.request(retry={"limit": 2, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "1m"}})

    def run(at: float) -> dict:
        ex.process_operation(env.ws, "web", holder="tester", now=START + timedelta(seconds=at))
        return state(env.store.get_app("web"))

    st = run(0)
    assert st["phase"] == "Running" and st["retryCount"] == 1
    assert st["message"].startswith("one or more objects failed to apply (dry run), reason: ")
    assert st["message"].endswith(". Retrying attempt #1 at 2:00PM.")
    assert st["finishedAt"] == "2030-03-04T14:00:00Z"
    assert run(4.5)["retryCount"] == 1  # before NextRetryAt = finishedAt + 5 s x 2^0: nothing
    st = run(5)
    assert st["retryCount"] == 2 and st["finishedAt"] == "2030-03-04T14:00:05Z"
    assert st["message"].endswith(". Retrying attempt #2 at 2:00PM.")
    assert run(14)["retryCount"] == 2  # second delay is 5 s x 2^1
    st = run(15)
    assert st["phase"] == "Failed" and st["retryCount"] == 2
    assert st["message"].endswith(" (retried 2 times).")
    assert "operation" not in env.store.get_app("web")


def test_terminated_operation_is_not_retried(env: SyncEnv) -> None:
    _stuck(env)
    env.request(retry={"limit": 5})
    env.drive(passes=2)
    op.request_terminate(env.store, "web")
    assert state(env.drive())["phase"] == "Failed"


def test_lease_single_executor_and_takeover_after_expiry(env: SyncEnv) -> None:
    _stuck(env)
    env.request()
    assert ex.process_operation(env.ws, "web", holder="a", lease_seconds=15) == "Running"
    assert lease.holder_of(env.cluster, "web") == "a"
    before = state(env.store.get_app("web"))
    env.cluster.clock.advance(5)
    op.request_terminate(env.store, "web")
    # b cannot act while a's lease is fresh: the terminate request waits
    assert ex.process_operation(env.ws, "web", holder="b") == "Terminating"
    assert env.get("Job", "migrate", "batch/v1") is not None
    env.cluster.clock.advance(11)  # 16 s after a's last renewal
    assert ex.process_operation(env.ws, "web", holder="b") == "Failed"
    assert before["startedAt"] == state(env.store.get_app("web"))["startedAt"]
    assert lease.holder_of(env.cluster, "web") is None  # released on completion


def test_resume_adopts_a_hook_created_but_not_recorded(env: SyncEnv) -> None:
    """The crash window between creating a hook and persisting its result: the next executor
    re-attaches to the live hook instead of deleting and re-creating it."""
    env.commit([job("migrate", "PreSync"), cm("a")])
    env.app()
    env.request()
    ex.process_operation(env.ws, "web", holder="a", wave_delay=0)
    created = env.get("Job", "migrate", "batch/v1")
    assert created is not None

    def forget(status: dict) -> None:
        status["operationState"].pop("syncResult", None)

    op.update_status(env.store, "web", forget)
    env.cluster.clock.advance(20)
    app = env.drive()
    assert state(app)["phase"] == "Succeeded"
    after = env.get("Job", "migrate", "batch/v1")
    assert after is not None and after["metadata"]["uid"] == created["metadata"]["uid"]
    assert results(app)["migrate"]["hookPhase"] == "Succeeded"


def test_rollback_refusals(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app(sync_policy={"automated": {}})
    env.sync()
    with pytest.raises(
        history.RollbackRefused, match="^rollback cannot be initiated when auto-sync is enabled$"
    ):
        history.rollback(env.store, "web", 0, initiated_by={"username": "tester"})
    op.update_app(env.store, "web", lambda a: a["spec"].update({"syncPolicy": {}}))
    with pytest.raises(
        history.RollbackRefused,
        match=r"^application web does not have deployment with id 7 \(ids: 0; see `trueup app history web`\)$",
    ):
        history.rollback(env.store, "web", 7, initiated_by={"username": "tester"})


def test_rollback_restores_the_revision_without_hooks(env: SyncEnv) -> None:
    sha1 = env.commit([cm("a", data={"v": "1"}), job("migrate", "PreSync")])
    env.app()
    env.sync()
    hook_uid = env.get("Job", "migrate", "batch/v1")["metadata"]["uid"]  # type: ignore[index]
    env.commit([cm("a", data={"v": "2"}), job("migrate", "PreSync")])
    env.sync()
    second_uid = env.get("Job", "migrate", "batch/v1")["metadata"]["uid"]  # type: ignore[index]
    assert second_uid != hook_uid  # BeforeHookCreation re-ran it on the hook-strategy sync
    app = history.rollback(env.store, "web", 0, initiated_by={"username": "tester"})
    assert app["operation"]["sync"]["syncStrategy"] == {"apply": {}}
    app = env.drive()
    assert state(app)["phase"] == "Succeeded"
    assert env.get("ConfigMap", "a")["data"] == {"v": "1"}  # type: ignore[index]
    assert "migrate" not in results(app)
    assert app["status"]["history"][-1]["revision"] == sha1
    assert env.get("Job", "migrate", "batch/v1")["metadata"]["uid"] == second_uid  # type: ignore[index]


def test_deletion_highest_wave_first_and_kept_resources(env: SyncEnv) -> None:
    keep = cm("keep", **{"argocd.argoproj.io/sync-options": "Delete=false"})
    env.commit([cm("w0", wave=0), cm("w1", wave=1), cm("w2", wave=2), keep])
    env.app()
    env.sync()
    assert deletion.request_delete(env.store, "web", "foreground") is not None
    order = []
    for _ in range(10):
        step = deletion.process_deletion(env.ws, "web")
        order.append([k.name for k in step.deleted])
        if step.done:
            break
    assert order[:3] == [["w2"], ["w1"], ["w0"]]
    assert step.done
    assert env.get("ConfigMap", "keep") is not None
    assert all(env.get("ConfigMap", n) is None for n in ("w0", "w1", "w2"))


def test_deletion_orphan_keeps_everything(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app()
    env.sync()
    step = deletion.delete_app(env.ws, "web", cascade="orphan", timeout=10)
    assert step.done
    assert env.get("ConfigMap", "a") is not None


def test_deletion_confirm_waits_for_approval(env: SyncEnv) -> None:
    env.commit([cm("a", **{"argocd.argoproj.io/sync-options": "Delete=confirm"})])
    env.app()
    env.sync()
    deletion.request_delete(env.store, "web")
    step = deletion.process_deletion(env.ws, "web")
    assert step.message == "waiting for deletion confirmation of /ConfigMap/a"
    env.cluster.clock.advance(1)
    now = env.cluster.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    op.update_app(
        env.store,
        "web",
        lambda a: a["metadata"].setdefault("annotations", {}).update({deletion.DELETION_APPROVED: now}),
    )
    assert [k.name for k in deletion.process_deletion(env.ws, "web").deleted] == ["a"]
    assert deletion.process_deletion(env.ws, "web").done
