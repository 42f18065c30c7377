"""Lookups several nouns' handlers share: an Application by name (with the CLI's not-found
sentence), this process's operation-holder identity, and who initiated an operation.
"""

from __future__ import annotations

from typing import Any

from console.cli.errors import CommandError
from console.cluster.api import NotFound, Obj
from console.engine.appstore import AppStore
from console.engine.workspace import Workspace


def get_app(ws: Workspace, name: str) -> Obj:
    try:
        return AppStore(ws.control()).get_app(name)
    except NotFound:
        raise CommandError(f"application {name!r} not found (see `trueup app list`)") from None


def operation_holder() -> str:
    import os
    import socket

    return f"cli-{socket.gethostname()}-{os.getpid()}"


def initiated_by() -> dict[str, Any]:
    from console.engine.workspace import current_user

    return {"username": current_user(), "automated": False}
