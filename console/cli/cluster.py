"""`trueup init DIR` and `trueup cluster add|list|rm`: a workspace for your own repositories and its clusters."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.cli.errors import CommandError
from console.cli.output import emit_json, one_line, table
from console.cluster.api import ClusterError
from console.engine import workspace_edit
from console.engine.appstore import AppStore
from console.engine.workspace import ClusterConfig, Workspace, WorkspaceError, open_workspace

EXIT_UNREACHABLE = 5


def register(sub: argparse._SubParsersAction[Any]) -> None:
    init = sub.add_parser(
        "init",
        help="create a workspace for your own repositories (sim control cluster unless --control-context)",
        description="Create a workspace in DIR (new or empty). Without --control-context the control cluster "
        "is a simulated one, ready at once; with it, the control cluster is that real cluster and "
        "`trueup install` applies the CRDs there.",
    )
    init.add_argument("dir", metavar="DIR", help="workspace directory to create")
    init.add_argument(
        "--control-context", default="", metavar="CTX", help="kubeconfig context of a real control cluster"
    )
    init.add_argument(
        "--kubeconfig",
        default="",
        metavar="F",
        help="kubeconfig file for --control-context (default $KUBECONFIG)",
    )
    init.set_defaults(run=cmd_init)

    cl = sub.add_parser("cluster", help="workload clusters of the workspace")
    cl_sub = cl.add_subparsers(dest="cluster_command", metavar="SUBCOMMAND", required=True)
    add = cl_sub.add_parser("add", help="register a cluster (--sim, or --kubeconfig F --context C)")
    add.add_argument("name", metavar="NAME", help="cluster name (Applications use it as destination.name)")
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--sim", action="store_true", help="a simulated cluster (SQLite under .trueup/clusters/)"
    )
    kind.add_argument("--kubeconfig", metavar="F", help="kubeconfig file of a real cluster")
    add.add_argument(
        "--context", default="", metavar="C", help="context in the kubeconfig (default: its current context)"
    )
    add.add_argument(
        "--server",
        default="",
        metavar="URL",
        help="server URL (default: from the kubeconfig; sim: https://NAME.k8s.sim.invalid)",
    )
    add.add_argument("--upsert", action="store_true", help="replace an existing cluster of that name")
    add.set_defaults(run=cmd_cluster_add)
    ls = cl_sub.add_parser("list", help="clusters with reachability and server version")
    ls.add_argument("-o", "--output", choices=["json"], metavar="json", help="output format")
    ls.set_defaults(run=cmd_cluster_list)
    rm = cl_sub.add_parser("rm", help="unregister a cluster (refused while applications target it)")
    rm.add_argument("name", metavar="NAME", help="cluster name")
    rm.set_defaults(run=cmd_cluster_rm)


def _ws(args: argparse.Namespace) -> Workspace:
    return open_workspace(getattr(args, "workspace", None))


def _initial_admin() -> str:
    """Who runs `init` on a sim workspace becomes its admin ($TRUEUP_USER, else the login name)."""
    import os

    from console.engine.governance.identity import login_name

    return os.environ.get("TRUEUP_USER") or login_name()


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.dir).expanduser().resolve()
    if args.kubeconfig and not args.control_context:
        raise CommandError("--kubeconfig goes with --control-context CTX (the real control cluster)")
    try:
        ws = workspace_edit.init_workspace(
            target,
            control_context=args.control_context,
            kubeconfig=args.kubeconfig,
            admin=_initial_admin(),
        )
    except OSError as exc:
        raise CommandError(f"cannot create the workspace in {target}: {exc.strerror or exc}") from None
    cfg = ws.clusters[ws.control_cluster]
    print(f"workspace ready: {target}")
    if cfg.type == "sim":
        print(f"control cluster {cfg.name}: sim ({cfg.server}); trueup.dev CRDs installed")
        print(
            f"rbac: {_initial_admin()} is role:admin (trueup.yaml rbac:); everyone else is denied until you add policy lines"
        )
    else:
        print(
            f"control cluster {cfg.name}: {cfg.server} (context {cfg.context}); next: cd {target} && trueup install"
        )
    print(
        "next: trueup repo add URL, then trueup app create NAME --repo URL --path P --dest-name in-cluster --dest-namespace NS"
    )
    return 0


def _probe(ws: Workspace, cfg: ClusterConfig) -> tuple[str, str, str]:
    """(status, version, message) as argocd cluster list shows them."""
    try:
        version = ws.open_cluster(cfg.name).server_version()
        return "Successful", version, ""
    except ClusterError as exc:
        return "Failed", "", one_line(exc.message, 200)
    except WorkspaceError as exc:
        return "Failed", "", one_line(str(exc), 200)


def cmd_cluster_add(args: argparse.Namespace) -> int:
    ws = _ws(args)
    if not args.sim:
        from console.cluster.kube.client import KubeCluster

        kubeconfig = str(Path(args.kubeconfig).expanduser().resolve())
        if not Path(kubeconfig).is_file():
            raise CommandError(f"kubeconfig {args.kubeconfig} does not exist")
        try:
            KubeCluster(
                args.name, kubeconfig=kubeconfig, context=args.context or None, server=args.server or None
            ).server_version()
        except ClusterError as exc:
            raise CommandError(
                f"cluster {args.name} ({args.context or 'current context'}) is unreachable: {one_line(exc.message, 300)}; "
                "nothing was added",
                EXIT_UNREACHABLE,
            ) from None
    new = workspace_edit.add_cluster(
        ws,
        args.name,
        sim=args.sim,
        kubeconfig=args.kubeconfig or "",
        context=args.context,
        server=args.server,
        upsert=args.upsert,
    )
    cfg = new.clusters[args.name]
    print(f"Cluster '{cfg.server}' added (name {cfg.name}, {cfg.type})")
    return 0


def cmd_cluster_list(args: argparse.Namespace) -> int:
    ws = _ws(args)
    rows: list[dict[str, Any]] = []
    for cfg in ws.clusters.values():
        status, version, message = _probe(ws, cfg)
        rows.append(
            {
                "name": cfg.name,
                "server": cfg.server,
                "type": cfg.type,
                "context": cfg.context,
                "control": cfg.name == ws.control_cluster,
                "serverVersion": version,
                "connectionState": {"status": status, "message": message},
            }
        )
    if args.output == "json":
        emit_json(rows)
        return 0
    table(
        ["SERVER", "NAME", "TYPE", "VERSION", "STATUS", "MESSAGE"],
        [
            [
                r["server"],
                r["name"] + (" (control)" if r["control"] else ""),
                r["type"],
                r["serverVersion"] or "-",
                r["connectionState"]["status"],
                r["connectionState"]["message"],
            ]
            for r in rows
        ],
    )
    return 0


def apps_targeting(ws: Workspace, name: str) -> list[str]:
    out = []
    for app in AppStore(ws.control()).list_apps():
        dest = (app.get("spec") or {}).get("destination") or {}
        cfg = ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
        if cfg is not None and cfg.name == name:
            out.append(app["metadata"]["name"])
    return out


def cmd_cluster_rm(args: argparse.Namespace) -> int:
    ws = _ws(args)
    ws.cluster_config(args.name)
    targeting = apps_targeting(ws, args.name) if args.name != ws.control_cluster else []
    workspace_edit.remove_cluster(ws, args.name, targeting)
    print(f"Cluster '{args.name}' removed", file=sys.stdout)
    return 0
