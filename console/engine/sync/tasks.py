"""Sync task planning: which objects a sync touches, in which phase and wave, in what order.

Pure logic after gitops-engine `getSyncTasks`, `syncTasks.Sort` and `setRunningPhase`
(argocd-features.md §2.1-§2.4). The executor re-plans on every pass from fresh (target, live)
pairs and merges persisted results by `SyncTask.result_key`, exactly as Argo CD does; nothing here
talks to a cluster, so the order a sync will take can be shown (and tested) before it runs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from console.cluster.api import Obj, ResourceKey, split_api_version
from console.engine import annotations as anno
from console.engine.sync import options as so

PHASE_ORDER = {"PreSync": -1, "Sync": 0, "PostSync": 1, "SyncFail": 2}

# Helm's kind_sorter order as copied by GE sync_tasks.go; value = index - len so all listed kinds
# sort before unlisted ones (CRs etc.), which get 0. Matched on kind only.
KIND_ORDER_KINDS = (
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
)
KIND_ORDER = {kind: i - len(KIND_ORDER_KINDS) for i, kind in enumerate(KIND_ORDER_KINDS)}

# Result codes and operation phases (GE sync/common/types.go).
SYNCED, SYNC_FAILED, PRUNED, PRUNE_SKIPPED = "Synced", "SyncFailed", "Pruned", "PruneSkipped"
RUNNING, SUCCEEDED, FAILED, ERROR, TERMINATING = "Running", "Succeeded", "Failed", "Error", "Terminating"
MSG_REQUIRES_PRUNING = "ignored (requires pruning)"
MSG_NO_PRUNE = "ignored (no prune)"

# Added to hook objects on creation so their final state survives until the task records it.
HOOK_FINALIZER = "trueup.dev/hook-finalizer"

CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"

IsNamespaced = Callable[[str, str], "bool | None"]


class PlanError(ValueError):
    """The inputs cannot be turned into an unambiguous task list."""


@dataclass
class SyncTask:
    """One apply, hook run or prune. `target` is None for prunes, `live` None for creates."""

    phase: str
    wave: int
    target: Obj | None
    live: Obj | None
    key: ResourceKey
    hook_type: str | None = None
    delete_policies: tuple[str, ...] = ()
    is_prune: bool = False
    # Planned, for the executor: dry-run tolerates an unknown kind; prune needs deletion-approved.
    skip_dry_run: bool = False
    requires_prune_confirmation: bool = False
    # Results, filled by the executor (plan pre-sets PruneSkipped + message on prunes it must not
    # delete, leaving operation_state "" so the task still runs, and completes, in its own wave).
    sync_status: str = ""
    operation_state: str = ""
    message: str = ""

    @property
    def obj(self) -> Obj:
        """The target if any, else the live object (GE `obj()`)."""
        obj = self.target if self.target is not None else self.live
        assert obj is not None
        return obj

    @property
    def kind_order(self) -> int:
        return KIND_ORDER.get(self.key.kind, 0)

    @property
    def is_hook(self) -> bool:
        return self.hook_type is not None

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion") or "")

    def id(self) -> str:
        """Stable id for persistence and display: phase/wave/group/kind/ns/name."""
        k = self.key
        return f"{self.phase}/{self.wave}/{k.group}/{k.kind}/{k.namespace}/{k.name}"

    @property
    def result_key(self) -> str:
        """Argo's resourceResultKey (key + phase, no wave): what results are merged by across passes."""
        k = self.key
        return f"{k.group}/{k.kind}/{k.namespace}/{k.name}:{self.phase}"

    # Lifecycle predicates (GE sync_task.go), so the executor does not re-derive them.
    @property
    def pending(self) -> bool:
        return self.operation_state == ""

    @property
    def running(self) -> bool:
        return self.operation_state == RUNNING

    @property
    def completed(self) -> bool:
        return self.operation_state in (FAILED, ERROR, SUCCEEDED)

    @property
    def successful(self) -> bool:
        return self.operation_state == SUCCEEDED

    @property
    def prune_skipped(self) -> bool:
        """Planned as PruneSkipped: when its wave runs, record Succeeded without deleting."""
        return self.is_prune and self.sync_status == PRUNE_SKIPPED

    def has_delete_policy(self, policy: str) -> bool:
        return self.is_hook and policy in self.delete_policies

    @property
    def delete_before_creation(self) -> bool:
        return self.live is not None and self.pending and self.has_delete_policy("BeforeHookCreation")

    @property
    def delete_on_phase_successful(self) -> bool:
        return self.live is not None and self.has_delete_policy("HookSucceeded")

    @property
    def delete_on_phase_failed(self) -> bool:
        return self.live is not None and self.has_delete_policy("HookFailed")


