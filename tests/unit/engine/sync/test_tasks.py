"""Sync task planning (argocd-features.md §2.1-§2.4): phases, waves, kind order, fix-ups, prunes,
hooks, selection and the operation's waiting messages."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from console.cluster.api import ResourceKey
from console.engine import annotations as anno
from console.engine.sync import tasks as st
from console.engine.sync.options import SyncOptions, UnsupportedSyncOption

STARTED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
UNIX = int(STARTED.timestamp())
REV = "0123456789abcdef0123456789abcdef01234567"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
                  "StorageClass", "IngressClass", "APIService", "ClusterRoleList", "ClusterRoleBindingList",
                  "PodSecurityPolicy"}  # fmt: skip
KNOWN_CRS = {("example.com/v1", "Widget")}


def is_namespaced(api_version: str, kind: str) -> bool | None:
    """A discovery table: built-in kinds plus one installed CRD; anything else is unknown."""
    if "/" in api_version and api_version.split("/")[0].endswith(".com"):
        return True if (api_version, kind) in KNOWN_CRS else None
    return kind not in CLUSTER_SCOPED


def obj(kind: str, name: str, *, ns: str | None = "prod", api: str = "v1", **ann: str) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name}
    if ns is not None:
        md["namespace"] = ns
    annotations = {k.replace("__", "/").replace("_", "-"): v for k, v in ann.items()}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": api, "kind": kind, "metadata": md}


def a(**kw: str) -> dict[str, str]:
    """Annotation shorthands."""
    names = {
        "wave": anno.SYNC_WAVE,
        "hook": anno.HOOK,
        "helm": anno.HELM_HOOK,
        "weight": anno.HELM_WEIGHT,
        "policy": anno.HOOK_DELETE_POLICY,
        "helm_policy": anno.HELM_HOOK_DELETE_POLICY,
        "opts": anno.SYNC_OPTIONS,
    }
    return {names[k]: v for k, v in kw.items()}


def with_ann(o: dict[str, Any], **kw: str) -> dict[str, Any]:
    o["metadata"].setdefault("annotations", {}).update(a(**kw))
    return o


def run_plan(
    pairs: Sequence[tuple[dict[str, Any] | None, dict[str, Any] | None]],
    *,
    opts: list[str] | None = None,
    prune: bool = True,
    **kw: Any,
) -> list[st.SyncTask]:
    return st.plan(
        pairs,
        app_name="shop",
        app_namespace="prod",
        revision=REV,
        started_at=STARTED,
        app_options=SyncOptions.parse(opts or []),
        prune=prune,
        is_namespaced=is_namespaced,
        **kw,
    )


def ids(tasks: list[st.SyncTask]) -> list[str]:
    return [t.id() for t in tasks]


# --- kind order ----------------------------------------------------------------------------------

KIND_TABLE = [
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService",
]  # fmt: skip


@pytest.mark.parametrize(("index", "kind"), list(enumerate(KIND_TABLE, start=1)))
def test_kind_order_table(index: int, kind: str) -> None:
    assert st.KIND_ORDER[kind] == index - 36
    task = st.SyncTask("Sync", 0, obj(kind, "x"), None, ResourceKey("", kind, "", "x"))
    assert task.kind_order == index - 36


def test_kind_order_unlisted_kinds_are_zero_and_group_is_ignored() -> None:
    assert st.SyncTask("Sync", 0, None, None, ResourceKey("example.com", "Widget", "", "w")).kind_order == 0
    assert st.SyncTask("Sync", 0, None, None, ResourceKey("my.io", "Deployment", "", "d")).kind_order == -8


def test_plan_orders_one_wave_by_kind_table_then_unlisted() -> None:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (obj(k, "x", ns=None), None) for k in KIND_TABLE
    ]
    pairs.append((obj("Widget", "x", api="example.com/v1"), None))
    random.Random(7).shuffle(pairs)
    tasks = run_plan(pairs)
    assert [t.key.kind for t in tasks] == [*KIND_TABLE, "Widget"]


def test_same_kind_sorted_by_name() -> None:
    tasks = run_plan([(obj("ConfigMap", n), None) for n in ("c", "a", "b")])
    assert [t.key.name for t in tasks] == ["a", "b", "c"]


# --- waves and phases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "wave"),
    [
        ({}, 0),
        ({"wave": "3"}, 3),
        ({"wave": "-2"}, -2),
        ({"weight": "-5"}, -5),
        ({"wave": "1", "weight": "9"}, 1),
        ({"wave": "x"}, 0),
    ],
)
def test_wave_from_annotation_with_helm_weight_fallback(annotations: dict[str, str], wave: int) -> None:
    (task,) = run_plan([(with_ann(obj("ConfigMap", "c"), **annotations), None)])
    assert task.wave == wave


def test_phase_then_wave_then_kind_then_name() -> None:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (with_ann(obj("Job", "post"), hook="PostSync"), None),
        (with_ann(obj("Job", "fail"), hook="SyncFail"), None),
        (with_ann(obj("Job", "pre"), hook="PreSync", wave="5"), None),
        (with_ann(obj("Deployment", "late"), wave="2"), None),
        (with_ann(obj("Deployment", "early"), wave="-1"), None),
        (obj("Service", "svc"), None),
        (obj("ConfigMap", "cfg"), None),
        (with_ann(obj("Job", "sync-hook"), hook="Sync"), None),
    ]
    tasks = run_plan(pairs)
    assert ids(tasks) == [
        "PreSync/5//Job/prod/pre",
        "Sync/-1//Deployment/prod/early",
        "Sync/0//ConfigMap/prod/cfg",
        "Sync/0//Service/prod/svc",
        "Sync/0//Job/prod/sync-hook",
        "Sync/2//Deployment/prod/late",
        "PostSync/0//Job/prod/post",
        "SyncFail/0//Job/prod/fail",
    ]
    assert [t.hook_type for t in tasks] == ["PreSync", None, None, None, "Sync", None, "PostSync", "SyncFail"]
    assert st.PHASE_ORDER == {"PreSync": -1, "Sync": 0, "PostSync": 1, "SyncFail": 2}


def test_split_waves_and_multi_step() -> None:
    tasks = run_plan(
        [
            (with_ann(obj("Job", "pre", api="batch/v1"), hook="PreSync"), None),
            (obj("ConfigMap", "a"), None),
            (with_ann(obj("ConfigMap", "b"), wave="1"), None),
            (obj("Secret", "s"), None),
        ]
    )
    groups = st.split_waves(list(reversed(tasks)))
    assert [(p, w, [t.key.name for t in ts]) for p, w, ts in groups] == [
        ("PreSync", 0, ["pre"]),
        ("Sync", 0, ["a", "s"]),  # order inside a group is kept as given (reversed here)
        ("Sync", 1, ["b"]),
    ]
    assert st.multi_step(tasks)
    assert not st.multi_step(tasks[1:3])
    assert not st.multi_step([])


# --- Namespace and CRD fix-ups -------------------------------------------------------------------


def test_namespace_moves_before_first_task_in_it_and_inherits_phase_and_wave() -> None:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (with_ann(obj("Job", "job1", ns="ns1", api="batch/v1"), hook="PreSync"), None),
        (with_ann(obj("Job", "job2", ns="ns2", api="batch/v1"), hook="PreSync"), None),
        (with_ann(obj("Namespace", "ns1", ns=None), wave="1"), None),
        (with_ann(obj("Namespace", "ns2", ns=None), wave="2"), None),
    ]
    tasks = run_plan(pairs)
    assert ids(tasks) == [
        "PreSync/0//Namespace//ns1",
        "PreSync/0/batch/Job/ns1/job1",
        "PreSync/0//Namespace//ns2",
        "PreSync/0/batch/Job/ns2/job2",
    ]
    assert all(t.hook_type is None for t in tasks if t.key.kind == "Namespace")


def test_namespace_already_earlier_is_not_moved() -> None:
    tasks = run_plan(
        [
            (with_ann(obj("ConfigMap", "c", ns="apps"), wave="3"), None),
            (obj("Namespace", "apps", ns=None), None),
        ]
    )
    assert ids(tasks) == ["Sync/0//Namespace//apps", "Sync/3//ConfigMap/apps/c"]


def test_crd_moves_before_first_cr_of_its_group_kind() -> None:
    crd = obj("CustomResourceDefinition", "gadgets.example.com", ns=None, api="apiextensions.k8s.io/v1")
    crd["spec"] = {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Gadget"}}
    cr = with_ann(obj("Gadget", "g1", api="example.com/v1"), hook="PreSync")
    other = obj("Gadget", "g2", api="other.com/v1")
    tasks = run_plan([(other, None), (cr, None), (crd, None)])
    assert ids(tasks) == [
        "PreSync/0/apiextensions.k8s.io/CustomResourceDefinition//gadgets.example.com",
        "PreSync/0/example.com/Gadget/prod/g1",
        "Sync/0/other.com/Gadget/prod/g2",
    ]


def test_sort_tasks_is_usable_on_its_own() -> None:
    ns = st.SyncTask("Sync", 0, obj("Namespace", "a", ns=None), None, ResourceKey("", "Namespace", "", "a"))
    cm = st.SyncTask(
        "PreSync", 0, obj("ConfigMap", "c", ns="a"), None, ResourceKey("", "ConfigMap", "a", "c")
    )
    assert st.sort_tasks([ns, cm]) == [ns, cm]
    assert ns.phase == "PreSync"


# --- prunes --------------------------------------------------------------------------------------


def prune_pair(name: str, **kw: str) -> tuple[None, dict[str, Any]]:
    return (None, with_ann(obj("ConfigMap", name), **kw))


def test_prune_waves_are_reversed_by_symmetric_swap() -> None:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        prune_pair("p-2", wave="-2"),
        prune_pair("p0"),
        prune_pair("p3", wave="3"),
        prune_pair("p7", wave="7"),
    ]
    pairs.append((obj("Secret", "kept"), None))
    tasks = run_plan(pairs)
    waves = {t.key.name: t.wave for t in tasks}
    assert waves == {"p-2": 7, "p0": 3, "p3": 0, "p7": -2, "kept": 0}
    assert [t.key.name for t in tasks] == ["p7", "kept", "p3", "p0", "p-2"]
    assert all(t.is_prune and t.target is None for t in tasks if t.key.name != "kept")


def test_prune_last_app_option_puts_prunes_after_last_sync_wave() -> None:
    pairs = [prune_pair("old", wave="-3"), (with_ann(obj("ConfigMap", "new"), wave="4"), None)]
    pairs.append((with_ann(obj("Job", "post", api="batch/v1"), hook="PostSync", wave="9"), None))
    tasks = run_plan(pairs, opts=["PruneLast=true"])
    assert ids(tasks) == [
        "Sync/4//ConfigMap/prod/new",
        "Sync/5//ConfigMap/prod/old",
        "PostSync/9/batch/Job/prod/post",
    ]


def test_prune_last_annotation_and_negative_only_waves() -> None:
    tasks = run_plan(
        [prune_pair("old", opts="PruneLast=true"), (with_ann(obj("ConfigMap", "n"), wave="-4"), None)]
    )
    assert {t.key.name: t.wave for t in tasks} == {"n": -4, "old": 1}
    tasks = run_plan([prune_pair("old"), (with_ann(obj("ConfigMap", "n"), wave="-4"), None)])
    assert {t.key.name: t.wave for t in tasks} == {"n": -4, "old": 0}


@pytest.mark.parametrize(
    ("prune", "app", "annotation", "status", "message", "confirm"),
    [
        (True, [], None, "", "", False),
        (False, [], None, "PruneSkipped", "ignored (requires pruning)", False),
        (False, [], "Prune=false", "PruneSkipped", "ignored (requires pruning)", False),
        (True, [], "Prune=false", "PruneSkipped", "ignored (no prune)", False),
        (True, ["Prune=false"], None, "PruneSkipped", "ignored (no prune)", False),
        (True, ["Prune=false"], "Prune=confirm", "", "", True),
        (True, ["Prune=confirm"], None, "", "", True),
        (True, ["Prune=confirm"], "Prune=false", "PruneSkipped", "ignored (no prune)", False),
    ],
)
def test_prune_disposition(
    prune: bool, app: list[str], annotation: str | None, status: str, message: str, confirm: bool
) -> None:
    pair = prune_pair("old", opts=annotation) if annotation else prune_pair("old")
    (task,) = run_plan([pair], opts=app, prune=prune)
    assert (task.sync_status, task.message, task.requires_prune_confirmation) == (status, message, confirm)
    assert task.pending  # it still runs (and completes) in its own wave
    assert task.prune_skipped is (status == "PruneSkipped")


def test_prune_confirmation_message() -> None:
    tasks = run_plan(
        [prune_pair("a", opts="Prune=confirm"), prune_pair("b", opts="Prune=confirm"), prune_pair("c")]
    )
    assert (
        st.prune_confirmation_message(tasks)
        == "Waiting for pruning confirmation of v1/ConfigMap/a and 1 more resources"
    )
    assert st.prune_confirmation_message(tasks[:1]) == "Waiting for pruning confirmation of v1/ConfigMap/a"
    assert st.prune_confirmation_message(tasks[2:]) == ""


# --- hooks ---------------------------------------------------------------------------------------


def test_hook_name_generate_name_and_fixed_name() -> None:
    gen = {"kind": "Job", "metadata": {"generateName": "migrate-"}}
    assert st.hook_name(gen, REV, "PreSync", STARTED) == f"migrate-0123456-presync-{UNIX}"
    assert st.hook_name(gen, "ABC", "PostSync", STARTED) == f"migrate-abc-postsync-{UNIX}"
    naive = datetime(2024, 5, 1, 12, 0, 0)
    assert st.hook_name(gen, REV, "Sync", naive) == f"migrate-0123456-sync-{UNIX}"
    assert (
        st.hook_name({"metadata": {"name": "fixed", "generateName": "x-"}}, REV, "Sync", STARTED) == "fixed"
    )


def test_generate_name_hooks_get_one_named_task_per_phase_with_finalizer() -> None:
    hook: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "smoke-"}}
    hook["metadata"]["finalizers"] = ["x/y"]
    with_ann(hook, hook="PreSync,PostSync")
    tasks = run_plan([(hook, None)])
    assert ids(tasks) == [
        f"PreSync/0/batch/Job/prod/smoke-0123456-presync-{UNIX}",
        f"PostSync/0/batch/Job/prod/smoke-0123456-postsync-{UNIX}",
    ]
    for t in tasks:
        assert t.target is not None
        md = t.target["metadata"]
        assert md["finalizers"] == ["x/y", st.HOOK_FINALIZER]
        assert "generateName" not in md
    assert hook["metadata"].get("name") is None  # the input is not modified


@pytest.mark.parametrize(
    ("annotations", "phases"),
    [
        ({"hook": "PreSync"}, ["PreSync"]),
        ({"hook": "Sync"}, ["Sync"]),
        ({"hook": "PostSync"}, ["PostSync"]),
        ({"hook": "SyncFail"}, ["SyncFail"]),
        ({"hook": "PostSync, PreSync"}, ["PreSync", "PostSync"]),
        ({"helm": "pre-install"}, ["PreSync"]),
        ({"helm": "pre-upgrade"}, ["PreSync"]),
        ({"helm": "post-install,post-upgrade"}, ["PostSync"]),
        ({"hook": "PostSync", "helm": "pre-install"}, ["PostSync"]),  # Argo wins over Helm
        ({"hook": "Skip"}, []),
        ({"hook": "Skip,PreSync"}, ["PreSync"]),  # Skip only counts alone
        ({"helm": "test"}, []),  # unmapped Helm hook: ignored entirely
        ({"helm": "pre-delete"}, []),
        ({"hook": "PreDelete"}, []),
        ({"hook": "PostDelete"}, []),
        ({"hook": "Bogus"}, []),  # an Argo hook without a sync phase
    ],
)
def test_hook_phase_mapping(annotations: dict[str, str], phases: list[str]) -> None:
    tasks = run_plan([(with_ann(obj("Job", "h", api="batch/v1"), **annotations), None)])
    assert [t.phase for t in tasks] == phases
    assert all(t.hook_type == t.phase for t in tasks)


def test_crd_install_is_an_ordinary_resource() -> None:
    (task,) = run_plan([(with_ann(obj("ConfigMap", "c"), helm="crd-install"), None)])
    assert (task.phase, task.hook_type) == ("Sync", None)


def test_helm_hook_mapping() -> None:
    assert [
        st.helm_hook_mapping(v) for v in ("pre-install", "pre-upgrade", "post-install", "post-upgrade")
    ] == [
        "PreSync",
        "PreSync",
        "PostSync",
        "PostSync",
    ]
    assert st.helm_hook_mapping("test") is None


def test_live_only_hooks_and_skip_resources_are_never_pruned() -> None:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (None, with_ann(obj("Job", "old-hook", api="batch/v1"), hook="PreSync")),
        (None, with_ann(obj("Job", "old-helm", api="batch/v1"), helm="post-install")),
        (None, with_ann(obj("ConfigMap", "skipped"), hook="Skip")),
        (with_ann(obj("ConfigMap", "skipped-target"), hook="Skip"), obj("ConfigMap", "skipped-target")),
    ]
    assert run_plan(pairs) == []


@pytest.mark.parametrize(
    ("annotations", "policies"),
    [
        ({}, ("BeforeHookCreation",)),
        ({"policy": "HookSucceeded"}, ("HookSucceeded",)),
        ({"policy": "HookSucceeded, HookFailed"}, ("HookSucceeded", "HookFailed")),
        ({"helm_policy": "hook-succeeded,before-hook-creation"}, ("HookSucceeded", "BeforeHookCreation")),
        ({"helm_policy": "hook-failed"}, ("HookFailed",)),
        (
            {"policy": "HookFailed", "helm_policy": "hook-failed,hook-succeeded"},
            ("HookFailed", "HookSucceeded"),
        ),
        ({"policy": "Nope"}, ("BeforeHookCreation",)),
    ],
)
def test_hook_delete_policies(annotations: dict[str, str], policies: tuple[str, ...]) -> None:
    (task,) = run_plan([(with_ann(obj("Job", "h", api="batch/v1"), hook="PreSync", **annotations), None)])
    assert task.delete_policies == policies


def test_resources_have_no_delete_policies() -> None:
    (task,) = run_plan([(with_ann(obj("Job", "j", api="batch/v1"), policy="HookSucceeded"), None)])
    assert task.delete_policies == ()
    assert not task.has_delete_policy("HookSucceeded")


def test_hook_finds_its_live_object_and_deletes_it_before_creation() -> None:
    target = with_ann(obj("Job", "migrate", api="batch/v1"), hook="PreSync")
    live = obj("Job", "migrate", api="batch/v1")
    (task,) = run_plan([(target, live)])
    assert task.live is live
    assert task.delete_before_creation
    assert not task.delete_on_phase_successful
    task.operation_state = st.RUNNING
    assert not task.delete_before_creation and task.running and not task.completed


def test_generated_hook_name_matches_live_object_of_same_operation() -> None:
    hook = with_ann(
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "m-"}}, hook="Sync"
    )
    live = obj("Job", f"m-0123456-sync-{UNIX}", api="batch/v1")
    (task,) = run_plan([(hook, None), (None, with_ann(live, hook="Sync"))])
    assert task.live is not None and task.live["metadata"]["name"] == live["metadata"]["name"]


def test_two_hooks_with_same_generated_name_are_rejected() -> None:
    def gen() -> dict[str, Any]:
        return with_ann(
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "x-"}}, hook="PreSync"
        )

    with pytest.raises(st.PlanError, match="two PreSync tasks would sync the same object"):
        run_plan([(gen(), None), (gen(), None)])


# --- selection, skip_hooks, namespaces, options ----------------------------------------------------


def test_skip_hooks_drops_every_hook() -> None:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (with_ann(obj("Job", "pre", api="batch/v1"), hook="PreSync"), None),
        (with_ann(obj("Job", "fail", api="batch/v1"), helm="post-install"), None),
        (obj("ConfigMap", "c"), None),
    ]
    assert [t.key.name for t in run_plan(pairs, skip_hooks=True)] == ["c"]


def test_selected_keeps_only_matching_keys_including_prunes() -> None:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (obj("ConfigMap", "a"), None),
        (obj("ConfigMap", "b"), obj("ConfigMap", "b")),
        (obj("ConfigMap", "b", ns="other"), None),
        (obj("ClusterRole", "admin", ns=None, api="rbac.authorization.k8s.io/v1"), None),
        prune_pair("gone"),
    ]
    sel = {
        ResourceKey("", "ConfigMap", "prod", "b"),
        ResourceKey("", "ConfigMap", "prod", "gone"),
        ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "admin"),
    }
    assert ids(run_plan(pairs, selected=sel)) == [
        "Sync/0//ConfigMap/prod/b",
        "Sync/0//ConfigMap/prod/gone",
        "Sync/0/rbac.authorization.k8s.io/ClusterRole//admin",
    ]
    any_ns = {ResourceKey("", "ConfigMap", "", "b")}
    assert ids(run_plan(pairs, selected=any_ns)) == ["Sync/0//ConfigMap/other/b", "Sync/0//ConfigMap/prod/b"]
    assert run_plan(pairs, selected=set()) == []


def test_namespaces_filled_for_namespaced_kinds_only() -> None:
    cm = obj("ConfigMap", "c", ns=None)
    role = obj("ClusterRole", "r", ns="prod", api="rbac.authorization.k8s.io/v1")
    widget = obj("Widget", "w", ns=None, api="example.com/v1")
    tasks = {t.key.kind: t for t in run_plan([(cm, None), (role, None), (widget, None)])}
    assert tasks["ConfigMap"].key.namespace == "prod"
    assert (
        tasks["ConfigMap"].target is not None and tasks["ConfigMap"].target["metadata"]["namespace"] == "prod"
    )
    assert tasks["ClusterRole"].key.namespace == ""
    assert tasks["Widget"].key.namespace == "prod" and not tasks["Widget"].skip_dry_run
    assert "namespace" not in cm["metadata"]  # the input is not modified


def test_unknown_kind_scope_and_dry_run_skip() -> None:
    crd = obj("CustomResourceDefinition", "gizmos.acme.com", ns=None, api="apiextensions.k8s.io/v1")
    crd["spec"] = {"group": "acme.com", "scope": "Cluster", "names": {"kind": "Gizmo"}}
    gizmo = obj("Gizmo", "g", ns=None, api="acme.com/v1")
    thing = obj("Thing", "t", ns=None, api="unknown.com/v1")
    tasks = {t.key.kind: t for t in run_plan([(crd, None), (gizmo, None), (thing, None)])}
    assert tasks["Gizmo"].key.namespace == "" and tasks["Gizmo"].skip_dry_run  # CRD in the same sync
    assert tasks["Thing"].key.namespace == "prod" and not tasks["Thing"].skip_dry_run
    assert not tasks["CustomResourceDefinition"].skip_dry_run
    tasks = {t.key.kind: t for t in run_plan([(thing, None)], opts=["SkipDryRunOnMissingResource=true"])}
    assert tasks["Thing"].skip_dry_run
    annotated = with_ann(obj("Thing", "t2", api="unknown.com/v1"), opts="SkipDryRunOnMissingResource=true")
    assert run_plan([(annotated, None)])[0].skip_dry_run


def test_managed_namespace_becomes_a_presync_task_unless_declared() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod", "labels": {"team": "a"}}}
    tasks = run_plan([(obj("ConfigMap", "c"), None)], managed_namespace=(ns, None))
    assert ids(tasks) == ["PreSync/0//Namespace//prod", "Sync/0//ConfigMap/prod/c"]
    declared = [(obj("Namespace", "prod", ns=None), None), (obj("ConfigMap", "c"), None)]
    assert ids(run_plan(declared, managed_namespace=(ns, None))) == [
        "Sync/0//Namespace//prod",
        "Sync/0//ConfigMap/prod/c",
    ]


def test_bad_resource_option_fails_the_plan() -> None:
    with pytest.raises(UnsupportedSyncOption, match="CreateNamespace=true.*ConfigMap prod/c"):
        run_plan([(with_ann(obj("ConfigMap", "c"), opts="CreateNamespace=true"), None)])
    with pytest.raises(UnsupportedSyncOption, match="of ConfigMap prod/old"):
        run_plan([prune_pair("old", opts="Prune=never")])


def test_task_ids() -> None:
    (task,) = run_plan([(with_ann(obj("Deployment", "web", api="apps/v1"), wave="-1"), None)])
    assert task.id() == "Sync/-1/apps/Deployment/prod/web"
    assert task.result_key == "apps/Deployment/prod/web:Sync"
    assert task.api_version == "apps/v1"


# --- waiting messages ----------------------------------------------------------------------------


def test_wait_messages() -> None:
    hooks_ = run_plan(
        [(with_ann(obj("Job", n, api="batch/v1"), hook="PreSync"), None) for n in ("x", "y", "z")]
    )
    assert st.wait_message(hooks_[:1]) == "waiting for completion of hook batch/Job/x"
    assert st.wait_message(hooks_) == "waiting for completion of hook batch/Job/x and 2 more hooks"
    res = run_plan([(obj("Service", "svc"), None), (obj("Deployment", "web", api="apps/v1"), None)])
    assert st.wait_message(res[:1]) == "waiting for healthy state of /Service/svc"
    assert st.wait_message(res) == "waiting for healthy state of /Service/svc and 1 more resources"
    assert st.wait_message(res, deletion=True) == "waiting for deletion of /Service/svc and 1 more resources"
    assert (
        st.wait_message(hooks_[:2], deletion=True) == "waiting for deletion of batch/Job/x and 1 more hooks"
    )
    assert st.wait_message([]) == ""
