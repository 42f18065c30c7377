"""Argo CD and Helm resource annotations, read from unstructured objects: hooks (type, phases, delete
policies), sync waves, sync and compare options, ignore-healthcheck. Shared by compare, health and sync."""

from __future__ import annotations

from console.cluster.api import Obj

HOOK = "argocd.argoproj.io/hook"
HELM_HOOK = "helm.sh/hook"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
HELM_WEIGHT = "helm.sh/hook-weight"
COMPARE_OPTIONS = "argocd.argoproj.io/compare-options"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
IGNORE_HEALTHCHECK = "argocd.argoproj.io/ignore-healthcheck"

ARGO_HOOK_TYPES = ("PreSync", "Sync", "PostSync", "SyncFail", "Skip", "PreDelete", "PostDelete")
_HELM_MAP = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
    "pre-delete": "PreDelete",
    "post-delete": "PostDelete",
}


def _annotations(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def csv(value: str) -> list[str]:
    """Argo's GetAnnotationCSVs: comma-separated, trimmed, de-duplicated, order kept."""
    out: list[str] = []
    for part in value.split(","):
        p = part.strip()
        if p and p not in out:
            out.append(p)
    return out


def hook_types(obj: Obj) -> list[str]:
    """Argo annotation wins over Helm's; `crd-install` is not a hook; unknown Helm hooks give []."""
    ann = _annotations(obj)
    if HOOK in ann:
        return [t for t in csv(ann[HOOK]) if t in ARGO_HOOK_TYPES]
    if HELM_HOOK in ann:
        return [_HELM_MAP[t] for t in csv(ann[HELM_HOOK]) if t in _HELM_MAP]
    return []


def is_hook(obj: Obj) -> bool:
    """A hook is not part of sync status or app health. `Skip` alone is not applied at all."""
    ann = _annotations(obj)
    if HOOK in ann:
        return bool(csv(ann[HOOK]))
    if HELM_HOOK in ann:
        return any(t != "crd-install" for t in csv(ann[HELM_HOOK]))
    return False


def is_ignored_helm_hook(obj: Obj) -> bool:
    """Helm hook values Argo does not map (e.g. `test`): the resource is ignored entirely."""
    ann = _annotations(obj)
    if HOOK in ann or HELM_HOOK not in ann:
        return False
    vals = [v for v in csv(ann[HELM_HOOK]) if v != "crd-install"]
    return bool(vals) and not any(v in _HELM_MAP for v in vals)


def sync_wave(obj: Obj) -> int:
    ann = _annotations(obj)
    for key in (SYNC_WAVE, HELM_WEIGHT):
        if key in ann:
            try:
                return int(str(ann[key]).strip())
            except ValueError:
                return 0
    return 0


def compare_options(obj: Obj) -> list[str]:
    return csv(_annotations(obj).get(COMPARE_OPTIONS, ""))


def sync_options(obj: Obj) -> list[str]:
    return csv(_annotations(obj).get(SYNC_OPTIONS, ""))


def ignores_healthcheck(obj: Obj | None) -> bool:
    return bool(obj) and _annotations(obj or {}).get(IGNORE_HEALTHCHECK) == "true"


# --- sync-task view of hooks (gitops-engine pkg/sync/hook, sync_phase.go) -------------------------

HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
HELM_HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"
SYNC_PHASES = ("PreSync", "Sync", "PostSync", "SyncFail")
DELETE_POLICIES = ("HookSucceeded", "HookFailed", "BeforeHookCreation")
_HELM_DELETE_POLICY_MAP = {
    "hook-succeeded": "HookSucceeded",
    "hook-failed": "HookFailed",
    "before-hook-creation": "BeforeHookCreation",
}


def helm_hook_type(value: str) -> str | None:
    """The Argo hook type a `helm.sh/hook` value maps to; None for values Argo does not map."""
    return _HELM_MAP.get(value)


def is_skip(obj: Obj) -> bool:
    """GE hook.Skip: `Skip` is the only hook type, so the resource is neither applied nor pruned."""
    types = hook_types(obj)
    return types == ["Skip"]


def is_sync_hook(obj: Obj) -> bool:
    """GE hook.IsHook, which decides task creation: the Argo annotation being present (and not
    `Skip` alone) makes a hook even when its value is unknown, and so does any Helm hook value other
    than exactly `crd-install`; a hook without a sync phase then yields no task at all."""
    ann = _annotations(obj)
    if HOOK in ann:
        return not is_skip(obj)
    return HELM_HOOK in ann and ann[HELM_HOOK] != "crd-install"


def sync_phases(obj: Obj) -> list[str]:
    """GE syncPhases: [] for Skip, unknown Helm hooks and PreDelete/PostDelete-only hooks, the
    hook's sync phases (in phase order) for hooks, ["Sync"] for ordinary resources."""
    if is_skip(obj):
        return []
    if is_sync_hook(obj):
        types = hook_types(obj)
        return [p for p in SYNC_PHASES if p in types]
    return ["Sync"]


def hook_delete_policies(obj: Obj) -> list[str]:
    """GE hook.DeletePolicies: Argo's policies then Helm's mapped ones (unknown values dropped),
    de-duplicated; `BeforeHookCreation` when none is given."""
    ann = _annotations(obj)
    out = [p for p in csv(ann.get(HOOK_DELETE_POLICY, "")) if p in DELETE_POLICIES]
    for p in csv(ann.get(HELM_HOOK_DELETE_POLICY, "")):
        mapped = _HELM_DELETE_POLICY_MAP.get(p)
        if mapped and mapped not in out:
            out.append(mapped)
    return out or ["BeforeHookCreation"]