# --- hooks -----------------------------------------------------------------------------------


def hook_name(obj: Obj, revision: str, phase: str, started_at: datetime) -> str:
    """metadata.name, or generateName + lower("<rev[0:7]>-<phase>-<startedAt unix>") (GE)."""
    md = obj.get("metadata") or {}
    if md.get("name"):
        return str(md["name"])
    when = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
    postfix = f"{revision[:7]}-{phase}-{int(when.timestamp())}".lower()
    return f"{md.get('generateName') or ''}{postfix}"


def helm_hook_mapping(value: str) -> str | None:
    """`helm.sh/hook` value -> Argo hook type (pre-install/pre-upgrade -> PreSync, ...)."""
    return anno.helm_hook_type(value)


# --- planning --------------------------------------------------------------------------------


def _crd_of(obj: Obj) -> tuple[str, str] | None:
    group, _ = split_api_version(str(obj.get("apiVersion") or ""))
    if group != CRD_GROUP or obj.get("kind") != CRD_KIND:
        return None
    spec = obj.get("spec") or {}
    g, k = spec.get("group"), (spec.get("names") or {}).get("kind")
    return (g, k) if isinstance(g, str) and isinstance(k, str) else None


def _set_namespace(
    obj: Obj, app_namespace: str, is_namespaced: IsNamespaced, crd_scopes: dict[tuple[str, str], str]
) -> bool:
    """Give a namespaced target with no namespace the destination namespace. Returns whether the
    kind is unknown to the cluster. Unknown kinds are scoped by a CRD in the same sync when there is
    one, else treated as namespaced like Argo does (it sets the namespace whatever the scope)."""
    api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    namespaced = is_namespaced(api_version, kind)
    unknown = namespaced is None
    if namespaced is None:
        scope = crd_scopes.get((split_api_version(api_version)[0], kind))
        namespaced = scope != "Cluster"
    md = obj.setdefault("metadata", {})
    if namespaced and not md.get("namespace"):
        md["namespace"] = app_namespace
    elif not namespaced:
        md.pop("namespace", None)
    return unknown


def _selected(keys: Iterable[ResourceKey], selected: set[ResourceKey] | None) -> bool:
    """Argo SyncOperationResource.HasIdentity: a selected key without namespace matches any."""
    if selected is None:
        return True
    for key in keys:
        for s in selected:
            if (s.group, s.kind, s.name) == (key.group, key.kind, key.name) and s.namespace in (
                "",
                key.namespace,
            ):
                return True
    return False


