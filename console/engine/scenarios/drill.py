"""What a scenario may do, and only that: act as the people and systems around a real fleet.

A drill never writes engine state (Application status, operation state, history). It acts
through the interfaces a real actor has:

- a teammate commits to the workspace's working clone and pushes (`commit`);
- someone or something writes a live object under its own field manager (`live_edit`, `create`);
- the image registry loses or never had an image (`registry_drop`: the sim's registry model);
- the Git server loses a repository (`move_repository`);
- the controller reconciles (`reconcile`: the real controller loop, as `system:trueup-controller`);
- time passes (`advance`: every sim clock by the same amount, so clusters never disagree).

Each action is recorded as a `Step` (actor, what, detail) for `trueup scenario run` to print.
"""

from __future__ import annotations

import copy
import io
import os
import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from console.cluster.api import Cluster, NotFound, Obj
from console.engine.appstore import AppStore
from console.engine.compare import cluster_time
from console.engine.controller.log import ControllerLog
from console.engine.controller.loop import Controller
from console.engine.sources.workclone import Clone, CloneError, Identity, commit_and_push, find_clone
from console.engine.sync.operation import is_in_progress, operation_state
from console.engine.workspace import Workspace

CONTROLLER_ACTOR = "system:trueup-controller"


class ScenarioError(Exception):
    """A drill cannot run here (not a sim workspace, app unsuitable, clone dirty); says what to do."""


@dataclass(frozen=True)
class Step:
    actor: str
    action: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"actor": self.actor, "action": self.action, "detail": self.detail}


