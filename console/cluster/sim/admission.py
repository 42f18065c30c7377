"""Validating admission in the sim: ValidatingAdmissionPolicy(+Binding) and ResourceQuota.

Runs after defaulting and validation, as the real plugins do (VAP before ResourceQuota), on
dry-run requests too. Both raise the real apiserver's errors and messages.

ValidatingAdmissionPolicy follows k8s.io/apiserver's validating policy dispatcher: a policy's
matchConstraints and each binding's matchResources select the request (resourceRules with
operations/apiGroups/apiVersions/resources/scope, excludeResourceRules, namespaceSelector,
objectSelector); paramKind + paramRef (name or selector, namespace, parameterNotFoundAction)
give one evaluation per parameter object; matchConditions, then variables, validations (with
message, messageExpression, reason) and auditAnnotations run on CEL (cel.py, Google's CEL
runtime); failurePolicy decides what an evaluation error does; validationActions Deny rejects,
Warn is logged (the sim's API has no warning headers), Audit has no effect (no audit log).
A policy's expressions are compiled when it is written (a compile error is Invalid, worded as
the apiserver words it) and once per policy generation (uid + resourceVersion) for admission.

ResourceQuota: object counts only (`count/<resource>[.<group>]` and the legacy `pods`,
`services`, `configmaps`, `secrets`, `persistentvolumeclaims`, `replicationcontrollers`,
`resourcequotas`), checked on create against `status.used` kept by the sim's quota controller
(controllers/quota.py), which admission bumps on every admitted create. Compute and storage
quotas (cpu, memory, requests.storage, ...) are neither counted nor enforced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from console.cluster.api import (
    ClusterError,
    Forbidden,
    Invalid,
    StatusCause,
    split_api_version,
)
from console.cluster.sim import convert as conv
from console.cluster.sim.cel import CelError, Env, Program, bind, env_for, is_optional
from console.cluster.sim.discovery import KindInfo
from console.cluster.sim.fastcopy import fast_copy
from console.cluster.sim.labels import matches_label_selector
from console.cluster.sim.store import Store


class AdmissionContext(Protocol):
    """The part of the write path admission reads and writes through (the sim's AdmissionContext implements it).
    A Protocol, so the write path can call admission without admission depending on it."""

    @property
    def store(self) -> Store: ...

    def find(self, group: str, kind: str, namespace: str, name: str) -> Obj | None: ...

    def info(self, api_version: str, kind: str) -> KindInfo: ...

    def system_update(self, obj: Obj) -> Obj: ...


log = logging.getLogger(__name__)
Obj = dict[str, Any]
ADMISSION_GROUP = "admissionregistration.k8s.io"
POLICY, BINDING = "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"
LEGACY_COUNTS = {
    "pods",
    "services",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "resourcequotas",
}
ADMIN_GROUPS = ("system:masters", "system:authenticated")  # the sim's default identity
REASONS = ("Forbidden", "Invalid", "RequestEntityTooLarge")  # what 1.36 validation accepts
_REASON_CLASSES: dict[str, type[ClusterError]] = {
    "Invalid": Invalid,
    "Forbidden": Forbidden,
}
# What cel.CreateNamespaceObject copies of the namespace into `namespaceObject.metadata`.
NAMESPACE_META = (
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "finalizers",
)
MAX_MESSAGE_BYTES = 5 * 1024  # celconfig.MaxEvaluatedMessageExpressionSizeBytes
BOOL, STRING, STRING_OR_NULL = ("bool",), ("string",), ("string", "null_type")


# ------------------------------------------------------------------ compiling a policy


@dataclass
class Slot:
    """One expression of a policy: its program, or the compile error the apiserver reports."""

    source: str
    program: Program | None = None
    error: str = ""

    def eval(self, activation: Any) -> Any:
        if self.program is None:
            raise CelError(f"compilation error: {self.error}")
        return self.program.eval(activation)


@dataclass
class Validation:
    expr: Slot
    message: str
    message_expr: Slot | None
    reason: str


@dataclass
class CompiledPolicy:
    """Everything admission needs from one policy generation, compiled once."""

    causes: list[StatusCause] = field(default_factory=list)
    conditions: list[Slot] = field(default_factory=list)
    variables: list[tuple[str, Slot]] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)
    audit: list[tuple[str, Slot]] = field(default_factory=list)
    uses_namespace: bool = False
    """Whether any expression names `namespaceObject` (else the request need not look it up)."""


def _quote(source: str) -> str:
    return '"' + source.replace("\\", "\\\\").replace('"', '\\"') + '"'


def compile_policy(policy: Obj) -> CompiledPolicy:
    """Compile every expression of a policy in the order the apiserver's policy validation
    reports them: matchConditions (no variables), variables (each sees the earlier ones),
    validations with their messageExpressions, auditAnnotations."""
    spec = policy.get("spec") or {}
    params = bool(spec.get("paramKind"))
    out = CompiledPolicy()

    def slot(env: Env, path: str, source: str, want: tuple[str, ...]) -> Slot:
        if not source.strip():
            out.causes.append(
                StatusCause(path, "Required value: expression is not specified", "FieldValueRequired")
            )
            return Slot(source, error="expression is not specified")
        try:
            return Slot(source, env.compile(source, want))
        except CelError as exc:
            out.causes.append(StatusCause(path, f"Invalid value: {_quote(source)}: {exc}"))
            return Slot(source, error=str(exc))

    stateless = env_for(params=params)
    for i, c in enumerate(spec.get("matchConditions") or []):
        source = str((c or {}).get("expression") or "").strip()  # the apiserver trims these
        out.conditions.append(slot(stateless, f"spec.matchConditions[{i}].expression", source, BOOL))
    declared: list[tuple[str, Any]] = []
    raw_vars = spec.get("variables") or []
    for i, v in enumerate(raw_vars):
        name, source = str((v or {}).get("name") or ""), str((v or {}).get("expression") or "")
        env = env_for(params=params, variables=tuple(declared))
        s = slot(env, f"spec.variables[{i}].expression", source, ())
        if s.program is not None and is_optional(s.program):
            note = f"optional-typed variables are not supported by the sim (got {s.program.output})"
            out.causes.append(
                StatusCause(f"spec.variables[{i}].expression", f"Invalid value: {_quote(source)}: {note}")
            )
            s = Slot(source, error=note)
        out.variables.append((name, s))
        if s.program is not None:
            declared.append((name, s.program.static_type))
    main = env_for(params=params, variables=tuple(declared) if raw_vars else None)
    for i, v in enumerate(spec.get("validations") or []):
        v = v or {}
        expr = slot(main, f"spec.validations[{i}].expression", str(v.get("expression") or ""), BOOL)
        message_expr = None
        if str(v.get("messageExpression") or "").strip():
            message_expr = slot(
                main, f"spec.validations[{i}].messageExpression", str(v["messageExpression"]), STRING
            )
        reason = str(v.get("reason") or "Invalid")
        if reason not in REASONS:
            supported = ", ".join(f'"{r}"' for r in REASONS)
            out.causes.append(
                StatusCause(
                    f"spec.validations[{i}].reason",
                    f'Unsupported value: "{reason}": supported values: {supported}',
                    "FieldValueNotSupported",
                )
            )
        out.validations.append(Validation(expr, str(v.get("message") or ""), message_expr, reason))
    for i, a in enumerate(spec.get("auditAnnotations") or []):
        a = a or {}
        source = str(a.get("valueExpression") or "").strip()
        out.audit.append(
            (
                str(a.get("key") or ""),
                slot(main, f"spec.auditAnnotations[{i}].valueExpression", source, STRING_OR_NULL),
            )
        )
    sources = [s.source for s in out.conditions] + [s.source for _, s in (*out.variables, *out.audit)]
    for v in out.validations:
        sources += [v.expr.source, v.message_expr.source if v.message_expr else ""]
    out.uses_namespace = any("namespaceObject" in src for src in sources)
    return out


def policy_causes(policy: Obj) -> list[StatusCause]:
    """Field errors of a ValidatingAdmissionPolicy whose expressions do not compile."""
    return compile_policy(policy).causes


_compiled: dict[str, tuple[str, CompiledPolicy]] = {}


def _compiled_policy(policy: Obj) -> CompiledPolicy:
    """The policy's programs, compiled once per generation (uid + resourceVersion)."""
    md = policy.get("metadata") or {}
    uid, rv = str(md.get("uid") or ""), str(md.get("resourceVersion") or "")
    hit = _compiled.get(uid)
    if hit is not None and hit[0] == rv:
        return hit[1]
    compiled = compile_policy(policy)
    if len(_compiled) > 1024:
        _compiled.clear()
    _compiled[uid] = (rv, compiled)
    return compiled


# ------------------------------------------------------------------ matching


def _rule_matches(rule: Obj, op: str, info: KindInfo, version: str, sub: str) -> bool:
    def has(key: str, value: str) -> bool:
        vals = rule.get(key) or []
        return "*" in vals or value in vals

    resource = f"{info.resource.plural}/{sub}" if sub else info.resource.plural
    resources = rule.get("resources") or []
    res_ok = "*" in resources or resource in resources or (bool(sub) and f"*/{sub}" in resources)
    scope = rule.get("scope") or "*"
    scope_ok = scope == "*" or (scope == "Namespaced") == info.namespaced
    return (
        has("operations", op)
        and has("apiGroups", info.group)
        and has("apiVersions", version)
        and res_ok
        and scope_ok
    )


def _matches(
    core: AdmissionContext,
    crit: Obj,
    op: str,
    info: KindInfo,
    version: str,
    sub: str,
    obj: Obj | None,
    old: Obj | None,
) -> bool:
    rules = crit.get("resourceRules")
    if rules is not None and not any(_rule_matches(r or {}, op, info, version, sub) for r in rules):
        return False
    if any(_rule_matches(r or {}, op, info, version, sub) for r in crit.get("excludeResourceRules") or []):
        return False
    labels = [((o or {}).get("metadata") or {}).get("labels") or {} for o in (obj, old) if o is not None]
    obj_sel = crit.get("objectSelector")
    if obj_sel and not any(matches_label_selector(obj_sel, lbl) for lbl in labels):
        return False
    ns_sel = crit.get("namespaceSelector")
    if ns_sel and (info.namespaced or (info.kind == "Namespace" and not info.group)):
        if info.namespaced:
            md = ((obj or old) or {}).get("metadata") or {}
            ns_obj = core.find("", "Namespace", "", str(md.get("namespace") or ""))
            ns_labels = ((ns_obj or {}).get("metadata") or {}).get("labels") or {}
        else:
            ns_labels = labels[0] if labels else {}
        if not matches_label_selector(ns_sel, ns_labels):
            return False
    return True


# ------------------------------------------------------------------ admission


def admit(
    core: AdmissionContext,
    op: str,
    info: KindInfo,
    api_version: str,
    obj: Obj | None,
    old: Obj | None,
    *,
    subresource: str | None = None,
    dry_run: bool = False,
    user: str = "admin",
    groups: tuple[str, ...] = (),
    field_manager: str = "",
) -> None:
    """Run the validating admission the sim models for one request (objects in storage version);
    raise on denial. An admitted create is charged to its quotas unless it is a dry run."""
    bindings = core.store.list_objects(ADMISSION_GROUP, BINDING, "")
    if bindings:
        new_v = None if obj is None else conv.convert(obj, api_version)
        old_v = None if old is None else conv.convert(old, api_version)
        req = _Request(
            core, op, info, api_version, new_v, old_v, subresource or "", dry_run, user, groups, field_manager
        )
        _policies(req, bindings)
    if op == "CREATE" and info.namespaced and not subresource and obj is not None:
        _quota(core, info, obj, dry_run)


@dataclass
class _Request:
    core: AdmissionContext
    op: str
    info: KindInfo
    api_version: str
    obj: Obj | None
    old: Obj | None
    sub: str
    dry_run: bool
    user: str
    groups: tuple[str, ...]
    field_manager: str
    _acts: dict[tuple[int, bool], tuple[Obj | None, Any]] = field(default_factory=dict, init=False)
    _ns: list[Obj | None] = field(default_factory=list, init=False)  # [] until looked up

    @property
    def version(self) -> str:
        return split_api_version(self.api_version)[1]

    @property
    def meta(self) -> Obj:
        return ((self.obj or self.old) or {}).get("metadata") or {}

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or "")

    @property
    def namespace(self) -> str:
        return str(self.meta.get("namespace") or "") if self.info.namespaced else ""

    def variables(self, param: Obj | None, namespace: bool) -> Obj:
        """The CEL variables of one evaluation: object, oldObject, request, namespaceObject, params."""
        gvk = {"group": self.info.group, "version": self.version, "kind": self.info.kind}
        gvr = {"group": self.info.group, "version": self.version, "resource": self.info.resource.plural}
        user: Obj = {"username": self.user}
        if self.groups:
            user["groups"] = list(self.groups)
        request = {
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": self.name,
            "namespace": self.namespace,
            "operation": self.op,
            "userInfo": user,
            "dryRun": self.dry_run,
            "options": self.options(),
        }
        if self.sub:
            request["subResource"] = request["requestSubResource"] = self.sub
        ns = self.namespace_object() if namespace else None
        return {
            "object": self.obj,
            "oldObject": self.old,
            "request": request,
            "namespaceObject": ns,
            "params": param,
        }

    def options(self) -> Obj:
        """The request's Create/Update/DeleteOptions as the apiserver hands them to CEL."""
        kind = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions"}.get(self.op, "DeleteOptions")
        out: Obj = {"kind": kind, "apiVersion": "meta.k8s.io/v1"}
        if self.dry_run:
            out["dryRun"] = ["All"]
        if self.field_manager and self.op != "DELETE":
            out["fieldManager"] = self.field_manager
        return out

    def activation(self, param: Obj | None, namespace: bool) -> Any:
        """One activation per parameter object for all policies: cel-cpp converts `object` on
        first use within an activation, which is most of what an evaluation costs."""
        key = (id(param), namespace)
        hit = self._acts.get(key)
        if hit is None:
            hit = self._acts[key] = (param, bind(self.variables(param, namespace)))
        return hit[1]

    def namespace_object(self) -> Obj | None:
        """What cel.CreateNamespaceObject gives CEL of the request's namespace (looked up once)."""
        if not self._ns:
            ns = self.core.find("", "Namespace", "", self.namespace) if self.namespace else None
            md = (ns or {}).get("metadata") or {}
            self._ns.append(
                None
                if ns is None
                else {
                    "metadata": {k: md[k] for k in NAMESPACE_META if k in md},
                    "spec": ns.get("spec") or {},
                    "status": ns.get("status") or {},
                }
            )
        return self._ns[0]


