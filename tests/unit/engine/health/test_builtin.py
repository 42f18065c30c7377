"""Built-in resource health checks against Argo CD's exact statuses and messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from console.engine.health.builtin import has_builtin_check
from console.engine.health.checker import HealthChecker
from console.engine.health.status import (
    DEGRADED,
    HEALTH_ORDER,
    HEALTHY,
    MISSING,
    PROGRESSING,
    SUSPENDED,
    UNKNOWN,
    HealthStatus,
    is_worse,
)

CHECKER = HealthChecker()


def obj(
    api: str,
    kind: str,
    name: str = "web",
    *,
    gen: int = 1,
    spec: Any = None,
    status: Any = None,
    annotations: dict[str, str] | None = None,
    **meta: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, "namespace": "default", "generation": gen, **meta},
    }
    if annotations is not None:
        out["metadata"]["annotations"] = annotations
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def health(o: dict[str, Any], *, is_hook: bool = False) -> tuple[str, str] | None:
    h = CHECKER.resource_health(o, is_hook=is_hook)
    return None if h is None else (h.status, h.message)


def deploy(spec: dict[str, Any] | None = None, gen: int = 2, **status: Any) -> dict[str, Any]:
    return obj(
        "apps/v1",
        "Deployment",
        gen=gen,
        spec={"replicas": 3, **(spec or {})},
        status={"observedGeneration": 2, **status},
    )


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (deploy({"paused": True}), (SUSPENDED, "Deployment is paused")),
        (
            deploy(
                conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}],
                updatedReplicas=1,
            ),
            (DEGRADED, 'Deployment "web" exceeded its progress deadline'),
        ),
        (
            deploy(updatedReplicas=1, replicas=3, availableReplicas=3),
            (PROGRESSING, "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."),
        ),
        (
            deploy(updatedReplicas=3, replicas=5, availableReplicas=3),
            (PROGRESSING, "Waiting for rollout to finish: 2 old replicas are pending termination..."),
        ),
        (
            deploy(updatedReplicas=3, replicas=3, availableReplicas=1),
            (PROGRESSING, "Waiting for rollout to finish: 1 of 3 updated replicas are available..."),
        ),
        (
            deploy(gen=3, updatedReplicas=3, replicas=3, availableReplicas=3),
            (
                PROGRESSING,
                "Waiting for rollout to finish: observed deployment generation less than desired generation",
            ),
        ),
        (
            deploy(
                updatedReplicas=3,
                replicas=3,
                availableReplicas=3,
                conditions=[{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}],
            ),
            (HEALTHY, ""),
        ),
        # paused wins even when the generation has not been observed
        (deploy({"paused": True}, gen=9), (SUSPENDED, "Deployment is paused")),
        (
            obj("apps/v1beta2", "Deployment"),
            (UNKNOWN, "unsupported Deployment GVK: apps/v1beta2, Kind=Deployment"),
        ),
        (
            deploy({"replicas": "three"}),
            (
                UNKNOWN,
                "failed to convert unstructured Deployment to typed: .spec.replicas: expected integer, got str",
            ),
        ),
    ],
    ids=[
        "paused",
        "deadline",
        "updated",
        "old-pending",
        "available",
        "generation",
        "healthy",
        "paused-first",
        "bad-version",
        "conversion-error",
    ],
)
def test_deployment(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


def sts(strategy: dict[str, Any] | None = None, gen: int = 1, **status: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": 3}
    if strategy is not None:
        spec["updateStrategy"] = strategy
    return obj("apps/v1", "StatefulSet", gen=gen, spec=spec, status={"observedGeneration": 1, **status})


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (sts(observedGeneration=0), (PROGRESSING, "Waiting for statefulset spec update to be observed...")),
        (sts(gen=2), (PROGRESSING, "Waiting for statefulset spec update to be observed...")),
        (sts(readyReplicas=1), (PROGRESSING, "Waiting for 2 pods to be ready...")),
        (
            sts(
                {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                readyReplicas=3,
                updatedReplicas=1,
            ),
            (
                PROGRESSING,
                "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
            ),
        ),
        (
            sts(
                {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                readyReplicas=3,
                updatedReplicas=2,
            ),
            (HEALTHY, "partitioned roll out complete: 2 new pods have been updated..."),
        ),
        (
            sts({"type": "RollingUpdate", "rollingUpdate": {}}, readyReplicas=3, updatedReplicas=0),
            (HEALTHY, "partitioned roll out complete: 0 new pods have been updated..."),
        ),
        (sts({"type": "OnDelete"}, readyReplicas=3), (HEALTHY, "statefulset has 3 ready pods")),
        (
            sts(
                {"type": "RollingUpdate"},
                readyReplicas=3,
                updatedReplicas=1,
                updateRevision="web-2",
                currentRevision="web-1",
            ),
            (PROGRESSING, "waiting for statefulset rolling update to complete 1 pods at revision web-2..."),
        ),
        (
            sts(
                {"type": "RollingUpdate"},
                readyReplicas=3,
                currentReplicas=3,
                updateRevision="web-2",
                currentRevision="web-2",
            ),
            (HEALTHY, "statefulset rolling update complete 3 pods at revision web-2..."),
        ),
    ],
    ids=[
        "never-observed",
        "generation",
        "ready",
        "partition-progressing",
        "partition-done",
        "rolling-block",
        "ondelete",
        "revision-progressing",
        "revision-done",
    ],
)
def test_statefulset(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


def ds(strategy: str = "RollingUpdate", gen: int = 1, **status: Any) -> dict[str, Any]:
    return obj(
        "apps/v1",
        "DaemonSet",
        name="agent",
        gen=gen,
        spec={"updateStrategy": {"type": strategy}},
        status={"observedGeneration": 1, "desiredNumberScheduled": 4, **status},
    )


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (
            ds(gen=2),
            (
                PROGRESSING,
                "Waiting for rollout to finish: observed daemon set generation less than desired generation",
            ),
        ),
        (
            ds("OnDelete", updatedNumberScheduled=1),
            (HEALTHY, "daemon set 1 out of 4 new pods have been updated"),
        ),
        (
            ds(updatedNumberScheduled=1, numberAvailable=4),
            (
                PROGRESSING,
                'Waiting for daemon set "agent" rollout to finish: 1 out of 4 new pods have been updated...',
            ),
        ),
        (
            ds(updatedNumberScheduled=4, numberAvailable=2),
            (
                PROGRESSING,
                'Waiting for daemon set "agent" rollout to finish: 2 of 4 updated pods are available...',
            ),
        ),
        (ds(updatedNumberScheduled=4, numberAvailable=4), (HEALTHY, "")),
    ],
    ids=["generation", "ondelete", "updated", "available", "healthy"],
)
def test_daemonset(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


def rs(gen: int = 1, **status: Any) -> dict[str, Any]:
    return obj(
        "apps/v1", "ReplicaSet", gen=gen, spec={"replicas": 2}, status={"observedGeneration": 1, **status}
    )


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (
            rs(
                conditions=[
                    {
                        "type": "ReplicaFailure",
                        "status": "True",
                        "reason": "FailedCreate",
                        "message": 'pods "web-x" is forbidden: exceeded quota',
                    }
                ]
            ),
            (DEGRADED, 'pods "web-x" is forbidden: exceeded quota'),
        ),
        (
            rs(availableReplicas=1),
            (PROGRESSING, "Waiting for rollout to finish: 1 out of 2 new replicas are available..."),
        ),
        (
            rs(gen=2),
            (
                PROGRESSING,
                "Waiting for rollout to finish: observed replica set generation less than desired generation",
            ),
        ),
        (rs(availableReplicas=2, conditions=[{"type": "ReplicaFailure", "status": "False"}]), (HEALTHY, "")),
    ],
    ids=["replica-failure", "available", "generation", "healthy"],
)
def test_replicaset(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (obj("v1", "Service", spec={"type": "LoadBalancer"}, status={"loadBalancer": {}}), (PROGRESSING, "")),
        (
            obj(
                "v1",
                "Service",
                spec={"type": "LoadBalancer"},
                status={"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}},
            ),
            (HEALTHY, ""),
        ),
        (obj("v1", "Service", spec={"type": "ClusterIP"}), (HEALTHY, "")),
        (obj("networking.k8s.io/v1", "Ingress", status={"loadBalancer": {}}), (PROGRESSING, "")),
        (
            obj(
                "networking.k8s.io/v1", "Ingress", status={"loadBalancer": {"ingress": [{"hostname": "lb"}]}}
            ),
            (HEALTHY, ""),
        ),
        (
            obj("extensions/v1beta1", "Ingress", status={"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}),
            (HEALTHY, ""),
        ),
        (obj("extensions/v1beta1", "Ingress"), (PROGRESSING, "")),
    ],
    ids=[
        "lb-pending",
        "lb-ready",
        "clusterip",
        "ingress-pending",
        "ingress-ready",
        "extensions-ready",
        "extensions-no-status",
    ],
)
def test_service_and_ingress(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


@pytest.mark.parametrize(
    ("phase", "expected"),
    [("Bound", HEALTHY), ("Pending", PROGRESSING), ("Lost", DEGRADED), ("", UNKNOWN), ("Weird", UNKNOWN)],
)
def test_pvc(phase: str, expected: str) -> None:
    o = obj("v1", "PersistentVolumeClaim", status={"phase": phase} if phase else {})
    assert health(o) == (expected, "")


def pod(
    phase: str,
    *,
    policy: str = "Always",
    containers: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    ready: bool | None = None,
    message: str | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "containerStatuses": containers or []}
    if init is not None:
        status["initContainerStatuses"] = init
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    if message is not None:
        status["message"] = message
    return obj("v1", "Pod", spec={"restartPolicy": policy}, status=status, annotations=annotations)


def waiting(reason: str, message: str, name: str = "main") -> dict[str, Any]:
    return {"name": name, "state": {"waiting": {"reason": reason, "message": message}}}


def terminated(name: str = "main", **term: Any) -> dict[str, Any]:
    return {"name": name, "state": {"terminated": term}}


PULL = 'Back-off pulling image "alpine:3.99"'


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (
            pod("Pending", containers=[waiting("ErrImagePull", "rpc error: image not found")]),
            (DEGRADED, "rpc error: image not found"),
        ),
        (pod("Pending", containers=[waiting("ImagePullBackOff", PULL)]), (DEGRADED, PULL)),
        (
            pod(
                "Running",
                containers=[
                    waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container"),
                    waiting("CreateContainerConfigError", 'secret "db" not found', "side"),
                ],
            ),
            (DEGRADED, 'back-off 5m0s restarting failed container, secret "db" not found'),
        ),
        (pod("Pending", containers=[waiting("ContainerCreating", "")]), (PROGRESSING, "")),
        (pod("Pending", message="0/3 nodes are available"), (PROGRESSING, "0/3 nodes are available")),
        (pod("Succeeded"), (HEALTHY, "")),
        (pod("Failed", message="Pod was evicted"), (DEGRADED, "Pod was evicted")),
        (pod("Failed", containers=[terminated(reason="OOMKilled", exitCode=137)]), (DEGRADED, "OOMKilled")),
        (
            pod("Failed", containers=[terminated(reason="Error", exitCode=2)]),
            (DEGRADED, 'container "main" failed with exit code 2'),
        ),
        (
            pod(
                "Failed",
                init=[terminated("migrate", reason="Error", exitCode=1, message="migration 42 failed")],
                containers=[terminated(reason="Error", exitCode=3)],
            ),
            (DEGRADED, "migration 42 failed"),
        ),
        (pod("Failed", containers=[terminated(reason="Completed", exitCode=0)]), (DEGRADED, "")),
        (pod("Running", ready=True), (HEALTHY, "")),
        (
            pod(
                "Running",
                ready=False,
                containers=[
                    {"name": "main", "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1}}}
                ],
            ),
            (DEGRADED, ""),
        ),
        (pod("Running", ready=False), (PROGRESSING, "")),
        (pod("Running", policy="OnFailure", ready=True), (PROGRESSING, "")),
        (pod("Running", policy="Never", ready=True), (PROGRESSING, "")),
        # OnFailure/Never: pull errors are not Degraded (these pods are usually hooks)
        (pod("Pending", policy="Never", containers=[waiting("ImagePullBackOff", PULL)]), (PROGRESSING, "")),
        (pod("Unknown"), (UNKNOWN, "")),
    ],
    ids=[
        "err-image-pull",
        "image-pull-backoff",
        "crashloop-joined",
        "creating",
        "pending-message",
        "succeeded",
        "failed-message",
        "oomkilled",
        "exit-code",
        "init-container-first",
        "failed-no-detail",
        "running-ready",
        "running-restarted",
        "running-not-ready",
        "onfailure",
        "never",
        "never-backoff",
        "unknown-phase",
    ],
)
def test_pod(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


IGNORE = {"argocd.argoproj.io/ignore-restart-policy": "true"}


@pytest.mark.parametrize(
    ("o", "is_hook", "expected"),
    [
        (pod("Running", policy="Never", ready=True, annotations=IGNORE), False, (HEALTHY, "")),
        (
            pod(
                "Running", policy="Never", containers=[waiting("ImagePullBackOff", PULL)], annotations=IGNORE
            ),
            False,
            (DEGRADED, PULL),
        ),
        # not for hooks: neither the is_hook flag nor a hook annotation
        (pod("Running", policy="Never", ready=True, annotations=IGNORE), True, (PROGRESSING, "")),
        (
            pod(
                "Running",
                policy="Never",
                ready=True,
                annotations={**IGNORE, "argocd.argoproj.io/hook": "PostSync"},
            ),
            False,
            (PROGRESSING, ""),
        ),
        (
            pod(
                "Running",
                policy="Never",
                ready=True,
                annotations={"argocd.argoproj.io/ignore-restart-policy": "false"},
            ),
            False,
            (PROGRESSING, ""),
        ),
    ],
    ids=["ready-healthy", "backoff-degraded", "hook-flag", "hook-annotation", "annotation-false"],
)
def test_pod_ignore_restart_policy(o: dict[str, Any], is_hook: bool, expected: tuple[str, str]) -> None:
    assert health(o, is_hook=is_hook) == expected


def job(*conditions: dict[str, Any]) -> dict[str, Any]:
    return obj("batch/v1", "Job", name="migrate", status={"conditions": list(conditions)})


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (
            job(
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                }
            ),
            (DEGRADED, "Job has reached the specified backoff limit"),
        ),
        (job({"type": "Complete", "status": "True", "message": "done"}), (HEALTHY, "done")),
        (
            job(
                {"type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}
            ),
            (SUSPENDED, "Job suspended"),
        ),
        (
            job({"type": "Suspended", "status": "False", "reason": "JobResumed", "message": "Job resumed"}),
            (PROGRESSING, ""),
        ),
        (job(), (PROGRESSING, "")),
        (obj("batch/v1", "Job"), (PROGRESSING, "")),
    ],
    ids=["failed", "complete", "suspended", "resumed", "running", "no-status"],
)
def test_job(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


def hpa2(*conditions: dict[str, Any], version: str = "v2") -> dict[str, Any]:
    return obj(f"autoscaling/{version}", "HorizontalPodAutoscaler", status={"conditions": list(conditions)})


def hpa1(conditions: list[dict[str, Any]] | str | None) -> dict[str, Any]:
    annotations = None
    if conditions is not None:
        text = conditions if isinstance(conditions, str) else json.dumps(conditions)
        annotations = {"autoscaling.alpha.kubernetes.io/conditions": text}
    return obj("autoscaling/v1", "HorizontalPodAutoscaler", annotations=annotations)


ABLE = {
    "type": "AbleToScale",
    "status": "True",
    "reason": "ReadyForNewScale",
    "message": "recommended size matches current size",
}
ABLE_GOT_SCALE = {
    "type": "AbleToScale",
    "status": "True",
    "reason": "SucceededGetScale",
    "message": "the HPA controller was able to get the target's current scale",
}
SCALING_LIMITED = {
    "type": "ScalingLimited",
    "status": "True",
    "reason": "TooFewReplicas",
    "message": "the desired replica count is less than the minimum replica count",
}
OBJECT_METRIC_FAILED = {
    "type": "ScalingActive",
    "status": "False",
    "reason": "FailedGetObjectMetric",
    "message": "the HPA was unable to compute the replica count: unable to get metric "
    "tomcat_sessions_active_current_sessions: Service on namespace sample-service/unable to fetch "
    "metrics from custom metrics API: the server could not find the metric "
    "tomcat_sessions_active_current_sessions for services",
}


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        *[
            (
                hpa2({"type": t, "status": "False", "reason": r, "message": f"{r} happened"}),
                (DEGRADED, f"{r} happened"),
            )
            for t, r in [
                ("AbleToScale", "FailedGetScale"),
                ("AbleToScale", "FailedUpdateScale"),
                ("ScalingActive", "FailedGetResourceMetric"),
                ("ScalingActive", "FailedGetObjectMetric"),
                ("ScalingActive", "FailedGetPodsMetric"),
                ("ScalingActive", "FailedGetExternalMetric"),
                ("ScalingActive", "FailedComputeMetricsReplicas"),
                ("ScalingActive", "InvalidSelector"),
            ]
        ],
        (hpa2(ABLE), (HEALTHY, "recommended size matches current size")),
        (
            hpa2(
                {"type": "ScalingLimited", "status": "True", "reason": "TooFewReplicas", "message": "min"},
                version="v2beta2",
            ),
            (HEALTHY, "min"),
        ),
        # Argo CD >= 3.5: a degraded condition anywhere wins over a healthy one listed before it
        (
            hpa2(
                ABLE,
                {
                    "type": "ScalingActive",
                    "status": "False",
                    "reason": "FailedGetResourceMetric",
                    "message": "x",
                },
            ),
            (DEGRADED, "x"),
        ),
        (hpa2(ABLE, SCALING_LIMITED, OBJECT_METRIC_FAILED), (DEGRADED, OBJECT_METRIC_FAILED["message"])),
        # Argo's testdata/hpa-v1-degraded-failedgetobjectmetric.yaml
        (hpa1([ABLE_GOT_SCALE, OBJECT_METRIC_FAILED]), (DEGRADED, OBJECT_METRIC_FAILED["message"])),
        # the first healthy condition gives the message when nothing is degraded
        (hpa2(SCALING_LIMITED, ABLE), (HEALTHY, SCALING_LIMITED["message"])),
        (
            hpa2({"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound", "message": "ok"}),
            (PROGRESSING, "Waiting to Autoscale"),
        ),
        (hpa2(), (PROGRESSING, "Waiting to Autoscale")),
        (
            hpa1(
                [
                    {
                        "type": "AbleToScale",
                        "status": "False",
                        "reason": "FailedGetScale",
                        "message": "no scale",
                    }
                ]
            ),
            (DEGRADED, "no scale"),
        ),
        (hpa1([ABLE]), (HEALTHY, "recommended size matches current size")),
        (hpa1(None), (PROGRESSING, "Waiting to Autoscale")),
        (hpa1([]), (PROGRESSING, "Waiting to Autoscale")),
        (hpa2(version="v3"), (UNKNOWN, "unsupported HPA GVK: autoscaling/v3, Kind=HorizontalPodAutoscaler")),
    ],
    ids=[
        "v2-failed-get-scale",
        "v2-failed-update-scale",
        "v2-resource-metric",
        "v2-object-metric",
        "v2-pods-metric",
        "v2-external-metric",
        "v2-compute-replicas",
        "v2-invalid-selector",
        "v2-healthy",
        "v2beta2-limited",
        "degraded-after-healthy",
        "object-metric-after-limited",
        "v1-failedgetobjectmetric",
        "first-healthy-message",
        "v2-waiting",
        "v2-no-conditions",
        "v1-degraded",
        "v1-healthy",
        "v1-no-annotation",
        "v1-empty",
        "bad-version",
    ],
)
def test_hpa(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


def test_hpa_v1_bad_annotation_is_unknown() -> None:
    h = CHECKER.resource_health(hpa1("{not json"))
    assert h is not None and h.status == UNKNOWN
    assert h.message.startswith("failed to convert conditions annotation to typed: ")


def apisvc(version: str = "v1", *conditions: dict[str, Any]) -> dict[str, Any]:
    return obj(f"apiregistration.k8s.io/{version}", "APIService", status={"conditions": list(conditions)})


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (
            apisvc(
                "v1",
                {"type": "Available", "status": "True", "reason": "Passed", "message": "all checks passed"},
            ),
            (HEALTHY, "Passed: all checks passed"),
        ),
        (
            apisvc(
                "v1beta1",
                {
                    "type": "Available",
                    "status": "False",
                    "reason": "FailedDiscoveryCheck",
                    "message": "no response from https://10.0.0.1:443",
                },
            ),
            (PROGRESSING, "FailedDiscoveryCheck: no response from https://10.0.0.1:443"),
        ),
        (apisvc("v1"), (PROGRESSING, "Waiting to be processed")),
    ],
    ids=["available", "unavailable", "unprocessed"],
)
def test_apiservice(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        ("", PROGRESSING),
        ("Pending", PROGRESSING),
        ("Running", PROGRESSING),
        ("Succeeded", HEALTHY),
        ("Failed", DEGRADED),
        ("Error", DEGRADED),
        ("Odd", UNKNOWN),
    ],
)
def test_workflow(phase: str, expected: str) -> None:
    o = obj("argoproj.io/v1alpha1", "Workflow", status={"phase": phase, "message": "step 3"} if phase else {})
    assert health(o) == (expected, "step 3" if phase else "")


def cron(suspend: bool = False, status: dict[str, Any] | None = None) -> dict[str, Any]:
    return obj(
        "batch/v1",
        "CronJob",
        name="backup",
        spec={"suspend": suspend, "schedule": "0 2 * * *"},
        status=status,
    )


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (cron(True, {}), (HEALTHY, "CronJob is Suspended")),
        (cron(), (PROGRESSING, "Waiting for CronJob")),
        (cron(status={}), (HEALTHY, "CronJob has not been scheduled yet")),
        (
            cron(status={"lastScheduleTime": "2026-01-02T02:00:00Z"}),
            (HEALTHY, "The CronJob never completed successfully. It may not be healthy"),
        ),
        (
            cron(
                status={
                    "lastScheduleTime": "2026-01-02T02:00:00Z",
                    "lastSuccessfulTime": "2026-01-01T02:00:09Z",
                    "active": [{"name": "backup-1"}],
                }
            ),
            (HEALTHY, "The job is running. Its last execution may not have been successful"),
        ),
        (
            cron(
                status={
                    "lastScheduleTime": "2026-01-02T02:00:00Z",
                    "lastSuccessfulTime": "2026-01-01T02:00:09Z",
                }
            ),
            (DEGRADED, "CronJob has not completed its last execution successfully"),
        ),
        (
            cron(
                status={
                    "lastScheduleTime": "2026-01-02T02:00:00Z",
                    "lastSuccessfulTime": "2026-01-02T02:00:07Z",
                }
            ),
            (HEALTHY, "CronJob has completed its last execution successfully"),
        ),
    ],
    ids=["suspended", "no-status", "never-scheduled", "never-succeeded", "running", "last-failed", "last-ok"],
)
def test_cronjob(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


def rollout(
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    gen: int = 2,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return obj(
        "argoproj.io/v1alpha1",
        "Rollout",
        gen=gen,
        spec={"replicas": 2, **(spec or {})},
        status=status,
        annotations=annotations,
    )


READY = {
    "observedGeneration": "2",
    "currentPodHash": "abc",
    "replicas": 2,
    "updatedReplicas": 2,
    "availableReplicas": 2,
}


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (rollout(), (PROGRESSING, "Waiting for rollout spec update to be observed")),
        (
            rollout(status={"observedGeneration": "1"}),
            (PROGRESSING, "Waiting for rollout spec update to be observed"),
        ),
        (
            rollout(
                {"workloadRef": {"kind": "Deployment", "name": "web"}},
                {"observedGeneration": "2", "workloadObservedGeneration": "4"},
                annotations={"rollout.argoproj.io/workload-generation": "5"},
            ),
            (PROGRESSING, "Waiting for rollout spec update to be observed"),
        ),
        (
            rollout(status={"observedGeneration": "2", "phase": "Paused", "message": "CanaryPauseStep"}),
            (SUSPENDED, "CanaryPauseStep"),
        ),
        (
            rollout(
                status={
                    "observedGeneration": "2",
                    "phase": "Degraded",
                    "message": "RolloutAborted: Rollout aborted update to revision 3",
                }
            ),
            (DEGRADED, "RolloutAborted: Rollout aborted update to revision 3"),
        ),
        (rollout(status={"observedGeneration": "2", "phase": "Healthy"}), (HEALTHY, "")),
        # pre-1.0 rollouts: no phase, Argo CD derives it from conditions and replicas
        (
            rollout(
                status={**READY, "conditions": [{"type": "InvalidSpec", "message": "The Rollout is invalid"}]}
            ),
            (DEGRADED, "The Rollout is invalid"),
        ),
        (
            rollout(
                status={
                    **READY,
                    "conditions": [
                        {"type": "Progressing", "reason": "RolloutAborted", "message": "Rollout is aborted"}
                    ],
                }
            ),
            (DEGRADED, "Rollout is aborted"),
        ),
        (
            rollout(
                status={
                    **READY,
                    "conditions": [
                        {
                            "type": "Progressing",
                            "reason": "ProgressDeadlineExceeded",
                            "message": 'ReplicaSet "web-abc" has timed out progressing.',
                        }
                    ],
                }
            ),
            (DEGRADED, 'ReplicaSet "web-abc" has timed out progressing.'),
        ),
        (rollout({"paused": True}, {**READY}), (SUSPENDED, "Rollout is paused")),
        (
            rollout(status={**READY, "pauseConditions": [{"reason": "CanaryPauseStep"}]}),
            (SUSPENDED, "Rollout is paused"),
        ),
        (
            rollout(status={"observedGeneration": "2"}),
            (PROGRESSING, "Waiting for rollout to finish: status has not been reconciled."),
        ),
        (
            rollout(status={**READY, "updatedReplicas": 1}),
            (PROGRESSING, "Waiting for roll out to finish: More replicas need to be updated"),
        ),
        (
            rollout(status={**READY, "availableReplicas": 1}),
            (PROGRESSING, "Waiting for roll out to finish: updated replicas are still becoming available"),
        ),
        (
            rollout({"strategy": {"blueGreen": {}}}, {**READY, "blueGreen": {"activeSelector": "old"}}),
            (PROGRESSING, "active service cutover pending"),
        ),
        (
            rollout(
                {"strategy": {"blueGreen": {}}},
                {**READY, "stableRS": "old", "blueGreen": {"activeSelector": "abc"}},
            ),
            (PROGRESSING, "waiting for analysis to complete"),
        ),
        (
            rollout(
                {"strategy": {"blueGreen": {}}},
                {**READY, "stableRS": "abc", "blueGreen": {"activeSelector": "abc"}},
            ),
            (HEALTHY, ""),
        ),
        (
            rollout({"strategy": {"canary": {}}}, {**READY, "replicas": 3, "stableRS": "abc"}),
            (PROGRESSING, "Waiting for roll out to finish: old replicas are pending termination"),
        ),
        (
            rollout({"strategy": {"canary": {}}}, {**READY, "stableRS": "old"}),
            (PROGRESSING, "Waiting for rollout to finish steps"),
        ),
        (rollout({"strategy": {"canary": {}}}, {**READY, "canary": {"stableRS": "abc"}}), (HEALTHY, "")),
    ],
    ids=[
        "no-status",
        "generation",
        "workload-generation",
        "phase-paused",
        "phase-degraded",
        "phase-healthy",
        "invalid-spec",
        "aborted",
        "deadline",
        "spec-paused",
        "pause-conditions",
        "not-reconciled",
        "more-replicas",
        "available",
        "bg-cutover",
        "bg-analysis",
        "bg-healthy",
        "canary-old",
        "canary-steps",
        "canary-legacy-stable",
    ],
)
def test_rollout(o: dict[str, Any], expected: tuple[str, str]) -> None:
    assert health(o) == expected


@pytest.mark.parametrize(
    "o",
    [
        obj("v1", "ConfigMap"),
        obj("v1", "Secret"),
        obj("v1", "ServiceAccount"),
        obj("argoproj.io/v1alpha1", "Application", status={"health": {"status": "Degraded"}}),
        obj("trueup.dev/v1alpha1", "Application", status={"health": {"status": "Degraded"}}),
        obj("example.com/v1", "Widget", status={"phase": "Failed"}),
    ],
    ids=["configmap", "secret", "serviceaccount", "argo-app", "trueup-app", "crd"],
)
def test_kinds_without_checks_have_no_health(o: dict[str, Any]) -> None:
    assert CHECKER.resource_health(o) is None
    assert not has_builtin_check(o["apiVersion"].rpartition("/")[0], o["kind"])


@pytest.mark.parametrize(
    ("finalizers", "expected"),
    [
        (None, (PROGRESSING, "Pending deletion")),
        (["kubernetes.io/pvc-protection"], (PROGRESSING, "Pending deletion")),
        (["argocd.argoproj.io/hook-finalizer"], (HEALTHY, "")),
    ],
    ids=["no-finalizer", "other-finalizer", "hook-finalizer"],
)
def test_pending_deletion(finalizers: list[str] | None, expected: tuple[str, str]) -> None:
    extra: dict[str, Any] = {"deletionTimestamp": "2026-01-01T00:00:00Z"}
    if finalizers is not None:
        extra["finalizers"] = finalizers
    o = obj(
        "v1",
        "Pod",
        spec={"restartPolicy": "Always"},
        status={"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        **extra,
    )
    assert health(o) == expected
    # deletion applies to kinds without any check too
    if finalizers is None:
        assert health(obj("v1", "ConfigMap", **extra)) == (PROGRESSING, "Pending deletion")


def test_health_order_and_is_worse() -> None:
    assert HEALTH_ORDER == (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)
    for i, a in enumerate(HEALTH_ORDER):
        for j, b in enumerate(HEALTH_ORDER):
            assert is_worse(a, b) is (j > i)
    assert HealthStatus(DEGRADED, "x").to_dict() == {"status": DEGRADED, "message": "x"}
    assert HealthStatus(HEALTHY).to_dict() == {"status": HEALTHY}
