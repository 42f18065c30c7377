"""Built-in check for HorizontalPodAutoscaler (autoscaling/v1 annotation conditions and v2 conditions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.engine import yamlsafe
from console.engine.health.status import DEGRADED, HEALTHY, PROGRESSING, HealthStatus
from console.engine.health.typed import ConversionError, Typed, gvk_string, split_api_version

ANNOTATION_HPA_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"


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


def hpa(o: Typed, _hook: bool) -> HealthStatus:
    _group, version = split_api_version(str(o.raw.get("apiVersion", "")))
    if version == "v1":
        annotation = o.annotations.get(ANNOTATION_HPA_CONDITIONS)
        if annotation is None:
            return _HPA_WAITING
        if not isinstance(annotation, str):
            raise ConversionError("failed to convert conditions annotation to typed: expected a string")
        try:
            conditions = yamlsafe.load_json(annotation, ANNOTATION_HPA_CONDITIONS)
        except yamlsafe.ManifestError as exc:  # size/depth limits too: the annotation is cluster content
            raise ConversionError(f"failed to convert conditions annotation to typed: {exc}") from exc
        if not conditions:
            return _HPA_WAITING
        if not isinstance(conditions, list):
            raise ConversionError("failed to convert conditions annotation to typed: expected an array")
        return _hpa_conditions(conditions)
    if version in ("v2", "v2beta1", "v2beta2"):
        return _hpa_conditions(o.conditions())
    raise ConversionError(
        f"unsupported HPA GVK: {gvk_string('autoscaling', version, 'HorizontalPodAutoscaler')}"
    )
