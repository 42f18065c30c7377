"""Desired vs live for one Application: per-resource sync status, diff, health; app conditions.

Data path (DESIGN.md §3): spec -> git (SHA) -> render -> project checks -> live -> normalise+diff ->
health -> status. Everything here is read-only; `refresh.py` writes the result to the Application.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.cluster.api import ClusterError, Obj, ResourceKey, split_api_version
from console.engine import annotations as anno
from console.engine import model, tracking
from console.engine.diff.errors import IgnoreRuleError
from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.resource import ResourceDiff, diff_resource
from console.engine.governance import projects
from console.engine.health import transitions as health_transitions
from console.engine.health.aggregate import ResourceHealthInput, aggregate_app_health
from console.engine.health.checker import HealthChecker
from console.engine.health.status import HealthStatus
from console.engine.live import LiveState
from console.engine.repos import git_cache, helm_repos
from console.engine.sources import GitCache, ManifestCache, RenderError, RepoError, render
from console.engine.sources.helmrepo import HelmRepos
from console.engine.sources.helmrepo import pull as helm_pull
from console.engine.timestamps import cluster_time as cluster_time
from console.engine.workspace import Workspace, WorkspaceError

SYNCED, OUT_OF_SYNC, UNKNOWN = "Synced", "OutOfSync", "Unknown"
APP_KINDS = {("trueup.dev", "Application"), ("argoproj.io", "Application")}


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cycle_clock(cluster: object) -> Callable[[], datetime]:
    """The cluster's time read once, then advanced by the monotonic clock: one refresh cycle of
    10,000 apps must not read a sim clock's file for every status it writes."""
    base, t0 = cluster_time(cluster), time.monotonic()
    if getattr(getattr(cluster, "clock", None), "frozen", False):
        return lambda: base  # a frozen sim world: time does not move during the cycle either
    return lambda: base + timedelta(seconds=time.monotonic() - t0)


def stale(previous: Obj, status: Obj, max_age: float = 60.0) -> bool:
    """reconciledAt alone is rewritten at most once a minute (both times are on one clock)."""
    before, now = parse_time(previous.get("reconciledAt", "")), parse_time(status.get("reconciledAt", ""))
    if before is None or now is None:
        return True
    return not 0 <= (now - before).total_seconds() <= max_age


@dataclass
class ResourceState:
    key: ResourceKey
    version: str
    target: Obj | None
    live: Obj | None
    status: str
    health: HealthStatus | None
    diff: ResourceDiff | None = None
    hook: bool = False
    requires_pruning: bool = False
    sync_wave: int = 0
    message: str = ""
    ignore_extraneous: bool = False

    @property
    def listed(self) -> bool:
        """Shown in status and trees: hooks only once a sync has created them (as Argo lists them)."""
        return bool(self.key.name) and not (self.hook and self.live is None)

    def to_status(self) -> Obj:
        out: Obj = {
            "group": self.key.group,
            "version": self.version,
            "kind": self.key.kind,
            "namespace": self.key.namespace,
            "name": self.key.name,
            "status": self.status,
        }
        if self.health is not None:
            out["health"] = {"status": self.health.status} if self.health.status else {}
            if self.health.message:
                out["health"]["message"] = self.health.message
        if self.hook:
            out["hook"] = True
        if self.requires_pruning:
            out["requiresPruning"] = True
        if self.sync_wave:
            out["syncWave"] = self.sync_wave
        if self.message:
            out["message"] = self.message
        return {k: v for k, v in out.items() if v != "" or k in ("group", "namespace")}


