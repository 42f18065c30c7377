"""Application deletion with Argo CD's finalizer semantics (argocd-features.md §9).

`request_delete` sets the resources finalizer that matches the cascade mode and deletes the
Application; the apiserver keeps it (deletionTimestamp set) while a finalizer remains.
`process_deletion` is one pass of Argo's `finalizeApplicationDeletion`: it waits while managed
objects are still terminating, deletes only the highest sync wave of the remaining deletable
objects per pass, keeps CRDs, `Delete=false` and `helm.sh/resource-policy: keep` objects, waits for
`argocd.argoproj.io/deletion-approved` for `Delete=confirm`, and removes the finalizer once nothing
deletable is left, at which point the apiserver removes the Application.

Not implemented: PreDelete/PostDelete hooks and their finalizers (`pre-delete-finalizer...`,
`post-delete-finalizer...`); an Application carrying them is refused with a clear error rather
than deleted without running its anno.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from console.cluster.api import ClusterError, NotFound, Obj, ResourceKey
from console.engine import annotations as anno
from console.engine import tracking
from console.engine.appstore import API_VERSION, NAMESPACE, AppStore
from console.engine.governance import projects
from console.engine.live import LiveState
from console.engine.model import SpecError, parse_project
from console.engine.refresh import UnknownApplication
from console.engine.sync import options as so
from console.engine.sync import tasks as tk
from console.engine.sync.operation import cluster_now, parse_time, update_app, update_status
from console.engine.workspace import Workspace

FINALIZER = "resources-finalizer.argocd.argoproj.io"
FINALIZER_FOREGROUND = f"{FINALIZER}/foreground"
FINALIZER_BACKGROUND = f"{FINALIZER}/background"
RESOURCE_FINALIZERS = (FINALIZER, FINALIZER_FOREGROUND, FINALIZER_BACKGROUND)
UNSUPPORTED_FINALIZERS = (
    "pre-delete-finalizer.argocd.argoproj.io",
    "post-delete-finalizer.argocd.argoproj.io",
)
DELETION_APPROVED = "argocd.argoproj.io/deletion-approved"
HELM_RESOURCE_POLICY = "helm.sh/resource-policy"
APP_KINDS = {("trueup.dev", "Application"), ("argoproj.io", "Application")}

Cascade = Literal["foreground", "background", "orphan"]


class DeletionRefused(Exception):
    pass


@dataclass
class DeletionStep:
    """What one pass did: `done` when the Application is gone."""

    done: bool
    message: str
    deleted: list[ResourceKey]
    kept: list[ResourceKey]


def _finalizers(app: Obj) -> list[str]:
    return list((app.get("metadata") or {}).get("finalizers") or [])


def request_delete(store: AppStore, name: str, cascade: Cascade = "foreground") -> Obj | None:
    """Set the finalizer for `cascade` (remove it for orphan) and delete the Application.
    Returns the Application while finalizers hold it, None when it is already gone."""
    try:
        app = store.get_app(name)
    except NotFound:
        raise UnknownApplication(f"application {name!r} not found (see `trueup app list`)") from None
    bad = [f for f in _finalizers(app) if f.split("/")[0] in UNSUPPORTED_FINALIZERS]
    if bad:
        raise DeletionRefused(
            f"application {name} carries {', '.join(bad)}: PreDelete/PostDelete hooks are not supported "
            "by trueup yet; remove the finalizer to delete without running them"
        )
    wanted = {"foreground": FINALIZER, "background": FINALIZER_BACKGROUND, "orphan": None}[cascade]

    def set_finalizer(obj: Obj) -> None:
        md = obj.setdefault("metadata", {})
        fins = [f for f in md.get("finalizers") or [] if f not in RESOURCE_FINALIZERS]
        wanted_now: str | None = wanted
        if cascade == "foreground" and FINALIZER_FOREGROUND in (md.get("finalizers") or []):
            wanted_now = FINALIZER_FOREGROUND
        if wanted_now:
            fins.append(wanted_now)
        if fins:
            md["finalizers"] = fins
        else:
            md.pop("finalizers", None)

    if not (app.get("metadata") or {}).get("deletionTimestamp"):
        update_app(store, name, set_finalizer)
    try:
        return store.cluster.delete(API_VERSION, "Application", NAMESPACE, name)
    except NotFound:
        return None


def _propagation(app: Obj) -> Literal["Foreground", "Background"]:
    return "Background" if FINALIZER_BACKGROUND in _finalizers(app) else "Foreground"


def _kept(obj: Obj, app_options: so.SyncOptions) -> bool:
    key = ResourceKey.of(obj)
    if (key.group, key.kind) == (tk.CRD_GROUP, tk.CRD_KIND):
        return True
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if annotations.get(HELM_RESOURCE_POLICY) == "keep":
        return True
    try:
        return so.delete_mode(obj, app_options) == "false"
    except so.UnsupportedSyncOption:
        return True  # never delete what carries options we cannot read


def _confirm(obj: Obj, app_options: so.SyncOptions) -> bool:
    try:
        return so.delete_mode(obj, app_options) == "confirm"
    except so.UnsupportedSyncOption:
        return False


def process_deletion(ws: Workspace, name: str) -> DeletionStep:
    """One pass of the finalizer. Raises UnknownApplication when the app does not exist."""
    store = AppStore(ws.control())
    try:
        app = store.get_app(name)
    except NotFound:
        return DeletionStep(True, f"application {name} deleted", [], [])
    md = app.get("metadata") or {}
    if not md.get("deletionTimestamp"):
        return DeletionStep(False, f"application {name} is not being deleted", [], [])
    if not any(f in RESOURCE_FINALIZERS for f in _finalizers(app)):
        return DeletionStep(False, "waiting for other finalizers: " + ", ".join(_finalizers(app)), [], [])
    spec = app.get("spec") or {}
    dest = spec.get("destination") or {}
    cfg = ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
    if cfg is None:
        _drop_finalizers(store, name)  # Argo: invalid destination => drop all finalizers
        return DeletionStep(True, f"destination of {name} is not a known cluster: finalizers removed", [], [])
    cluster = ws.open_cluster(cfg.name)
    try:
        options = so.SyncOptions.parse((spec.get("syncPolicy") or {}).get("syncOptions"))
    except so.UnsupportedSyncOption as exc:
        _condition(store, name, str(exc))
        return DeletionStep(False, str(exc), [], [])
    annotation = ws.settings.tracking_annotation
    live = LiveState.load(cluster, annotation)
    instance = name
    permitted = _permitted_by_project(ws, store, spec, cfg.name, cfg.server)
    managed: list[Obj] = []
    for key in live.by_app.get(instance, []):
        obj = live.objects[key]
        if not tracking.is_self_referencing(obj, annotation):
            continue
        if (obj.get("metadata") or {}).get("ownerReferences"):
            continue
        if (key.group, key.kind) in APP_KINDS and key.name == name:
            continue  # self-managed app
        if not permitted(key):
            continue  # Argo: live objects the project does not permit are never deleted
        managed.append(obj)
    terminating = [o for o in managed if (o.get("metadata") or {}).get("deletionTimestamp")]
    for o in terminating:
        _drop_hook_finalizer(cluster, o)
    if terminating:
        k = ResourceKey.of(terminating[0])
        more = f" and {len(terminating) - 1} more resources" if len(terminating) > 1 else ""
        return DeletionStep(False, f"waiting for deletion of {k.group}/{k.kind}/{k.name}{more}", [], [])
    kept = [o for o in managed if _kept(o, options)]
    candidates = [o for o in managed if not _kept(o, options)]
    needs_confirm = [o for o in candidates if _confirm(o, options)]
    if needs_confirm and not _approved(app):
        k = ResourceKey.of(needs_confirm[0])
        more = f" and {len(needs_confirm) - 1} more resources" if len(needs_confirm) > 1 else ""
        return DeletionStep(
            False, f"waiting for deletion confirmation of {k.group}/{k.kind}/{k.name}{more}", [], []
        )
    if not candidates:
        _remove_resource_finalizers(store, name)
        gone = _gone(store, name)
        return DeletionStep(
            gone,
            f"application {name} deleted" if gone else f"finalizer removed from {name}",
            [],
            [ResourceKey.of(o) for o in kept],
        )
    top = max(anno.sync_wave(o) for o in candidates)
    wave = [o for o in candidates if anno.sync_wave(o) == top]
    policy = _propagation(app)
    deleted: list[ResourceKey] = []
    errors: list[str] = []
    for o in sorted(
        wave, key=lambda x: (tk.KIND_ORDER.get(x.get("kind", ""), 0), x["metadata"]["name"]), reverse=True
    ):
        key = ResourceKey.of(o)
        _drop_hook_finalizer(cluster, o)
        try:
            cluster.delete(
                o.get("apiVersion", ""), key.kind, key.namespace, key.name, propagation_policy=policy
            )
            deleted.append(key)
        except NotFound:
            deleted.append(key)
        except ClusterError as exc:
            errors.append(f"{key}: {exc.message}")
    if errors:
        _condition(store, name, "; ".join(errors))
        return DeletionStep(False, "; ".join(errors), deleted, [])
    return DeletionStep(False, f"deleted {len(deleted)} resources of wave {top}", deleted, [])


def _permitted_by_project(
    ws: Workspace, store: AppStore, spec: Obj, cluster_name: str, server: str
) -> Callable[[ResourceKey], bool]:
    """The project check compare and sync use (governance.projects.resource_violation): an object
    in a namespace the app's project does not allow — say `kube-system` carrying a copied tracking
    id — is not the app's to delete. A missing project checks nothing, as before."""
    try:
        proj = parse_project(store.get_project(str(spec.get("project") or "default")))
    except (NotFound, SpecError):
        return lambda key: True
    dest_spec = spec.get("destination") or {}
    dest = projects.destination_identity(
        str(dest_spec.get("server") or server),
        str(dest_spec.get("name") or cluster_name),
        ws.server_by_name(),
    )
    return lambda key: (
        projects.resource_violation(proj, key.group, key.kind, key.name, key.namespace, dest) is None
    )


