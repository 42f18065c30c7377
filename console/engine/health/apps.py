"""Built-in checks for `apps`: Deployment, StatefulSet, DaemonSet, ReplicaSet (gitops-engine pkg/health)."""

from __future__ import annotations

from console.engine.health.status import (
    DEGRADED,
    HEALTHY,
    PROGRESSING,
    SUSPENDED,
    HealthStatus,
)
from console.engine.health.typed import (
    Typed,
    as_bool,
    as_int,
    as_map,
    as_str,
    condition,
    go_quote,
    opt_int,
)


def deployment(o: Typed, _hook: bool) -> HealthStatus:
    if as_bool(o.spec.get("paused"), ".spec.paused"):
        return HealthStatus(SUSPENDED, "Deployment is paused")
    observed = o.st_int("observedGeneration")
    if o.generation > observed:
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        )
    cond = condition(o.conditions(), "Progressing")
    # The API server always defaults spec.replicas to 1; objects from a simulator may omit it.
    replicas = as_int(o.spec.get("replicas"), ".spec.replicas", default=1)
    updated = o.st_int("updatedReplicas")
    current = o.st_int("replicas")
    available = o.st_int("availableReplicas")
    if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
        return HealthStatus(DEGRADED, f"Deployment {go_quote(o.name)} exceeded its progress deadline")
    if updated < replicas:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {updated} out of {replicas} new replicas have been updated...",
        )
    if current > updated:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {current - updated} old replicas are pending termination...",
        )
    if available < updated:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are available...",
        )
    return HealthStatus(HEALTHY)


def statefulset(o: Typed, _hook: bool) -> HealthStatus:
    observed = o.st_int("observedGeneration")
    if observed == 0 or o.generation > observed:
        return HealthStatus(PROGRESSING, "Waiting for statefulset spec update to be observed...")
    replicas = as_int(o.spec.get("replicas"), ".spec.replicas", default=1)
    ready = o.st_int("readyReplicas")
    updated = o.st_int("updatedReplicas")
    if ready < replicas:
        return HealthStatus(PROGRESSING, f"Waiting for {replicas - ready} pods to be ready...")
    strategy = as_map(o.spec.get("updateStrategy"), ".spec.updateStrategy")
    stype = as_str(strategy.get("type"), ".spec.updateStrategy.type")
    rolling = strategy.get("rollingUpdate")
    if stype == "RollingUpdate" and rolling is not None:
        rolling = as_map(rolling, ".spec.updateStrategy.rollingUpdate")
        partition = opt_int(rolling.get("partition"), ".spec.updateStrategy.rollingUpdate.partition")
        if partition is not None and updated < replicas - partition:
            return HealthStatus(
                PROGRESSING,
                f"Waiting for partitioned roll out to finish: {updated} out of {replicas - partition} "
                "new pods have been updated...",
            )
        return HealthStatus(
            HEALTHY, f"partitioned roll out complete: {updated} new pods have been updated..."
        )
    if stype == "OnDelete":
        return HealthStatus(HEALTHY, f"statefulset has {ready} ready pods")
    update_rev = as_str(o.status.get("updateRevision"), ".status.updateRevision")
    current_rev = as_str(o.status.get("currentRevision"), ".status.currentRevision")
    if update_rev != current_rev:
        return HealthStatus(
            PROGRESSING,
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}...",
        )
    current = o.st_int("currentReplicas")
    return HealthStatus(
        HEALTHY, f"statefulset rolling update complete {current} pods at revision {current_rev}..."
    )


def daemonset(o: Typed, _hook: bool) -> HealthStatus:
    if o.generation > o.st_int("observedGeneration"):
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        )
    strategy = as_map(o.spec.get("updateStrategy"), ".spec.updateStrategy")
    updated = o.st_int("updatedNumberScheduled")
    desired = o.st_int("desiredNumberScheduled")
    available = o.st_int("numberAvailable")
    if as_str(strategy.get("type"), ".spec.updateStrategy.type") == "OnDelete":
        return HealthStatus(HEALTHY, f"daemon set {updated} out of {desired} new pods have been updated")
    name = go_quote(o.name)
    if updated < desired:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for daemon set {name} rollout to finish: {updated} out of {desired} new pods have been updated...",
        )
    if available < desired:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for daemon set {name} rollout to finish: {available} of {desired} updated pods are available...",
        )
    return HealthStatus(HEALTHY)


def replicaset(o: Typed, _hook: bool) -> HealthStatus:
    if o.generation > o.st_int("observedGeneration"):
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        )
    cond = condition(o.conditions(), "ReplicaFailure")
    if cond is not None and cond.get("status") == "True":
        return HealthStatus(DEGRADED, as_str(cond.get("message"), ".status.conditions.message"))
    replicas = as_int(o.spec.get("replicas"), ".spec.replicas", default=1)
    available = o.st_int("availableReplicas")
    if available < replicas:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} out of {replicas} new replicas are available...",
        )
    return HealthStatus(HEALTHY)