@dataclass
class Comparison:
    app: Obj
    revision: str = ""
    revisions: list[str] = field(default_factory=list)
    sync_status: str = UNKNOWN
    health: HealthStatus = field(default_factory=lambda: HealthStatus("Unknown"))
    resources: list[ResourceState] = field(default_factory=list)
    conditions: list[Obj] = field(default_factory=list)
    source_type: str = ""
    source_types: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    cluster: str = ""
    kept_previous: bool = False  # transient repo error inside the grace period
    # the cycle's caches (live snapshot, health checker with the workspace's Lua checks), so views of
    # this comparison (e.g. the resource tree) reuse them instead of listing the cluster again
    context: CompareContext | None = field(default=None, repr=False, compare=False)
    source_error_since: str = ""
    # the project (parsed) and resolved destination this comparison checked resources against, and
    # the project-policy messages it found: the sync executor re-checks every task it plans with
    # the same function (governance.projects.resource_violation) and fails with Argo's message
    project: Any = field(default=None, repr=False, compare=False)
    destination: projects.DestinationIdentity | None = None
    policy_violations: list[str] = field(default_factory=list)
    # live resources of the destination namespace no app tracks (project orphanedResources set)
    orphans: list[Obj] = field(default_factory=list, repr=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.app["metadata"]["name"])

    def add_condition(self, ctype: str, message: str) -> None:
        for c in self.conditions:
            if c["type"] == ctype and c["message"] == message:
                return
        when = self.context.now_rfc3339() if self.context is not None else now_rfc3339()
        self.conditions.append({"type": ctype, "message": message, "lastTransitionTime": when})

    def has_error(self) -> bool:
        return any(c["type"].endswith("Error") for c in self.conditions)


