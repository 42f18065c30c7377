"""`trueup import argocd --context CTX [--namespace argocd] [-w NEWDIR]`: an existing Argo CD install, read-only."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    imp = sub.add_parser("import", help="import an existing installation (read-only)")
    isub = imp.add_subparsers(dest="import_command", metavar="SOURCE", required=True)
    argo = isub.add_parser(
        "argocd", help="Applications, AppProjects, argocd-cm, argocd-rbac-cm, cluster and repository secrets"
    )
    argo.add_argument(
        "--context", required=True, metavar="CTX", help="kubeconfig context of the cluster Argo CD runs in"
    )
    argo.add_argument("--kubeconfig", default="", metavar="F", help="kubeconfig file (default $KUBECONFIG)")
    argo.add_argument(
        "--namespace", default="argocd", metavar="NS", help="Argo CD's namespace (default argocd)"
    )
    argo.add_argument(
        "--use-argocd-tracking",
        action="store_true",
        help="track resources with argocd.argoproj.io/tracking-id (take ownership)",
    )
    argo.set_defaults(run=cmd_import_argocd)


def cmd_import_argocd(args: argparse.Namespace) -> int:
    from console.cli.importer_run import run

    return run(args)