def _approved(app: Obj) -> bool:
    md = app.get("metadata") or {}
    at = parse_time((md.get("annotations") or {}).get(DELETION_APPROVED))
    since = parse_time(md.get("deletionTimestamp"))
    return at is not None and (since is None or at >= since)


def _drop_hook_finalizer(cluster: object, obj: Obj) -> None:
    fins = (obj.get("metadata") or {}).get("finalizers") or []
    if tk.HOOK_FINALIZER not in fins:
        return
    key = ResourceKey.of(obj)
    keep = [f for f in fins if f != tk.HOOK_FINALIZER]
    try:
        cluster.patch(  # type: ignore[attr-defined]
            obj.get("apiVersion", ""),
            key.kind,
            key.namespace,
            key.name,
            {"metadata": {"finalizers": keep or None}},
            field_manager="trueup",
        )
    except ClusterError:
        pass


def _remove_resource_finalizers(store: AppStore, name: str) -> None:
    def drop(obj: Obj) -> None:
        md = obj.setdefault("metadata", {})
        fins = [f for f in md.get("finalizers") or [] if f not in RESOURCE_FINALIZERS]
        if fins:
            md["finalizers"] = fins
        else:
            md.pop("finalizers", None)

    try:
        update_app(store, name, drop)
    except UnknownApplication:
        pass


