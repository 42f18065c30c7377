"""Who is acting (DESIGN.md §4 Identity).

* A real control cluster: the user is who the API server says the kubeconfig authenticates as
  (`authentication.k8s.io/v1` SelfSubjectReview), with the review's groups. `$TRUEUP_USER` is a
  self-asserted name and is ignored there (a one-line warning says so). The workspace file's
  `users:` groups are *not* added on a real cluster: trueup.yaml is a local file anyone can edit,
  so it must not grant cluster permissions — bind groups in the control cluster's RBAC ConfigMap
  (`g, <user>, <group-or-role>`) instead.
* A sim workspace (demo, drills): `$TRUEUP_USER`, else the OS login name, marked unverified in
  every output; groups from the workspace's `users:` entry.
* The controller acts as `system:trueup-controller`.

`--as USER` impersonates only when the real identity may: the Kubernetes `impersonate` verb on
`users/USER` on a real control cluster (SelfSubjectAccessReview), trueup RBAC
`accounts, impersonate, USER` on a sim workspace.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.engine.workspace import Workspace

CONTROLLER_USER = "system:trueup-controller"
SOURCE_REVIEW = "SelfSubjectReview"
SOURCE_ENV = "$TRUEUP_USER"
SOURCE_LOGIN = "OS login"
SOURCE_SYSTEM = "system"


class ImpersonationDenied(Exception):
    """`--as USER` without the impersonate permission (exit 3)."""


@dataclass(frozen=True)
class Identity:
    """The acting user, their groups, and whether the control cluster vouches for them."""

    user: str
    groups: tuple[str, ...] = ()
    verified: bool = False
    source: str = SOURCE_ENV
    display_name: str = ""
    email: str = ""
    impersonated_by: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def system(self) -> bool:
        return self.user == CONTROLLER_USER

    @property
    def label(self) -> str:
        """`alice (unverified)` — how every output names the actor."""
        tag = "" if self.verified or self.system else " (unverified)"
        via = f" as impersonated by {self.impersonated_by}" if self.impersonated_by else ""
        return f"{self.user}{tag}{via}"

    def claims_groups(self, scopes: tuple[str, ...]) -> list[str]:
        """Group claim values per argocd-rbac-cm `scopes` (`groups`, `email`)."""
        out: list[str] = []
        for scope in scopes:
            if scope == "groups":
                out.extend(self.groups)
            elif scope == "email" and self.email:
                out.append(self.email)
        return list(dict.fromkeys(out))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "user": self.user,
            "groups": list(self.groups),
            "verified": self.verified,
            "source": self.source,
        }
        if self.display_name:
            out["name"] = self.display_name
        if self.email:
            out["email"] = self.email
        if self.impersonated_by:
            out["impersonatedBy"] = self.impersonated_by
        return out


def controller_identity() -> Identity:
    return Identity(CONTROLLER_USER, (), verified=True, source=SOURCE_SYSTEM)


def control_is_real(ws: Workspace) -> bool:
    return ws.cluster_config(ws.control_cluster).type == "kube"


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def _workspace_user(ws: Workspace, user: str) -> Mapping[str, Any]:
    entry = (ws.users or {}).get(user)
    return entry if isinstance(entry, Mapping) else {}


def _groups_of(entry: Mapping[str, Any]) -> tuple[str, ...]:
    groups = entry.get("groups")
    if not isinstance(groups, list):
        return ()
    return tuple(str(g) for g in groups if isinstance(g, str) and g)


def resolve(ws: Workspace, *, as_user: str | None = None, env: Mapping[str, str] | None = None) -> Identity:
    """The identity commands act as (see the module docstring); raises ImpersonationDenied."""
    env = os.environ if env is None else env
    asserted = env.get("TRUEUP_USER") or ""
    if control_is_real(ws):
        info = ws.control().self_subject_review()
        user = str(info.get("username") or "")
        groups = tuple(str(g) for g in info.get("groups") or [] if isinstance(g, str))
        warnings: tuple[str, ...] = ()
        if asserted and asserted != user:
            warnings = (
                f"$TRUEUP_USER={asserted} ignored: the control cluster authenticates you as {user} "
                "(SelfSubjectReview)",
            )
        real = Identity(user, groups, verified=True, source=SOURCE_REVIEW, warnings=warnings)
    else:
        user = asserted or _login()
        entry = _workspace_user(ws, user)
        real = Identity(
            user,
            _groups_of(entry),
            verified=False,
            source=SOURCE_ENV if asserted else SOURCE_LOGIN,
            display_name=str(entry.get("name") or ""),
            email=str(entry.get("email") or ""),
        )
    if not as_user or as_user == real.user:
        return real
    return _impersonate(ws, real, as_user)


def _impersonate(ws: Workspace, real: Identity, as_user: str) -> Identity:
    if control_is_real(ws):
        if not ws.control().access_review("impersonate", "users", name=as_user):
            raise ImpersonationDenied(
                f"permission denied: {real.label} may not impersonate {as_user} "
                f"(needs: kubernetes RBAC impersonate on users/{as_user})"
            )
        return Identity(
            as_user,
            (),
            verified=True,
            source=SOURCE_REVIEW,
            impersonated_by=real.user,
            warnings=real.warnings,
        )
    from console.engine.governance import policy

    enforcer = policy.enforcer_for(ws)
    if not enforcer.enforce_claims(
        real.user, real.claims_groups(enforcer.config.scopes), "accounts", "impersonate", as_user
    ):
        raise ImpersonationDenied(
            f"permission denied: {real.label} may not impersonate {as_user} "
            f"(needs: accounts, impersonate, {as_user})"
        )
    entry = _workspace_user(ws, as_user)
    return Identity(
        as_user,
        _groups_of(entry),
        verified=False,
        source=real.source,
        display_name=str(entry.get("name") or ""),
        email=str(entry.get("email") or ""),
        impersonated_by=real.user,
    )
