"""The fleet change timeline: what changed, by whom, newest first, across apps.

"What changed before it broke" has answers in five places, merged here per Application:

- **commit**: Git commits that touched the app's source path (or the paths its
  `argocd.argoproj.io/manifest-generate-paths` annotation names), with author and subject, and
  whether the app runs that commit yet;
- **sync**: operations from `status.history` and `status.operationState` (initiator, revision,
  result);
- **live-edit**: writes to the app's live objects by other field managers (`kubectl-edit`, an
  operator, a webhook), from managedFields times and the fields they own;
- **health**: health transitions as refreshes and the controller saw them (`status.healthTransitions`);
- **event**: Warning Events of the app's objects (and their children: ReplicaSets, Pods).

Each source is a function in `SOURCES`; `audit` is the audit chain's records (who did what through
trueup, with the reason given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.cluster.api import ClusterError
from console.cluster.events import EventRecord, list_events
from console.engine import observe, repos
from console.engine.audit import report as audit_report
from console.engine.audit.chain import AuditChain
from console.engine.audit.record import PHASE_INTENT, PHASE_RESULT
from console.engine.diff.managedfields import parse_fields_key
from console.engine.diff.resource import OWN_MANAGER
from console.engine.health import transitions as health_transitions
from console.engine.live import LiveState
from console.engine.sources import RepoError
from console.engine.timestamps import parse_time as parse_time
from console.engine.workspace import Workspace

Obj = dict[str, Any]
MANIFEST_GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
# fields controllers keep on objects they do not own: not a human's edit
_BOOKKEEPING_ANNOTATIONS = ("deployment.kubernetes.io/", "autoscaling.alpha.kubernetes.io/")
KINDS = ("commit", "sync", "live-edit", "health", "event", "audit")


@dataclass(frozen=True)
class Change:
    at: datetime
    app: str
    project: str
    kind: str  # commit | sync | live-edit | health | event | audit
    actor: str
    summary: str
    revision: str = ""
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "app": self.app,
            "project": self.project,
            "kind": self.kind,
            "actor": self.actor,
            "summary": self.summary,
        }
        if self.revision:
            out["revision"] = self.revision
        out.update(self.detail)
        return out


class Context:
    """Per-call caches shared by every app: live snapshots and Events per cluster, Git logs."""

    def __init__(self, ws: Workspace, since: datetime | None) -> None:
        self.ws = ws
        self.since = since
        self.git = repos.git_cache(ws)  # URL rewrites and keyring credentials, as a refresh uses
        self.checker = observe.health_checker(ws)
        self._live: dict[str, LiveState | None] = {}
        self._events: dict[str, list[EventRecord]] = {}
        self._audit: dict[str, list[dict[str, Any]]] | None = None
        self.errors: list[str] = []

    def live(self, app: Obj) -> LiveState | None:
        try:
            cluster = observe.destination_cluster(self.ws, app)
        except observe.ObserveError as exc:
            self._error(str(exc))
            return None
        if cluster not in self._live:
            try:
                self._live[cluster] = observe.load_live(self.ws, app)
            except observe.ObserveError as exc:
                self._error(str(exc))
                self._live[cluster] = None
        return self._live[cluster]

    def events(self, app: Obj) -> list[EventRecord]:
        try:
            cluster = observe.destination_cluster(self.ws, app)
        except observe.ObserveError:
            return []
        if cluster not in self._events:
            try:
                self._events[cluster] = list_events(self.ws.open_cluster(cluster), None)
            except ClusterError as exc:
                self._error(f'cannot read events of cluster "{cluster}": {exc.message}')
                self._events[cluster] = []
        return self._events[cluster]

    def audit_records(self, app: str) -> list[dict[str, Any]]:
        """The audit chain's records about `app` (read once per call, from the control cluster)."""
        if self._audit is None:
            self._audit = {}
            try:
                records = AuditChain(self.ws.control()).records()
            except ClusterError as exc:
                self._error(f"cannot read the audit chain: {exc.message}")
                records = []
            for rec in records:
                self._audit.setdefault(str(rec.get("app") or ""), []).append(rec)
        return self._audit.get(app, [])

    def _error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)