def _drop_finalizers(store: AppStore, name: str) -> None:
    def drop(obj: Obj) -> None:
        obj.setdefault("metadata", {}).pop("finalizers", None)

    try:
        update_app(store, name, drop)
    except UnknownApplication:
        pass


def _gone(store: AppStore, name: str) -> bool:
    try:
        store.get_app(name)
    except NotFound:
        return True
    return False


def _condition(store: AppStore, name: str, message: str) -> None:
    now = cluster_now(store.cluster).strftime("%Y-%m-%dT%H:%M:%SZ")

    def mutate(status: Obj) -> None:
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "DeletionError"]
        conds.append({"type": "DeletionError", "message": message, "lastTransitionTime": now})
        status["conditions"] = conds

    try:
        update_status(store, name, mutate)
    except (UnknownApplication, ClusterError):
        pass


def delete_app(
    ws: Workspace,
    name: str,
    *,
    cascade: Cascade = "foreground",
    timeout: float | None = None,
    poll: float = 0.2,
    progress: Callable[[DeletionStep], None] | None = None,
) -> DeletionStep:
    """Request deletion, then run the finalizer pass by pass until the Application is gone."""
    store = AppStore(ws.control())
    request_delete(store, name, cascade)
    deadline = time.monotonic() + timeout if timeout is not None else None
    while True:
        step = process_deletion(ws, name)
        if progress is not None:
            progress(step)
        if step.done:
            return step
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for application {name} to be deleted: {step.message}")
        if not step.deleted:
            time.sleep(poll)
        _tick(ws, store, name)


def _tick(ws: Workspace, store: AppStore, name: str) -> None:
    """Sim clusters: let garbage collection and controllers catch up between passes."""
    names = {ws.control_cluster}
    try:
        dest = (store.get_app(name).get("spec") or {}).get("destination") or {}
        cfg = ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
        if cfg is not None:
            names.add(cfg.name)
    except NotFound:
        pass
    for cluster_name in names:
        tick = getattr(ws.open_cluster(cluster_name), "tick", None)
        if callable(tick):
            tick()