@dataclass
class CompareContext:
    """Caches shared by every app of one refresh cycle."""

    ws: Workspace
    git: GitCache
    manifests: ManifestCache | None
    health: HealthChecker
    system_rules: list[IgnoreRule]
    projects: dict[str, Obj]
    live: dict[str, LiveState] = field(default_factory=dict)
    live_errors: dict[str, str] = field(default_factory=dict)
    _parsed_projects: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    helm: HelmRepos | None = None  # Helm repositories (chart sources, dependency builds)
    _app_names: set[str] | None = None

    def app_names(self) -> set[str]:
        """Names of every Application (once per cycle): a tracked object of a deleted app is an orphan."""
        if self._app_names is None:
            from console.engine.appstore import AppStore

            self._app_names = {a["metadata"]["name"] for a in AppStore(self.ws.control()).list_apps()}
        return self._app_names

    def now_rfc3339(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @classmethod
    def create(cls, ws: Workspace, projects_by_name: dict[str, Obj]) -> CompareContext:
        cache = ws.cache_dir
        lua: dict[str, str] = {}
        open_libs: list[str] = []
        rules: list[IgnoreRule] = []
        for gk, cust in ws.settings.resource_customizations.items():
            if not isinstance(cust, dict):
                continue
            group, _, kind = gk.rpartition("/") if "/" in gk else ("", "", gk)
            if gk == "all":
                group, kind = "*", "*"
            script = cust.get("health.lua")
            if isinstance(script, str):
                lua[f"{group}/{kind}"] = script
            if cust.get("health.lua.useOpenLibs") in (True, "true"):
                open_libs.append(f"{group}/{kind}")
            ign = cust.get("ignoreDifferences")
            if isinstance(ign, str):
                from console.engine import yamlsafe

                ign = yamlsafe.load_one(ign, f"settings.resourceCustomizations[{gk}].ignoreDifferences")
            if isinstance(ign, dict):
                rules.append(IgnoreRule.from_spec({"group": group, "kind": kind, **ign}))
        return cls(
            ws=ws,
            git=git_cache(ws),
            manifests=ManifestCache(cache / "manifests"),
            health=HealthChecker(lua, open_libs=open_libs, dir_checks=_dir_checks(ws)),
            system_rules=rules,
            projects=projects_by_name,
            helm=helm_repos(ws),
        )

    def project(self, name: str, obj: Obj) -> Any:
        """Parsed once per cycle: 1,000 apps usually share a handful of projects."""
        cached = self._parsed_projects.get(name)
        if cached is None:
            cached = self._parsed_projects[name] = model.parse_project(obj)
        return cached

    def live_state(self, cluster_name: str) -> LiveState | None:
        if cluster_name in self.live:
            return self.live[cluster_name]
        if cluster_name in self.live_errors:
            return None
        try:
            cluster = self.ws.open_cluster(cluster_name)
            state = LiveState.load(cluster, self.ws.settings.tracking_annotation)
        except ClusterError as exc:
            self.live_errors[cluster_name] = f'cluster "{cluster_name}" is unreachable: {exc.message}'
            return None
        except WorkspaceError as exc:  # e.g. a sim cluster whose state file is missing
            self.live_errors[cluster_name] = f'cluster "{cluster_name}" is unavailable: {exc}'
            return None
        self.live[cluster_name] = state
        return state


def _dir_checks(ws: Workspace) -> dict[str, str]:
    """Health scripts of settings.resourceCustomizationsDir (relative to the workspace)."""
    from console.engine import lua_customizations

    if not ws.settings.resource_customizations_dir:
        return {}
    path = ws.root / Path(ws.settings.resource_customizations_dir).expanduser()
    try:
        return lua_customizations.load_dir(path)
    except (lua_customizations.CustomizationsError, OSError) as exc:
        raise WorkspaceError(f"settings.resourceCustomizationsDir: {exc}") from None


def parse_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def compare_app(ctx: CompareContext, app: Obj, *, revision_override: str | None = None) -> Comparison:
    """Compare one Application. Never raises: problems become conditions.

    Expected problems (bad spec, unreachable repo or cluster, render errors) are conditions with
    their own messages. Anything else raised while comparing this one app (a manifest that breaks a
    parser deep inside, a bug) becomes its ComparisonError too, so a refresh, the controller and
    the sync executor go on with every other app (DESIGN.md §5: one bad app never stops the others).
    """
    try:
        return _compare_app(ctx, app, revision_override)
    except Exception as exc:  # noqa: BLE001 - isolation boundary of one app's comparison
        cmp = Comparison(app=app, context=ctx)
        cmp.add_condition("ComparisonError", f"failed to compare application: {unexpected_error(exc)}")
        cmp.sync_status = UNKNOWN
        cmp.health = HealthStatus("Unknown")
        return cmp


def unexpected_error(exc: BaseException) -> str:
    """One line for an exception nobody anticipated: its type and first message line."""
    if isinstance(exc, RecursionError):
        return "input nested too deeply to process (RecursionError)"
    if isinstance(exc, MemoryError):
        return "input too large to process (MemoryError)"
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:299] + "…"
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _compare_app(ctx: CompareContext, app: Obj, revision_override: str | None) -> Comparison:
    cmp = Comparison(app=app, context=ctx)
    spec = app.get("spec") or {}
    # 1. spec validation
    try:
        # validation is about the spec; status (dozens of resources) is the engine's own output
        parsed = model.parse_application({k: v for k, v in app.items() if k not in ("status", "operation")})
    except model.SpecError as exc:
        cmp.add_condition("InvalidSpecError", str(exc))
        cmp.health = HealthStatus("Unknown")
        return cmp
    dest = spec.get("destination") or {}
    dest_ns = dest.get("namespace") or ""
    # 2. project
    proj_name = spec.get("project") or "default"
    proj_obj = ctx.projects.get(proj_name)
    if proj_obj is None:
        cmp.add_condition(
            "InvalidSpecError", f"Application referencing project {proj_name} which does not exist"
        )
        return cmp
    project = ctx.project(proj_name, proj_obj)
    for msg in projects.check_application(project, parsed, ctx.ws.server_by_name()):
        cmp.add_condition("InvalidSpecError", msg)
    # 3. destination cluster
    cfg = ctx.ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
    if cfg is None:
        target = dest.get("name") or dest.get("server")
        cmp.add_condition(
            "InvalidSpecError",
            f"unable to find destination server: there are no clusters with this name: {target}"
            if dest.get("name")
            else f"cluster {target} has not been configured",
        )
    if cmp.has_error():
        return cmp
    assert cfg is not None
    cmp.cluster = cfg.name
    cmp.project = project
    cmp.destination = projects.destination_identity(
        dest.get("server", "") or cfg.server, dest.get("name", "") or cfg.name, ctx.ws.server_by_name()
    )
    live = ctx.live_state(cfg.name)
    # 4. desired manifests from every source
    targets, source_failed = _desired(ctx, cmp, spec, dest_ns, revision_override)
    if live is None:
        cmp.add_condition(
            "ComparisonError", ctx.live_errors.get(cfg.name, f"cluster {cfg.name} is unreachable")
        )
        cmp.sync_status = UNKNOWN
        cmp.health = HealthStatus("Unknown")
        return cmp
    if source_failed and cmp.kept_previous:
        return cmp
    # 5. pair targets with live objects
    _compare_resources(ctx, cmp, app, project, live, targets, dest_ns, source_failed)
    # 6. orphaned resources (project orphanedResources)
    if project.spec.orphaned_resources is not None:
        from console.engine import orphans

        cmp.orphans = orphans.orphaned_resources(
            live, dest_ns, project, ctx.app_names() | {cmp.name}, ctx.ws.settings.tracking_annotation
        )
        if cmp.orphans and orphans.warns(project):
            cmp.add_condition(orphans.CONDITION, orphans.MESSAGE % len(cmp.orphans))
    return cmp


