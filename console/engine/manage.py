"""Creating and changing Applications, AppProjects and ApplicationSets (`app create|set|unset`, `apply -f`).

Every object is validated by the pydantic model (console.engine.model) and, for an Application,
against its project and the workspace's clusters, before anything is written: an invalid object
is refused with the field named, and nothing of it reaches the control cluster. Writes go through
the cluster API with the live resourceVersion (a concurrent writer gets a Conflict, never a lost
update). Outcomes are kubectl's words: created, configured, unchanged.

Each public write function here is the single call a command makes for its mutation, so the
governance gate (authorise -> audit intent -> run -> audit result) wraps exactly one call.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from console.cluster.api import NotFound, Obj
from console.engine import model
from console.engine.appstore import AppStore
from console.engine.governance import projects
from console.engine.workspace import Workspace

CREATED, CONFIGURED, UNCHANGED = "created", "configured", "unchanged"
# metadata a user owns (kubectl compares the same on apply); server fields are never compared
_USER_METADATA = ("labels", "annotations", "finalizers")
_KIND_ORDER = {model.KIND_APPPROJECT: 0, model.KIND_APPLICATION: 1, model.KIND_APPLICATIONSET: 2}
T = TypeVar("T")


class ObjectRefused(ValueError):
    """One object cannot be written; the message names the object and the field. `code` is the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Outcome:
    kind: str
    name: str
    result: str  # created | configured | unchanged

    def line(self) -> str:
        return f"{self.kind.lower()}.{model.GROUP}/{self.name} {self.result}"


def attempt(
    ws: Workspace,
    action: str,
    resource: str,
    obj: str,
    run: Callable[[], T],
    *,
    identity: Any = None,
    reason: str = "",
    on_warning: Callable[[str], None] | None = None,
) -> T:
    """One actor's attempt at one mutation, through the governance gate (console.engine.gate):
    RBAC `action` on `resource` `obj` (create/update/delete on applications, projects,
    applicationsets), an audit record before and after, refusals audited too. `obj` for an
    application is `<project>/<app>`, or its name (its live project is looked up). Raises
    ObjectRefused (exit 3 denied, 2 invalid) instead of running `run`; returns what `run` returns.
    `identity`: the acting Identity (default: resolved from the workspace and $TRUEUP_USER)."""
    from console.engine.gate.attempt import Gate, Request
    from console.engine.gate.attempt import Outcome as GateOutcome
    from console.engine.gate.identity import resolve

    gate = Gate(ws, identity if identity is not None else resolve(ws))
    app, project, rbac_obj = "", "", obj
    if resource in ("applications", "applicationsets") and obj:
        if "/" in obj:
            project, name = obj.split("/", 1)[0], obj.rsplit("/", 1)[-1]
        else:
            name, project = obj, model.DEFAULT_PROJECT
            try:
                live = AppStore(ws.control()).get_app(obj) if resource == "applications" else None
                if live is not None:
                    project = str((live.get("spec") or {}).get("project") or model.DEFAULT_PROJECT)
            except NotFound:
                pass
        rbac_obj = f"{project}/{name}"
        if resource == "applications":
            app = name
    req = Request(
        action,
        app,
        {"resource": resource, "object": rbac_obj},
        reason=reason,
        resource=resource,
        obj=rbac_obj,
        project=project,
        permission=action,
    )
    kept: dict[str, Any] = {}

    def run_ctx(_ctx: Any) -> Any:
        try:
            kept["value"] = run()
        except ObjectRefused as exc:
            kept["refused"] = exc
            return GateOutcome("invalid", str(exc), code=exc.code)
        line = getattr(kept["value"], "line", None)
        return GateOutcome("succeeded", line() if callable(line) else f"{action} {rbac_obj}")

    result = gate.attempt(req, run_ctx)
    for warning in result.warnings:
        if on_warning is not None:
            on_warning(warning)
    if "refused" in kept:
        raise kept["refused"]
    if "value" not in kept:
        raise ObjectRefused(result.message, result.code)
    value: T = kept["value"]
    return value


def _normalized(obj: Obj) -> Obj:
    """The part of an object `apply` compares and writes: spec + user metadata (status/operation never)."""
    md = obj.get("metadata") or {}
    out: Obj = {
        "apiVersion": model.API_VERSION,
        "kind": obj.get("kind"),
        "metadata": {"name": md.get("name"), "namespace": model.CONTROL_NAMESPACE},
        "spec": copy.deepcopy(obj.get("spec") or {}),
    }
    for key in _USER_METADATA:
        if md.get(key):
            out["metadata"][key] = copy.deepcopy(md[key])
    return out


