"""Changing `trueup.yaml` from commands (`init`, `cluster add|rm`, `repo add|rm`, `import argocd`).

Each edit reads the file, changes the parsed document, validates the result exactly as `load` does
(schema and cross-field rules) and only then replaces the file atomically, so a refused edit leaves
the workspace as it was. The file is rewritten by PyYAML: comments are not kept (said in the docs).
Secrets never pass through here: repository and cluster credentials go to the OS keyring
(`console.engine.credentials`); this file records only that an entry exists.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from console.engine import yamlsafe
from console.engine.workspace import STATE_DIR, WORKSPACE_FILE, Workspace, WorkspaceError, load

CONTROL_NAME = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
HEADER = (
    "# trueup workspace (`trueup init`). Edited by `trueup cluster|repo ...`; comments are not kept.\n"
    "# Credentials are never stored here: they live in the OS keyring.\n"
)


def _dump(doc: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".trueup.yaml-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_document(root: Path) -> dict[str, Any]:
    path = root / WORKSPACE_FILE
    try:
        doc = yamlsafe.load_one(path.read_bytes(), str(path))
    except (OSError, yamlsafe.ManifestError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise WorkspaceError(f"{path}: expected `kind: Workspace`")
    return doc


def edit(root: Path, change: Callable[[dict[str, Any]], None]) -> Workspace:
    """Apply `change` to the workspace document; validate; write atomically; the reloaded workspace."""
    path = root / WORKSPACE_FILE
    doc = read_document(root)
    change(doc)
    text = _dump(doc)
    # validate the new document as `load` would, from a scratch copy, before touching the real file
    with tempfile.TemporaryDirectory(prefix="trueup-ws-") as scratch:
        (Path(scratch) / WORKSPACE_FILE).write_text(text)
        try:
            load(Path(scratch))
        except WorkspaceError as exc:
            raise WorkspaceError(str(exc).replace(str(Path(scratch) / WORKSPACE_FILE), str(path))) from None
    _write_atomic(path, text)
    return load(root)


def create_sim(ws: Workspace, name: str) -> None:
    """The SQLite state of a sim cluster (idempotent)."""
    from console.cluster.sim import SimCluster

    cfg = ws.cluster_config(name)
    path = ws.sim_path(name)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    SimCluster.create_db(path, name, cfg.server)


def init_workspace(
    target: Path,
    *,
    control_context: str = "",
    kubeconfig: str = "",
    server: str = "",
    control_name: str = CONTROL_NAME,
    admin: str = "",
) -> Workspace:
    """A new workspace in `target` (new or empty directory).

    Without a context the control cluster is a sim (created here, CRDs installed): the workspace
    works at once, and `admin` (who ran init) gets role:admin in its `rbac:` policy — deny by
    default otherwise. With one, the control cluster is that real cluster; `trueup install` applies
    the CRDs there (a separate, explicit step, as `argocd` installs are) and the policy is the
    cluster's ConfigMap trueup/trueup-rbac-cm.
    """
    if target.exists() and not target.is_dir():
        raise WorkspaceError(f"{target} is a file, not a directory; choose a new or empty directory")
    if (target / WORKSPACE_FILE).exists():
        raise WorkspaceError(
            f"{target} already holds a workspace ({WORKSPACE_FILE}); use it or choose another"
        )
    if target.is_dir() and any(p.name != ".git" for p in target.iterdir()):
        raise WorkspaceError(f"{target} exists and is not empty; choose an empty or new directory")
    control: dict[str, Any] = {"name": control_name}
    if control_context:
        control.update(type="kube", context=control_context)
        if kubeconfig:
            control["kubeconfig"] = str(Path(kubeconfig).expanduser().resolve())
        if server:
            control["server"] = server
    else:
        control.update(type="sim", server=IN_CLUSTER_SERVER)
    doc: dict[str, Any] = {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Workspace",
        "controlCluster": control_name,
        "clusters": [control],
        "repositories": {"allowFileURLs": False},
        "settings": {"trackingAnnotation": "trueup.dev/tracking-id"},
    }
    if admin and not control_context:
        doc["rbac"] = {"policy": f'g, "{admin}", role:admin\n', "default": ""}
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        (target / STATE_DIR).mkdir(exist_ok=True)
        _write_atomic(target / WORKSPACE_FILE, _dump(doc))
        ws = load(target)
        if not control_context:
            from console.engine.appstore import AppStore

            create_sim(ws, control_name)
            AppStore(ws.control()).install()
        return ws
    except BaseException:
        (target / WORKSPACE_FILE).unlink(missing_ok=True)
        if created:
            import shutil

            shutil.rmtree(target, ignore_errors=True)
        raise


def _clusters(doc: dict[str, Any]) -> list[dict[str, Any]]:
    clusters = doc.setdefault("clusters", [])
    if not isinstance(clusters, list):
        raise WorkspaceError("trueup.yaml: clusters must be a list")
    return clusters


def add_cluster(
    ws: Workspace,
    name: str,
    *,
    sim: bool,
    kubeconfig: str = "",
    context: str = "",
    server: str = "",
    upsert: bool = False,
    aliases: list[str] | None = None,
) -> Workspace:
    """Register a workload cluster; a sim one gets its state file."""
    if name in ws.clusters and not upsert:
        raise WorkspaceError(
            f'cluster "{name}" already exists (server {ws.clusters[name].server}); pass --upsert to replace it'
        )

    def change(doc: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"name": name}
        if sim:
            entry.update(type="sim", server=server or f"https://{name}.k8s.sim.invalid")
        else:
            entry.update(type="kube", context=context)
            if kubeconfig:
                entry["kubeconfig"] = str(Path(kubeconfig).expanduser().resolve())
            if server:
                entry["server"] = server
        if aliases:
            entry["aliases"] = list(aliases)
        clusters = [c for c in _clusters(doc) if not (isinstance(c, dict) and c.get("name") == name)]
        clusters.append(entry)
        doc["clusters"] = clusters

    new = edit(ws.root, change)
    if sim:
        create_sim(new, name)
    return new


def remove_cluster(ws: Workspace, name: str, apps_targeting: list[str]) -> Workspace:
    """Unregister a cluster; refused while applications target it or when it is the control cluster."""
    ws.cluster_config(name)
    if name == ws.control_cluster:
        raise WorkspaceError(
            f'cluster "{name}" is the control cluster (it stores the Applications); it cannot be removed'
        )
    if apps_targeting:
        shown = ", ".join(apps_targeting[:10]) + (
            f" and {len(apps_targeting) - 10} more" if len(apps_targeting) > 10 else ""
        )
        raise WorkspaceError(
            f'cluster "{name}" is the destination of application(s) {shown}: delete them or change their '
            "destination first"
        )
    sim_file = ws.sim_path(name) if ws.clusters[name].type == "sim" else None

    def change(doc: dict[str, Any]) -> None:
        doc["clusters"] = [c for c in _clusters(doc) if not (isinstance(c, dict) and c.get("name") == name)]

    new = edit(ws.root, change)
    if sim_file is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(sim_file) + suffix).unlink(missing_ok=True)
    return new


def _repositories(doc: dict[str, Any]) -> dict[str, Any]:
    repos = doc.get("repositories")
    if repos is None:
        repos = doc["repositories"] = {}
    if not isinstance(repos, dict):
        raise WorkspaceError("trueup.yaml: repositories must be a mapping")
    return repos


def put_repo(ws: Workspace, entry: dict[str, Any]) -> Workspace:
    """Add or replace the repository entry with entry["url"]."""

    def change(doc: dict[str, Any]) -> None:
        repos = _repositories(doc)
        items = [
            r for r in repos.get("repos") or [] if not (isinstance(r, dict) and r.get("url") == entry["url"])
        ]
        items.append(entry)
        repos["repos"] = items
        if entry["url"].startswith("file://"):
            repos["allowFileURLs"] = True

    return edit(ws.root, change)


def remove_repo(ws: Workspace, url: str) -> Workspace:
    def change(doc: dict[str, Any]) -> None:
        repos = _repositories(doc)
        repos["repos"] = [
            r for r in repos.get("repos") or [] if not (isinstance(r, dict) and r.get("url") == url)
        ]

    return edit(ws.root, change)


def put_template(ws: Workspace, entry: dict[str, Any]) -> Workspace:
    def change(doc: dict[str, Any]) -> None:
        repos = _repositories(doc)
        items = [
            t
            for t in repos.get("credentialTemplates") or []
            if not (isinstance(t, dict) and t.get("url") == entry["url"])
        ]
        items.append(entry)
        repos["credentialTemplates"] = items

    return edit(ws.root, change)


def remove_template(ws: Workspace, url: str) -> Workspace:
    def change(doc: dict[str, Any]) -> None:
        repos = _repositories(doc)
        repos["credentialTemplates"] = [
            t
            for t in repos.get("credentialTemplates") or []
            if not (isinstance(t, dict) and t.get("url") == url)
        ]

    return edit(ws.root, change)
