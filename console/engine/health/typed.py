"""Field access with Go-converter-like type checking: an object that does not fit the typed schema
makes a check report Unknown with the converter's error, as Argo does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class ConversionError(Exception):
    """The object does not fit the typed schema; Argo reports Unknown with the converter error."""


def as_map(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConversionError(f"{path}: expected object, got {type(value).__name__}")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConversionError(f"{path}: expected array, got {type(value).__name__}")
    return value


def as_int(value: Any, path: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConversionError(f"{path}: expected integer, got {type(value).__name__}")
    if isinstance(value, float) and not value.is_integer():
        raise ConversionError(f"{path}: expected integer, got {value}")
    return int(value)


def opt_int(value: Any, path: str) -> int | None:
    return None if value is None else as_int(value, path)


def as_str(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConversionError(f"{path}: expected string, got {type(value).__name__}")
    return value


def as_bool(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConversionError(f"{path}: expected boolean, got {type(value).__name__}")
    return value


def go_quote(text: str) -> str:
    """Go's %q for the strings that occur here (names): a double-quoted, escaped string."""
    return json.dumps(text, ensure_ascii=False)


class Typed:
    """Typed-ish view of an unstructured object, mirroring runtime.DefaultUnstructuredConverter."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.raw = obj
        self.metadata = as_map(obj.get("metadata"), ".metadata")
        self.spec = as_map(obj.get("spec"), ".spec")
        self.status = as_map(obj.get("status"), ".status")
        self.name = as_str(self.metadata.get("name"), ".metadata.name")
        self.generation = as_int(self.metadata.get("generation"), ".metadata.generation")
        self.annotations = as_map(self.metadata.get("annotations"), ".metadata.annotations")

    def st_int(self, key: str) -> int:
        return as_int(self.status.get(key), f".status.{key}")

    def conditions(self, where: str = "status") -> list[dict[str, Any]]:
        source = self.status if where == "status" else self.spec
        items = as_list(source.get("conditions"), f".{where}.conditions")
        return [as_map(c, f".{where}.conditions[{i}]") for i, c in enumerate(items)]


def condition(conds: list[dict[str, Any]], ctype: str) -> dict[str, Any] | None:
    for cond in conds:
        if cond.get("type") == ctype:
            return cond
    return None


def split_api_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version


def gvk_string(group: str, version: str, kind: str) -> str:
    """schema.GroupVersionKind.String(): "apps/v1beta2, Kind=Deployment", "/v1, Kind=Pod"."""
    return f"{group}/{version}, Kind={kind}"


def lb_ingress(o: Typed) -> list[Any]:
    lb = as_map(o.status.get("loadBalancer"), ".status.loadBalancer")
    return as_list(lb.get("ingress"), ".status.loadBalancer.ingress")