def _namespace_of(obj: Obj) -> None:
    ns = (obj.get("metadata") or {}).get("namespace")
    if ns not in (None, "", model.CONTROL_NAMESPACE):
        raise ObjectRefused(
            f"{obj.get('kind')} {(obj.get('metadata') or {}).get('name')}: metadata.namespace: must be "
            f"{model.CONTROL_NAMESPACE} (or {model.ARGO_NAMESPACE}, mapped to it), got {ns!r}"
        )


def validate(
    ws: Workspace, store: AppStore, obj: Obj, *, known_projects: Mapping[str, Obj] | None = None
) -> Obj:
    """The object ready to write, or ObjectRefused naming the field (nothing written)."""
    if not isinstance(obj, dict):
        raise ObjectRefused(f"expected an object, got {type(obj).__name__}")
    mapped = model.map_argo_api_version(obj)
    kind = mapped.get("kind")
    if mapped.get("apiVersion") not in (model.API_VERSION,) or kind not in model.OUR_KINDS:
        raise ObjectRefused(
            f"{kind or 'object'} {(mapped.get('metadata') or {}).get('name', '')}: apiVersion/kind: "
            f"{mapped.get('apiVersion')!r} {kind!r} is not an Application, AppProject or ApplicationSet "
            f"of {model.API_VERSION} or {model.ARGO_API_VERSION}"
        )
    try:
        parsed = model.parse_object(mapped)
    except model.SpecError as exc:
        raise ObjectRefused(str(exc)) from None
    _namespace_of(mapped)
    if isinstance(parsed, model.Application):
        projects_by_name = dict(known_projects or {})
        name = parsed.spec.project or model.DEFAULT_PROJECT
        if name not in projects_by_name:
            try:
                projects_by_name[name] = store.get_project(name)
            except NotFound:
                pass
        proj_obj = projects_by_name.get(name)
        project = model.parse_project(proj_obj) if proj_obj is not None else None
        problems = projects.check_application(project, parsed, ws.server_by_name())
        dest = parsed.spec.destination
        if not problems and dest.server and ws.cluster_for_destination(dest.server, "") is None:
            problems.append(
                f"cluster {dest.server} has not been configured (see `trueup cluster list`; add it with `trueup cluster add`)"
            )
        if problems:
            raise ObjectRefused(
                f"Application {parsed.name}: application spec is invalid: InvalidSpecError: {problems[0]}"
            )
    return _normalized(mapped)


def write(store: AppStore, desired: Obj) -> Outcome:
    """Create, update or leave one validated object (kubectl apply's three outcomes)."""
    kind, name = str(desired["kind"]), str(desired["metadata"]["name"])
    cluster = store.cluster
    try:
        live = cluster.get(model.API_VERSION, kind, model.CONTROL_NAMESPACE, name)
    except NotFound:
        cluster.create(desired, field_manager=store.field_manager)
        return Outcome(kind, name, CREATED)
    if _normalized(live) == desired:
        return Outcome(kind, name, UNCHANGED)
    new = copy.deepcopy(live)
    new["spec"] = desired["spec"]
    md = new.setdefault("metadata", {})
    for key in _USER_METADATA:
        if key in desired["metadata"]:
            md[key] = desired["metadata"][key]
        else:
            md.pop(key, None)
    cluster.update(new, field_manager=store.field_manager)
    return Outcome(kind, name, CONFIGURED)


def sort_for_apply(objs: list[Any]) -> list[tuple[int, Any]]:
    """(original index, object), projects first so an Application in the same batch finds its project."""
    indexed = list(enumerate(objs))
    return sorted(
        indexed,
        key=lambda p: (
            _KIND_ORDER.get((p[1] or {}).get("kind", "") if isinstance(p[1], dict) else "", 3),
            p[0],
        ),
    )


# -- app create / set / unset -------------------------------------------------------------------


@dataclass
class AppFields:
    """The fields `app create` / `app set` take (None = not given)."""

    repo: str | None = None
    path: str | None = None
    revision: str | None = None
    chart: str | None = None
    dest_server: str | None = None
    dest_name: str | None = None
    dest_namespace: str | None = None
    project: str | None = None
    sync_policy: str | None = None  # automated | none
    auto_prune: bool | None = None
    self_heal: bool | None = None
    sync_options: list[str] | None = None
    values: list[str] | None = None
    release_name: str | None = None
    directory_recurse: bool | None = None


def new_application(name: str, f: AppFields) -> Obj:
    app: Obj = {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND_APPLICATION,
        "metadata": {"name": name, "namespace": model.CONTROL_NAMESPACE},
        "spec": {"project": f.project or model.DEFAULT_PROJECT, "source": {}, "destination": {}},
    }
    return apply_fields(app, f)


