"""Applying one sync task to a cluster: apply / replace / force, with kubectl-style messages.

Apply semantics (decided for trueup, documented in the issue note):
- Default: server-side apply with field manager `trueup` and `force=True`. Argo's default is
  client-side `kubectl apply`, whose three-way merge always makes the manifest win for the fields it
  declares: a sync reverts a `kubectl edit`. Server-side apply without force would instead fail on
  any field another manager touched, so a plain sync could not fix drift; forcing reproduces what
  Argo users expect. The last-applied annotation of client-side apply is not reproduced.
- `ServerSideApply=true`: the same call (Argo runs `--server-side --force-conflicts`); the message
  reads `serverside-applied` as kubectl's does.
- `Replace=true`: create when missing, else PUT (update) the object, carrying the live
  resourceVersion; CRDs and Namespaces are always updated, never force-replaced.
- `Force=true` (resource) or the sync strategy's force: delete and re-create when the update is
  refused (immutable field, conflict), like `kubectl apply/replace --force`.
- Dry run: the same verb with `dry_run=True` (the apiserver's `dryRun=All`), with `Force` doing an
  apply dry run (deleting is never rehearsed).
- `unchanged` / `configured`: decided the same way for a dry run and a real apply — the server's
  answer compared with the live object as the apiserver's no-op detection compares them (ignoring
  resourceVersion, managedFields timestamps and status). A real apply that did not bump the
  resourceVersion wrote nothing. So a dry run says `configured (dry run)` exactly when the real
  apply will say `configured`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from console.cluster.api import Cluster, ClusterError, Conflict, Invalid, NotFound, Obj
from console.engine.diff.masking import annotation_values, redact_text, secret_values
from console.engine.sync import options as so
from console.engine.sync.tasks import SyncTask

FIELD_MANAGER = "trueup"
_NEVER_REPLACED = {("", "Namespace"), ("apiextensions.k8s.io", "CustomResourceDefinition")}


@dataclass
class ApplyResult:
    ok: bool
    message: str
    obj: Obj | None = None


def object_ref(task: SyncTask) -> str:
    """kubectl's `kind.group/name` (e.g. `deployment.apps/payments-api`)."""
    k = task.key
    kind = k.kind.lower()
    return f"{kind}.{k.group}/{k.name}" if k.group else f"{kind}/{k.name}"


def error_message(exc: Exception, task: SyncTask, sensitive_annotations: Sequence[str] = ()) -> str:
    """The apiserver's message, never echoing a Secret's values or a sensitive annotation's."""
    text = exc.message if isinstance(exc, ClusterError) else str(exc)
    secrets = secret_values(task.target) + secret_values(task.live)
    for obj in (task.target, task.live):
        secrets += annotation_values(obj, sensitive_annotations)
    return redact_text(text, secrets) if secrets else text


def _comparable(obj: Obj) -> Obj:
    """`obj` as a write through the main resource is judged: without resourceVersion, status and
    what status writers own (an apply never writes those; controllers do, concurrently), and
    without managedFields timestamps (the apiserver resets them on a no-op write)."""
    out = {k: v for k, v in obj.items() if k != "status"}
    md = dict(out.get("metadata") or {})
    md.pop("resourceVersion", None)
    if isinstance(md.get("managedFields"), list):
        md["managedFields"] = [
            {k: v for k, v in e.items() if k != "time"}
            for e in md["managedFields"]
            if isinstance(e, dict) and not e.get("subresource")
        ]
    out["metadata"] = md
    return out


def changes_object(live: Obj, result: Obj, *, dry_run: bool) -> bool:
    """Whether the apply answered with `result` changed `live` (same API version)."""
    if not dry_run:
        before = (live.get("metadata") or {}).get("resourceVersion")
        if before and before == (result.get("metadata") or {}).get("resourceVersion"):
            return False  # nothing was written
    return _comparable(live) != _comparable(result)


