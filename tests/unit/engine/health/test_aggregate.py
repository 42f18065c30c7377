"""Application health aggregation (controller/health.go setApplicationHealth + formatHealthCauses)."""

from __future__ import annotations

from typing import Any

import pytest

from console.engine.health.aggregate import (
    ResourceHealthInput,
    aggregate_app_health,
    format_health_causes,
    recorded_health,
)
from console.engine.health.checker import HealthChecker
from console.engine.health.status import (
    DEGRADED,
    HEALTHY,
    MISSING,
    PROGRESSING,
    SUSPENDED,
    UNKNOWN,
    HealthStatus,
)


def res(
    status: str | None,
    name: str = "web",
    *,
    group: str = "apps",
    kind: str = "Deployment",
    namespace: str = "prod",
    live: bool = True,
    **flags: bool,
) -> ResourceHealthInput:
    health = None if status is None else HealthStatus(status, f"{name} is {status}")
    return ResourceHealthInput(
        group=group, kind=kind, namespace=namespace, name=name, health=health, live_exists=live, **flags
    )


def child_app(status: str, name: str = "child") -> ResourceHealthInput:
    return res(status, name, group="trueup.dev", kind="Application", namespace="trueup")


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ([], (HEALTHY, "")),
        ([res(HEALTHY), res(None, "cm", group="", kind="ConfigMap")], (HEALTHY, "")),
        ([res(HEALTHY), res(SUSPENDED, "batch")], (SUSPENDED, "Caused by apps/Deployment:prod/batch")),
        ([res(SUSPENDED, "a"), res(PROGRESSING, "b")], (PROGRESSING, "Caused by apps/Deployment:prod/b")),
        (
            [res(PROGRESSING, "a"), res(DEGRADED, "b"), res(PROGRESSING, "c")],
            (DEGRADED, "Caused by apps/Deployment:prod/b"),
        ),
        ([res(DEGRADED, "a"), res(UNKNOWN, "b")], (UNKNOWN, "Caused by apps/Deployment:prod/b")),
        # a worse status resets the cause list; equal statuses accumulate in order
        (
            [res(PROGRESSING, "a"), res(DEGRADED, "b"), res(DEGRADED, "c", group="", kind="Pod")],
            (DEGRADED, "Caused by apps/Deployment:prod/b, Pod:prod/c"),
        ),
        # cluster-scoped: no namespace part; core group: no group part
        (
            [res(DEGRADED, "pv-1", group="", kind="PersistentVolume", namespace="")],
            (DEGRADED, "Caused by PersistentVolume:pv-1"),
        ),
    ],
    ids=[
        "no-resources",
        "healthy-and-no-check",
        "suspended",
        "progressing-beats-suspended",
        "degraded-worst",
        "unknown-worst",
        "causes-accumulate",
        "cluster-scoped-core",
    ],
)
def test_worst_of(resources: list[ResourceHealthInput], expected: tuple[str, str]) -> None:
    h = aggregate_app_health(resources)
    assert (h.status, h.message) == expected


