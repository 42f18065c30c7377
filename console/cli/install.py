"""`trueup install`: the trueup.dev CRDs and the `trueup` namespace in the control cluster."""

from __future__ import annotations

import argparse
from typing import Any

from console.cli.args import with_workspace
from console.engine.appstore import AppStore
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    install = sub.add_parser(
        "install", help="install the trueup.dev CRDs and the `trueup` namespace in the control cluster"
    )
    install.set_defaults(run=with_workspace(cmd_install))


def cmd_install(ws: Workspace, args: argparse.Namespace) -> int:
    """Idempotent: server-side applies the CRDs and the namespace with field manager `trueup`.
    A sim control cluster without its state file (a hand-written workspace) gets one first."""
    if ws.clusters[ws.control_cluster].type == "sim":
        from console.engine.workspace_edit import create_sim

        create_sim(ws, ws.control_cluster)
    AppStore(ws.control()).install()
    print(f"installed trueup.dev CRDs and namespace trueup in cluster {ws.control_cluster}")
    return 0
