"""Checks about revisions and syncs: is Git ahead, was auto-sync expected, is a window blocking,
what did the last sync do or why did it fail, which commit is responsible."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from console.cluster.api import ResourceKey
from console.engine import tracking
from console.engine.governance import windows
from console.engine.runbooks.checks.base import Result, check, one_line, resource
from console.engine.runbooks.facts import Commit, FactError, Facts, ago, clock, parse_time

FAILURE_CLASSES = ("immutable", "capacity", "policy", "permission", "dependency", "config", "none")
_IMMUTABLE = (
    "field is immutable",
    "may not change once set",
    "updates to statefulset spec for fields other than",
)
_DEPENDENCY = (
    "could not find the requested resource",
    "no matches for kind",
    "is not served by cluster",
    "ensure crds are installed",
)


def _rev(sha: str) -> str:
    return sha[:7] if sha else "?"


def _commit_lines(facts: Facts, commits: list[Commit], limit: int = 5) -> list[str]:
    lines = []
    for c in commits[:limit]:
        files = f"; changed {', '.join(c.files[:3])}" + (" …" if len(c.files) > 3 else "") if c.files else ""
        lines.append(
            f"commit {c.short} '{c.subject}' by {c.author}, {ago(facts.now, parse_time(c.date))}{files}"
        )
    if len(commits) > limit:
        lines.append(f"… and {len(commits) - limit} older commit(s)")
    return lines


def _tracked_elsewhere(facts: Facts, key: ResourceKey, live: dict[str, Any] | None) -> str:
    if live is None:
        return ""
    owner = tracking.app_of(live, facts.ws.settings.tracking_annotation)
    return owner if owner and owner != facts.name else ""


# --- state of the app -----------------------------------------------------------------------------


@check("app-out-of-sync", "the app differs from Git (OutOfSync), or another app claims its resources")
def app_out_of_sync(facts: Facts, _p: Any) -> Result:
    cmp = facts.comparison
    changed = [r for r in cmp.resources if r.status == "OutOfSync" and not r.hook]
    shared = facts.conditions("SharedResourceWarning")
    claims = facts.claims()
    if cmp.sync_status != "OutOfSync" and not shared and not claims:
        return Result("no", f"{cmp.sync_status}: live matches Git at {_rev(cmp.revision)}")
    evidence = [
        f"{resource(r.key)}: {'missing from the cluster' if r.live is None else 'OutOfSync'}"
        for r in changed[:8]
    ]
    evidence += [one_line(c.get("message")) for c in shared[:4]]
    summary = f"{cmp.sync_status}: {len(changed)} of {len([r for r in cmp.resources if not r.hook])} resources differ from Git at {_rev(cmp.revision)}"
    if claims and not shared:
        summary += f"; {len(claims)} resource(s) also declared by another app"
    return Result("yes", summary, evidence)


@check("app-synced", "the app is Synced to Git")
def app_synced(facts: Facts, _p: Any) -> Result:
    cmp = facts.comparison
    if cmp.sync_status == "Synced":
        return Result("yes", f"Synced to {_rev(cmp.revision)}")
    return Result("no", f"{cmp.sync_status} at {_rev(cmp.revision)}")


@check(
    "git-ahead",
    "Git holds changes the cluster does not run yet (commits on the app's paths, resources changed in Git)",
)
def git_ahead(facts: Facts, _p: Any) -> Result:
    deployed, target = facts.deployed_revision, facts.target_revision
    try:
        commits = (
            facts.commits_between(deployed, target) if deployed and target and deployed != target else []
        )
    except FactError as exc:
        return Result("unknown", f"cannot read the Git history: {exc}")
    pending = []
    for r in facts.resources:
        if r.status != "OutOfSync" or r.hook or _tracked_elsewhere(facts, r.key, r.live):
            continue
        if r.live is None:
            pending.append(f"{resource(r.key)}: new in Git, missing from the cluster")
        elif r.requires_pruning:
            pending.append(f"{resource(r.key)}: removed from Git, still live (requires pruning)")
        elif r.diff is not None and r.diff.attributions and not any(a.drift for a in r.diff.attributions):
            paths = ", ".join(sorted({a.path for a in r.diff.attributions})[:3])
            pending.append(f"{resource(r.key)}: {paths} changed in Git; live is what trueup applied")
    if not commits and not pending:
        return Result("no", f"no: live runs {_rev(deployed)} and Git has no change for this app since")
    if commits:
        head = commits[0]
        n = len(commits)
        summary = f"Git is {n} commit{'s' if n != 1 else ''} ahead: live {_rev(deployed)} -> Git {head.short} '{head.subject}'"
    else:
        summary = f"Git changes are not applied yet ({len(pending)} resource(s)); live runs {_rev(deployed)}"
    data: dict[str, Any] = {"from": deployed, "to": target, "commits": [c.to_json() for c in commits]}
    if commits:
        data["commit"] = commits[-1].to_json() if len(commits) == 1 else commits[0].to_json()
    lines = _commit_lines(facts, commits)
    if commits:
        lines += [f"  {line}" for line in facts.change_lines(commits[0].sha)]
    return Result("yes", summary, lines + pending[:8], data)


@check("auto-sync", "automated sync is enabled for the app (and what it does with drift)")
def auto_sync(facts: Facts, _p: Any) -> Result:
    auto = facts.automated
    if auto is None:
        return Result("no", "no: manual sync policy; changes wait until someone syncs")
    flags = [
        f"prune {'on' if auto.get('prune') else 'off'}",
        f"selfHeal {'on' if auto.get('selfHeal') else 'off'}",
    ]
    evidence = []
    if not auto.get("selfHeal"):
        evidence.append(
            "selfHeal is off: live edits stay until someone syncs (auto-sync reacts to new Git revisions only)"
        )
    op = facts.operation
    if (op.get("operation") or {}).get("initiatedBy", {}).get("automated"):
        result = op.get("syncResult") or {}
        evidence.append(
            f"last automated sync: {_rev(str(result.get('revision') or ''))} {op.get('phase')} "
            f"{ago(facts.now, parse_time(op.get('finishedAt') or op.get('startedAt')))}"
            + (f": {one_line(op.get('message'), 200)}" if op.get("phase") != "Succeeded" else "")
        )
    for c in facts.conditions("SyncError"):
        evidence.append(one_line(c.get("message"), 240))
    return Result("yes", f"yes: automated sync ({', '.join(flags)})", evidence)


# --- sync windows ---------------------------------------------------------------------------------


def _window_text(w: Any) -> str:
    name = w.description or f"{w.kind} {w.schedule} {w.duration}"
    return name


@check(
    "sync-window", "an active sync window (deny, or outside every allow window) blocks syncs of the app now"
)
def sync_window(facts: Facts, _p: Any) -> Result:
    project, app = facts.project, facts.parsed_app
    if project is None or app is None:
        return Result("unknown", f"cannot read project {facts.project_name!r} or the application spec")
    dest = facts.spec.get("destination") or {}
    cfg = facts.ws.cluster_for_destination(str(dest.get("server") or ""), str(dest.get("name") or ""))
    name = cfg.name if cfg else str(dest.get("name") or "")
    server = cfg.server if cfg else str(dest.get("server") or "")
    active, inactive_allow = windows.active_windows(project, app, facts.now, name, server)
    auto_ok, state = windows.can_sync(active, inactive_allow, False)
    manual_ok, _ = windows.can_sync(active, inactive_allow, True)
    if auto_ok:
        return Result("no", "no: no sync window blocks this application now")
    evidence = []
    until = None
    for w in active:
        if w.kind != "deny":
            continue
        end = windows.next_change(w, facts.now)
        until = end if until is None or end > until else until
        where = ", ".join(w.clusters or w.namespaces or w.applications)
        evidence.append(
            f"deny window '{_window_text(w)}' ({where}; schedule '{w.schedule}' {w.time_zone or 'UTC'}, {w.duration}) "
            f"active until {clock(end)}"
            + ("; manual syncs allowed" if w.manual_sync else "; manual syncs blocked too")
        )
    if not evidence:
        for w in inactive_allow:
            nxt = windows.next_change(w, facts.now)
            evidence.append(f"outside allow window '{_window_text(w)}': it next opens at {clock(nxt)}")
            until = nxt if until is None or nxt < until else until
    first = active[0] if active else (inactive_allow[0] if inactive_allow else None)
    summary = f"yes: {evidence[0]}" if evidence else f"yes: {state}"
    data = {
        "state": state,
        "manualAllowed": manual_ok,
        "until": until.strftime("%Y-%m-%dT%H:%M:%SZ") if until else "",
        "window": _window_text(first) if first else "",
    }
    return Result("yes", summary, evidence, data)


# --- the last operation ---------------------------------------------------------------------------


def classify_failure(message: str) -> str:
    low = message.lower()
    if any(s in low for s in _IMMUTABLE):
        return "immutable"
    if "exceeded quota" in low:
        return "capacity"
    if "validatingadmissionpolicy" in low or "admission webhook" in low or "denied the request" in low:
        return "policy"
    if "not permitted in project" in low or "is not permitted" in low or "blocked by sync window" in low:
        return "policy"
    if any(s in low for s in _DEPENDENCY) or re.search(r'namespaces? "[^"]+" not found', low):
        return "dependency"
    if "cannot " in low and " is forbidden: user " in low:
        return "permission"
    return "config"


_CLASS_WORDS = {
    "immutable": "an immutable field changed (config error)",
    "capacity": "cluster capacity (a quota)",
    "policy": "policy (admission or project rules)",
    "permission": "permission (RBAC)",
    "dependency": "a platform dependency is missing",
    "config": "a config error in the manifests",
}


def _failures(op: dict[str, Any]) -> list[tuple[str, str]]:
    """(resource, message) of the failed tasks of the last operation; the operation message if none."""
    out = []
    for r in (op.get("syncResult") or {}).get("resources") or []:
        if r.get("status") == "SyncFailed" or r.get("hookPhase") in ("Failed", "Error"):
            ns = f"{r.get('namespace')}/" if r.get("namespace") else ""
            out.append((f"{r.get('kind')} {ns}{r.get('name')}", str(r.get("message") or "")))
    if not out and op.get("message"):
        out.append(("", str(op.get("message"))))
    return out


def _owner_note(facts: Facts, message: str) -> str:
    """Who put the refusing object there: the quota or policy named in an apiserver message."""
    m = re.search(r"exceeded quota: ([a-z0-9.-]+)", message)
    ns = ""
    for r in facts.resources:
        ns = r.key.namespace or ns
    if m:
        obj = facts.live_object(
            "v1",
            "ResourceQuota",
            str((facts.spec.get("destination") or {}).get("namespace") or ns),
            m.group(1),
        )
        return _created_by(facts, obj, f"quota {m.group(1)}")
    m = re.search(r"ValidatingAdmissionPolicy '([^']+)'(?: with binding '([^']+)')?", message)
    if m:
        obj = facts.live_object(
            "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "", m.group(1)
        )
        return _created_by(facts, obj, f"policy {m.group(1)}")
    return ""


def _created_by(facts: Facts, obj: dict[str, Any] | None, what: str) -> str:
    if obj is None:
        return ""
    md = obj.get("metadata") or {}
    writes = [e for e in md.get("managedFields") or [] if isinstance(e, dict) and not e.get("subresource")]
    writes.sort(key=lambda e: str(e.get("time") or ""))
    manager = str(writes[0].get("manager") or "") if writes else ""
    when = parse_time(md.get("creationTimestamp"))
    who = f" by {manager}" if manager else ""
    return f"{what} was created{who} {ago(facts.now, when)}"


@check(
    "sync-failure",
    "the last sync failed, and what kind of failure it is (§23.4: config, policy, dependency, capacity)",
    FAILURE_CLASSES,
)
def sync_failure(facts: Facts, _p: Any) -> Result:
    op = facts.operation
    phase = str(op.get("phase") or "")
    if phase not in ("Failed", "Error"):
        return Result("none", f"no: the last operation {phase or 'never ran'}")
    failures = _failures(op)
    text = " ".join(m for _, m in failures)
    kind = classify_failure(text)
    rev = str(
        (op.get("syncResult") or {}).get("revision")
        or (op.get("operation") or {}).get("sync", {}).get("revision")
        or ""
    )
    who = (
        "automated"
        if (op.get("operation") or {}).get("initiatedBy", {}).get("automated")
        else str((op.get("operation") or {}).get("initiatedBy", {}).get("username") or "someone")
    )
    when = parse_time(op.get("finishedAt") or op.get("startedAt"))
    evidence = []
    for res, msg in failures[:5]:
        evidence.append(f"{res}: {one_line(msg, 400)}" if res else one_line(msg, 400))
    note = _owner_note(facts, text)
    if note:
        evidence.append(note)
    retries = op.get("retryCount")
    if retries:
        evidence.append(f"retried {retries} time(s) with the same result: retrying again will not fix it")
    summary = f"sync to {_rev(rev)} ({who}, {clock(when)}) {phase}: {_CLASS_WORDS[kind]}"
    return Result(
        kind, summary, evidence, {"revision": rev, "class": kind, "messages": [m for _, m in failures]}
    )


def _range_of_last_operation(facts: Facts) -> tuple[str, str]:
    """(what ran before, what the last operation brought) for "which commit did it"."""
    op = facts.operation
    rev = str((op.get("syncResult") or {}).get("revision") or "")
    if op.get("phase") in ("Failed", "Error", "Running", "Terminating"):
        return facts.deployed_revision, rev or facts.target_revision
    return facts.previous_revision, facts.deployed_revision


@check("offending-commit", "the commit(s) the last operation brought (or tried to bring) to the cluster")
def offending_commit(facts: Facts, _p: Any) -> Result:
    older, newer = _range_of_last_operation(facts)
    if not newer:
        return Result("unknown", "no operation has run for this application")
    try:
        commits = facts.commits_between(older, newer)
    except FactError as exc:
        return Result("unknown", f"cannot read the Git history: {exc}")
    if not commits:
        return Result("no", f"no commit on the app's paths between {_rev(older)} and {_rev(newer)}")
    chosen = commits[0]
    evidence = _commit_lines(facts, commits)
    evidence += [f"  {line}" for line in facts.change_lines(chosen.sha)]
    return Result(
        "yes",
        f"commit {chosen.short} '{chosen.subject}' by {chosen.author}",
        evidence,
        {"commit": chosen.to_json(), "commits": [c.to_json() for c in commits]},
    )


@check("auto-synced-commit", "auto-sync deployed a new revision, and which commit it brought")
def auto_synced_commit(facts: Facts, _p: Any) -> Result:
    op = facts.operation
    initiated = (op.get("operation") or {}).get("initiatedBy") or {}
    history = facts.history
    if not initiated.get("automated") or op.get("phase") != "Succeeded" or len(history) < 2:
        return Result("no", "no: the running revision was not deployed by auto-sync")
    newer, older = facts.deployed_revision, facts.previous_revision
    if newer == older:
        return Result("no", f"no: the last auto-sync re-applied {_rev(newer)} (no new revision)")
    finished = parse_time(op.get("finishedAt"))
    started = parse_time(op.get("startedAt"))
    # the degradation must have begun with that sync: a workload's newest ReplicaSet dates from it
    late = []
    for r in facts.resources:
        if r.key.kind != "Deployment" or r.live is None or started is None:
            continue
        times = [
            t
            for c in facts.children(r.live)
            if c.get("kind") == "ReplicaSet"
            and (t := parse_time((c.get("metadata") or {}).get("creationTimestamp"))) is not None
        ]
        unhealthy = r.health is not None and r.health.status != "Healthy"
        if times and max(times) < started - timedelta(seconds=5) and unhealthy:
            late.append(resource(r.key))
    try:
        commits = facts.commits_between(older, newer)
    except FactError as exc:
        return Result("unknown", f"cannot read the Git history: {exc}")
    if not commits:
        return Result(
            "no", f"auto-sync moved {_rev(older)} -> {_rev(newer)} without a change on the app's paths"
        )
    if late:
        return Result(
            "no", f"no: {', '.join(late)} started rolling out before the auto-sync at {clock(started)}"
        )
    chosen = commits[0]
    evidence = [
        f"auto-sync deployed {chosen.short} '{chosen.subject}' ({chosen.author}) at {clock(finished)}, "
        f"{ago(facts.now, finished)}; before it ran {_rev(older)}"
    ]
    evidence += _commit_lines(facts, commits)[0 if len(commits) > 1 else 1 :]
    evidence += [f"  {line}" for line in facts.change_lines(chosen.sha)]
    return Result(
        "yes",
        f"auto-sync deployed {chosen.short} '{chosen.subject}' by {chosen.author} at {clock(finished)}",
        evidence,
        {
            "commit": chosen.to_json(),
            "commits": [c.to_json() for c in commits],
            "syncedAt": op.get("finishedAt"),
        },
    )


class RunningParams(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)
    min_minutes: int = Field(default=3, ge=0, alias="minMinutes")


@check("operation-running", "an operation has been running longer than minMinutes", params=RunningParams)
def operation_running(facts: Facts, p: RunningParams) -> Result:
    op = facts.operation
    if op.get("phase") not in ("Running", "Terminating"):
        return Result("no", f"no operation is running (last: {op.get('phase') or 'none'})")
    started = parse_time(op.get("startedAt"))
    minutes = (facts.now - started).total_seconds() / 60 if started else 0.0
    rev = str((op.get("syncResult") or {}).get("revision") or "")
    initiated = (op.get("operation") or {}).get("initiatedBy") or {}
    who = "automated" if initiated.get("automated") else str(initiated.get("username") or "?")
    text = (
        f"sync to {_rev(rev)} ({who}) {op.get('phase')} for {int(minutes)}m since {clock(started)}: "
        f"{one_line(op.get('message'), 200) or 'no message'}"
    )
    if minutes < p.min_minutes:
        return Result("no", f"no: {text} (under {p.min_minutes}m)")
    evidence = []
    if op.get("retryCount"):
        evidence.append(f"retry #{op.get('retryCount')}")
    return Result("yes", text, evidence, {"revision": rev, "startedAt": op.get("startedAt")})