def _desired(
    ctx: CompareContext, cmp: Comparison, spec: Obj, dest_ns: str, revision_override: str | None
) -> tuple[list[Obj], bool]:
    sources = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    objs: list[Obj] = []
    seen: dict[ResourceKey, int] = {}
    repeats: dict[ResourceKey, int] = {}
    failed = False
    for i, src in enumerate(sources):
        if src.get("ref") and not src.get("path") and not src.get("chart"):
            continue  # a values-only `ref` source produces no manifests
        rev = revision_override if (revision_override and i == 0) else (src.get("targetRevision") or "HEAD")
        try:
            if src.get("chart"):  # Argo: a chart source's repoURL is a Helm repository
                if ctx.helm is None:
                    raise RepoError("Helm repositories are not configured", url=src["repoURL"])
                sha, tree = helm_pull(ctx.helm, src["repoURL"], src["chart"], src.get("targetRevision") or "")
                cmp.revisions.append(sha)
            else:
                sha = ctx.git.resolve(src["repoURL"], rev)
                cmp.revisions.append(sha)
                tree = ctx.git.tree(src["repoURL"], sha)
            result = render(
                tree,
                src,
                app_name=cmp.name,
                namespace=dest_ns,
                cache=ctx.manifests,
                revision=sha,
                helm_repos=ctx.helm,
            )
        except RepoError as exc:
            failed = True
            _source_error(ctx, cmp, f"Failed to load target state: {exc}", transient=exc.transient)
            continue
        except RenderError as exc:
            failed = True
            _source_error(
                ctx, cmp, f"Failed to load target state: failed to generate manifest: {exc}", transient=False
            )
            continue
        cmp.source_types.append(result.source_type)
        for obj in result.objects:
            obj = model.map_argo_api_version(obj)
            key = ResourceKey.of(obj)
            if key in seen:
                repeats[key] = repeats.get(key, 1) + 1
                objs[seen[key]] = obj  # last wins, as in Argo
                continue
            seen[key] = len(objs)
            objs.append(obj)
    for key, count in repeats.items():
        cmp.add_condition(
            "RepeatedResourceWarning",
            f"Resource {key.group}/{key.kind}/{key.namespace}/{key.name} appeared {count} times among application resources.",
        )
    if cmp.revisions:
        cmp.revision = cmp.revisions[0]
    if cmp.source_types:
        cmp.source_type = cmp.source_types[0]
    return objs, failed


def _source_error(ctx: CompareContext, cmp: Comparison, message: str, *, transient: bool) -> None:
    """Argo's repo error grace period: keep the last good status while a transient error is young."""
    status = cmp.app.get("status") or {}
    since = status.get("sourceErrorSince") or ctx.now_rfc3339()
    cmp.source_error_since = since
    started = parse_time(since)
    young = (
        started is not None
        and (ctx.clock() - started).total_seconds() < ctx.ws.settings.repo_error_grace_period
    )
    if transient and young and (status.get("sync") or {}).get("revision"):
        cmp.kept_previous = True
        return
    cmp.add_condition("ComparisonError", message)


def _namespaced(live: LiveState, targets: list[Obj], obj: Obj) -> bool | None:
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    known = live.is_namespaced(api_version, kind)
    if known is not None:
        return known
    group, _ = split_api_version(api_version)
    for t in targets:  # a CRD in the same app defines the scope of its CRs
        if t.get("kind") == "CustomResourceDefinition":
            s = t.get("spec") or {}
            if s.get("group") == group and (s.get("names") or {}).get("kind") == kind:
                return s.get("scope", "Namespaced") == "Namespaced"
    return None


def _rules_for(ctx: CompareContext, cmp: Comparison, app: Obj) -> list[IgnoreRule]:
    rules = list(ctx.system_rules)
    for i, item in enumerate((app.get("spec") or {}).get("ignoreDifferences") or []):
        try:
            rules.append(IgnoreRule.from_spec(item))
        except IgnoreRuleError as exc:
            cmp.add_condition("InvalidSpecError", f"spec.ignoreDifferences[{i}]: {exc}")
    return rules


