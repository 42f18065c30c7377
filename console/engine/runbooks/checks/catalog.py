"""Every registered check, by name (importing the modules registers them)."""

from __future__ import annotations

from console.engine.runbooks.checks import drift, health, operation, policy, source, sync
from console.engine.runbooks.checks.base import REGISTRY, CheckDef

MODULES = (sync, drift, health, operation, source, policy)


def checks() -> dict[str, CheckDef]:
    return dict(REGISTRY)
