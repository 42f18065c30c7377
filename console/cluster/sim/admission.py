"""Validating admission in the sim: ValidatingAdmissionPolicy(+Binding) and ResourceQuota.

Runs after defaulting and validation, as the real plugins do (VAP before ResourceQuota), on
dry-run requests too. Both raise the real apiserver's errors and messages.

ValidatingAdmissionPolicy: expressions are compiled with the sim's CEL subset (cel.py) when the
policy is written; an expression outside the subset, `paramKind`, `variables` or an expression
that fails to parse is rejected right there (Invalid), never silently allowed later. A binding
applies when its policy's matchConstraints and its own matchResources match (resourceRules with
operations/apiGroups/apiVersions/resources/scope, excludeResourceRules, namespaceSelector,
objectSelector); only the `Deny` action has an effect (Warn/Audit are not modelled).
matchConditions are honoured; failurePolicy Ignore skips expressions that error.

ResourceQuota: object counts only (`count/<resource>[.<group>]` and the legacy `pods`,
`services`, `configmaps`, `secrets`, `persistentvolumeclaims`, `replicationcontrollers`,
`resourcequotas`), checked on create against `status.used` kept by the sim's quota controller
(controllers/quota.py), which admission bumps on every admitted create. Compute and storage
quotas (cpu, memory, requests.storage, ...) are neither counted nor enforced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.cluster.api import (
    ClusterError,
    Forbidden,
    Invalid,
    StatusCause,
    Unauthorized,
    split_api_version,
)
from console.cluster.sim import convert as conv
from console.cluster.sim.cel import CelError, Program, compile_expr
from console.cluster.sim.discovery import KindInfo
from console.cluster.sim.fastcopy import fast_copy
from console.cluster.sim.labels import matches_label_selector

if TYPE_CHECKING:
    from console.cluster.sim.core import Core

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
_REASONS: dict[str, type[ClusterError]] = {
    "Invalid": Invalid,
    "Forbidden": Forbidden,
    "Unauthorized": Unauthorized,
}
_cache: dict[str, Program] = {}


# ------------------------------------------------------------------ policy validation


def _program(source: str) -> Program:
    prog = _cache.get(source)
    if prog is None:
        prog = compile_expr(source)
        if len(_cache) > 512:
            _cache.clear()
        _cache[source] = prog
    return prog


def policy_causes(policy: Obj) -> list[StatusCause]:
    """Field errors for a ValidatingAdmissionPolicy the sim cannot (or nobody can) evaluate."""
    spec = policy.get("spec") or {}
    out: list[StatusCause] = []
    if spec.get("paramKind"):
        out.append(StatusCause("spec.paramKind", "Forbidden: policy parameters are not supported by the sim"))
    if spec.get("variables"):
        out.append(StatusCause("spec.variables", "Forbidden: variables are not supported by the sim"))
    exprs: list[tuple[str, str]] = []
    for i, v in enumerate(spec.get("validations") or []):
        exprs.append((f"spec.validations[{i}].expression", str((v or {}).get("expression") or "")))
        if (v or {}).get("messageExpression"):
            exprs.append((f"spec.validations[{i}].messageExpression", str(v["messageExpression"])))
    for i, c in enumerate(spec.get("matchConditions") or []):
        exprs.append((f"spec.matchConditions[{i}].expression", str((c or {}).get("expression") or "")))
    for field, source in exprs:
        try:
            _program(source)
        except CelError as exc:
            quoted = source.replace("\\", "\\\\").replace('"', '\\"')
            out.append(StatusCause(field, f'Invalid value: "{quoted}": compilation failed: {exc}'))
    return out


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
    core: Core, crit: Obj, op: str, info: KindInfo, version: str, sub: str, obj: Obj | None, old: Obj | None
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
    core: Core,
    op: str,
    info: KindInfo,
    api_version: str,
    obj: Obj | None,
    old: Obj | None,
    *,
    subresource: str | None = None,
    dry_run: bool = False,
    user: str = "admin",
) -> None:
    """Run the validating admission the sim models for one request (objects in storage version);
    raise on denial. An admitted create is charged to its quotas unless it is a dry run."""
    bindings = core.store.list_objects(ADMISSION_GROUP, BINDING, "")
    if bindings:
        new_v = None if obj is None else conv.convert(obj, api_version)
        old_v = None if old is None else conv.convert(old, api_version)
        _policies(core, bindings, op, info, api_version, new_v, old_v, subresource or "", user)
    if op == "CREATE" and info.namespaced and not subresource and obj is not None:
        _quota(core, info, obj, dry_run)


def _policies(
    core: Core,
    bindings: list[Obj],
    op: str,
    info: KindInfo,
    api_version: str,
    obj: Obj | None,
    old: Obj | None,
    sub: str,
    user: str,
) -> None:
    version = split_api_version(api_version)[1]
    md = ((obj or old) or {}).get("metadata") or {}
    name = str(md.get("name") or "")
    request = {
        "operation": op,
        "name": name,
        "namespace": str(md.get("namespace") or ""),
        "subResource": sub,
        "kind": {"group": info.group, "version": version, "kind": info.kind},
        "resource": {"group": info.group, "version": version, "resource": info.resource.plural},
        "userInfo": {"username": user},
    }
    act = {"object": obj, "oldObject": old, "request": request}
    for binding in sorted(bindings, key=lambda b: b["metadata"]["name"]):
        bspec = binding.get("spec") or {}
        if "Deny" not in (bspec.get("validationActions") or []):
            continue
        policy = core.find(ADMISSION_GROUP, POLICY, "", str(bspec.get("policyName") or ""))
        if policy is None:
            continue
        pspec = policy.get("spec") or {}
        if not _matches(core, pspec.get("matchConstraints") or {}, op, info, version, sub, obj, old):
            continue
        if bspec.get("matchResources") and not _matches(
            core, bspec["matchResources"], op, info, version, sub, obj, old
        ):
            continue
        prefix = (
            f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' with binding "
            f"'{binding['metadata']['name']}' denied request: "
        )
        ignore = pspec.get("failurePolicy") == "Ignore"
        if not _conditions_hold(pspec, act, ignore, prefix, info, name):
            continue
        for v in pspec.get("validations") or []:
            expr = str(v.get("expression") or "")
            try:
                ok = _program(expr).eval(act)
            except CelError as exc:
                if ignore:
                    continue
                _deny(info, name, prefix + f"expression '{expr}' resulted in error: {exc}", "Invalid")
            if ok is True:
                continue
            message = str(v.get("message") or "") or f"failed expression: {expr.strip()}"
            if v.get("messageExpression"):
                try:
                    evaluated = _program(str(v["messageExpression"])).eval(act)
                    if isinstance(evaluated, str) and evaluated.strip():
                        message = evaluated
                except CelError:
                    pass
            _deny(info, name, prefix + message, str(v.get("reason") or "Invalid"))


def _conditions_hold(pspec: Obj, act: Obj, ignore: bool, prefix: str, info: KindInfo, name: str) -> bool:
    for cond in pspec.get("matchConditions") or []:
        expr = str(cond.get("expression") or "")
        try:
            if _program(expr).eval(act) is not True:
                return False
        except CelError as exc:
            if ignore:
                return False
            _deny(info, name, prefix + f"expression '{expr}' resulted in error: {exc}", "Invalid")
    return True


def _deny(info: KindInfo, name: str, detail: str, reason: str) -> None:
    cls = _REASONS.get(reason, Invalid)
    target = f'{info.qualified_resource} "{name}"' if name else info.qualified_resource
    raise cls(f"{target} is forbidden: {detail}", causes=[StatusCause("", detail, "")])


# ------------------------------------------------------------------ quota


def quota_keys(info: KindInfo) -> set[str]:
    """The quota resource names one object of this kind counts against."""
    plural = info.resource.plural
    keys = {f"count/{plural}.{info.group}" if info.group else f"count/{plural}"}
    if not info.group and plural in LEGACY_COUNTS:
        keys.add(plural)
    return keys


def _quota(core: Core, info: KindInfo, obj: Obj, dry_run: bool) -> None:
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
