"""The work of `trueup import argocd` (console.cli.importer registers the command)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from console.cli.errors import CommandError
from console.cli.output import one_line
from console.cluster.api import ClusterError
from console.engine import argocd_import


def run(args: argparse.Namespace) -> int:
    from console.cluster.kube.client import KubeCluster

    target = Path(getattr(args, "workspace", None) or ".").expanduser().resolve()
    kubeconfig = args.kubeconfig or os.environ.get("KUBECONFIG", "") or str(Path.home() / ".kube" / "config")
    kubeconfig = str(Path(kubeconfig).expanduser().resolve())
    try:
        argo = KubeCluster("argocd", kubeconfig=kubeconfig, context=args.context)
        install = argocd_import.read_install(argo, args.namespace)
    except ClusterError as exc:
        raise CommandError(
            f"cannot read the Argo CD install in namespace {args.namespace} (context {args.context}): "
            f"{one_line(exc.message, 300)}",
            5,
        ) from None
    if not install.applications and not install.projects and not install.cm:
        raise CommandError(
            f"no Argo CD install found in namespace {args.namespace} of context {args.context} "
            "(no Applications, AppProjects or argocd-cm); pass --namespace"
        )
    ws, report = argocd_import.build_workspace(
        target,
        install,
        context=args.context,
        kubeconfig=kubeconfig,
        use_argocd_tracking=args.use_argocd_tracking,
    )
    print(f"workspace ready: {ws.root} (imported read-only from {args.context}/{args.namespace})")
    print(
        f"imported {len(report.applications)} application(s), {len(report.projects)} project(s), "
        f"{len(report.clusters)} cluster(s), {len(report.repositories)} repositor(ies), "
        f"{len(report.templates)} credential template(s), {len(report.customizations)} resource customization(s)"
    )
    tracking = (
        "argocd.argoproj.io/tracking-id (trueup takes ownership)"
        if args.use_argocd_tracking
        else ("trueup.dev/tracking-id (Argo CD keeps ownership; --use-argocd-tracking to take it)")
    )
    print(f"tracking: {tracking}")
    for w in report.warnings:
        print(f"warning: {one_line(w, 300)}")
    print(f"next: cd {ws.root} && trueup refresh && trueup app list")
    return 0
