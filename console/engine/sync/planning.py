"""Planning one pass: from a fresh comparison to the pass's task list.

Project policy first (a forbidden resource is never planned and is reported even when a selective
sync would skip it), then `tasks.plan` (phase, wave, kind order), hook marking, the results already
persisted for this operation merged by `SyncTask.result_key`, CreateNamespace, and
RespectIgnoreDifferences.
"""

from __future__ import annotations

import copy
from typing import Any

from console.cluster.api import NotFound, Obj, ResourceKey
from console.engine import annotations as anno
from console.engine import tracking
from console.engine.compare import Comparison
from console.engine.diff.errors import IgnoreRuleError
from console.engine.diff.ignore import IgnoreRule
from console.engine.governance import projects
from console.engine.sync import hooks
from console.engine.sync import options as so
from console.engine.sync import tasks as tk
from console.engine.sync.ignore import respect_ignore_differences
from console.engine.sync.syncpass import Pass, result_key


def plan_pass(run: Pass, cmp: Comparison) -> list[tk.SyncTask] | str:
    assert run.ctx is not None and run.dest is not None
    live_state = run.ctx.live_state(cmp.cluster)
    assert live_state is not None
    spec = run.app.get("spec") or {}
    dest_ns = (spec.get("destination") or {}).get("namespace") or ""
    annotation = run.ws.settings.tracking_annotation
    invalid: list[tk.SyncTask] = []
    pairs: list[tuple[Obj | None, Obj | None]] = []
    for r in cmp.resources:
        if r.status == "Unknown" and r.message in cmp.policy_violations:
            # forbidden by the project (hooks and prune candidates too): never planned, and
            # reported even when a selective sync or the apply strategy would skip it
            ref = r.target if r.target is not None else r.live
            phases = anno.sync_phases(ref) if r.hook and ref is not None else []
            phase = phases[0] if phases else "Sync"
            t = tk.SyncTask(phase, r.sync_wave, r.target, r.live, r.key, hook_type=phase if phases else None)
            t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, r.message
            run.policy_messages.add(r.message)
            run.forbidden.add(id(t))
            invalid.append(t)
            continue
        if r.status == "OutOfSync" or r.live is None:
            run.out_of_sync.add(r.key)
        pairs.append((r.target, r.live))
    managed = _managed_namespace(run, dest_ns)
    selected = {
        ResourceKey(
            str(x.get("group") or ""),
            str(x.get("kind") or ""),
            str(x.get("namespace") or ""),
            str(x.get("name") or ""),
        )
        for x in run.sync.get("resources") or []
    } or None
    revision = (run.state.get("syncResult") or {}).get("revision") or cmp.revision
    try:
        planned = tk.plan(
            pairs,
            app_name=run.name,
            app_namespace=dest_ns,
            revision=revision,
            started_at=run.started_at,
            app_options=run.app_options,
            prune=bool(run.sync.get("prune")),
            is_namespaced=live_state.is_namespaced,
            selected=selected,
            skip_hooks=run.skip_hooks,
            managed_namespace=managed,
        )
    except (so.UnsupportedSyncOption, tk.PlanError) as exc:
        return str(exc)
    instance = run.name
    for t in planned:
        if t.is_hook and t.target is not None:
            namespaced = bool(t.key.namespace)
            target = tracking.set_tracking(t.target, instance, annotation=annotation, namespaced=namespaced)
            md = target["metadata"]
            md["annotations"] = {**(md.get("annotations") or {}), hooks.OPERATION_MARK: run.attempt_mark}
            t.target = target
        if (
            t.target is not None
            and not t.skip_dry_run
            and live_state.is_namespaced(t.api_version, t.key.kind) is None
        ):
            t.sync_status, t.operation_state = tk.SYNC_FAILED, tk.FAILED
            t.message = (
                f'the server could not find the requested resource: kind "{t.key.kind}" '
                f'in version "{t.api_version}" is not served by cluster {cmp.cluster}'
            )
            invalid.append(t)
    persisted = {result_key(r): r for r in (run.state.get("syncResult") or {}).get("resources") or []}
    for t in planned:
        r = persisted.pop(t.result_key, None)
        if r is not None:
            t.sync_status = str(r.get("status") or t.sync_status)
            t.operation_state = str(r.get("hookPhase") or "")
            t.message = str(r.get("message") or "")
    run.extra_results = list(persisted.values())
    invalid.extend(t for t in _forbidden(run, cmp, planned, managed) if t not in invalid)
    if run.app_options.respect_ignore_differences:
        rules = list(run.ctx.system_rules)
        for item in spec.get("ignoreDifferences") or []:
            try:
                rules.append(IgnoreRule.from_spec(item))
            except IgnoreRuleError as exc:
                return f"spec.ignoreDifferences: {exc}"
        for t in planned:
            if t.target is not None and t.live is not None and not t.is_hook:
                t.target = respect_ignore_differences(t.target, t.live, rules)
    run.sync_fail = [t for t in planned if t.phase == "SyncFail"]
    run.tasks = [t for t in planned if t.phase != "SyncFail"]
    if invalid:
        for t in invalid:
            if t not in run.tasks:
                run.tasks.append(t)
    return invalid


