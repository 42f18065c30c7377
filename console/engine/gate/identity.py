"""Resolving the acting identity for a workspace (console.engine.governance.identity has the rules).

`--as USER` impersonates only when the real identity may: the Kubernetes `impersonate` verb on
`users/USER` on a real control cluster (SelfSubjectAccessReview), trueup RBAC
`accounts, impersonate, USER` on a sim workspace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from console.engine.gate.policy import control_is_real, enforcer_for
from console.engine.governance.identity import (
    SOURCE_ENV,
    SOURCE_LOGIN,
    SOURCE_REVIEW,
    Identity,
    ImpersonationDenied,
    from_claim,
    from_review,
    login_name,
)
from console.engine.workspace import Workspace

__all__ = ["ImpersonationDenied", "control_is_real", "resolve"]


def _entry(ws: Workspace, user: str) -> Mapping[str, Any]:
    entry = (ws.users or {}).get(user)
    return entry if isinstance(entry, Mapping) else {}


def resolve(ws: Workspace, *, as_user: str | None = None, env: Mapping[str, str] | None = None) -> Identity:
    """The identity commands act as; raises ImpersonationDenied."""
    env = os.environ if env is None else env
    asserted = env.get("TRUEUP_USER") or ""
    if control_is_real(ws):
        real = from_review(ws.control().self_subject_review(), asserted)
    else:
        user = asserted or login_name()
        real = from_claim(user, _entry(ws, user), SOURCE_ENV if asserted else SOURCE_LOGIN)
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
    enforcer = enforcer_for(ws)
    if not enforcer.enforce_claims(
        real.user, real.claims_groups(enforcer.config.scopes), "accounts", "impersonate", as_user
    ):
        raise ImpersonationDenied(
            f"permission denied: {real.label} may not impersonate {as_user} "
            f"(needs: accounts, impersonate, {as_user})"
        )
    return from_claim(as_user, _entry(ws, as_user), real.source, impersonated_by=real.user)
