"""What a runbook's checks read about one Application, gathered once per walk and lazily.

Sources: the Application (spec, status, operation state, history), a fresh comparison with Git
(resources, diffs with field-manager attribution, health, conditions, the live snapshot with
children), the AppProject and its sync windows, Git (commits between what runs and what Git
says, their files and subjects), the other Applications (shared resources), the operation Lease
and controller heartbeat. Every source may fail on its own (an unreachable repository, a
cluster down): a check then reports `unknown` with the reason instead of failing the walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from console.cluster.api import ClusterError, NotFound, Obj, ResourceKey
from console.engine import model
from console.engine.appstore import AppStore
from console.engine.compare import Comparison, ResourceState, cluster_time
from console.engine.live import LiveState
from console.engine.refresh import compare_one
from console.engine.runbooks import gitlog
from console.engine.sources import CommitInfo, RepoError
from console.engine.timestamps import parse_time as parse_time
from console.engine.workspace import Workspace

Obj_ = Obj


class FactError(Exception):
    """A source of facts is unavailable; checks turn it into an `unknown` result."""


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    author: str
    email: str
    date: str
    files: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.sha[:7]

    def line(self) -> str:
        return f"{self.short} '{self.subject}' ({self.author})"

    def to_json(self) -> dict[str, Any]:
        return {
            "sha": self.sha,
            "subject": self.subject,
            "author": f"{self.author} <{self.email}>",
            "date": self.date,
            "files": list(self.files),
        }


def ago(now: datetime, then: datetime | None) -> str:
    """`4m ago` (never in the future: a clock skew reads as `just now`)."""
    if then is None:
        return "at an unknown time"
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return "just now" if seconds < 5 else f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m ago"
    return f"{seconds // 86400}d ago"


def clock(then: datetime | None) -> str:
    return then.strftime("%H:%M UTC") if then else "?"


class Facts:
    """The facts about Application `name` in `ws`, each computed on first use."""

    def __init__(self, ws: Workspace, name: str) -> None:
        self.ws = ws
        self.name = name
        self.store = AppStore(ws.control())
        try:
            self.app: Obj = self.store.get_app(name)
        except NotFound:
            raise FactError(f"application {name!r} not found (see `trueup app list`)") from None
        self.now = cluster_time(ws.control())

    # --- the Application -------------------------------------------------------------------------
    @property
    def spec(self) -> Obj:
        return dict(self.app.get("spec") or {})

    @property
    def status(self) -> Obj:
        return dict(self.app.get("status") or {})

    @property
    def project_name(self) -> str:
        return str(self.spec.get("project") or "default")

    @property
    def operation(self) -> Obj:
        return dict(self.status.get("operationState") or {})

    @property
    def history(self) -> list[Obj]:
        return [h for h in self.status.get("history") or [] if isinstance(h, dict)]

    @property
    def automated(self) -> Obj | None:
        auto = (self.spec.get("syncPolicy") or {}).get("automated")
        if not isinstance(auto, dict) or auto.get("enabled") is False:
            return None
        return auto

    @property
    def source(self) -> Obj:
        src = self.spec.get("source")
        if isinstance(src, dict):
            return src
        sources = self.spec.get("sources") or []
        return sources[0] if sources and isinstance(sources[0], dict) else {}

    @property
    def repo_url(self) -> str:
        return str(self.source.get("repoURL") or "")

    @property
    def target_branch(self) -> str:
        rev = str(self.source.get("targetRevision") or "HEAD")
        return "main" if rev in ("", "HEAD") else rev

    def info(self, name: str) -> str:
        for item in self.spec.get("info") or []:
            if isinstance(item, dict) and str(item.get("name") or "").lower() == name.lower():
                return str(item.get("value") or "")
        return ""

    # --- the comparison --------------------------------------------------------------------------
    @cached_property
    def comparison(self) -> Comparison:
        return compare_one(self.ws, self.name)

    @property
    def resources(self) -> list[ResourceState]:
        return list(self.comparison.resources)

    def conditions(self, *types: str) -> list[Obj]:
        return [c for c in self.comparison.conditions if not types or c.get("type") in types]

    @cached_property
    def live(self) -> LiveState | None:
        ctx = self.comparison.context
        cluster = self.comparison.cluster
        if ctx is None or not cluster:
            return None
        return ctx.live.get(cluster)

    def children(self, obj: Obj) -> list[Obj]:
        return self.live.children(obj) if self.live is not None else []

    def pods_of(self, obj: Obj, depth: int = 3) -> list[Obj]:
        """Pods below a workload through ownerReferences (Deployment -> ReplicaSet -> Pod)."""
        out: list[Obj] = []
        frontier = [obj]
        for _ in range(depth):
            nxt: list[Obj] = []
            for o in frontier:
                for child in self.children(o):
                    if child.get("kind") == "Pod":
                        out.append(child)
                    else:
                        nxt.append(child)
            frontier = nxt
        return out

    def live_object(self, api_version: str, kind: str, namespace: str, name: str) -> Obj | None:
        cluster = self.comparison.cluster
        if not cluster:
            return None
        try:
            return self.ws.open_cluster(cluster).get(api_version, kind, namespace, name)
        except (NotFound, ClusterError):
            return None

    # --- revisions and Git -----------------------------------------------------------------------
    @property
    def target_revision(self) -> str:
        """The SHA Git resolves to now (from this walk's comparison)."""
        return self.comparison.revision or str((self.status.get("sync") or {}).get("revision") or "")

    @property
    def deployed_revision(self) -> str:
        """What runs: the newest history entry (what the last full sync applied)."""
        if self.history:
            return str(self.history[-1].get("revision") or "")
        return str((self.operation.get("syncResult") or {}).get("revision") or "")

    @property
    def previous_revision(self) -> str:
        """What ran before the newest history entry (for "what did that sync change")."""
        if len(self.history) >= 2:
            return str(self.history[-2].get("revision") or "")
        return ""

    def paths(self) -> list[str]:
        return gitlog.app_paths(self.app, self.source)

    def commits_between(self, older: str, newer: str, limit: int = 20) -> list[Commit]:
        """Commits in (older, newer] that touched the app's paths, newest first."""
        if not newer or not self.repo_url:
            return []
        if older == newer:
            return []
        try:
            infos = gitlog.log_range(self.ws, self.repo_url, older, newer, self.paths(), limit=limit)
            return [self._commit(i) for i in infos]
        except RepoError as exc:
            raise FactError(str(exc)) from None

    def commit(self, sha: str) -> Commit:
        try:
            info = gitlog.commit_info(self.ws, self.repo_url, sha)
        except RepoError as exc:
            raise FactError(str(exc)) from None
        return self._commit(info)

    def _commit(self, info: CommitInfo) -> Commit:
        try:
            files = tuple(gitlog.changed_files(self.ws, self.repo_url, info.sha))
        except RepoError:
            files = ()
        return Commit(info.sha, info.subject, info.author, info.email, info.date, files)

    def change_lines(self, sha: str, limit: int = 6) -> list[str]:
        """The added/removed lines of a commit within the app's paths (what a reviewer reads)."""
        try:
            return gitlog.changed_lines(self.ws, self.repo_url, sha, self.paths(), limit=limit)
        except RepoError:
            return []

    # --- project, other apps ---------------------------------------------------------------------
    @cached_property
    def project(self) -> model.AppProject | None:
        try:
            return model.parse_project(self.store.get_project(self.project_name))
        except (NotFound, model.SpecError):
            return None

    @cached_property
    def parsed_app(self) -> model.Application | None:
        try:
            return model.parse_application(self.app)
        except model.SpecError:
            return None

    @cached_property
    def other_apps(self) -> list[Obj]:
        return [a for a in self.store.list_apps() if a["metadata"]["name"] != self.name]

    def claims(self) -> dict[ResourceKey, list[str]]:
        """Resources of this app that other apps on the same destination also declare."""
        dest = self.spec.get("destination") or {}
        mine = {r.key for r in self.resources if r.target is not None}
        out: dict[ResourceKey, list[str]] = {}
        for other in self.other_apps:
            odest = (other.get("spec") or {}).get("destination") or {}
            if (odest.get("name") or odest.get("server")) != (dest.get("name") or dest.get("server")):
                continue
            for r in (other.get("status") or {}).get("resources") or []:
                key = ResourceKey(
                    str(r.get("group") or ""),
                    str(r.get("kind") or ""),
                    str(r.get("namespace") or ""),
                    str(r.get("name") or ""),
                )
                if key in mine:
                    out.setdefault(key, []).append(str(other["metadata"]["name"]))
        return out