Source = Callable[[Context, Obj], Iterable[Change]]


def _ident(app: Obj) -> tuple[str, str]:
    return str(app["metadata"]["name"]), str((app.get("spec") or {}).get("project") or "default")


def _sources(app: Obj) -> list[Obj]:
    spec = app.get("spec") or {}
    if spec.get("sources"):
        return [s for s in spec["sources"] if isinstance(s, dict)]
    return [spec["source"]] if isinstance(spec.get("source"), dict) else []


def _paths(app: Obj, source: Obj) -> list[str]:
    """The repo paths whose commits affect the app (Argo's manifest-generate-paths semantics:
    `;`-separated, relative to the source path, or absolute from the repository root)."""
    import posixpath

    base = str(source.get("path") or ".")
    declared = ((app.get("metadata") or {}).get("annotations") or {}).get(MANIFEST_GENERATE_PATHS)
    if not isinstance(declared, str) or not declared.strip():
        return [base]
    out = []
    for part in declared.split(";"):
        part = part.strip()
        if not part:
            continue
        out.append(
            part.lstrip("/") if part.startswith("/") else posixpath.normpath(posixpath.join(base, part))
        )
    return out or [base]


def commits(ctx: Context, app: Obj) -> Iterable[Change]:
    name, project = _ident(app)
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    history = [h for h in status.get("history") or [] if isinstance(h, dict)]
    deployed_sha = str(history[-1].get("revision") or "") if history else ""
    compared = [
        str(r) for r in ([sync.get("revision")] if sync.get("revision") else sync.get("revisions") or [])
    ]
    for i, src in enumerate(_sources(app)):
        repo = str(src.get("repoURL") or "")
        if not repo or src.get("chart") or (src.get("ref") and not src.get("path")):
            continue
        try:
            head = (
                compared[i]
                if i < len(compared) and compared[i]
                else ctx.git.resolve(repo, str(src.get("targetRevision") or "HEAD"))
            )
            paths = _paths(app, src)
            found = ctx.git.log(repo, head, paths, since=ctx.since)
            running = (
                {c.sha for c in ctx.git.log(repo, deployed_sha, paths, limit=500)} if deployed_sha else set()
            )
        except RepoError as exc:
            ctx._error(f"application {name}: {exc}")
            continue
        for c in found:
            at = parse_time(c.date)
            if at is None:
                continue
            deployed = c.sha in running
            yield Change(
                at,
                name,
                project,
                "commit",
                f"{c.author} <{c.email}>",
                c.subject if deployed or not deployed_sha else f"{c.subject} (not synced yet)",
                c.sha,
                {"deployed": deployed, "paths": paths},
            )


def syncs(ctx: Context, app: Obj) -> Iterable[Change]:
    name, project = _ident(app)
    status = app.get("status") or {}
    seen: set[tuple[str, str]] = set()
    for h in status.get("history") or []:
        if not isinstance(h, dict):
            continue
        at = parse_time(h.get("deployedAt"))
        if at is None:
            continue
        by = h.get("initiatedBy") or {}
        rev = str(h.get("revision") or ",".join(h.get("revisions") or []))
        seen.add((str(h.get("deployedAt")), rev))
        actor = str(by.get("username") or ("automated" if by.get("automated") else "unknown"))
        yield Change(
            at,
            name,
            project,
            "sync",
            actor + (" (automated)" if by.get("automated") and by.get("username") else ""),
            f"synced to {rev[:7] or '?'}: Succeeded",
            rev,
            {"phase": "Succeeded", "historyId": h.get("id")},
        )
    op = status.get("operationState") or {}
    if not op:
        return
    at = parse_time(op.get("finishedAt")) or parse_time(op.get("startedAt"))
    rev = str(
        (op.get("syncResult") or {}).get("revision")
        or ((op.get("operation") or {}).get("sync") or {}).get("revision")
        or ""
    )
    if at is None or (str(op.get("finishedAt")), rev) in seen:
        return
    by = (op.get("operation") or {}).get("initiatedBy") or {}
    phase = str(op.get("phase") or "")
    message = " ".join(str(op.get("message") or "").split())
    yield Change(
        at,
        name,
        project,
        "sync",
        str(by.get("username") or ("automated" if by.get("automated") else "unknown")),
        f"sync to {rev[:7] or '?'}: {phase}" + (f": {message}" if message else ""),
        rev,
        {"phase": phase},
    )


