"""Resource health and Application health aggregation, byte-compatible with Argo CD 3.6.

Per resource (gitops-engine pkg/health `GetResourceHealth`): pending deletion first, then a
configured Lua override, then the built-in Go checks, then the bundled-Lua semantics Argo ships for
`batch/CronJob` and `argoproj.io/Rollout` (re-implemented here so they need no interpreter).
Kinds without a check get no health (None): sync treats them as ready, aggregation skips them.

Per Application (controller/health.go `setApplicationHealth`): worst-of by `HEALTH_ORDER`, with
Argo's skips, and the 3.6 "Caused by ..." message naming the resources behind the verdict.

Messages are Argo's strings verbatim because SREs grep for them and runbooks quote them.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from console.engine import yamlsafe
from console.engine.lua_health import (
    DEFAULT_MAX_INSTRUCTIONS,
    DEFAULT_MAX_MEMORY,
    LuaHealthError,
    LuaSandbox,
)

HEALTHY = "Healthy"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
SUSPENDED = "Suspended"
MISSING = "Missing"
UNKNOWN = "Unknown"

# most healthy -> least healthy (gitops-engine healthOrder)
HEALTH_ORDER: tuple[str, ...] = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)
VALID_STATUSES = frozenset(HEALTH_ORDER)

HOOK_FINALIZERS = ("argocd.argoproj.io/hook-finalizer", "trueup.dev/hook-finalizer")
ANNOTATION_HOOK = "argocd.argoproj.io/hook"
ANNOTATION_HELM_HOOK = "helm.sh/hook"
ANNOTATION_IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"
ANNOTATION_HPA_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
APP_GROUPS = ("trueup.dev", "argoproj.io")
MAX_HEALTH_CAUSES_SHOWN = 3  # controller/health.go maxHealthCausesShown
INVALID_HEALTH_STATUS = "Lua returned an invalid health status"  # util/lua invalidHealthStatus
EMPTY = ""  # the empty status a script gives with `return nil` or `return {}` (Argo: HealthStatus{})


def is_worse(current: str, new: str) -> bool:
    """True when `new` is less healthy than `current`; unknown codes rank as Healthy, like Go."""
    cur = HEALTH_ORDER.index(current) if current in VALID_STATUSES else 0
    nxt = HEALTH_ORDER.index(new) if new in VALID_STATUSES else 0
    return nxt > cur


@dataclass(frozen=True)
class HealthStatus:
    status: str
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        """Argo's JSON shape: message omitted when empty."""
        out = {"status": self.status}
        if self.message:
            out["message"] = self.message
        return out


class _ConversionError(Exception):
    """The object does not fit the typed schema; Argo reports Unknown with the converter error."""


# ---------------------------------------------------------------------------------------------
# field access with Go-converter-like type checking