@dataclass
class _Decision:
    message: str
    reason: str = "Invalid"
    binding: str | None = None
    audit_error: bool = False
    """An auditAnnotation that failed: denies whatever the binding's validationActions say."""


class _ConfigError(Exception):
    pass


def _policies(req: _Request, bindings: list[Obj]) -> None:
    by_policy: dict[str, list[Obj]] = {}
    for b in bindings:
        by_policy.setdefault(str((b.get("spec") or {}).get("policyName") or ""), []).append(b)
    denied: list[tuple[str, _Decision]] = []
    for policy_name in sorted(by_policy):
        policy = req.core.find(ADMISSION_GROUP, POLICY, "", policy_name)
        if policy is None:
            continue
        pspec = policy.get("spec") or {}
        fail = pspec.get("failurePolicy") != "Ignore"
        if not _matches(
            req.core,
            pspec.get("matchConstraints") or {},
            req.op,
            req.info,
            req.version,
            req.sub,
            req.obj,
            req.old,
        ):
            continue
        try:
            param_info = _param_kind(req.core, pspec.get("paramKind"))
        except _ConfigError as exc:
            if fail:
                denied.append((policy_name, _Decision(f"failed to configure policy: {exc}")))
            continue
        compiled = _compiled_policy(policy)
        for binding in sorted(by_policy[policy_name], key=lambda b: b["metadata"]["name"]):
            bname = binding["metadata"]["name"]
            bspec = binding.get("spec") or {}
            if bspec.get("matchResources") and not _matches(
                req.core, bspec["matchResources"], req.op, req.info, req.version, req.sub, req.obj, req.old
            ):
                continue
            try:
                params = _params(req, param_info, pspec.get("paramKind") or {}, bspec.get("paramRef"))
            except _ConfigError as exc:
                if fail:
                    denied.append(
                        (policy_name, _Decision(f"failed to configure binding: {exc}", binding=bname))
                    )
                continue
            actions = bspec.get("validationActions") or []
            for param in params:
                for d in _validate(compiled, req, param, fail):
                    d.binding = bname
                    if "Deny" in actions or d.audit_error:
                        denied.append((policy_name, d))
                    if "Warn" in actions and not d.audit_error:
                        log.info(
                            "Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s",
                            policy_name,
                            bname,
                            d.message,
                        )
    if denied:
        policy_name, d = denied[0]
        who = f"'{policy_name}' with binding '{d.binding}'" if d.binding else f"'{policy_name}'"
        _deny(req.info, req.name, f"ValidatingAdmissionPolicy {who} denied request: {d.message}", d.reason)