def _leaves(tree: Any, prefix: list[str]) -> Iterable[list[str]]:
    if not isinstance(tree, dict) or not tree:
        yield prefix
        return
    keys = [k for k in tree if k != "."]
    if not keys:
        yield prefix
        return
    for k in keys:
        yield from _leaves(tree[k], [*prefix, k])


def _readable(path: list[str]) -> str:
    out = ""
    for token in path:
        kind, arg = parse_fields_key(token)
        if kind == "f":
            out += ("." if out else "") + str(arg)
        elif kind == "k" and isinstance(arg, dict):
            out += "[" + ",".join(str(v) for v in arg.values()) + "]"
        elif kind == "v":
            out += f"[{arg}]"
        elif kind == "i":
            out += f"[{arg}]"
    return out


def _bookkeeping(path: list[str]) -> bool:
    if path[:1] == ["f:status"]:
        return True
    if path[:2] == ["f:metadata", "f:annotations"] and len(path) >= 3:
        key = path[2][2:]
        return key.startswith(_BOOKKEEPING_ANNOTATIONS)
    return False


def live_edits(ctx: Context, app: Obj) -> Iterable[Change]:
    name, project = _ident(app)
    live = ctx.live(app)
    if live is None:
        return
    for node in observe.resource_tree(app, live, ctx.checker):
        obj = node.live
        if obj is None:
            continue
        for entry in (obj.get("metadata") or {}).get("managedFields") or []:
            manager = str(entry.get("manager") or "")
            if not manager or manager == OWN_MANAGER or entry.get("subresource"):
                continue
            at = parse_time(entry.get("time"))
            if at is None or (ctx.since is not None and at < ctx.since):
                continue
            fields = [p for p in _leaves(entry.get("fieldsV1") or {}, []) if p and not _bookkeeping(p)]
            if not fields:
                continue
            shown = [_readable(p) for p in fields[:3]]
            more = f" (+{len(fields) - 3} more)" if len(fields) > 3 else ""
            where = f"{node.namespace}/" if node.namespace else ""
            yield Change(
                at,
                name,
                project,
                "live-edit",
                manager,
                f"{node.kind} {where}{node.name}: {', '.join(shown)}{more} ({entry.get('operation', 'Update')})",
                detail={
                    "resource": node.id,
                    "operation": entry.get("operation", ""),
                    "fields": [_readable(p) for p in fields],
                },
            )


def health(ctx: Context, app: Obj) -> Iterable[Change]:
    name, project = _ident(app)
    for t in health_transitions.transitions(app):
        at = parse_time(t.get("at"))
        if at is None:
            continue
        before = str(t.get("from") or "")
        if not before and t.get("status") == "Healthy":
            continue  # the first observation of a healthy app says nothing changed
        text = f"health {before} -> {t.get('status')}" if before else f"health {t.get('status')}"
        if t.get("message"):
            text += f": {' '.join(str(t['message']).split())}"
        yield Change(
            at, name, project, "health", "trueup", text, detail={"status": t.get("status"), "from": before}
        )