def plan(
    targets: Sequence[tuple[Obj | None, Obj | None]],
    *,
    app_name: str,
    app_namespace: str,
    revision: str,
    started_at: datetime,
    app_options: so.SyncOptions,
    prune: bool,
    is_namespaced: IsNamespaced,
    selected: set[ResourceKey] | None = None,
    skip_hooks: bool = False,
    managed_namespace: tuple[Obj, Obj | None] | None = None,
) -> list[SyncTask]:
    """Sorted tasks for one sync pass (GE getSyncTasks + Sort).

    `targets` are compare's (target, live) pairs: target None = prune candidate, live None =
    create. Hooks are the targets whose annotations make them hooks (Argo, else Helm); live objects
    that are hooks are never pruned. `skip_hooks` (selective sync, apply strategy) drops all hooks;
    `selected` keeps only matching keys. `is_namespaced(apiVersion, kind)` answers from discovery
    (None = kind unknown). `managed_namespace` = (Namespace object, its live object) to add as a
    PreSync task for CreateNamespace=true, when the caller decided it must be created or updated.
    Raises `UnsupportedSyncOption` for bad resource sync options, `PlanError` for duplicate tasks.
    """
    del app_name  # compare already applied tracking; named so callers pass the whole sync context
    crd_scopes: dict[tuple[str, str], str] = {}
    for target, _ in targets:
        gk = _crd_of(target) if target is not None else None
        if gk is not None and target is not None:
            crd_scopes[gk] = str((target.get("spec") or {}).get("scope") or "Namespaced")
    live_index: dict[ResourceKey, Obj] = {}
    for _, live in targets:
        if live is not None:
            live_index[ResourceKey.of(live)] = live

    tasks: list[SyncTask] = []

    def add(
        phase: str, target: Obj | None, live: Obj | None, *, hook: bool, unknown_kind: bool = False
    ) -> None:
        ref = target if target is not None else live
        assert ref is not None
        so.resource_options(target)  # validate early: a bad option fails the plan, not a wave
        so.resource_options(live)
        skip_dry_run = target is not None and unknown_kind and _skippable(target, app_options, crd_scopes)
        task = SyncTask(
            phase=phase,
            wave=anno.sync_wave(ref),
            target=target,
            live=live,
            key=ResourceKey.of(ref),
            hook_type=phase if hook else None,
            delete_policies=tuple(anno.hook_delete_policies(ref)) if hook else (),
            is_prune=target is None,
            skip_dry_run=skip_dry_run,
        )
        tasks.append(task)

    for target, live in targets:
        ref = target if target is not None else live
        if ref is None:
            continue
        phases = anno.sync_phases(ref)
        if not phases:
            continue  # Skip, unmapped Helm hooks, PreDelete/PostDelete
        if anno.is_sync_hook(ref):
            if target is None or skip_hooks:
                continue
            for phase in phases:
                hook = copy.deepcopy(target)
                md = hook.setdefault("metadata", {})
                md["name"] = hook_name(target, revision, phase, started_at)
                md.pop("generateName", None)
                if HOOK_FINALIZER not in (md.get("finalizers") or []):
                    md["finalizers"] = [*(md.get("finalizers") or []), HOOK_FINALIZER]
                unknown = _set_namespace(hook, app_namespace, is_namespaced, crd_scopes)
                key = ResourceKey.of(hook)
                if not _selected([key], selected):
                    continue
                hook_live = live_index.get(key) or live_index.get(key._replace(namespace=""))
                add(phase, hook, hook_live, hook=True, unknown_kind=unknown)
            continue
        keys = [ResourceKey.of(ref)]
        unknown = False
        if target is not None:
            target = copy.deepcopy(target)
            unknown = _set_namespace(target, app_namespace, is_namespaced, crd_scopes)
            keys.append(ResourceKey.of(target))
        if not _selected(keys, selected):
            continue
        add("Sync", target, live, hook=False, unknown_kind=unknown)

    if managed_namespace is not None:
        ns_obj, ns_live = managed_namespace
        name = (ns_obj.get("metadata") or {}).get("name")
        declared = any(
            t is not None
            and t.get("kind") == "Namespace"
            and split_api_version(str(t.get("apiVersion") or ""))[0] == ""
            and (t.get("metadata") or {}).get("name") == name
            for t, _ in targets
        )
        if not declared:
            add("PreSync", copy.deepcopy(ns_obj), ns_live, hook=False)

    _plan_prunes(tasks, app_options, prune)
    _check_unique(tasks)
    return sort_tasks(tasks)


def _skippable(target: Obj, app_options: so.SyncOptions, crd_scopes: dict[tuple[str, str], str]) -> bool:
    group = split_api_version(str(target.get("apiVersion") or ""))[0]
    return so.skip_dry_run_on_missing(target, app_options) or (group, str(target.get("kind"))) in crd_scopes


def _plan_prunes(tasks: list[SyncTask], app_options: so.SyncOptions, prune: bool) -> None:
    """Reverse prune waves (symmetric swap over the distinct prune waves), then PruneLast, then
    the planned disposition of each prune (GE getSyncTasks + pruneObject + runTasks)."""
    prunes = [t for t in tasks if t.is_prune]
    waves = sorted({t.wave for t in prunes})
    swap = {w: waves[len(waves) - 1 - i] for i, w in enumerate(waves)}
    for t in prunes:
        t.wave = swap[t.wave]
    last = max([0, *(t.wave for t in tasks if t.phase == "Sync")]) + 1
    for t in prunes:
        if so.prune_last(t.live, app_options):
            t.wave = last
        mode = so.prune_mode(t.live, app_options)
        if not prune:
            t.sync_status, t.message = PRUNE_SKIPPED, MSG_REQUIRES_PRUNING
        elif mode == "false":
            t.sync_status, t.message = PRUNE_SKIPPED, MSG_NO_PRUNE
        elif mode == "confirm":
            t.requires_prune_confirmation = True


def _check_unique(tasks: list[SyncTask]) -> None:
    seen: dict[str, SyncTask] = {}
    for t in tasks:
        if t.result_key in seen:
            raise PlanError(
                f"two {t.phase} tasks would sync the same object {t.key}: "
                "give hooks distinct names or generateName prefixes"
            )
        seen[t.result_key] = t


