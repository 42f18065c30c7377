"""The workspace: `trueup.yaml` (clusters, settings, users, RBAC) plus `.trueup/` state.

Commands find it through `-w DIR`, `$TRUEUP_WORKSPACE`, or the current directory and its parents.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.cluster.api import Cluster
from console.engine import workspace_schema, yamlsafe

WORKSPACE_FILE = "trueup.yaml"
STATE_DIR = ".trueup"


class WorkspaceError(Exception):
    """The workspace is missing or invalid; the message says which file and what to do."""


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    server: str
    type: str = "sim"  # sim | kube
    context: str = ""
    kubeconfig: str = ""
    unpullable_images: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    credentials: str = "kubeconfig"  # kubeconfig | keyring (imported from an Argo CD cluster secret)


@dataclass
class Settings:
    tracking_annotation: str = "trueup.dev/tracking-id"
    repo_error_grace_period: float = 180.0
    resource_customizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignore_resource_status_field: str = "all"
    allow_file_urls: bool = False
    sensitive_annotations: tuple[str, ...] = ()
    resource_customizations_dir: str = ""
    resource_exclusions: list[dict[str, Any]] = field(default_factory=list)
    resource_compare_options: dict[str, Any] = field(default_factory=dict)
    runbooks_dir: str = ""  # a team's runbooks (relative to the workspace; "" = `runbooks/`)


@dataclass(frozen=True)
class RepoConfig:
    """A repository registered with `trueup repo add`; its secret (if any) is in the OS keyring."""

    url: str
    type: str = "git"  # git | helm
    name: str = ""
    credentials: str = "none"  # none | https | ssh: which kind of keyring entry exists
    insecure_ignore_host_key: bool = False


@dataclass(frozen=True)
class CredentialTemplate:
    url: str  # prefix
    type: str = "git"
    credentials: str = "https"


@dataclass
class Repositories:
    repos: list[RepoConfig] = field(default_factory=list)
    templates: list[CredentialTemplate] = field(default_factory=list)
    url_rewrites: dict[str, str] = field(default_factory=dict)
    git_config: dict[str, str] = field(default_factory=dict)
    ssh_known_hosts_file: str = ""


@dataclass(frozen=True)
class ConsoleSettings:
    theme: str = ""
    keymap: dict[str, str] = field(default_factory=dict)
    ascii: bool = False


@dataclass
class Workspace:
    root: Path
    control_cluster: str
    clusters: dict[str, ClusterConfig]
    settings: Settings
    users: dict[str, Any] = field(default_factory=dict)
    rbac: dict[str, Any] = field(default_factory=dict)
    inventory_roots: list[str] = field(default_factory=list)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    repositories: Repositories = field(default_factory=Repositories)
    _open: dict[str, Cluster] = field(default_factory=dict, repr=False)

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    def cluster_config(self, name: str) -> ClusterConfig:
        try:
            return self.clusters[name]
        except KeyError:
            raise WorkspaceError(
                f'cluster "{name}" is not defined in {self.root / WORKSPACE_FILE} '
                f"(known: {', '.join(sorted(self.clusters))})"
            ) from None

    def cluster_for_destination(self, server: str, name: str) -> ClusterConfig | None:
        """Argo resolves `destination.name` to a cluster, else matches `destination.server`."""
        if name:
            return self.clusters.get(name)
        for cfg in self.clusters.values():
            if cfg.server.rstrip("/") == server.rstrip("/"):
                return cfg
        for cfg in self.clusters.values():
            if any(a.rstrip("/") == server.rstrip("/") for a in cfg.aliases):
                return cfg
        return None

    def server_by_name(self) -> dict[str, str]:
        return {c.name: c.server for c in self.clusters.values()}

    def sim_path(self, name: str) -> Path:
        return self.state_dir / "clusters" / f"{name}.db"

    def open_cluster(self, name: str) -> Cluster:
        if name in self._open:
            return self._open[name]
        cfg = self.cluster_config(name)
        cluster: Cluster
        if cfg.type == "sim":
            from console.cluster.sim import SimCluster

            path = self.sim_path(name)
            shown = str(path.relative_to(self.root))  # errors name the file inside the workspace
            if not path.exists():
                raise WorkspaceError(
                    f'sim cluster "{name}" has no state file {shown}; run `trueup install` (control cluster) '
                    f"or `trueup cluster add {name} --sim` to create it"
                )
            cluster = SimCluster(path, name, cfg.server, label=shown, must_exist=True)
        elif cfg.type == "kube" and cfg.credentials == "keyring":
            from console.cluster.kube.client import KubeCluster
            from console.engine.credentials import keyring_kubeconfig

            cluster = KubeCluster(name, config_dict=keyring_kubeconfig(name, cfg.server), context=name)
        elif cfg.type == "kube":
            from console.cluster.kube.client import KubeCluster

            kubeconfig = cfg.kubeconfig or os.environ.get("KUBECONFIG") or None
            if kubeconfig:
                kubeconfig = str((self.root / Path(kubeconfig).expanduser()).resolve())
            cluster = KubeCluster(
                name, kubeconfig=kubeconfig, context=cfg.context or None, server=cfg.server or None
            )
        else:
            raise WorkspaceError(f'cluster "{name}": unknown type "{cfg.type}" (expected sim or kube)')
        self._open[name] = cluster
        return cluster

    def control(self) -> Cluster:
        return self.open_cluster(self.control_cluster)


def current_user() -> str:
    user = os.environ.get("TRUEUP_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def find_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not (root / WORKSPACE_FILE).is_file():
            raise WorkspaceError(
                f"{root} is not a trueup workspace (no {WORKSPACE_FILE}); create one with "
                f"`trueup init {root}` (or `trueup demo init {root}` for the demo)"
            )
        return root
    env = os.environ.get("TRUEUP_WORKSPACE")
    if env:
        return find_root(env)
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / WORKSPACE_FILE).is_file():
            return d
    raise WorkspaceError(
        f"no {WORKSPACE_FILE} in {here} or its parents; pass -w DIR, set TRUEUP_WORKSPACE, "
        "or create one with `trueup init DIR` (the demo: `trueup demo init DIR`)"
    )


def kubeconfig_server(kubeconfig: str, context: str) -> str:
    """The API server URL a kubeconfig context points at ("" when it cannot be read)."""
    try:
        doc = yamlsafe.load_one(Path(kubeconfig).expanduser().read_bytes(), kubeconfig)
    except (OSError, yamlsafe.ManifestError):
        return ""
    if not isinstance(doc, dict):
        return ""
    ctx_name = context or doc.get("current-context") or ""
    ctx = next((c.get("context") or {} for c in doc.get("contexts") or [] if c.get("name") == ctx_name), {})
    cl = next(
        (c.get("cluster") or {} for c in doc.get("clusters") or [] if c.get("name") == ctx.get("cluster")), {}
    )
    return str(cl.get("server") or "")


def load(root: Path) -> Workspace:
    path = root / WORKSPACE_FILE
    try:
        doc = yamlsafe.load_one(path.read_bytes(), str(path))
    except yamlsafe.ManifestError as exc:
        raise WorkspaceError(str(exc)) from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "Workspace":
        raise WorkspaceError(f"{path}: expected `kind: Workspace`")
    try:
        spec = workspace_schema.validate(doc)  # every field's type, named when wrong
    except workspace_schema.WorkspaceSchemaError as exc:
        raise WorkspaceError(f"{path}: {exc}") from None
    clusters: dict[str, ClusterConfig] = {}
    for i, c in enumerate(spec.clusters):
        where = f"{path}: clusters[{i}]"
        if c.name in clusters:
            raise WorkspaceError(f"{where}: duplicate cluster name {c.name!r}")
        if c.type == "sim" and c.server is None:
            raise WorkspaceError(f"{where}.server: required field missing (sim clusters need a server URL)")
        clusters[c.name] = ClusterConfig(
            name=c.name,
            server=c.server or "",
            type=c.type,
            context=c.context,
            kubeconfig=c.kubeconfig,
            unpullable_images=tuple(c.unpullable_images or ()),
            aliases=tuple(c.aliases or ()),
            credentials=c.credentials,
        )
    for name, cfg in list(clusters.items()):
        if cfg.type == "kube" and cfg.credentials == "keyring" and not cfg.server:
            raise WorkspaceError(
                f"{path}: cluster {name!r}: a cluster with keyring credentials needs its server"
            )
        if cfg.type == "kube" and not cfg.server:
            kc = cfg.kubeconfig or os.environ.get("KUBECONFIG", "") or str(Path.home() / ".kube" / "config")
            kc = str((root / Path(kc).expanduser()).resolve())
            server = kubeconfig_server(kc, cfg.context)
            if not server:
                raise WorkspaceError(
                    f"{path}: cluster {name!r}: no `server` given and none found in kubeconfig {kc}"
                    + (f" context {cfg.context!r}" if cfg.context else "")
                )
            clusters[name] = ClusterConfig(**{**cfg.__dict__, "server": server})
    control = spec.control_cluster
    if control not in clusters:
        raise WorkspaceError(f"{path}: controlCluster {control!r} is not one of the clusters")
    s = spec.settings or workspace_schema.SettingsSpec()
    repos = spec.repositories or workspace_schema.RepositoriesSpec()
    settings = Settings(
        tracking_annotation=s.tracking_annotation,
        repo_error_grace_period=float(s.repo_error_grace_period_seconds),
        resource_customizations=dict(s.resource_customizations or {}),
        ignore_resource_status_field=s.ignore_resource_status_field,
        allow_file_urls=repos.allow_file_urls,
        sensitive_annotations=s.sensitive_annotations(),
        resource_customizations_dir=s.resource_customizations_dir or "",
        resource_exclusions=list(s.resource_exclusions or []),
        resource_compare_options=dict(s.resource_compare_options or {}),
        runbooks_dir=s.runbooks_dir or "",
    )
    repositories = Repositories(
        repos=[
            RepoConfig(
                url=r.url,
                type=r.type,
                name=r.name,
                credentials=r.credentials,
                insecure_ignore_host_key=r.insecure_ignore_host_key,
            )
            for r in repos.repos or []
        ],
        templates=[
            CredentialTemplate(url=t.url, type=t.type, credentials=t.credentials)
            for t in repos.credential_templates or []
        ],
        url_rewrites=dict(repos.url_rewrites or {}),
        git_config=dict(repos.git_config or {}),
        ssh_known_hosts_file=repos.ssh_known_hosts_file or "",
    )
    return Workspace(
        root=root,
        control_cluster=control,
        clusters=clusters,
        settings=settings,
        users={k: v.model_dump(by_alias=True, exclude_none=True) for k, v in (spec.users or {}).items()},
        rbac=_rbac_section(path, doc.get("rbac")),
        inventory_roots=list((spec.inventory.roots if spec.inventory else None) or []),
        console=ConsoleSettings(
            theme=(spec.console.theme or "") if spec.console else "",
            keymap=dict((spec.console.keymap or {}) if spec.console else {}),
            ascii=bool(spec.console.ascii) if spec.console else False,
        ),
        repositories=repositories,
    )


def _rbac_section(path: Path, raw: Any) -> dict[str, Any]:
    """The `rbac:` section as written (argocd-rbac-cm keys kept), its policy lines checked now so a
    typo is one clear error at load, not a denial later (governance)."""
    if not isinstance(raw, dict):
        return {}
    from console.engine.governance import rbac

    problems = rbac.validate_config(rbac.from_workspace(raw, "rbac.policy"))
    if problems:
        raise WorkspaceError(f"{path}: {problems[0]}")
    return dict(raw)


def open_workspace(explicit: str | os.PathLike[str] | None = None) -> Workspace:
    return load(find_root(explicit))
