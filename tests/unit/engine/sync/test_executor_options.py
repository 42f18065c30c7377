"""Sync options (argocd-features.md §2.6), each against the sim through the executor."""

from __future__ import annotations

import copy

import pytest

from tests.unit.engine.sync.test_executor import SyncEnv, cm, deployment, env, job, results, state

__all__ = ["env"]


def test_replace_true_updates_instead_of_applying(env: SyncEnv) -> None:
    env.commit([cm("a", **{"argocd.argoproj.io/sync-options": "Replace=true"})])
    env.app()
    assert results(env.sync())["a"]["message"] == "configmap/a created"
    env.commit([cm("a", data={"k": "v2"}, **{"argocd.argoproj.io/sync-options": "Replace=true"})])
    app = env.sync()
    assert results(app)["a"]["message"] == "configmap/a replaced"
    live = env.get("ConfigMap", "a")
    assert live is not None and live["data"] == {"k": "v2"}
    assert any(
        m["operation"] == "Update" and m["manager"] == "trueup" for m in live["metadata"]["managedFields"]
    )


def test_server_side_apply_message_and_field_manager(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app(sync_policy={"syncOptions": ["ServerSideApply=true"]})
    env.sync()
    app = env.sync()
    assert results(app)["a"]["message"] == "configmap/a serverside-applied"
    live = env.get("ConfigMap", "a")
    assert live is not None
    assert any(
        m["manager"] == "trueup" and m["operation"] == "Apply" for m in live["metadata"]["managedFields"]
    )


def test_create_namespace_with_managed_namespace_metadata(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app(
        destination={"name": "in-cluster", "namespace": "fresh"},
        syncPolicy={
            "syncOptions": ["CreateNamespace=true"],
            "managedNamespaceMetadata": {"labels": {"team": "payments"}, "annotations": {"owner": "sre"}},
        },
    )
    app = env.sync()
    assert state(app)["phase"] == "Succeeded"
    ns = env.get("Namespace", "fresh", namespace="")
    assert ns is not None
    assert ns["metadata"]["labels"]["team"] == "payments" and ns["metadata"]["annotations"]["owner"] == "sre"
    assert results(app)["fresh"]["syncPhase"] == "PreSync"
    assert env.get("ConfigMap", "a", namespace="fresh") is not None


def test_apply_out_of_sync_only_skips_synced_resources(env: SyncEnv) -> None:
    env.commit([cm("a"), cm("b")])
    env.app(sync_policy={"syncOptions": ["ApplyOutOfSyncOnly=true"]})
    env.sync()
    env.commit([cm("a"), cm("b", data={"k": "changed"})])
    app = env.sync()
    assert state(app)["phase"] == "Succeeded"
    assert set(results(app)) == {"b"}
    assert [h["id"] for h in app["status"]["history"]] == [0, 1]


def _invalid_job() -> dict:  # restartPolicy defaults to Always, which a Job refuses
    j = job("bad")
    del j["spec"]["template"]["spec"]["restartPolicy"]
    return j


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "one or more objects failed to apply (dry run), reason: "),
        (["Validate=false"], "one or more objects failed to apply, reason: "),
    ],
)
def test_validate_false_lets_the_apply_decide(env: SyncEnv, options: list[str], message: str) -> None:
    env.commit([cm("a"), _invalid_job()])
    env.app(sync_policy={"syncOptions": options})
    app = env.sync()
    st = state(app)
    assert st["phase"] == "Failed"
    assert st["message"].startswith(message)
    assert "Unsupported value" in results(app)["bad"]["message"]
    assert results(app)["bad"]["status"] == "SyncFailed"


def _widget(**ann: str) -> dict:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "annotations": ann}}


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        ({}, "one or more synchronization tasks are not valid, reason: the server could not find"),
        (
            {"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"},
            "one or more objects failed to apply, reason: ",
        ),
    ],
)
def test_skip_dry_run_on_missing_resource(env: SyncEnv, annotations: dict[str, str], message: str) -> None:
    env.commit([cm("a"), _widget(**annotations)])
    env.app()
    st = state(env.sync())
    assert st["phase"] == "Failed"
    assert st["message"].startswith(message)


def test_fail_on_shared_resource(env: SyncEnv) -> None:
    env.commit([cm("shared")])
    env.app("other")
    env.sync("other")
    env.app(sync_policy={"syncOptions": ["FailOnSharedResource=true"]})
    app = env.sync()
    st = state(app)
    assert st["phase"] == "Failed"
    assert st["message"] == "Shared resource found: ConfigMap/shared is part of applications web and other"


@pytest.mark.parametrize(("respect", "replicas"), [(True, 3), (False, 1)])
def test_respect_ignore_differences(env: SyncEnv, respect: bool, replicas: int) -> None:
    env.commit([deployment("api", replicas=1), cm("a")])
    options = ["RespectIgnoreDifferences=true"] if respect else []
    env.app(
        sync_policy={"syncOptions": options},
        ignoreDifferences=[{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
    )
    env.sync()
    env.cluster.patch("apps/v1", "Deployment", "demo", "api", {"spec": {"replicas": 3}}, field_manager="hpa")
    env.commit([deployment("api", replicas=1), cm("a", data={"k": "v2"})])
    app = env.sync()
    assert state(app)["phase"] == "Succeeded"
    live = env.get("Deployment", "api", "apps/v1")
    assert live is not None and live["spec"]["replicas"] == replicas


def test_force_recreates_an_object_whose_update_is_refused(env: SyncEnv) -> None:
    env.commit([job("once")])
    env.app()
    env.sync()
    first = env.get("Job", "once", "batch/v1")
    changed = job("once", image="busybox:2")
    env.commit([changed])
    st = state(env.sync())
    assert st["phase"] == "Failed"  # a Job's template is immutable
    forced = copy.deepcopy(changed)
    forced["metadata"]["annotations"] = {"argocd.argoproj.io/sync-options": "Force=true"}
    env.commit([forced])
    app = env.sync()
    assert state(app)["phase"] == "Succeeded"
    assert results(app)["once"]["message"] == "job.batch/once replaced"
    second = env.get("Job", "once", "batch/v1")
    assert first is not None and second is not None and second["metadata"]["uid"] != first["metadata"]["uid"]


def test_operation_sync_options_override_the_apps(env: SyncEnv) -> None:
    env.commit([cm("a")])
    env.app(sync_policy={"syncOptions": ["ServerSideApply=true"]})
    env.sync()
    app = env.sync(sync_options=["Replace=true"])
    assert results(app)["a"]["message"] == "configmap/a replaced"


def test_apply_error_messages_never_echo_secret_values() -> None:
    from console.cluster.api import Invalid, ResourceKey
    from console.engine.sync.apply import error_message
    from console.engine.sync.tasks import SyncTask

    value = "hunter2-" + "very-secret"
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"pw": value}}
    task = SyncTask("Sync", 0, secret, None, ResourceKey.of(secret))
    text = error_message(Invalid(f'Secret "db" is invalid: data[pw]: Invalid value: "{value}"'), task)
    assert value not in text and "++++++++" in text