def _compare_resources(
    ctx: CompareContext,
    cmp: Comparison,
    app: Obj,
    project: Any,
    live: LiveState,
    targets: list[Obj],
    dest_ns: str,
    source_failed: bool,
) -> None:
    name = cmp.name
    annotation = ctx.ws.settings.tracking_annotation
    rules = _rules_for(ctx, cmp, app)
    status_mode = ctx.ws.settings.ignore_resource_status_field
    pairs: dict[ResourceKey, tuple[Obj | None, Obj | None, str, str]] = {}
    images: set[str] = set()

    for obj in targets:
        if anno.is_ignored_helm_hook(obj):
            continue
        namespaced = _namespaced(live, targets, obj)
        md = obj.setdefault("metadata", {})
        message = ""
        if namespaced is None:
            message = f'the server could not find the requested resource: kind "{obj.get("kind")}" in version "{obj.get("apiVersion")}" is not served by cluster {cmp.cluster}'
            namespaced = bool(md.get("namespace") or dest_ns)
        if namespaced and not md.get("namespace"):
            if not dest_ns:
                cmp.add_condition(
                    "InvalidSpecError", f"Namespace for {md.get('name')} {obj.get('kind')} is missing."
                )
                continue
            md["namespace"] = dest_ns
        if not namespaced:
            md.pop("namespace", None)
        obj = tracking.set_tracking(
            obj, name, annotation=annotation, default_namespace=dest_ns, namespaced=namespaced
        )
        key = ResourceKey.of(obj)
        pairs[key] = (obj, live.get(key), _version(obj), message)
        images.update(_images(obj))

    if not source_failed:
        for key in live.by_app.get(name, []):
            if key in pairs:
                continue
            obj = live.objects[key]
            if not tracking.is_self_referencing(obj, annotation):
                continue
            if (obj.get("metadata") or {}).get("ownerReferences"):
                continue  # owned objects (ReplicaSets...) that inherited a copy of the annotation
            pairs[key] = (None, obj, _version(obj), "")

    health_inputs: list[ResourceHealthInput] = []
    out_of_sync = False
    for key in sorted(pairs, key=lambda k: (k.group, k.kind, k.namespace, k.name)):
        target, live_obj, version, message = pairs[key]
        ref = target if target is not None else live_obj
        assert ref is not None
        hook = anno.is_hook(ref)
        if live_obj is not None and target is not None:
            owner = tracking.app_of(live_obj, annotation)
            if owner and owner != name and tracking.is_self_referencing(live_obj, annotation):
                cmp.add_condition(
                    "SharedResourceWarning",
                    f"{key.kind}/{key.name} is part of applications {name} and {owner}",
                )
        state = ResourceState(
            key=key,
            version=version,
            target=target,
            live=live_obj,
            status=SYNCED,
            health=None,
            hook=hook,
            sync_wave=anno.sync_wave(ref),
            message=message,
        )
        assert cmp.destination is not None
        violation = projects.resource_violation(
            project, key.group, key.kind, key.name, key.namespace, cmp.destination
        )
        if violation is not None:
            state.status = UNKNOWN
            state.message = violation
            cmp.resources.append(state)
            if violation not in cmp.policy_violations:
                cmp.policy_violations.append(violation)
            cmp.add_condition("InvalidSpecError", violation)
            continue
        if live_obj is not None:
            state.health = ctx.health.resource_health(live_obj, is_hook=hook)
        elif not hook:
            state.health = HealthStatus("Missing")
        if hook:
            cmp.resources.append(state)
            continue
        ignore_status = status_mode == "all" or (
            status_mode == "crd" and key.kind == "CustomResourceDefinition"
        )
        state.diff = diff_resource(
            target,
            live_obj,
            rules=[r for r in rules if r.matches(key.group, key.kind, key.namespace, key.name)],
            ignore_status=ignore_status,
            sensitive_annotations=ctx.ws.settings.sensitive_annotations,
        )
        if state.diff.modified:
            state.status = OUT_OF_SYNC
            state.requires_pruning = target is None
            state.ignore_extraneous = target is None and "IgnoreExtraneous" in anno.compare_options(
                live_obj or {}
            )
            if not state.ignore_extraneous:
                out_of_sync = True
        cmp.resources.append(state)
        health_inputs.append(
            ResourceHealthInput(
                group=key.group,
                kind=key.kind,
                namespace=key.namespace,
                name=key.name,
                health=state.health,
                live_exists=live_obj is not None,
                hook=hook,
                ignore_healthcheck=anno.ignores_healthcheck(live_obj),
                self_managed_app=(key.group, key.kind) in APP_KINDS and key.name == name,
            )
        )
    cmp.images = sorted(images)
    if source_failed or any(c["type"] == "ComparisonError" for c in cmp.conditions):
        cmp.sync_status = UNKNOWN
    else:
        cmp.sync_status = OUT_OF_SYNC if out_of_sync else SYNCED
    cmp.health = aggregate_app_health(health_inputs)