# --- ordering --------------------------------------------------------------------------------


def _sort_key(t: SyncTask) -> tuple[int, int, int, str, str, str, str]:
    # GE Less: phase, wave, kind order, name; the rest only makes ties deterministic.
    k = t.key
    return (PHASE_ORDER.get(t.phase, 0), t.wave, t.kind_order, k.name, k.kind, k.group, k.namespace)


def _adjust_deps(
    tasks: list[SyncTask],
    is_dep: Callable[[Obj], str | None],
    refs_dep: Callable[[Obj], str | None],
) -> None:
    """GE adjustDeps: move each dependency before the first task referencing it (only ever
    earlier), taking over that task's phase and wave."""
    first: dict[str, int] = {}
    for i in range(len(tasks)):
        t = tasks[i]
        if t.target is None:
            continue
        dep = is_dep(t.target)
        if dep is not None:
            index = first.get(dep)
            if index is not None:
                t.wave, t.phase = tasks[index].wave, tasks[index].phase
                tasks[index + 1 : i + 1] = tasks[index:i]
                tasks[index] = t
                for k, v in first.items():
                    if v >= index:
                        first[k] = v + 1
        else:
            ref = refs_dep(t.target)
            if ref is not None and ref not in first:
                first[ref] = i


def _namespace_dep(obj: Obj) -> str | None:
    group = split_api_version(str(obj.get("apiVersion") or ""))[0]
    if obj.get("kind") == "Namespace" and group == "":
        return str((obj.get("metadata") or {}).get("name") or "")
    return None


def _namespace_ref(obj: Obj) -> str | None:
    return (obj.get("metadata") or {}).get("namespace") or None


def _crd_dep(obj: Obj) -> str | None:
    gk = _crd_of(obj)
    return f"{gk[0]}/{gk[1]}" if gk else None


def _crd_ref(obj: Obj) -> str | None:
    return f"{split_api_version(str(obj.get('apiVersion') or ''))[0]}/{obj.get('kind') or ''}"


def sort_tasks(tasks: Iterable[SyncTask]) -> list[SyncTask]:
    """(phase, wave, kind order, name), then Namespace-before-contents and CRD-before-CRs."""
    out = sorted(tasks, key=_sort_key)
    _adjust_deps(out, _namespace_dep, _namespace_ref)
    _adjust_deps(out, _crd_dep, _crd_ref)
    return out


def split_waves(tasks: Iterable[SyncTask]) -> list[tuple[str, int, list[SyncTask]]]:
    """Group tasks by (phase, wave) in execution order, keeping task order within each group."""
    groups: dict[tuple[str, int], list[SyncTask]] = {}
    for t in tasks:
        groups.setdefault((t.phase, t.wave), []).append(t)
    order = sorted(groups, key=lambda pw: (PHASE_ORDER.get(pw[0], 0), pw[1]))
    return [(phase, wave, groups[(phase, wave)]) for phase, wave in order]


def multi_step(tasks: Sequence[SyncTask]) -> bool:
    """GE multiStep: the sorted tasks span more than one (phase, wave)."""
    return bool(tasks) and (tasks[0].phase, tasks[0].wave) != (tasks[-1].phase, tasks[-1].wave)


# --- operation messages ----------------------------------------------------------------------


def wait_message(tasks: Sequence[SyncTask], *, deletion: bool = False) -> str:
    """GE setRunningPhase: the first task names what is waited for, the rest are counted."""
    if not tasks:
        return ""
    first = tasks[0]
    waiting_for, more = (
        ("completion of hook", "hooks") if first.is_hook else ("healthy state of", "resources")
    )
    if deletion:
        waiting_for = "deletion of"
    k = first.key
    message = f"waiting for {waiting_for} {k.group}/{k.kind}/{k.name}"
    if len(tasks) > 1:
        message += f" and {len(tasks) - 1} more {more}"
    return message


def prune_confirmation_message(tasks: Sequence[SyncTask]) -> str:
    """GE runTasks message while prunes wait for `argocd.argoproj.io/deletion-approved`."""
    names = [f"{t.api_version}/{t.key.kind}/{t.key.name}" for t in tasks if t.requires_prune_confirmation]
    if not names:
        return ""
    more = f" and {len(names) - 1} more resources" if len(names) > 1 else ""
    return f"Waiting for pruning confirmation of {names[0]}{more}"
