"""Which lists are maps keyed by fields ("associative lists"), as in the Kubernetes OpenAPI schema.

Shared by the sim (server-side apply, managedFields in FieldsV1 `k:{...}` form) and by the
engine's diff (merging desired into live element by element). Lists not listed here are atomic,
except `SET_LISTS`, which are sets of scalars (`v:"value"` in FieldsV1).
"""

from __future__ import annotations

from collections.abc import Sequence

# field name of the list -> key fields. Context-free names first; context-dependent ones below.
_BY_FIELD: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "readinessGates": ("conditionType",),
    "schedulingGates": ("name",),
    "containerStatuses": ("name",),
    "initContainerStatuses": ("name",),
}

SET_LISTS: frozenset[str] = frozenset({"finalizers"})


def list_map_keys(kind: str, path: Sequence[str]) -> tuple[str, ...] | None:
    """Key fields of the list at `path` (field names from the object root), or None if atomic."""
    if not path:
        return None
    field = path[-1]
    if field == "ports":
        # Service.spec.ports is keyed by port+protocol; container ports by containerPort+protocol.
        if kind == "Service" and tuple(path) == ("spec", "ports"):
            return ("port", "protocol")
        if len(path) >= 2 and path[-2] != "spec":
            return ("containerPort", "protocol")
        return None
    if field == "conditions" and path[0] != "status":
        return None
    return _BY_FIELD.get(field)


def item_key(item: object, keys: tuple[str, ...], defaults: dict[str, object] | None = None) -> tuple | None:
    """The key tuple of a list element; protocol defaults to TCP as the apiserver does."""
    if not isinstance(item, dict):
        return None
    out = []
    for k in keys:
        v = item.get(k)
        if v is None and k == "protocol":
            v = "TCP"
        if v is None and defaults and k in defaults:
            v = defaults[k]
        out.append(v)
    return tuple(out)