def warning_events(ctx: Context, app: Obj) -> Iterable[Change]:
    """Warning Events of the app's objects; the same warning on several objects (every Pod of a
    ReplicaSet failing to pull one image) is one change naming how many."""
    name, project = _ident(app)
    live = ctx.live(app)
    if live is None:
        return
    tree = observe.resource_tree(app, live, ctx.checker)
    nodes = list(observe.walk(tree))
    uids = {n.uid for n in nodes if n.uid}
    keys = {(n.kind, n.namespace, n.name) for n in nodes}
    groups: dict[tuple[str, str, str, str, str], list[EventRecord]] = {}
    for e in ctx.events(app):
        if not e.warning or e.last is None:
            continue
        inv = e.involved
        if not ((inv.uid and inv.uid in uids) or (inv.kind, inv.namespace, inv.name) in keys):
            continue
        groups.setdefault((e.reason, e.message, inv.kind, inv.namespace, e.component), []).append(e)
    for (reason, message, kind, ns, component), evs in groups.items():
        last = max(e.last for e in evs if e.last is not None)
        count = sum(e.count for e in evs)
        objects = sorted({e.involved.name for e in evs})
        where = f"{ns}/" if ns else ""
        if len(objects) == 1:
            what = f"{kind} {where}{objects[0]}"
        else:
            what = f"{len(objects)} {kind}s in {ns or 'the cluster'} ({objects[0]}, ...)"
        times = f" (x{count})" if count > 1 else ""
        yield Change(
            last,
            name,
            project,
            "event",
            component or "unknown",
            f"{reason} {what}: {' '.join(message.split())}{times}",
            detail={"reason": reason, "count": count, "objects": objects},
        )


def audit(ctx: Context, app: Obj) -> Iterable[Change]:
    """What people (and the controller) did to the app through trueup: one change per attempt
    refused before it ran and per result; an intent without a result shows as in progress."""
    name, project = _ident(app)
    records = ctx.audit_records(name)
    finished = {int(r.get("intentSeq") or 0) for r in records if r.get("phase") == PHASE_RESULT}
    for rec in records:
        phase = str(rec.get("phase") or "")
        if phase == PHASE_INTENT and int(rec.get("seq") or 0) in finished:
            continue
        at = parse_time(rec.get("time"))
        if at is None:
            continue
        outcome = "in progress" if phase == PHASE_INTENT else str(rec.get("outcome") or "")
        summary = f"{rec.get('action') or '?'}: {outcome}"
        if rec.get("reason"):
            summary += f' (reason: "{" ".join(str(rec["reason"]).split())}")'
        more = audit_report.details(rec)
        if more:
            summary += f"; {more}"
        yield Change(
            at,
            name,
            str(rec.get("project") or project),
            "audit",
            audit_report.actor_text(rec),
            summary,
            str((rec.get("parameters") or {}).get("revision") or ""),
            {"seq": rec.get("seq"), "outcome": outcome, "breakGlass": bool(rec.get("breakGlass"))},
        )


SOURCES: list[Source] = [commits, syncs, live_edits, health, warning_events, audit]


@dataclass
class Timeline:
    changes: list[Change]
    errors: list[str]


def timeline(
    ws: Workspace,
    apps: Sequence[Obj],
    *,
    since: datetime | None = None,
    sources: Sequence[Source] | None = None,
) -> Timeline:
    """Every change of `apps` at or after `since`, newest first. A source failing for one app
    (unreachable cluster, repo error) is reported in `errors`; the others still count."""
    ctx = Context(ws, since)
    out: list[Change] = []
    for app in apps:
        for source in sources or SOURCES:
            for change in source(ctx, app):
                if since is None or change.at >= since:
                    out.append(change)
    kind_order = {k: i for i, k in enumerate(KINDS)}
    out.sort(key=lambda c: (c.at, -kind_order.get(c.kind, 9), c.app, c.summary), reverse=True)
    return Timeline(out, ctx.errors)
