"""Resource health, byte-compatible with Argo CD 3.6 (gitops-engine pkg/health `GetResourceHealth`):
pending deletion first, then a configured Lua override, then the built-in checks.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping
from typing import Any

from console.engine.health.builtin import builtin_health
from console.engine.health.lua import DEFAULT_MAX_INSTRUCTIONS, DEFAULT_MAX_MEMORY, LuaHealthError, LuaSandbox
from console.engine.health.status import (
    APP_GROUPS,
    EMPTY,
    INVALID_HEALTH_STATUS,
    PROGRESSING,
    UNKNOWN,
    VALID_STATUSES,
    HealthStatus,
)
from console.engine.health.typed import split_api_version

HOOK_FINALIZERS = ("argocd.argoproj.io/hook-finalizer", "trueup.dev/hook-finalizer")


ANNOTATION_HOOK = "argocd.argoproj.io/hook"


ANNOTATION_HELM_HOOK = "helm.sh/hook"


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
        group, version = split_api_version(str(obj.get("apiVersion") or ""))
        kind = str(obj.get("kind") or "")
        match = self.lua_script_for(group, kind)
        if match is not None:
            # a configured script decides, even with nil or {} (an empty status): Argo never falls
            # back to the built-in check once a script exists for the kind
            return self._lua_health(match[0], match[1], obj)
        annotations = metadata.get("annotations")
        hook = is_hook or (isinstance(annotations, dict) and _is_hook_annotated(annotations))
        return builtin_health(obj, group, version, kind, hook)