def apply_fields(app: Obj, f: AppFields) -> Obj:
    """`app` with the given fields set (argocd app create/set flags)."""
    out = copy.deepcopy(app)
    spec = out.setdefault("spec", {})
    if spec.get("sources") and any(v is not None for v in (f.repo, f.path, f.revision, f.chart, f.values)):
        raise ObjectRefused(
            f"Application {out['metadata']['name']}: spec.sources: a multi-source application is edited with "
            "`trueup apply -f`, not source flags"
        )
    src = spec.setdefault("source", {})
    for value, key in (
        (f.repo, "repoURL"),
        (f.path, "path"),
        (f.revision, "targetRevision"),
        (f.chart, "chart"),
    ):
        if value is not None:
            src[key] = value
    if f.values is not None:
        src.setdefault("helm", {})["valueFiles"] = list(f.values)
    if f.release_name is not None:
        src.setdefault("helm", {})["releaseName"] = f.release_name
    if f.directory_recurse is not None:
        src.setdefault("directory", {})["recurse"] = f.directory_recurse
    dest = spec.setdefault("destination", {})
    if f.dest_server is not None:
        dest["server"] = f.dest_server
        dest.pop("name", None)
    if f.dest_name is not None:
        dest["name"] = f.dest_name
        dest.pop("server", None)
    if f.dest_namespace is not None:
        dest["namespace"] = f.dest_namespace
    if f.project is not None:
        spec["project"] = f.project
    policy = spec.get("syncPolicy") or {}
    if f.sync_policy is not None:
        if f.sync_policy == "none":
            policy.pop("automated", None)
        else:
            policy.setdefault("automated", {})
    if f.auto_prune is not None or f.self_heal is not None:
        if "automated" not in policy:
            raise ObjectRefused(
                f"Application {out['metadata']['name']}: spec.syncPolicy.automated: --auto-prune and --self-heal "
                "need --sync-policy automated"
            )
        if f.auto_prune is not None:
            policy["automated"]["prune"] = f.auto_prune
        if f.self_heal is not None:
            policy["automated"]["selfHeal"] = f.self_heal
    if f.sync_options:
        options = list(policy.get("syncOptions") or [])
        for opt in f.sync_options:
            key = opt.split("=", 1)[0]
            options = [o for o in options if o.split("=", 1)[0] != key]
            options.append(opt)
        policy["syncOptions"] = options
    if policy:
        spec["syncPolicy"] = policy
    else:
        spec.pop("syncPolicy", None)
    return out


@dataclass
class UnsetFields:
    sync_options: list[str] | None = None
    auto_prune: bool = False
    self_heal: bool = False
    values: list[str] | None = None
    revision: bool = False


def unset_fields(app: Obj, u: UnsetFields) -> Obj:
    out = copy.deepcopy(app)
    spec = out.setdefault("spec", {})
    policy = spec.get("syncPolicy") or {}
    automated = policy.get("automated")
    if isinstance(automated, dict):
        if u.auto_prune:
            automated.pop("prune", None)
        if u.self_heal:
            automated.pop("selfHeal", None)
    if u.sync_options:
        keys = {o.split("=", 1)[0] for o in u.sync_options}
        left = [
            o
            for o in policy.get("syncOptions") or []
            if o not in u.sync_options and o.split("=", 1)[0] not in keys
        ]
        if left:
            policy["syncOptions"] = left
        else:
            policy.pop("syncOptions", None)
    if policy:
        spec["syncPolicy"] = policy
    else:
        spec.pop("syncPolicy", None)
    src = spec.get("source") or {}
    if u.values and isinstance(src.get("helm"), dict):
        files = [v for v in src["helm"].get("valueFiles") or [] if v not in u.values]
        if files:
            src["helm"]["valueFiles"] = files
        else:
            src["helm"].pop("valueFiles", None)
            if not src["helm"]:
                src.pop("helm")
    if u.revision:
        src.pop("targetRevision", None)
    return out


def create_application(ws: Workspace, name: str, f: AppFields, *, upsert: bool = False) -> Outcome:
    """`app create`: a new Application (validated first); an existing one only with upsert."""
    store = AppStore(ws.control())
    desired = validate(ws, store, new_application(name, f))
    try:
        live = store.get_app(name)
    except NotFound:
        return write(store, desired)
    if _normalized(live) == desired:
        return Outcome(model.KIND_APPLICATION, name, UNCHANGED)
    if not upsert:
        raise ObjectRefused(
            f"application {name!r}: existing application spec is different; use --upsert to force the update"
        )
    return write(store, desired)


def edit_application(ws: Workspace, name: str, change: Callable[[Obj], Obj]) -> Outcome:
    """`app set` / `app unset`: change the live spec, validate, write with its resourceVersion."""
    store = AppStore(ws.control())
    try:
        live = store.get_app(name)
    except NotFound:
        raise ObjectRefused(f"application {name!r} not found (see `trueup app list`)") from None
    desired = validate(ws, store, change(_normalized(live)))
    return write(store, desired)