def _param_kind(core: AdmissionContext, param_kind: Obj | None) -> KindInfo | None:
    if not param_kind:
        return None
    api_version, kind = str(param_kind.get("apiVersion") or ""), str(param_kind.get("kind") or "")
    try:
        return core.info(api_version, kind)
    except ClusterError:
        group, version = split_api_version(api_version)
        raise _ConfigError(
            f"failed to find resource referenced by paramKind: '{group}/{version}, Kind={kind}'"
        ) from None


def _params(req: _Request, info: KindInfo | None, param_kind: Obj, ref: Obj | None) -> list[Obj | None]:
    """generic.CollectParams: the parameter objects one binding evaluates the policy with."""
    if info is None or not ref:
        return [None]
    ns = ""
    if info.namespaced:
        ns = str(ref.get("namespace") or "") or req.namespace
        if not ns:
            raise _ConfigError(
                "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources"
            )
    elif ref.get("namespace"):
        raise _ConfigError("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
    if ref.get("name"):
        found = req.core.find(info.group, info.kind, ns, str(ref["name"]))
        found_list = [found] if found is not None else []
    elif ref.get("selector") is not None:
        selector = ref["selector"]
        found_list = [
            o
            for o in req.core.store.list_objects(info.group, info.kind, ns)
            if matches_label_selector(selector, (o.get("metadata") or {}).get("labels") or {})
        ]
    else:
        raise _ConfigError("one of name or selector must be provided")
    if not found_list and ref.get("parameterNotFoundAction") == "Deny":
        raise _ConfigError("no params found for policy binding with `Deny` parameterNotFoundAction")
    return [conv.convert(o, str(param_kind.get("apiVersion") or "")) for o in found_list]


def _validate(compiled: CompiledPolicy, req: _Request, param: Obj | None, fail: bool) -> list[_Decision]:
    """validator.Validate for one parameter: the denying decisions, in the apiserver's order."""
    errors: list[str] = []
    conditions = req.activation(param, False)  # the matcher is given no namespace object
    for cond in compiled.conditions:
        try:
            result = cond.eval(conditions)
        except CelError as exc:
            errors.append(f"expression '{cond.source}' resulted in error: {exc}")
            continue
        if result is False:
            return []
    if errors:
        if not fail:
            return []
        return [_Decision(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")]
    act = req.activation(param, compiled.uses_namespace)
    var_errors: dict[str, str] = {}
    if compiled.variables:
        data = req.variables(param, compiled.uses_namespace)
        for name, var in compiled.variables:  # each sees the earlier ones; an activation is a snapshot
            try:
                data[f"variables.{name}"] = var.eval(bind(data) if "variables" in var.source else act)
            except CelError as exc:
                var_errors[name] = f'composited variable "{name}" fails to evaluate: {exc}'
        act = bind(data)
    out: list[_Decision] = []
    for v in compiled.validations:
        try:
            ok = v.expr.eval(act)
        except CelError as exc:
            if fail:
                msg = _variable_error(str(exc), var_errors)
                out.append(_Decision(f"expression '{v.expr.source}' resulted in error: {msg}"))
            continue
        if ok is not True:
            out.append(_Decision(_message(v, act), v.reason))
    for _key, slot in compiled.audit:
        try:
            slot.eval(act)
        except CelError as exc:
            if fail:
                msg = _variable_error(str(exc), var_errors)
                out.append(
                    _Decision(f"expression '{slot.source}' resulted in error: {msg}", audit_error=True)
                )
    return out


def _variable_error(message: str, var_errors: dict[str, str]) -> str:
    """A variable that failed to evaluate is unbound; say what the apiserver's lazy variable says."""
    for name, err in var_errors.items():
        if f'"variables.{name}"' in message:
            return err
    return message


def _message(v: Validation, act: Any) -> str:
    message = ""
    if v.message_expr is not None:
        try:
            evaluated = v.message_expr.eval(act)
        except CelError:
            evaluated = None
        if isinstance(evaluated, str):
            message = evaluated.strip()
            if len(message.encode()) > MAX_MESSAGE_BYTES or "\n" in message:
                message = ""
    if not message and v.message:
        message = v.message.strip()
    return message or f"failed expression: {v.expr.source.strip()}"


def _deny(info: KindInfo, name: str, detail: str, reason: str) -> None:
    target = f'{info.qualified_resource} "{name}"' if name else info.qualified_resource
    message = f"{target} is forbidden: {detail}"
    causes = [StatusCause("", detail, "")]
    cls = _REASON_CLASSES.get(reason)
    if cls is None:  # RequestEntityTooLarge has no class of its own; KubeCluster returns it the same way
        err = ClusterError(message, causes=causes)
        err.code, err.reason = 413, reason
        raise err
    raise cls(message, causes=causes)


# ------------------------------------------------------------------ quota


def quota_keys(info: KindInfo) -> set[str]:
    """The quota resource names one object of this kind counts against."""
    plural = info.resource.plural
    keys = {f"count/{plural}.{info.group}" if info.group else f"count/{plural}"}
    if not info.group and plural in LEGACY_COUNTS:
        keys.add(plural)
    return keys


def _quota(core: AdmissionContext, info: KindInfo, obj: Obj, dry_run: bool) -> None:
    md = obj.get("metadata") or {}
    ns = str(md.get("namespace") or "")
    quotas = core.store.list_objects("", "ResourceQuota", ns)
    if not quotas:
        return
    keys = quota_keys(info)
    target = f'{info.qualified_resource} "{md.get("name") or ""}"'
    charged: list[tuple[Obj, list[str]]] = []
    for q in quotas:
        hard = (q.get("spec") or {}).get("hard") or {}
        mine = sorted(k for k in hard if k in keys)
        if not mine:
            continue
        status = q.get("status") or {}
        used = status.get("used") or {}
        unknown = [k for k in mine if k not in (status.get("hard") or {}) or k not in used]
        if unknown:
            raise Forbidden(
                f"{target} is forbidden: status unknown for quota: {q['metadata']['name']}, "
                f"resources: {','.join(unknown)}"
            )
        over = [k for k in mine if _int(used[k]) + 1 > _int(hard[k])]
        if over:
            raise Forbidden(
                f"{target} is forbidden: exceeded quota: {q['metadata']['name']}, "
                f"requested: {','.join(f'{k}=1' for k in over)}, "
                f"used: {','.join(f'{k}={used[k]}' for k in over)}, "
                f"limited: {','.join(f'{k}={hard[k]}' for k in over)}"
            )
        charged.append((q, mine))
    if dry_run:
        return
    for q, mine in charged:  # the real admission plugin bumps status.used itself, then admits
        bumped = fast_copy(q)
        used = bumped["status"]["used"]
        for k in mine:
            used[k] = str(_int(used[k]) + 1)
        core.system_update(bumped)


def _int(quantity: Any) -> int:
    try:
        return int(str(quantity))
    except ValueError:
        return 0
