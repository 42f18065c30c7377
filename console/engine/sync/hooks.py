"""Hook lifecycle inside a sync operation: marking the hooks an attempt creates, re-attaching to them
after a crash, dropping the hook finalizer, deleting hooks per their delete policy, and deleting
running hooks when an operation is terminated.

Crash safety, beyond Argo: hook objects carry the annotation `trueup.dev/sync-operation` naming the
operation attempt (`<startedAt>#<retryCount>`). A hook that exists live with the current attempt's
mark was created by this operation (even if the process died before recording it), so it is
re-attached, never deleted and re-created.
"""

from __future__ import annotations

from console.cluster.api import Cluster, ClusterError, NotFound, Obj
from console.engine.sync import tasks as tk
from console.engine.sync.apply import object_ref
from console.engine.sync.syncpass import Pass

OPERATION_MARK = "trueup.dev/sync-operation"


def cleanup(run: Pass, *, succeeded: bool) -> None:
    """Delete hooks per their policy, and drop the hook finalizer from every hook we ran."""
    policy = "HookSucceeded" if succeeded else "HookFailed"
    for t in [*run.tasks, *run.sync_fail]:
        if not t.is_hook or t.live is None:
            continue
        if id(t) in run.forbidden and not created_here(run, t.live):
            continue  # a forbidden hook's live namesake is not ours to touch
        remove_finalizer(run, t)
        if t.completed and t.has_delete_policy(policy):
            run.delete(t, "Background")


def created_here(run: Pass, live: Obj) -> bool:
    """The live object is a hook this very operation attempt created (see OPERATION_MARK)."""
    return ((live.get("metadata") or {}).get("annotations") or {}).get(OPERATION_MARK) == run.attempt_mark


def remove_finalizer(run: Pass, t: tk.SyncTask) -> None:
    live = t.live
    if live is None or run.dest is None:
        return
    fins = (live.get("metadata") or {}).get("finalizers") or []
    if tk.HOOK_FINALIZER not in fins:
        return
    keep = [f for f in fins if f != tk.HOOK_FINALIZER]
    try:
        t.live = run.dest.patch(
            t.api_version,
            t.key.kind,
            t.key.namespace,
            t.key.name,
            {"metadata": {"finalizers": keep or None}},
            field_manager="trueup",
        )
    except NotFound:
        t.live = None
    except ClusterError:
        pass


def adopt(run: Pass) -> None:
    """Re-attach to hooks this attempt created but did not get to record (crash window)."""
    for t in [*run.tasks, *run.sync_fail]:
        if not (t.is_hook and t.pending and t.live is not None):
            continue
        mark = ((t.live.get("metadata") or {}).get("annotations") or {}).get(OPERATION_MARK)
        if mark == run.attempt_mark:
            t.sync_status, t.operation_state, t.message = (
                tk.SYNCED,
                tk.RUNNING,
                f"{object_ref(t)} created",
            )


def delete_before_creation(run: Pass, recreate: list[tk.SyncTask]) -> bool:
    """BeforeHookCreation: delete the previous run's hook objects; True once they are all gone."""
    gone = True
    for t in recreate:
        remove_finalizer(run, t)
        if t.live is not None:
            gone = run.delete(t, "Background") and gone
            t.live = None
    return gone


def stop_running_hooks(dest: Cluster | None, results: list[Obj]) -> bool:
    """Termination: drop the hook finalizer from every recorded hook and delete the running ones
    (their results become Failed "Terminated"); True when the cluster gave errors."""
    errors = False
    for r in results:
        if not r.get("hookType") or dest is None:
            continue
        group, version, kind = (
            str(r.get("group") or ""),
            str(r.get("version") or ""),
            str(r.get("kind") or ""),
        )
        api_version = f"{group}/{version}" if group else version
        ns, name = str(r.get("namespace") or ""), str(r.get("name") or "")
        try:
            live = dest.get(api_version, kind, ns, name)
        except NotFound:
            continue
        except ClusterError:
            errors = True
            continue
        try:
            fins = (live.get("metadata") or {}).get("finalizers") or []
            if tk.HOOK_FINALIZER in fins:
                keep = [f for f in fins if f != tk.HOOK_FINALIZER]
                dest.patch(
                    api_version,
                    kind,
                    ns,
                    name,
                    {"metadata": {"finalizers": keep or None}},
                    field_manager="trueup",
                )
            if r.get("hookPhase") == tk.RUNNING:
                dest.delete(api_version, kind, ns, name, propagation_policy="Background")
                r["hookPhase"], r["message"] = tk.FAILED, "Terminated"
        except NotFound:
            continue
        except ClusterError:
            errors = True
    return errors