@dataclass
class Drill:
    """One scenario run against one Application of a sim workspace."""

    ws: Workspace
    app: Obj
    steps: list[Step] = field(default_factory=list)
    commits: list[dict[str, str]] = field(default_factory=list)
    on_step: Callable[[Step], None] | None = None

    # --- the target ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.app["metadata"]["name"])

    @property
    def spec(self) -> Obj:
        return dict(self.app.get("spec") or {})

    @property
    def source(self) -> Obj:
        src = self.spec.get("source")
        if not isinstance(src, dict):
            raise ScenarioError(
                f"application {self.name} has no single `spec.source`; pick another with --app"
            )
        return src

    @property
    def path(self) -> str:
        return str(self.source.get("path") or ".").strip("/") or "."

    @property
    def branch(self) -> str:
        rev = str(self.source.get("targetRevision") or "HEAD")
        return "main" if rev in ("HEAD", "") else rev

    @property
    def namespace(self) -> str:
        return str((self.spec.get("destination") or {}).get("namespace") or "")

    @property
    def cluster_name(self) -> str:
        dest = self.spec.get("destination") or {}
        cfg = self.ws.cluster_for_destination(str(dest.get("server") or ""), str(dest.get("name") or ""))
        if cfg is None:
            raise ScenarioError(
                f"application {self.name}: its destination is not a cluster of this workspace"
            )
        return cfg.name

    def cluster(self, name: str | None = None) -> Cluster:
        return self.ws.open_cluster(name or self.cluster_name)

    def auto_sync(self) -> bool:
        return "automated" in (self.spec.get("syncPolicy") or {})

    def require_auto_sync(self, scenario: str) -> None:
        if not self.auto_sync():
            raise ScenarioError(
                f"scenario {scenario} needs an application with automated sync; {self.name} syncs manually "
                "(see `trueup app list -o wide`)"
            )

    def now(self) -> datetime:
        return cluster_time(self.ws.control())

    def record(self, actor: str, action: str, detail: str) -> None:
        step = Step(actor, action, detail)
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    # --- people ----------------------------------------------------------------------------------
    def person(self, user: str, fallback_name: str = "", fallback_email: str = "") -> Identity:
        """A workspace user (name and email from `users:` in trueup.yaml), as Git knows them."""
        info = self.ws.users.get(user) if isinstance(self.ws.users, dict) else None
        name = fallback_name or user
        email = fallback_email or f"{user}@example.invalid"
        if isinstance(info, dict):
            name = str(info.get("name") or name)
            email = str(info.get("email") or email)
        return Identity(name, email)

    # --- Git -------------------------------------------------------------------------------------
    def clone(self, repo_url: str | None = None) -> Clone:
        url = repo_url or str(self.source.get("repoURL") or "")
        found = find_clone(self.ws.root, url)
        if found is None:
            raise ScenarioError(
                f"no working clone of {url} in the workspace (the demo has one in fleet/); "
                "drills commit there as a teammate would"
            )
        return found

    def read(self, rel: str, repo_url: str | None = None) -> str:
        clone = self.clone(repo_url)
        path = clone.path / rel
        try:
            return path.read_text()
        except OSError:
            raise ScenarioError(f"{clone.shown}/{rel} does not exist; this drill needs it") from None

    def exists(self, rel: str, repo_url: str | None = None) -> bool:
        return (self.clone(repo_url).path / rel).is_file()

    def commit(
        self, files: Mapping[str, str | None], subject: str, author: Identity, repo_url: str | None = None
    ) -> str:
        clone = self.clone(repo_url)
        try:
            sha = commit_and_push(clone, self.branch, files, subject, author, at=self.now())
        except CloneError as exc:
            raise ScenarioError(str(exc)) from None
        self.commits.append({"sha": sha, "subject": subject, "author": f"{author.name} <{author.email}>"})
        self.record(
            f"{author.name} <{author.email}>",
            "git commit + push",
            f"{sha[:7]} {subject!r} ({', '.join(sorted(files))}) pushed to {clone.remote}/{self.branch}",
        )
        return sha

    def move_repository(self, repo_url: str, actor: str) -> Path:
        """The Git server loses the repository (renamed by an admin): a file:// repository only."""
        if not repo_url.startswith("file://"):
            raise ScenarioError(f"the repository {repo_url} is not a local file:// repository of the demo")
        src = Path(repo_url[len("file://") :])
        try:
            src.relative_to(self.ws.root)
        except ValueError:
            raise ScenarioError(
                f"the repository {repo_url} is outside the workspace; drills only move their own"
            ) from None
        if not src.is_dir():
            raise ScenarioError(f"the repository {src.relative_to(self.ws.root)} is already gone")
        dest = src.with_name(src.name + ".moved")
        shutil.move(str(src), str(dest))
        self.record(
            actor, "repository moved", f"{src.relative_to(self.ws.root)} -> {dest.relative_to(self.ws.root)}"
        )
        return dest

    # --- live objects ----------------------------------------------------------------------------
    def live_edit(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        mutate: Callable[[Obj], None],
        manager: str,
        actor: str,
        what: str,
        cluster: str | None = None,
    ) -> Obj:
        c = self.cluster(cluster)
        try:
            obj = c.get(api_version, kind, namespace, name)
        except NotFound:
            raise ScenarioError(
                f"{kind} {namespace}/{name} is not on cluster {cluster or self.cluster_name}; this drill needs it"
            ) from None
        new = copy.deepcopy(obj)
        mutate(new)
        out = c.update(new, field_manager=manager)
        self.record(f"{actor} (field manager {manager})", "live edit", f"{kind} {namespace}/{name}: {what}")
        return out

    def create(self, obj: Obj, manager: str, actor: str, what: str, cluster: str | None = None) -> Obj:
        out = self.cluster(cluster).create(obj, field_manager=manager)
        md = obj.get("metadata") or {}
        ns = f"{md['namespace']}/" if md.get("namespace") else ""
        self.record(
            f"{actor} (field manager {manager})", "create", f"{obj.get('kind')} {ns}{md.get('name')}: {what}"
        )
        return out

    def registry_drop(self, pattern: str, actor: str, why: str, cluster: str | None = None) -> None:
        """The cluster's registry cannot serve images matching `pattern` (fnmatch glob)."""
        c = self.cluster(cluster)
        get_meta = getattr(c, "get_meta", None)
        set_meta = getattr(c, "set_meta", None)
        if not callable(get_meta) or not callable(set_meta):
            raise ScenarioError(f"cluster {cluster or self.cluster_name} is not a sim cluster")
        current = list(get_meta("unpullable_images", []) or [])
        if pattern not in current:
            set_meta("unpullable_images", [*current, pattern])
        self.record(
            actor, "image missing", f"{pattern} cannot be pulled on {cluster or self.cluster_name}: {why}"
        )

    # --- time and the controller -----------------------------------------------------------------
    def advance(self, seconds: float, why: str) -> None:
        for cfg in self.ws.clusters.values():
            c = self.ws.open_cluster(cfg.name)
            clock = getattr(c, "clock", None)
            if clock is not None:
                clock.advance(seconds)
            tick = getattr(c, "tick", None)
            if callable(tick):
                tick()
        self.record("sim clock", "fast-forward", f"+{_duration(seconds)} on every sim cluster ({why})")

    def reconcile(
        self,
        why: str,
        *,
        passes: int = 10,
        settle: float = 5.0,
        max_settle: float = 60.0,
        until: Callable[[], bool] | None = None,
    ) -> None:
        """Controller passes (each a full one: refresh every app, auto-sync, operations) until no
        operation runs and `until` holds, or `passes` ran. Between passes the sim clocks advance
        `settle` seconds, doubling up to `max_settle`, so rollouts, hooks and retry backoffs
        progress. The last thing done is always a pass, so statuses show the outcome."""
        holder = f"scenario-{socket.gethostname()}-{os.getpid()}"
        summary: list[str] = []
        step = settle
        for i in range(passes):
            ctl = Controller(self.ws, holder=holder, watch=False, log=ControllerLog(stream=io.StringIO()))
            try:
                decisions = ctl.run_once()
            finally:
                ctl.close()
            for d in decisions:
                if d.action in ("sync", "self-heal") or (
                    d.action == "operation" and d.phase not in (None, "Running")
                ):
                    summary.append(_describe_decision(d))
            if i == passes - 1:
                break
            busy = any(is_in_progress(a) for a in AppStore(self.ws.control()).list_apps())
            if i > 0 and not busy and (until is None or until()):
                break
            self.advance_quietly(step)
            step = min(step * 2, max_settle)
        text = "; ".join(dict.fromkeys(summary)) or "nothing to do"
        self.record(CONTROLLER_ACTOR, "reconcile", f"{why}: {text}")

    def refresh(self, why: str) -> None:
        """Compare every app and write its status, without auto-sync (what a console shows)."""
        from console.engine.refresh import refresh

        report = refresh(self.ws)
        self.record(CONTROLLER_ACTOR, "refresh", f"{why} ({len(report.comparisons)} apps)")

    def advance_quietly(self, seconds: float) -> None:
        for cfg in self.ws.clusters.values():
            c = self.ws.open_cluster(cfg.name)
            clock = getattr(c, "clock", None)
            if clock is not None:
                clock.advance(seconds)

    def operation(self, app: str | None = None) -> Obj:
        return operation_state(AppStore(self.ws.control()).get_app(app or self.name)) or {}

    def app_obj(self, app: str | None = None) -> Obj:
        return AppStore(self.ws.control()).get_app(app or self.name)


def _describe_decision(d: Any) -> str:
    if d.action in ("sync", "self-heal"):
        rev = f" to {d.revision[:7]}" if d.revision else ""
        return f"{d.action} {d.app}{rev}"
    text = f"{d.app} operation {d.phase}"
    if d.reason:
        text += f" ({' '.join(str(d.reason).split())[:160]})"
    return text


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s" if s % 60 else f"{s // 60}m"
    return f"{s}s"