def _map(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _ConversionError(f"{path}: expected object, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _ConversionError(f"{path}: expected array, got {type(value).__name__}")
    return value


def _int(value: Any, path: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _ConversionError(f"{path}: expected integer, got {type(value).__name__}")
    if isinstance(value, float) and not value.is_integer():
        raise _ConversionError(f"{path}: expected integer, got {value}")
    return int(value)


def _opt_int(value: Any, path: str) -> int | None:
    return None if value is None else _int(value, path)


def _str(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _ConversionError(f"{path}: expected string, got {type(value).__name__}")
    return value


def _bool(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _ConversionError(f"{path}: expected boolean, got {type(value).__name__}")
    return value


def _go_quote(text: str) -> str:
    """Go's %q for the strings that occur here (names): a double-quoted, escaped string."""
    return json.dumps(text, ensure_ascii=False)


class _Obj:
    """Typed-ish view of an unstructured object, mirroring runtime.DefaultUnstructuredConverter."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.raw = obj
        self.metadata = _map(obj.get("metadata"), ".metadata")
        self.spec = _map(obj.get("spec"), ".spec")
        self.status = _map(obj.get("status"), ".status")
        self.name = _str(self.metadata.get("name"), ".metadata.name")
        self.generation = _int(self.metadata.get("generation"), ".metadata.generation")
        self.annotations = _map(self.metadata.get("annotations"), ".metadata.annotations")

    def st_int(self, key: str) -> int:
        return _int(self.status.get(key), f".status.{key}")

    def conditions(self, where: str = "status") -> list[dict[str, Any]]:
        source = self.status if where == "status" else self.spec
        items = _list(source.get("conditions"), f".{where}.conditions")
        return [_map(c, f".{where}.conditions[{i}]") for i, c in enumerate(items)]


def _condition(conds: list[dict[str, Any]], ctype: str) -> dict[str, Any] | None:
    for cond in conds:
        if cond.get("type") == ctype:
            return cond
    return None


def _split_api_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version


def _gvk_string(group: str, version: str, kind: str) -> str:
    """schema.GroupVersionKind.String(): "apps/v1beta2, Kind=Deployment", "/v1, Kind=Pod"."""
    return f"{group}/{version}, Kind={kind}"


# ---------------------------------------------------------------------------------------------
# built-in checks (gitops-engine pkg/health/health_*.go)


def _deployment(o: _Obj, _hook: bool) -> HealthStatus:
    if _bool(o.spec.get("paused"), ".spec.paused"):
        return HealthStatus(SUSPENDED, "Deployment is paused")
    observed = o.st_int("observedGeneration")
    if o.generation > observed:
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        )
    cond = _condition(o.conditions(), "Progressing")
    # The API server always defaults spec.replicas to 1; objects from a simulator may omit it.
    replicas = _int(o.spec.get("replicas"), ".spec.replicas", default=1)
    updated = o.st_int("updatedReplicas")
    current = o.st_int("replicas")
    available = o.st_int("availableReplicas")
    if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
        return HealthStatus(DEGRADED, f"Deployment {_go_quote(o.name)} exceeded its progress deadline")
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


def _statefulset(o: _Obj, _hook: bool) -> HealthStatus:
    observed = o.st_int("observedGeneration")
    if observed == 0 or o.generation > observed:
        return HealthStatus(PROGRESSING, "Waiting for statefulset spec update to be observed...")
    replicas = _int(o.spec.get("replicas"), ".spec.replicas", default=1)
    ready = o.st_int("readyReplicas")
    updated = o.st_int("updatedReplicas")
    if ready < replicas:
        return HealthStatus(PROGRESSING, f"Waiting for {replicas - ready} pods to be ready...")
    strategy = _map(o.spec.get("updateStrategy"), ".spec.updateStrategy")
    stype = _str(strategy.get("type"), ".spec.updateStrategy.type")
    rolling = strategy.get("rollingUpdate")
    if stype == "RollingUpdate" and rolling is not None:
        rolling = _map(rolling, ".spec.updateStrategy.rollingUpdate")
        partition = _opt_int(rolling.get("partition"), ".spec.updateStrategy.rollingUpdate.partition")
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
    update_rev = _str(o.status.get("updateRevision"), ".status.updateRevision")
    current_rev = _str(o.status.get("currentRevision"), ".status.currentRevision")
    if update_rev != current_rev:
        return HealthStatus(
            PROGRESSING,
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}...",
        )
    current = o.st_int("currentReplicas")
    return HealthStatus(
        HEALTHY, f"statefulset rolling update complete {current} pods at revision {current_rev}..."
    )


def _daemonset(o: _Obj, _hook: bool) -> HealthStatus:
    if o.generation > o.st_int("observedGeneration"):
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        )
    strategy = _map(o.spec.get("updateStrategy"), ".spec.updateStrategy")
    updated = o.st_int("updatedNumberScheduled")
    desired = o.st_int("desiredNumberScheduled")
    available = o.st_int("numberAvailable")
    if _str(strategy.get("type"), ".spec.updateStrategy.type") == "OnDelete":
        return HealthStatus(HEALTHY, f"daemon set {updated} out of {desired} new pods have been updated")
    name = _go_quote(o.name)
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


def _replicaset(o: _Obj, _hook: bool) -> HealthStatus:
    if o.generation > o.st_int("observedGeneration"):
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        )
    cond = _condition(o.conditions(), "ReplicaFailure")
    if cond is not None and cond.get("status") == "True":
        return HealthStatus(DEGRADED, _str(cond.get("message"), ".status.conditions.message"))
    replicas = _int(o.spec.get("replicas"), ".spec.replicas", default=1)
    available = o.st_int("availableReplicas")
    if available < replicas:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} out of {replicas} new replicas are available...",
        )
    return HealthStatus(HEALTHY)


def _lb_ingress(o: _Obj) -> list[Any]:
    lb = _map(o.status.get("loadBalancer"), ".status.loadBalancer")
    return _list(lb.get("ingress"), ".status.loadBalancer.ingress")


def _service(o: _Obj, _hook: bool) -> HealthStatus:
    if _str(o.spec.get("type"), ".spec.type") == "LoadBalancer" and not _lb_ingress(o):
        return HealthStatus(PROGRESSING)
    return HealthStatus(HEALTHY)


def _ingress(o: _Obj, _hook: bool) -> HealthStatus:
    lb = o.status.get("loadBalancer")
    ingresses = lb.get("ingress") if isinstance(lb, dict) else None
    return HealthStatus(HEALTHY if isinstance(ingresses, list) and ingresses else PROGRESSING)


def _pvc(o: _Obj, _hook: bool) -> HealthStatus:
    phase = _str(o.status.get("phase"), ".status.phase")
    return HealthStatus({"Lost": DEGRADED, "Pending": PROGRESSING, "Bound": HEALTHY}.get(phase, UNKNOWN))


def _container_statuses(o: _Obj, key: str) -> list[dict[str, Any]]:
    items = _list(o.status.get(key), f".status.{key}")
    return [_map(c, f".status.{key}[{i}]") for i, c in enumerate(items)]


def _pod_fail_message(ctr: dict[str, Any]) -> str:
    state = _map(ctr.get("state"), "state")
    term = state.get("terminated")
    if term is None:
        return ""
    term = _map(term, "state.terminated")
    message = _str(term.get("message"), "state.terminated.message")
    if message:
        return message
    reason = _str(term.get("reason"), "state.terminated.reason")
    if reason == "OOMKilled":
        return reason
    code = _int(term.get("exitCode"), "state.terminated.exitCode")
    if code != 0:
        return f"container {_go_quote(_str(ctr.get('name'), 'name'))} failed with exit code {code}"
    return ""


def _pod(o: _Obj, hook: bool) -> HealthStatus:
    # The API server defaults restartPolicy to Always; a simulator may leave it out.
    policy = _str(o.spec.get("restartPolicy"), ".spec.restartPolicy") or "Always"
    ignore_policy = o.annotations.get(ANNOTATION_IGNORE_RESTART_POLICY) == "true" and not hook
    # Pods with OnFailure/Never are usually hooks: calling ImagePullBackOff Degraded would fail the
    # hook early and then run it after the sync. The annotation opts a non-hook pod back in.
    always = policy == "Always" or ignore_policy
    containers = _container_statuses(o, "containerStatuses")
    message = _str(o.status.get("message"), ".status.message")
    if always:
        messages: list[str] = []
        for ctr in containers:
            waiting = _map(ctr.get("state"), "state").get("waiting")
            if waiting is None:
                continue
            waiting = _map(waiting, "state.waiting")
            reason = _str(waiting.get("reason"), "state.waiting.reason")
            if reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff"):
                messages.append(_str(waiting.get("message"), "state.waiting.message"))
        if messages:
            return HealthStatus(DEGRADED, ", ".join(messages))
    phase = _str(o.status.get("phase"), ".status.phase")
    if phase == "Pending":
        return HealthStatus(PROGRESSING, message)
    if phase == "Succeeded":
        return HealthStatus(HEALTHY, message)
    if phase == "Failed":
        if message:
            return HealthStatus(DEGRADED, message)
        for ctr in _container_statuses(o, "initContainerStatuses") + containers:
            fail = _pod_fail_message(ctr)
            if fail:
                return HealthStatus(DEGRADED, fail)
        return HealthStatus(DEGRADED, "")
    if phase == "Running":
        if always:
            ready = _condition(o.conditions(), "Ready")
            if ready is not None and ready.get("status") == "True":
                return HealthStatus(HEALTHY, message)
            for ctr in containers:
                last = _map(ctr.get("lastState"), "lastState")
                if last.get("terminated") is not None:
                    return HealthStatus(DEGRADED, message)
            return HealthStatus(PROGRESSING, message)
        if policy in ("OnFailure", "Never"):
            # finite-life pods (typically hooks) are Progressing until they finish
            return HealthStatus(PROGRESSING, message)
    return HealthStatus(UNKNOWN, message)


def _job(o: _Obj, _hook: bool) -> HealthStatus:
    failed = complete = suspended = False
    fail_msg = message = ""
    for cond in o.conditions():
        ctype = cond.get("type")
        if ctype == "Failed":
            failed = complete = True
            fail_msg = _str(cond.get("message"), ".status.conditions.message")
        elif ctype == "Complete":
            complete = True
            message = _str(cond.get("message"), ".status.conditions.message")
        elif ctype == "Suspended" and cond.get("status") == "True":
            # Suspended=False (a resumed Job) is not terminal: the Job runs again.
            complete = suspended = True
            message = _str(cond.get("message"), ".status.conditions.message")
    if not complete:
        return HealthStatus(PROGRESSING, message)
    if failed:
        return HealthStatus(DEGRADED, fail_msg)
    if suspended:
        return HealthStatus(SUSPENDED, message)
    return HealthStatus(HEALTHY, message)


_HPA_DEGRADED = frozenset(
    {
        ("AbleToScale", "FailedGetScale"),
        ("AbleToScale", "FailedUpdateScale"),
        ("ScalingActive", "FailedGetResourceMetric"),
        ("ScalingActive", "FailedGetObjectMetric"),
        ("ScalingActive", "FailedGetPodsMetric"),
        ("ScalingActive", "FailedGetExternalMetric"),
        ("ScalingActive", "FailedComputeMetricsReplicas"),
        ("ScalingActive", "InvalidSelector"),
    }
)
_HPA_WAITING = HealthStatus(PROGRESSING, "Waiting to Autoscale")


def _hpa_field(cond: Mapping[str, Any], name: str) -> str:
    """encoding/json matches struct fields case-insensitively; the annotation uses lower case."""
    for key, value in cond.items():
        if key.lower() == name and isinstance(value, str):
            return value
    return ""


def _hpa_conditions(conditions: list[Any]) -> HealthStatus:
    """Argo CD >= 3.5 (argo-cd#26274): every condition is checked for a degraded state first, so
    `AbleToScale=True` listed before `ScalingActive=False/FailedGetObjectMetric` is Degraded."""
    conds = [c for c in conditions if isinstance(c, dict)]
    for cond in conds:
        if (_hpa_field(cond, "type"), _hpa_field(cond, "reason")) in _HPA_DEGRADED:
            return HealthStatus(DEGRADED, _hpa_field(cond, "message"))
    for cond in conds:
        if (
            _hpa_field(cond, "type") in ("AbleToScale", "ScalingLimited")
            and _hpa_field(cond, "status") == "True"
        ):
            return HealthStatus(HEALTHY, _hpa_field(cond, "message"))
    return _HPA_WAITING


def _hpa(o: _Obj, _hook: bool) -> HealthStatus:
    _group, version = _split_api_version(str(o.raw.get("apiVersion", "")))
    if version == "v1":
        annotation = o.annotations.get(ANNOTATION_HPA_CONDITIONS)
        if annotation is None:
            return _HPA_WAITING
        if not isinstance(annotation, str):
            raise _ConversionError("failed to convert conditions annotation to typed: expected a string")
        try:
            conditions = yamlsafe.load_json(annotation, ANNOTATION_HPA_CONDITIONS)
        except yamlsafe.ManifestError as exc:  # size/depth limits too: the annotation is cluster content
            raise _ConversionError(f"failed to convert conditions annotation to typed: {exc}") from exc
        if not conditions:
            return _HPA_WAITING
        if not isinstance(conditions, list):
            raise _ConversionError("failed to convert conditions annotation to typed: expected an array")
        return _hpa_conditions(conditions)
    if version in ("v2", "v2beta1", "v2beta2"):
        return _hpa_conditions(o.conditions())
    raise _ConversionError(
        f"unsupported HPA GVK: {_gvk_string('autoscaling', version, 'HorizontalPodAutoscaler')}"
    )


def _apiservice(o: _Obj, _hook: bool) -> HealthStatus:
    for cond in o.conditions():
        if cond.get("type") == "Available":
            text = f"{_str(cond.get('reason'), 'reason')}: {_str(cond.get('message'), 'message')}"
            return HealthStatus(HEALTHY if cond.get("status") == "True" else PROGRESSING, text)
    return HealthStatus(PROGRESSING, "Waiting to be processed")


def _workflow(o: _Obj, _hook: bool) -> HealthStatus:
    phase = _str(o.status.get("phase"), ".status.phase")
    message = _str(o.status.get("message"), ".status.message")
    if phase in ("", "Pending", "Running"):
        return HealthStatus(PROGRESSING, message)
    if phase == "Succeeded":
        return HealthStatus(HEALTHY, message)
    if phase in ("Failed", "Error"):
        return HealthStatus(DEGRADED, message)
    return HealthStatus(UNKNOWN, message)


# ---------------------------------------------------------------------------------------------
# bundled Lua semantics (resource_customizations/<group>/<kind>/health.lua), in Python


def _cronjob(o: _Obj, _hook: bool) -> HealthStatus:
    if o.spec.get("suspend") is True:
        # Argo reports Healthy, not Suspended, until argoproj/argo-cd#24428 is fixed.
        return HealthStatus(HEALTHY, "CronJob is Suspended")
    if o.raw.get("status") is None:
        return HealthStatus(PROGRESSING, "Waiting for CronJob")
    last_schedule = o.status.get("lastScheduleTime")
    if last_schedule is None:
        return HealthStatus(HEALTHY, "CronJob has not been scheduled yet")
    last_success = o.status.get("lastSuccessfulTime")
    if last_success is None:
        return HealthStatus(HEALTHY, "The CronJob never completed successfully. It may not be healthy")
    if _list(o.status.get("active"), ".status.active"):
        return HealthStatus(HEALTHY, "The job is running. Its last execution may not have been successful")
    # RFC 3339 UTC timestamps compare correctly as text, as the Lua script does
    if str(last_success) < str(last_schedule):
        return HealthStatus(DEGRADED, "CronJob has not completed its last execution successfully")
    return HealthStatus(HEALTHY, "CronJob has completed its last execution successfully")


def _lua_tonumber(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _rollout(o: _Obj, _hook: bool) -> HealthStatus:
    waiting = HealthStatus(PROGRESSING, "Waiting for rollout spec update to be observed")
    if o.raw.get("status") is None:
        return waiting
    observed = _lua_tonumber(o.status.get("observedGeneration"))
    # v0.9 rollouts stored a hash there (not a number): treated as observed
    if observed is not None and observed < o.generation:
        return waiting
    if o.spec.get("workloadRef") is not None and o.metadata.get("annotations") is not None:
        workload_gen = _lua_tonumber(o.annotations.get("rollout.argoproj.io/workload-generation"))
        if workload_gen != _lua_tonumber(o.status.get("workloadObservedGeneration")):
            return waiting
    phase = o.status.get("phase")
    if phase is not None:
        # Argo Rollouts >= 1.0 computes phase/message itself; Argo CD surfaces them verbatim.
        status = SUSPENDED if phase == "Paused" else str(phase)
        if status not in VALID_STATUSES:
            return HealthStatus(UNKNOWN, INVALID_HEALTH_STATUS)
        return HealthStatus(status, _str(o.status.get("message"), ".status.message"))
    for cond in o.conditions():
        ctype, reason = cond.get("type"), cond.get("reason")
        if ctype == "InvalidSpec" or (
            ctype == "Progressing" and reason in ("RolloutAborted", "ProgressDeadlineExceeded")
        ):
            return HealthStatus(DEGRADED, _str(cond.get("message"), ".status.conditions.message"))
    if _list(o.status.get("pauseConditions"), ".status.pauseConditions") or o.spec.get("paused") is True:
        return HealthStatus(SUSPENDED, "Rollout is paused")
    pod_hash = o.status.get("currentPodHash")
    if pod_hash is None:
        return HealthStatus(PROGRESSING, "Waiting for rollout to finish: status has not been reconciled.")
    desired = _int(o.spec.get("replicas"), ".spec.replicas", default=1)
    replicas = o.st_int("replicas")
    updated = o.st_int("updatedReplicas")
    available = o.st_int("availableReplicas")
    if updated < desired:
        return HealthStatus(PROGRESSING, "Waiting for roll out to finish: More replicas need to be updated")
    if available < updated:
        return HealthStatus(
            PROGRESSING, "Waiting for roll out to finish: updated replicas are still becoming available"
        )
    stable: Any = ""
    if o.status.get("stableRS") is not None:
        stable = o.status["stableRS"]
    elif o.status.get("canary") is not None:
        stable = _map(o.status["canary"], ".status.canary").get("stableRS")  # may be nil, as in Lua
    strategy = _map(o.spec.get("strategy"), ".spec.strategy")
    if strategy.get("blueGreen") is not None:
        blue_green = o.status.get("blueGreen")
        if not isinstance(blue_green, dict) or blue_green.get("activeSelector") != pod_hash:
            return HealthStatus(PROGRESSING, "active service cutover pending")
        if stable != "" and stable != pod_hash:
            return HealthStatus(PROGRESSING, "waiting for analysis to complete")
    elif strategy.get("canary") is not None:
        if replicas > updated:
            return HealthStatus(
                PROGRESSING, "Waiting for roll out to finish: old replicas are pending termination"
            )
        if stable == "" or stable != pod_hash:
            return HealthStatus(PROGRESSING, "Waiting for rollout to finish steps")
    return HealthStatus(HEALTHY, "")


_Check = Callable[[_Obj, bool], HealthStatus]

# (group, kind) -> (supported versions or None for any, check)
_BUILTIN: dict[tuple[str, str], tuple[frozenset[str] | None, _Check]] = {
    ("apps", "Deployment"): (frozenset({"v1"}), _deployment),
    ("apps", "StatefulSet"): (frozenset({"v1"}), _statefulset),
    ("apps", "ReplicaSet"): (frozenset({"v1"}), _replicaset),
    ("apps", "DaemonSet"): (frozenset({"v1"}), _daemonset),
    ("extensions", "Ingress"): (None, _ingress),
    ("networking.k8s.io", "Ingress"): (None, _ingress),
    ("argoproj.io", "Workflow"): (None, _workflow),
    ("apiregistration.k8s.io", "APIService"): (frozenset({"v1", "v1beta1"}), _apiservice),
    ("", "Service"): (frozenset({"v1"}), _service),
    ("", "PersistentVolumeClaim"): (frozenset({"v1"}), _pvc),
    ("", "Pod"): (frozenset({"v1"}), _pod),
    ("batch", "Job"): (frozenset({"v1"}), _job),
    ("autoscaling", "HorizontalPodAutoscaler"): (None, _hpa),  # version handled inside
    # bundled Lua, keyed by group/kind only
    ("batch", "CronJob"): (None, _cronjob),
    ("argoproj.io", "Rollout"): (None, _rollout),
}


def has_builtin_check(group: str, kind: str) -> bool:
    """Whether a kind has a health check without any configuration."""
    return (group, kind) in _BUILTIN


def _builtin_health(
    obj: Mapping[str, Any], group: str, version: str, kind: str, hook: bool
) -> HealthStatus | None:
    entry = _BUILTIN.get((group, kind))
    if entry is None:
        return None
    versions, check = entry
    if versions is not None and version not in versions:
        return HealthStatus(UNKNOWN, f"unsupported {kind} GVK: {_gvk_string(group, version, kind)}")
    try:
        return check(_Obj(obj), hook)
    except _ConversionError as exc:
        text = str(exc)
        if text.startswith(("failed to convert", "unsupported ")):
            return HealthStatus(UNKNOWN, text)
        label = "HPA" if kind == "HorizontalPodAutoscaler" else kind
        return HealthStatus(UNKNOWN, f"failed to convert unstructured {label} to typed: {text}")


# ---------------------------------------------------------------------------------------------
# resource health


def _is_hook_annotated(annotations: Mapping[str, Any]) -> bool:
    """gitops-engine hook.IsHook: an Argo hook that is not Skip, or a Helm hook other than crd-install."""
    argo = annotations.get(ANNOTATION_HOOK)
    if isinstance(argo, str):
        return "Skip" not in [p.strip() for p in argo.split(",")]
    helm = annotations.get(ANNOTATION_HELM_HOOK)
    return isinstance(helm, str) and helm != "crd-install"


def _pending_deletion(metadata: Mapping[str, Any]) -> bool:
    if not metadata.get("deletionTimestamp"):
        return False
    finalizers = metadata.get("finalizers")
    return not (isinstance(finalizers, list) and any(f in HOOK_FINALIZERS for f in finalizers))


def _normalize_key(key: str) -> str:
    """Config keys -> "group/kind"; core kinds may be written "Kind" or "/Kind"."""
    key = key.strip()
    if "/" not in key:
        return f"/{key}"
    return key


def _alias_groups(group: str, kind: str) -> list[str]:
    """Application kinds live in trueup.dev but Argo configs say argoproj.io: accept both keys."""
    if group in APP_GROUPS and kind in ("Application", "ApplicationSet", "AppProject"):
        return [group] + [g for g in APP_GROUPS if g != group]
    return [group]


DIR_PREFIX = "dir:"  # marks a match from resourceCustomizationsDir (its scripts get the open libs)


def _dir_match(pattern: str, key: str) -> bool:
    """`_` directories as doublestar globs: `*` in a group never crosses the group/kind '/'."""
    pg, _, pk = pattern.partition("/")
    kg, _, kk = key.partition("/")
    return fnmatch.fnmatchcase(kg, pg) and fnmatch.fnmatchcase(kk, pk)


def _literal_len(pattern: str) -> int:
    return sum(1 for ch in pattern if ch not in "*?[]")


class HealthChecker:
    """Lua overrides (workspace settings) first, then built-in Go-equivalent checks."""

    def __init__(
        self,
        lua_checks: Mapping[str, str] | None = None,
        *,
        open_libs: Collection[str] = (),
        max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
        max_memory: int = DEFAULT_MAX_MEMORY,
        dir_checks: Mapping[str, str] | None = None,
    ) -> None:
        # dir_checks: settings.resourceCustomizationsDir (console.engine.lua_customizations), ranked
        # as Argo's built-in scripts: after the configured ones, before the Go checks, open libs
        self._dir_exact: dict[str, str] = {}
        self._dir_wildcards: list[tuple[str, str]] = []
        for key, source in (dir_checks or {}).items():
            if isinstance(source, str) and source.strip():
                norm = _normalize_key(key)
                if any(ch in norm for ch in "*?["):
                    self._dir_wildcards.append((norm, source))
                else:
                    self._dir_exact[norm] = source
        self._dir_wildcards.sort(key=lambda item: (-_literal_len(item[0]), item[0]))
        # keys: "<group>/<kind>" ("" group for core, e.g. "/ConfigMap" or "ConfigMap"), wildcards allowed
        # in group/kind ("*.crossplane.io/*"); values: Lua source.
        self._exact: dict[str, str] = {}
        self._wildcards: list[tuple[str, str]] = []
        for key, source in (lua_checks or {}).items():
            if not isinstance(source, str) or not source.strip():
                continue  # Argo ignores an empty health.lua
            norm = _normalize_key(key)
            if any(ch in norm for ch in "*?["):
                self._wildcards.append((norm, source))
            else:
                self._exact[norm] = source
        # deterministic where Argo iterates a Go map: most literal characters first, then by name
        self._wildcards.sort(key=lambda item: (-_literal_len(item[0]), item[0]))
        self._open_libs = frozenset(_normalize_key(k) for k in open_libs)
        self._max_instructions = max_instructions
        self._max_memory = max_memory
        self._sandbox: LuaSandbox | None = None

    def lua_script_for(self, group: str, kind: str) -> tuple[str, str] | None:
        """(matched config key, source) of the Lua check for a group/kind, if one is configured."""
        for g in _alias_groups(group, kind):
            key = f"{g}/{kind}"
            if key in self._exact:
                return key, self._exact[key]
        for g in _alias_groups(group, kind):
            key = f"{g}/{kind}"
            for pattern, source in self._wildcards:
                if fnmatch.fnmatchcase(key, pattern):
                    return pattern, source
        for g in _alias_groups(group, kind):
            key = f"{g}/{kind}"
            if key in self._dir_exact:
                return DIR_PREFIX + key, self._dir_exact[key]
        for g in _alias_groups(group, kind):
            key = f"{g}/{kind}"
            for pattern, source in self._dir_wildcards:
                if _dir_match(pattern, key):
                    return DIR_PREFIX + pattern, source
        return None

    def _lua(self) -> LuaSandbox:
        if self._sandbox is None:
            self._sandbox = LuaSandbox(max_instructions=self._max_instructions, max_memory=self._max_memory)
        return self._sandbox

    def _lua_health(self, key: str, source: str, obj: Mapping[str, Any]) -> HealthStatus | None:
        try:
            open_libs = key in self._open_libs or key.startswith(DIR_PREFIX)  # built-in scripts: always
            result = self._lua().run(source, obj, open_libs=open_libs)
        except LuaHealthError as exc:
            return HealthStatus(UNKNOWN, str(exc))
        # util/lua ExecuteHealthLua: nil -> empty status; a table is JSON-encoded then decoded into
        # HealthStatus: `{}` (encoded []) or a wrongly typed field is a type error -> empty status
        if result is None:
            return HealthStatus(EMPTY)
        shape, status, message = result
        if shape == "mixed":
            return HealthStatus(UNKNOWN, "cannot encode mixed or invalid key types")
        if shape == "array":
            return HealthStatus(EMPTY)
        if (status is not None and not isinstance(status, str)) or (
            message is not None and not isinstance(message, str)
        ):
            return HealthStatus(EMPTY)
        if status not in VALID_STATUSES:
            return HealthStatus(UNKNOWN, INVALID_HEALTH_STATUS)
        return HealthStatus(status, message or "")

    def resource_health(self, obj: dict[str, Any], *, is_hook: bool = False) -> HealthStatus | None:
        """Health of one live object, or None when nothing checks this kind (ConfigMap, Secret...)."""
        metadata = obj.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        if _pending_deletion(metadata):
            return HealthStatus(PROGRESSING, "Pending deletion")
        group, version = _split_api_version(str(obj.get("apiVersion") or ""))
        kind = str(obj.get("kind") or "")
        match = self.lua_script_for(group, kind)
        if match is not None:
            # a configured script decides, even with nil or {} (an empty status): Argo never falls
            # back to the built-in check once a script exists for the kind
            return self._lua_health(match[0], match[1], obj)
        annotations = metadata.get("annotations")
        hook = is_hook or (isinstance(annotations, dict) and _is_hook_annotated(annotations))
        return _builtin_health(obj, group, version, kind, hook)


# ---------------------------------------------------------------------------------------------
# application health


@dataclass(frozen=True)
class ResourceHealthInput:
    group: str
    kind: str
    namespace: str
    name: str
    health: HealthStatus | None  # None = no health check for this kind
    live_exists: bool
    hook: bool = False
    ignore_healthcheck: bool = False  # live annotation argocd.argoproj.io/ignore-healthcheck: "true"
    self_managed_app: bool = False


def _is_child_app(r: ResourceHealthInput) -> bool:
    return r.kind == "Application" and r.group in APP_GROUPS


def recorded_health(r: ResourceHealthInput) -> HealthStatus | None:
    """The health Argo writes on the resource's status entry (None where it records none)."""
    if r.hook:
        return None
    if not r.live_exists:
        return HealthStatus(MISSING)
    if r.ignore_healthcheck or r.self_managed_app:
        return None
    return r.health


def format_health_causes(causes: Sequence[ResourceHealthInput]) -> str:
    """controller/health.go formatHealthCauses: "Caused by apps/Deployment:ns/web, ... and N more"."""
    if not causes:
        return ""
    parts = []
    for c in causes[:MAX_HEALTH_CAUSES_SHOWN]:
        gk = f"{c.group}/{c.kind}" if c.group else c.kind
        name = f"{c.namespace}/{c.name}" if c.namespace else c.name
        parts.append(f"{gk}:{name}")
    summary = ", ".join(parts)
    if len(causes) > MAX_HEALTH_CAUSES_SHOWN:
        summary = f"{summary} and {len(causes) - MAX_HEALTH_CAUSES_SHOWN} more"
    return "Caused by " + summary


def aggregate_app_health(resources: Sequence[ResourceHealthInput]) -> HealthStatus:
    """Application health: worst resource health, with Argo's skips; message names the causes."""
    app_status = HEALTHY
    causes: list[ResourceHealthInput] = []
    contains_resources = contains_live = False
    for r in resources:
        if r.hook:
            continue
        contains_resources = True
        if r.live_exists:
            contains_live = True
        if r.live_exists and r.ignore_healthcheck:
            continue
        if not r.live_exists:
            # Missing is recorded on the resource but OutOfSync already says it; the app is not Missing
            continue
        if r.self_managed_app:
            continue  # an app that manages itself must not affect its own health
        health = r.health
        if health is None:
            continue
        if _is_child_app(r) and health.status in (MISSING, UNKNOWN):
            continue  # a child app that is missing or unknown does not drag the parent down
        if is_worse(app_status, health.status):
            app_status = health.status
            causes = [r]
        elif app_status == health.status and app_status != HEALTHY:
            causes.append(r)
    if contains_resources and not contains_live and is_worse(app_status, MISSING):
        return HealthStatus(MISSING)
    return HealthStatus(app_status, format_health_causes(causes))