def _forbidden(
    run: Pass, cmp: Comparison, planned: list[tk.SyncTask], managed: tuple[Obj, Obj | None] | None
) -> list[tk.SyncTask]:
    """Argo's sync permission validator over every planned task — hooks with their generated
    names, SyncFail hooks and prunes — with the same check compare used. The CreateNamespace
    task is the app's own destination namespace, which the app-level check already allowed."""
    project, dest = cmp.project, cmp.destination
    if project is None or dest is None:
        return []
    managed_name = ((managed[0].get("metadata") or {}).get("name") if managed else None) or None
    out: list[tk.SyncTask] = []
    for t in planned:
        if managed_name and t.key == ResourceKey("", "Namespace", "", managed_name) and t.phase == "PreSync":
            continue
        violation = projects.resource_violation(
            project, t.key.group, t.key.kind, t.key.name, t.key.namespace, dest
        )
        if violation is not None:
            t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, violation
            run.policy_messages.add(violation)
            run.forbidden.add(id(t))
            out.append(t)
    return out


def _managed_namespace(run: Pass, dest_ns: str) -> tuple[Obj, Obj | None] | None:
    """CreateNamespace=true: a PreSync Namespace task when it is missing, its
    managedNamespaceMetadata differs, or this operation already started it."""
    if not run.app_options.create_namespace or not dest_ns or run.dest is None:
        return None
    policy = (run.app.get("spec") or {}).get("syncPolicy") or {}
    meta = policy.get("managedNamespaceMetadata") or {}
    md: Obj = {"name": dest_ns}
    for k in ("labels", "annotations"):
        if meta.get(k):
            md[k] = dict(meta[k])
    ns_obj: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": md}
    try:
        live: Obj | None = run.dest.get("v1", "Namespace", "", dest_ns)
    except NotFound:
        live = None
    recorded = any(
        r.get("kind") == "Namespace" and r.get("name") == dest_ns and r.get("syncPhase") == "PreSync"
        for r in (run.state.get("syncResult") or {}).get("resources") or []
    )
    if live is not None and not recorded:
        lmd = live.get("metadata") or {}
        same = all(
            all((lmd.get(k) or {}).get(kk) == vv for kk, vv in (md.get(k) or {}).items())
            for k in ("labels", "annotations")
        )
        if same:
            return None
    return ns_obj, live


def sources_of(app: Obj) -> dict[str, Any]:
    spec = app.get("spec") or {}
    if spec.get("sources"):
        return {"sources": copy.deepcopy(spec["sources"])}
    if spec.get("source"):
        return {"source": copy.deepcopy(spec["source"])}
    return {}