def _version(obj: Obj) -> str:
    return split_api_version(obj.get("apiVersion", ""))[1]


def _images(obj: Obj) -> list[str]:
    spec = obj.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    if obj.get("kind") == "CronJob":
        pod = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    if obj.get("kind") == "Pod":
        pod = spec
    return [
        c["image"] for key in ("initContainers", "containers") for c in pod.get(key) or [] if c.get("image")
    ]


def status_of(cmp: Comparison, previous: Obj | None = None) -> Obj:
    """The Application `status` for this comparison (Argo's schema; previous history etc. kept)."""
    prev = dict(previous or {})
    now = cmp.context.now_rfc3339() if cmp.context is not None else now_rfc3339()
    if cmp.kept_previous:
        prev["sourceErrorSince"] = cmp.source_error_since
        return prev
    spec = cmp.app.get("spec") or {}
    status = {k: v for k, v in prev.items() if k in ("history", "operationState", "summary")}
    sync: Obj = {"status": cmp.sync_status, "comparedTo": {"destination": spec.get("destination") or {}}}
    if spec.get("sources"):
        sync["comparedTo"]["sources"] = spec["sources"]
        if cmp.revisions:
            sync["revisions"] = cmp.revisions
    else:
        sync["comparedTo"]["source"] = spec.get("source") or {}
        if cmp.revision:
            sync["revision"] = cmp.revision
    if spec.get("ignoreDifferences"):
        sync["comparedTo"]["ignoreDifferences"] = spec["ignoreDifferences"]
    status["sync"] = sync
    health: Obj = {"status": cmp.health.status}
    if cmp.health.message:
        health["message"] = cmp.health.message
    prev_health = prev.get("health") or {}
    health["lastTransitionTime"] = (
        prev_health.get("lastTransitionTime")
        if prev_health.get("status") == cmp.health.status and prev_health.get("lastTransitionTime")
        else now
    )
    status["health"] = health
    transitions = health_transitions.record(prev, health, now)
    if transitions:
        status["healthTransitions"] = transitions
    # a generateName hook has no identity until a sync creates it; its live copies are listed instead
    status["resources"] = [r.to_status() for r in cmp.resources if r.listed]
    prev_conds = {(c.get("type"), c.get("message")): c for c in prev.get("conditions") or []}
    status["conditions"] = [prev_conds.get((c["type"], c["message"]), c) for c in cmp.conditions]
    if not status["conditions"]:
        del status["conditions"]
    status["reconciledAt"] = now
    if cmp.source_type:
        status["sourceType"] = cmp.source_type
    if len(cmp.source_types) > 1:
        status["sourceTypes"] = cmp.source_types
    summary = dict(status.get("summary") or {})
    if cmp.images:
        summary["images"] = cmp.images
    if any((r.key.group, r.key.kind) in APP_KINDS for r in cmp.resources):
        summary["isAppOfApps"] = True
    if summary:
        status["summary"] = summary
    if cmp.source_error_since and any(c["type"] == "ComparisonError" for c in cmp.conditions):
        status["sourceErrorSince"] = cmp.source_error_since
    return status


def status_fingerprint(status: Obj) -> str:
    """Status without timestamps, to skip writes that would change nothing but reconciledAt."""
    s = {k: v for k, v in status.items() if k not in ("reconciledAt",)}
    return json.dumps(s, sort_keys=True, default=str)