def _verb(live: Obj | None, result: Obj, ssa: bool, dry_run: bool) -> str:
    if live is None:
        return "created"
    if ssa:
        return "serverside-applied"
    return "configured" if changes_object(live, result, dry_run=dry_run) else "unchanged"


def _live_as(cluster: Cluster, task: SyncTask, api_version: str) -> Obj | None:
    """The live object in the version the target is written in (the snapshot may hold the storage
    version), so the server's answer is compared like with like."""
    live = task.live
    if live is None or str(live.get("apiVersion") or "") == api_version:
        return live
    k = task.key
    try:
        return cluster.get(api_version, k.kind, k.namespace, k.name)
    except NotFound:
        return None


def apply_task(
    cluster: Cluster,
    task: SyncTask,
    app_options: so.SyncOptions,
    *,
    strategy_force: bool = False,
    dry_run: bool = False,
    sensitive_annotations: Sequence[str] = (),
) -> ApplyResult:
    """Create/update `task.target`; never raises for API errors (they become the result)."""
    target = task.target
    assert target is not None
    live = task.live
    suffix = " (dry run)" if dry_run else ""
    ref = object_ref(task)
    try:
        replace = so.use_replace(target, live, app_options)
        force = strategy_force or so.use_force(target)
        ssa = so.use_server_side_apply(target, app_options)
        if replace:
            return _replace(cluster, task, force=force, dry_run=dry_run, ref=ref, suffix=suffix)
        try:
            out = cluster.apply(
                copy.deepcopy(target), field_manager=FIELD_MANAGER, force=True, dry_run=dry_run
            )
        except (Invalid, Conflict):
            if not force or live is None:
                raise
            if dry_run:  # the real run deletes and re-creates; that cannot be rehearsed
                return ApplyResult(True, f"{ref} replaced{suffix}")
            _delete_now(cluster, task)
            out = cluster.create(_for_create(target), field_manager=FIELD_MANAGER)
            return ApplyResult(True, f"{ref} replaced", out)
        if dry_run and live is not None and not ssa:  # nothing was written: a read now is "before"
            live = _live_as(cluster, task, str(target.get("apiVersion") or ""))
        return ApplyResult(True, f"{ref} {_verb(live, out, ssa, dry_run)}{suffix}", out)
    except ClusterError as exc:
        return ApplyResult(False, error_message(exc, task, sensitive_annotations))


def _for_create(target: Obj) -> Obj:
    obj = copy.deepcopy(target)
    obj.get("metadata", {}).pop("resourceVersion", None)
    return obj


def _delete_now(cluster: Cluster, task: SyncTask) -> None:
    k = task.key
    try:
        cluster.delete(task.api_version, k.kind, k.namespace, k.name, propagation_policy="Background")
    except NotFound:
        pass


def _replace(
    cluster: Cluster, task: SyncTask, *, force: bool, dry_run: bool, ref: str, suffix: str
) -> ApplyResult:
    target = task.target
    assert target is not None
    live = task.live
    if live is None:
        out = cluster.create(_for_create(target), field_manager=FIELD_MANAGER, dry_run=dry_run)
        return ApplyResult(True, f"{ref} created{suffix}", out)
    obj = copy.deepcopy(target)
    obj.setdefault("metadata", {})["resourceVersion"] = (live.get("metadata") or {}).get("resourceVersion")
    never_replaced = (task.key.group, task.key.kind) in _NEVER_REPLACED
    try:
        out = cluster.update(obj, field_manager=FIELD_MANAGER, dry_run=dry_run)
    except (Invalid, Conflict):
        if not force or never_replaced:
            raise
        if dry_run:
            return ApplyResult(True, f"{ref} replaced{suffix}")
        _delete_now(cluster, task)
        out = cluster.create(_for_create(target), field_manager=FIELD_MANAGER)
    return ApplyResult(True, f"{ref} {'configured' if never_replaced else 'replaced'}{suffix}", out)
