"""RBAC authorization for a non-admin SimCluster identity, from the RBAC objects stored in the sim.

A SimCluster opened with `user=` (and `groups=`) is checked like the real RBAC authorizer checks
a request, before anything else happens: the (Cluster)RoleBindings naming the user, one of its
groups or `system:authenticated` grant the rules of their role; a request is allowed when one
rule matches verb, API group, resource (`plural` or `plural/subresource`) and, if the rule lists
resourceNames, the object name (never for create/list/watch). `system:masters` is everything.
Denials raise Forbidden with the real apiserver's message. Not modelled: aggregated ClusterRoles
(aggregationRule), nonResourceURLs, escalation/bind checks on RBAC writes, impersonation.
Without `user` the SimCluster is the cluster admin and nothing here runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from console.cluster.api import Forbidden
from console.cluster.sim.discovery import KindInfo
from console.cluster.sim.store import Store

RBAC_GROUP = "rbac.authorization.k8s.io"
Obj = dict[str, Any]


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()

    @property
    def all_groups(self) -> tuple[str, ...]:
        return (*self.groups, "system:authenticated")


def _subject_matches(subject: Obj, ident: Identity, namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == ident.user
    if kind == "Group":
        return name in ident.all_groups
    if kind == "ServiceAccount":
        sa_ns = subject.get("namespace") or namespace
        return ident.user == f"system:serviceaccount:{sa_ns}:{name}"
    return False


def _has(values: Iterable[str] | None, wanted: str) -> bool:
    vals = list(values or [])
    return "*" in vals or wanted in vals


def _resource_matches(rule_resources: Iterable[str] | None, resource: str, subresource: str) -> bool:
    wanted = f"{resource}/{subresource}" if subresource else resource
    for r in rule_resources or []:
        if r in ("*", wanted):
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def _rule_allows(rule: Obj, verb: str, group: str, resource: str, subresource: str, name: str) -> bool:
    if not _has(rule.get("verbs"), verb) or not _has(rule.get("apiGroups"), group):
        return False
    if not _resource_matches(rule.get("resources"), resource, subresource):
        return False
    names = rule.get("resourceNames") or []
    return not names or (bool(name) and verb not in ("create", "list", "watch") and name in names)


def _role_rules(store: Store, ref: Obj, binding_ns: str) -> list[Obj]:
    if ref.get("apiGroup") != RBAC_GROUP:
        return []
    kind = ref.get("kind")
    if kind == "ClusterRole":
        role = store.get((RBAC_GROUP, "ClusterRole", "", str(ref.get("name"))))
    elif kind == "Role" and binding_ns:
        role = store.get((RBAC_GROUP, "Role", binding_ns, str(ref.get("name"))))
    else:
        return []
    return [r for r in (role or {}).get("rules") or [] if isinstance(r, dict)]


def allowed(
    store: Store,
    ident: Identity,
    verb: str,
    group: str,
    resource: str,
    subresource: str,
    namespace: str,
    name: str,
) -> bool:
    if "system:masters" in ident.groups:
        return True
    bindings = [(b, "") for b in store.list_objects(RBAC_GROUP, "ClusterRoleBinding", "")]
    if namespace:
        bindings += [(b, namespace) for b in store.list_objects(RBAC_GROUP, "RoleBinding", namespace)]
    for binding, ns in bindings:
        if not any(
            _subject_matches(s, ident, ns) for s in binding.get("subjects") or [] if isinstance(s, dict)
        ):
            continue
        for rule in _role_rules(store, binding.get("roleRef") or {}, ns):
            if _rule_allows(rule, verb, group, resource, subresource, name):
                return True
    return False


def authorize(
    store: Store,
    ident: Identity | None,
    verb: str,
    info: KindInfo,
    namespace: str | None,
    name: str = "",
    subresource: str | None = None,
) -> None:
    """Raise Forbidden (the real message) unless `ident` may do `verb`; admin (None) may do all."""
    if ident is None:
        return
    ns = (namespace or "") if info.namespaced else ""
    plural, group = info.resource.plural, info.group
    sub = subresource or ""
    if allowed(store, ident, verb, group, plural, sub, ns, name):
        return
    what = f'resource "{plural}/{sub}"' if sub else f'resource "{plural}"'
    scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
    target = f'{info.qualified_resource} "{name}"' if name else info.qualified_resource
    raise Forbidden(
        f'{target} is forbidden: User "{ident.user}" cannot {verb} {what} in API group "{group}" {scope}'
    )
