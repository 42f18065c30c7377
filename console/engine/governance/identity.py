"""Who is acting (DESIGN.md §4 Identity): the identity value and how it is formed.

* A real control cluster: the user is who the API server says the kubeconfig authenticates as
  (`authentication.k8s.io/v1` SelfSubjectReview), with the review's groups. `$TRUEUP_USER` is a
  self-asserted name and is ignored there (a one-line warning says so). The workspace file's
  `users:` groups are *not* added on a real cluster: trueup.yaml is a local file anyone can edit,
  so it must not grant cluster permissions — bind groups in the control cluster's RBAC ConfigMap
  (`g, <user>, <group-or-role>`) instead.
* A sim workspace (demo, drills): `$TRUEUP_USER`, else the OS login name, marked unverified in
  every output; groups from the workspace's `users:` entry.
* The controller acts as `system:trueup-controller`.

Resolving it for a workspace (and `--as`) is `console.engine.gate.identity`.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def groups_of(entry: Mapping[str, Any]) -> tuple[str, ...]:
    groups = entry.get("groups")
    if not isinstance(groups, list):
        return ()
    return tuple(str(g) for g in groups if isinstance(g, str) and g)


def from_review(info: Mapping[str, Any], asserted: str) -> Identity:
    """The identity a SelfSubjectReview names; a different `$TRUEUP_USER` is a warning."""
    user = str(info.get("username") or "")
    groups = tuple(str(g) for g in info.get("groups") or [] if isinstance(g, str))
    warnings: tuple[str, ...] = ()
    if asserted and asserted != user:
        warnings = (
            f"$TRUEUP_USER={asserted} ignored: the control cluster authenticates you as {user} "
            "(SelfSubjectReview)",
        )
    return Identity(user, groups, verified=True, source=SOURCE_REVIEW, warnings=warnings)


def from_claim(user: str, entry: Mapping[str, Any], source: str, impersonated_by: str = "") -> Identity:
    """An unverified identity (sim workspace) with its workspace `users:` entry."""
    return Identity(
        user,
        groups_of(entry),
        verified=False,
        source=source,
        display_name=str(entry.get("name") or ""),
        email=str(entry.get("email") or ""),
        impersonated_by=impersonated_by,
    )