def test_caused_by_truncates_after_three() -> None:
    pods = [res(DEGRADED, f"pod-{i}", group="", kind="Pod", namespace="default") for i in range(8)]
    h = aggregate_app_health([res(HEALTHY), *pods])
    assert h == HealthStatus(
        DEGRADED, "Caused by Pod:default/pod-0, Pod:default/pod-1, Pod:default/pod-2 and 5 more"
    )
    assert (
        format_health_causes(pods[:3]) == "Caused by Pod:default/pod-0, Pod:default/pod-1, Pod:default/pod-2"
    )
    assert format_health_causes(pods[:4]).endswith(" and 1 more")
    assert format_health_causes([]) == ""


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        # missing live: recorded Missing on the resource, but the app is not dragged down
        ([res(HEALTHY), res(None, "new", live=False)], (HEALTHY, "")),
        (
            [res(PROGRESSING), res(DEGRADED, "gone", live=False)],
            (PROGRESSING, "Caused by apps/Deployment:prod/web"),
        ),
        # resources but none live: the app is Missing, with no causes
        ([res(None, "a", live=False), res(None, "b", live=False)], (MISSING, "")),
        # ...unless something is already worse than Missing (cannot happen without live objects, but Go checks)
        ([res(None, "a", live=False)], (MISSING, "")),
        # hooks do not count as resources at all
        ([res(DEGRADED, "hook", hook=True)], (HEALTHY, "")),
        ([res(DEGRADED, "hook", hook=True), res(None, "a", live=False)], (MISSING, "")),
        ([res(DEGRADED, "hook", hook=True, live=False), res(HEALTHY)], (HEALTHY, "")),
        # ignore-healthcheck: skipped, but the object still counts as live
        ([res(DEGRADED, "noisy", ignore_healthcheck=True)], (HEALTHY, "")),
        ([res(DEGRADED, "noisy", ignore_healthcheck=True), res(None, "b", live=False)], (HEALTHY, "")),
        # self-managed app: skipped, still live
        ([res(DEGRADED, "me", group="trueup.dev", kind="Application", self_managed_app=True)], (HEALTHY, "")),
        # child apps: Missing/Unknown do not affect the parent; other statuses do
        ([res(HEALTHY), child_app(MISSING)], (HEALTHY, "")),
        ([res(HEALTHY), child_app(UNKNOWN)], (HEALTHY, "")),
        ([res(HEALTHY), res(UNKNOWN, "argo-child", group="argoproj.io", kind="Application")], (HEALTHY, "")),
        ([res(HEALTHY), child_app(DEGRADED)], (DEGRADED, "Caused by trueup.dev/Application:trueup/child")),
        (
            [res(HEALTHY), child_app(PROGRESSING)],
            (PROGRESSING, "Caused by trueup.dev/Application:trueup/child"),
        ),
        # an Application kind of another group is an ordinary resource
        (
            [res(UNKNOWN, "x", group="example.com", kind="Application")],
            (UNKNOWN, "Caused by example.com/Application:prod/x"),
        ),
        # a non-app resource reported Missing while live (e.g. by Lua) does count
        ([res(MISSING, "lua")], (MISSING, "Caused by apps/Deployment:prod/lua")),
    ],
    ids=[
        "missing-ignored",
        "missing-with-progressing",
        "none-live",
        "single-missing",
        "hook-only",
        "hook-and-missing",
        "hook-not-live",
        "ignore-healthcheck",
        "ignore-healthcheck-counts-live",
        "self-managed",
        "child-missing",
        "child-unknown",
        "argo-child-unknown",
        "child-degraded",
        "child-progressing",
        "other-group-application",
        "live-missing-counts",
    ],
)
def test_skip_rules(resources: list[ResourceHealthInput], expected: tuple[str, str]) -> None:
    h = aggregate_app_health(resources)
    assert (h.status, h.message) == expected


def test_recorded_health_per_resource() -> None:
    assert recorded_health(res(None, live=False)) == HealthStatus(MISSING)
    assert recorded_health(res(DEGRADED, hook=True)) is None
    assert recorded_health(res(DEGRADED, ignore_healthcheck=True)) is None
    assert recorded_health(res(DEGRADED, self_managed_app=True)) is None
    assert recorded_health(res(None)) is None
    assert recorded_health(res(DEGRADED)) == HealthStatus(DEGRADED, "web is Degraded")


def test_end_to_end_with_checker() -> None:
    """Resource checks feed the aggregation exactly as the compare step does."""
    checker = HealthChecker({"trueup.dev/Application": "return {status = obj.status.health.status}"})
    objs: list[dict[str, Any]] = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "prod", "generation": 4},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 4, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "api-x", "namespace": "prod"},
            "spec": {"restartPolicy": "Always"},
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "api",
                        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                    }
                ],
            },
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "prod"}},
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "c", "namespace": "trueup"},
            "status": {"health": {"status": "Unknown"}},
        },
    ]
    inputs = []
    for o in objs:
        group = o["apiVersion"].rpartition("/")[0]
        inputs.append(
            ResourceHealthInput(
                group=group,
                kind=o["kind"],
                namespace=o["metadata"]["namespace"],
                name=o["metadata"]["name"],
                health=checker.resource_health(o),
                live_exists=True,
            )
        )
    assert [i.health.status if i.health else None for i in inputs] == [HEALTHY, DEGRADED, None, UNKNOWN]
    assert aggregate_app_health(inputs) == HealthStatus(DEGRADED, "Caused by Pod:prod/api-x")
