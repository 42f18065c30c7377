"""Version conversion between served versions of one kind.

Objects are stored in the storage version (autoscaling/v2 for HPAs, the CRD's storage version for
custom resources) and converted on the way in and out. CRDs use conversion strategy None (only
apiVersion changes), like the real apiserver without a webhook.
"""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]
_HPA_CPU_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"


def convert(obj: Obj, api_version: str) -> Obj:
    """Return `obj` as `api_version` (a copy when anything changes)."""
    if obj.get("apiVersion") == api_version:
        return obj
    kind = obj.get("kind")
    src = obj.get("apiVersion")
    if kind == "HorizontalPodAutoscaler" and src == "autoscaling/v2" and api_version == "autoscaling/v1":
        return _hpa_v2_to_v1(obj)
    if kind == "HorizontalPodAutoscaler" and src == "autoscaling/v1" and api_version == "autoscaling/v2":
        return _hpa_v1_to_v2(obj)
    out = dict(obj)
    out["apiVersion"] = api_version
    return out


def _hpa_v2_to_v1(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    spec = out.get("spec") or {}
    metrics = spec.pop("metrics", None) or []
    spec.pop("behavior", None)
    for m in metrics:
        res = (m or {}).get("resource") or {}
        target = res.get("target") or {}
        if m.get("type") == "Resource" and res.get("name") == "cpu" and target.get("type") == "Utilization":
            spec["targetCPUUtilizationPercentage"] = target.get("averageUtilization")
    status = out.get("status")
    if isinstance(status, dict):
        conditions = status.pop("conditions", None)
        status.pop("currentMetrics", None)
        if conditions:
            import json

            md = out.setdefault("metadata", {})
            md.setdefault("annotations", {})[_HPA_CPU_ANNOTATION] = json.dumps(conditions)
    return out


def _hpa_v1_to_v2(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    spec = out.get("spec") or {}
    cpu = spec.pop("targetCPUUtilizationPercentage", None)
    if cpu is not None:
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}},
            }
        ]
    ann = (out.get("metadata") or {}).get("annotations") or {}
    ann.pop(_HPA_CPU_ANNOTATION, None)
    if not ann and "annotations" in (out.get("metadata") or {}):
        del out["metadata"]["annotations"]
    return out
