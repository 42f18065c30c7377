"""The incident review document (`trueup audit report --incident ID`).

The seed's §24.4 asks an incident record for "revision, sync time, actor, policy checks, impact".
The audit chain says what people (and the controller) did under the incident and what the gate
decided; the change timeline says what else happened to the same applications around it (the
commit that broke it, the auto-sync that delivered it, a `kubectl edit`, health going Degraded,
the Warning events). Put together, oldest first:

- **timeline**: changes of the involved apps from `lookback` before the first incident record to
  now, the audit records of those apps in that period (also ones without the incident, such as the
  controller's auto-sync), runbook decisions;
- **walks**: each runbook walk-through under the incident, step by step, and the actions taken;
- **actions**: the gated attempts under the incident, intent and result folded into one;
- **revisions** involved (with subjects), **actors**, **policy checks** (RBAC, sync windows,
  break-glass as the gate recorded them), **impact** (apps and resources), **outcome** (the apps'
  state now, what the actions achieved, the walks' conclusions).

Everything but the chain is best effort: an unreachable cluster or repository is named in `errors`
and the rest still reports. Records come from the verified chain (or an export); strings in them
are untrusted and the renderers escape them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from console.cluster.api import ClusterError, NotFound, Obj
from console.engine import changes
from console.engine.appstore import AppStore
from console.engine.audit import report as audit_report
from console.engine.audit.chain import cluster_now
from console.engine.audit.record import PHASE_ATTEMPT, PHASE_INTENT, PHASE_RESULT, parse_time
from console.engine.audit.verify import Verdict
from console.engine.gate.attempt import PERMISSIONS
from console.engine.runbooks.record import ACTION_STEP, ACTION_TAKEN, ACTION_WALK, ACTIONS
from console.engine.workspace import Workspace

LOOKBACK = timedelta(hours=2)
MAX_TIMELINE = 400
_SOURCES = [changes.commits, changes.syncs, changes.live_edits, changes.health, changes.warning_events]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fold(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attempts (refused), and intents with their result folded in (or `in progress`)."""
    results = {int(r.get("intentSeq") or 0): r for r in records if r.get("phase") == PHASE_RESULT}
    out = []
    for r in records:
        phase = r.get("phase")
        if phase == PHASE_RESULT:
            continue
        res = results.get(int(r.get("seq") or 0)) if phase == PHASE_INTENT else None
        params = dict(r.get("parameters") or {})
        if res is not None:
            params.update(res.get("parameters") or {})
        out.append(
            {
                "seq": r.get("seq"),
                "resultSeq": res.get("seq") if res else None,
                "time": r.get("time"),
                "finished": res.get("time") if res else None,
                "actor": audit_report.actor_text(r),
                "action": r.get("action"),
                "app": r.get("app") or "",
                "project": r.get("project") or "",
                "phase": phase,
                "outcome": (
                    res.get("outcome")
                    if res
                    else ("in progress" if phase == PHASE_INTENT else r.get("outcome"))
                ),
                "message": (res.get("message") if res else r.get("message")) or "",
                "intentMessage": r.get("message") if res else "",
                "breakGlass": bool(r.get("breakGlass")),
                "reason": r.get("reason") or "",
                "parameters": params,
                "diffSummary": r.get("diffSummary") or {},
            }
        )
    return out


def _walks(folded: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    walks: dict[int, dict[str, Any]] = {}
    order: list[int] = []
    for a in folded:
        p = a["parameters"]
        if a["action"] == ACTION_WALK:
            seq = int(a["seq"] or 0)
            walks[seq] = {
                "walk": seq,
                "runbook": p.get("runbook"),
                "title": p.get("title"),
                "reference": p.get("reference"),
                "app": a["app"],
                "actor": a["actor"],
                "time": a["time"],
                "via": p.get("via"),
                "outcome": a["outcome"],
                "steps": list(p.get("steps") or []) if isinstance(p.get("steps"), list) else [],
                "conclusion": p.get("conclusion"),
                "actions": list(p.get("actionsTaken") or []),
            }
            order.append(seq)
    for a in folded:
        p = a["parameters"]
        w = walks.get(int(p.get("walk") or 0))
        if w is None:
            continue
        if a["action"] == ACTION_STEP:
            step = {k: v for k, v in p.items() if k not in ("runbook", "title", "reference", "via", "walk")}
            w["steps"].append({**step, "time": a["time"], "actor": a["actor"]})
        elif a["action"] == ACTION_TAKEN:
            taken = dict(p.get("taken") or {"type": p.get("type"), "text": a["message"]})
            w["actions"].append(
                {
                    **taken,
                    "step": p.get("step"),
                    "time": a["time"],
                    "actor": a["actor"],
                    "outcome": a["outcome"],
                }
            )
    return [walks[s] for s in order]


def _permission(a: dict[str, Any]) -> str:
    action = str(a["action"] or "")
    verb = "get" if action in ACTIONS else PERMISSIONS.get(action, action)
    obj = f"{a['project']}/{a['app']}" if a["app"] else "-"
    return f"applications, {verb}, {obj}"


def _policy(folded: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for a in folded:
        outcome = str(a["outcome"] or "")
        refused = a["phase"] == PHASE_ATTEMPT
        if refused and outcome == "denied":
            rbac, windows = f"denied: {a['message']}", "not reached"
        else:
            rbac = f"allowed ({_permission(a)})"
            if refused and outcome == "blocked":
                windows = f"blocked: {a['message']}"
            elif refused:
                windows = f"{outcome}: {a['message']}"
            elif a["breakGlass"]:
                windows = f"break-glass overrode: {a['intentMessage'] or 'nothing required it'}"
            elif a["action"] in ACTIONS:
                windows = "not applicable (an audit write, not a change to the app)"
            else:
                windows = "passed"
        out.append(
            {
                "seq": a["seq"],
                "time": a["time"],
                "actor": a["actor"],
                "action": a["action"],
                "app": a["app"],
                "rbac": rbac,
                "windows": windows,
                "breakGlass": a["breakGlass"],
            }
        )
    return out


def _revision_entries(
    folded: Sequence[dict[str, Any]], walks: Sequence[dict[str, Any]]
) -> Iterable[dict[str, str]]:
    for a in folded:
        if a["action"] in ACTIONS:
            continue  # a walk's records say which revision ran; the walk's steps say which matters
        p, ds = a["parameters"], a["diffSummary"]
        for key, role in (("revision", "requested"), ("syncedRevision", "synced")):
            if p.get(key):
                yield {
                    "app": a["app"],
                    "revision": str(p[key]),
                    "role": f"{role} by {a['action']} (record {a['seq']})",
                }
        if ds.get("revision"):
            yield {
                "app": a["app"],
                "revision": str(ds["revision"]),
                "role": f"running before {a['action']} (record {a['seq']})",
            }
    for w in walks:
        for step in w["steps"]:
            c = step.get("commit") if isinstance(step, dict) else None
            if isinstance(c, dict) and c.get("sha"):
                yield {
                    "app": w["app"],
                    "revision": str(c["sha"]),
                    "subject": str(c.get("subject") or ""),
                    "role": f"found by runbook {w['runbook']} step {step.get('step')}",
                }
        for act in w["actions"]:
            prepared = act.get("prepared") if isinstance(act, dict) else None
            if isinstance(prepared, dict) and prepared.get("sha"):
                yield {
                    "app": w["app"],
                    "revision": str(prepared["sha"]),
                    "role": f"revert prepared on {prepared.get('branch')} (not pushed by trueup)",
                }


def _timeline_audit(records: Sequence[dict[str, Any]], incident: str) -> list[dict[str, Any]]:
    out = []
    for a in _fold(records):
        at = parse_time(a["time"])
        if at is None:
            continue
        p = a["parameters"]
        if a["action"] == ACTION_STEP:
            kind = "runbook-decision"
            summary = f"step {p.get('index')} {p.get('step')} [{p.get('result')}]: {p.get('decision')}"
            if p.get("overrides"):
                summary += " (the responder chose this over the suggested branch)"
        elif a["action"] == ACTION_WALK:
            kind = "runbook"
            summary = a["message"] or f"runbook {p.get('runbook')}"
        elif a["action"] == ACTION_TAKEN:
            kind = "runbook-action"
            summary = f"{p.get('type')}: {a['outcome']}; {a['message']}"
        else:
            kind = "action"
            summary = f"{a['action']}: {a['outcome']}" + ("; BREAK-GLASS" if a["breakGlass"] else "")
            details = audit_report.details({**a, "breakGlass": False, "message": a["message"]})
            if details:
                summary += f"; {details}"
        out.append(
            {
                "time": _iso(at),
                "kind": kind,
                "app": a["app"],
                "actor": a["actor"],
                "summary": summary,
                "revision": str(p.get("revision") or p.get("syncedRevision") or ""),
                "seq": a["seq"],
                "incident": audit_report.reason_matches(str(a["reason"]), incident),
            }
        )
    return out


def _impact(
    folded: Sequence[dict[str, Any]], apps: dict[str, Obj], since: datetime | None
) -> list[dict[str, Any]]:
    names = sorted({str(a["app"]) for a in folded if a["app"]})
    out = []
    for name in names:
        touched: set[str] = set()
        for a in folded:
            if a["app"] == name:
                touched.update(str(k) for k in (a["diffSummary"].get("changed") or []))
        obj = apps.get(name) or {}
        status = obj.get("status") or {}
        for r in status.get("resources") or []:
            if not isinstance(r, dict):
                continue
            bad = r.get("status") != "Synced" or (r.get("health") or {}).get("status") not in (
                None,
                "Healthy",
            )
            if bad:
                ns = f"{r['namespace']}/" if r.get("namespace") else ""
                touched.add(f"{r.get('group') or 'core'}/{r.get('kind')} {ns}{r.get('name')}")
        op = status.get("operationState") or {}
        finished = parse_time(op.get("finishedAt"))
        if since is None or (finished is not None and finished >= since):
            for r in (op.get("syncResult") or {}).get("resources") or []:
                if isinstance(r, dict):
                    ns = f"{r['namespace']}/" if r.get("namespace") else ""
                    touched.add(f"{r.get('group') or 'core'}/{r.get('kind')} {ns}{r.get('name')}")
        dest = (obj.get("spec") or {}).get("destination") or {}
        out.append(
            {
                "app": name,
                "project": next((a["project"] for a in folded if a["app"] == name), ""),
                "destination": f"{dest.get('name') or dest.get('server') or '?'}/{dest.get('namespace') or ''}",
                "resources": sorted(touched),
            }
        )
    return out


def _outcome(
    folded: Sequence[dict[str, Any]], walks: Sequence[dict[str, Any]], apps: dict[str, Obj], live: bool
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for a in folded:
        if a["action"] not in ACTIONS:
            counts[str(a["outcome"])] = counts.get(str(a["outcome"]), 0) + 1
    states = []
    for name, obj in sorted(apps.items()):
        status = obj.get("status") or {}
        op = status.get("operationState") or {}
        states.append(
            {
                "app": name,
                "sync": str((status.get("sync") or {}).get("status") or "Unknown"),
                "health": str((status.get("health") or {}).get("status") or "Unknown"),
                "revision": str((status.get("sync") or {}).get("revision") or ""),
                "operation": f"{op.get('phase')}: {' '.join(str(op.get('message') or '').split())}"
                if op
                else "",
            }
        )
    out: dict[str, Any] = {
        "actions": counts,
        "conclusions": [
            {
                "walk": w["walk"],
                "runbook": w["runbook"],
                "app": w["app"],
                **(w["conclusion"] or {"summary": "no conclusion"}),
            }
            for w in walks
        ],
        "applications": states if live else None,
    }
    if live and states:
        out["resolved"] = all(s["sync"] == "Synced" and s["health"] == "Healthy" for s in states)
    return out


def build(
    incident: str,
    records: Sequence[dict[str, Any]],
    verdict: Verdict,
    where: str,
    *,
    ws: Workspace | None = None,
    visible: Callable[[Obj], bool] | None = None,
    lookback: timedelta = LOOKBACK,
) -> dict[str, Any]:
    """The report. Without `ws` (an export) only what the records say; `visible` filters the
    applications whose live state and change timeline are read (RBAC `get`)."""
    report = audit_report.incident_report(incident, records, verdict, where)
    chosen = report["records"]
    folded = _fold(chosen)
    walks = _walks(folded)
    errors: list[str] = []
    first = parse_time(report["from"])
    since = first - lookback if first is not None else None
    apps: dict[str, Obj] = {}
    timeline: list[dict[str, Any]] = []
    if ws is not None and chosen:
        try:
            store = AppStore(ws.control())
            now = cluster_now(store.cluster)
            for name in report["applications"]:
                try:
                    obj = store.get_app(name)
                except NotFound:
                    errors.append(f"application {name} no longer exists")
                    continue
                if visible is None or visible(obj):
                    apps[name] = obj
        except ClusterError as exc:
            errors.append(f"cannot read the applications: {exc.message}")
            now = None
        tl = changes.timeline(ws, list(apps.values()), since=since, sources=_SOURCES)
        errors += tl.errors
        timeline = [
            {
                "time": _iso(c.at),
                "kind": c.kind,
                "app": c.app,
                "actor": c.actor,
                "summary": c.summary,
                "revision": c.revision,
                "incident": False,
            }
            for c in tl.changes
            if now is None or c.at <= now + timedelta(minutes=1)
        ]
        chosen_seqs = {r.get("seq") for r in chosen}
        around = [
            r
            for r in records
            if (r.get("app") in apps or r.get("seq") in chosen_seqs)
            and (since is None or (parse_time(r.get("time")) or since) >= since)
        ]
        timeline += _timeline_audit(around, incident)
    else:
        timeline = _timeline_audit(chosen, incident)
    timeline.sort(key=lambda e: (e["time"], int(e.get("seq") or 0)))
    if len(timeline) > MAX_TIMELINE:
        errors.append(f"timeline cut to its last {MAX_TIMELINE} entries")
        timeline = timeline[-MAX_TIMELINE:]

    subjects = {e["revision"]: e["summary"] for e in timeline if e["kind"] == "commit" and e["revision"]}
    revisions: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in _revision_entries(folded, walks):
        key = (entry["app"], entry["revision"])
        rev = revisions.setdefault(
            key, {"app": entry["app"], "revision": entry["revision"], "subject": "", "roles": []}
        )
        rev["subject"] = rev["subject"] or entry.get("subject") or subjects.get(entry["revision"], "")
        if entry["role"] not in rev["roles"]:
            rev["roles"].append(entry["role"])
    for e in timeline:
        if e["kind"] in ("commit", "sync") and e["revision"] and e["app"] in apps:
            key = (e["app"], e["revision"])
            rev = revisions.setdefault(
                key, {"app": e["app"], "revision": e["revision"], "subject": "", "roles": []}
            )
            rev["subject"] = rev["subject"] or subjects.get(e["revision"], "")
            role = f"{e['kind']} at {e['time']} by {e['actor']}"
            if role not in rev["roles"]:
                rev["roles"].append(role)
    for name, obj in apps.items():
        running = str(((obj.get("status") or {}).get("sync") or {}).get("revision") or "")
        if running:
            rev = revisions.setdefault(
                (name, running),
                {"app": name, "revision": running, "subject": subjects.get(running, ""), "roles": []},
            )
            rev["roles"].append("compared with Git now")

    report.update(
        {
            "lookbackSeconds": int(lookback.total_seconds()),
            "timeline": timeline,
            "walks": walks,
            "actions": [a for a in folded if a["action"] not in ACTIONS],
            "revisions": list(revisions.values()),
            "policyChecks": _policy(folded),
            "impact": _impact(folded, apps, since),
            "outcome": _outcome(folded, walks, apps, ws is not None),
            "errors": errors,
        }
    )
    return report


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

_cell = audit_report._safe  # one table cell: control characters escaped, `|` escaped, bounded


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], limits: Sequence[int]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        out.append("| " + " | ".join(_cell(v, n) for v, n in zip(row, limits, strict=True)) + " |")
    return out


def _answer(step: dict[str, Any]) -> str:
    result, summary = str(step.get("result") or ""), str(step.get("summary") or "")
    return summary if summary.startswith(f"{result}:") else f"{result}: {summary}"


def _step_cells(s: dict[str, Any]) -> list[Any]:
    decision = str(s.get("decision") or "-")
    if s.get("suggestedAction") not in (None, "none"):
        decision += f" [{s.get('suggestedAction')}]"
    if s.get("overrides"):
        decision += " (chosen over the suggested branch)"
    evidence = "; ".join(str(e) for e in s.get("evidence") or [])
    return [s.get("index"), s.get("question"), s.get("check") or "manual", _answer(s), evidence, decision]


def render_markdown(report: dict[str, Any]) -> str:
    inc = _cell(report["incident"], 80)
    chain = report["chain"]
    lines = [f"# Incident {inc}: audit timeline", ""]
    if chain.get("ok"):
        lines.append(
            f"Audit chain: verified ({chain['records']} records, head {chain['head']['seq']}, "
            f"{_cell(chain['source'], 120)})."
        )
    else:
        lines.append(
            f"Audit chain: **NOT VERIFIED** ({_cell(chain['source'], 120)}): {_cell(chain.get('problem'), 400)}"
        )
    lines.append("")
    records = report["records"]
    if not records:
        lines.append(f"No audit record names `{inc}` as its reason.")
        return "\n".join(lines) + "\n"
    outcome = report["outcome"]
    walks = report["walks"]
    lines += [
        "## Summary",
        "",
        f"- Period: {report['from']} to {report['to']} (UTC, control-cluster clock)",
        f"- Actors: {', '.join(_cell(a, 80) for a in report['actors'])}",
        f"- Applications: {', '.join(_cell(a, 80) for a in report['applications']) or '-'}",
        f"- Break-glass actions: {report['breakGlass']}",
        f"- Runbook walk-throughs: {len(walks)}",
        "- Actions: "
        + (", ".join(f"{n} {_cell(k, 20)}" for k, n in sorted(outcome["actions"].items())) or "none"),
        "",
        "## Outcome",
        "",
    ]
    for s in outcome.get("applications") or []:
        rev = s["revision"][:7] or "?"
        op = f"; last operation {_cell(s['operation'], 200)}" if s["operation"] else ""
        lines.append(f"- {_cell(s['app'], 80)}: {s['sync']}, {s['health']} at {rev}{op}")
    if outcome.get("applications") is None:
        lines.append("- (from an export: the applications' state now is not included)")
    if "resolved" in outcome:
        lines.append(
            f"- Resolved: {'yes' if outcome['resolved'] else 'no'} (every involved application Synced and Healthy)"
        )
    for c in outcome["conclusions"]:
        lines.append(
            f"- Runbook {_cell(c['runbook'], 60)} on {_cell(c['app'], 80)}: {_cell(c.get('summary'), 300)}"
            + (f" -> {_cell(c.get('decision'), 300)}" if c.get("decision") else "")
        )
    lines += ["", "## Timeline", ""]
    lines += _table(
        ["Time (UTC)", "Kind", "Application", "Who", "What", "Revision"],
        (
            [
                e["time"],
                e["kind"] + (" *" if e.get("incident") else ""),
                e["app"] or "-",
                e["actor"],
                e["summary"],
                (e.get("revision") or "")[:7] or "-",
            ]
            for e in report["timeline"]
        ),
        [24, 20, 80, 60, 300, 8],
    )
    lines += [
        "",
        f"`*`: recorded under {inc}. Changes from {report['lookbackSeconds'] // 60} minutes before the first record.",
    ]
    for w in walks:
        lines += [
            "",
            f"## Runbook {_cell(w['runbook'], 60)} on {_cell(w['app'], 80)} (walk {w['walk']})",
            "",
            f"{_cell(w['title'], 120)}{' (' + _cell(w['reference'], 80) + ')' if w.get('reference') else ''}; "
            f"walked by {_cell(w['actor'], 80)} at {w['time']} from the {_cell(w['via'], 20)}.",
            "",
        ]
        if not w["steps"]:
            lines.append("No decision was recorded in this walk.")
        else:
            lines += _table(
                ["#", "Question", "Check", "Answer", "Evidence", "Decision"],
                (_step_cells(s) for s in w["steps"]),
                [4, 160, 30, 240, 400, 300],
            )
        c = w.get("conclusion")
        if c:
            lines += [
                "",
                f"Conclusion ({_cell(c.get('step'), 40)}): {_cell(c.get('summary'), 300)} -> {_cell(c.get('decision'), 300)}",
            ]
        for act in w["actions"]:
            prepared = act.get("prepared") or {}
            extra = (
                f" (branch {_cell(prepared.get('branch'), 80)}, commit {str(prepared.get('sha') or '')[:7]})"
                if prepared
                else ""
            )
            lines.append(
                f"- Action taken: {_cell(act.get('type'), 30)}: {_cell(act.get('text'), 400)}{extra}"
            )
    lines += ["", "## Revisions", ""]
    lines += _table(
        ["Application", "Revision", "Subject", "Role"],
        (
            [r["app"], r["revision"][:12], r["subject"] or "-", "; ".join(r["roles"])]
            for r in report["revisions"]
        ),
        [80, 12, 120, 400],
    )
    lines += ["", "## Policy checks", ""]
    lines += _table(
        ["Seq", "Actor", "Action", "Application", "RBAC", "Sync windows / break-glass"],
        (
            [p["seq"], p["actor"], p["action"], p["app"] or "-", p["rbac"], p["windows"]]
            for p in report["policyChecks"]
        ),
        [8, 60, 30, 80, 300, 300],
    )
    lines += ["", "## Impact", ""]
    for i in report["impact"]:
        res = ", ".join(_cell(r, 120) for r in i["resources"][:30]) or "no resources recorded"
        more = f" (+{len(i['resources']) - 30} more)" if len(i["resources"]) > 30 else ""
        lines.append(
            f"- {_cell(i['project'], 60)}/{_cell(i['app'], 80)} on {_cell(i['destination'], 120)}: {res}{more}"
        )
    lines += ["", "## Audit records", ""]
    lines += _table(
        ["Time (UTC)", "Seq", "Actor", "Action", "Application", "Phase", "Outcome", "Details"],
        (
            [
                r.get("time"),
                r.get("seq"),
                audit_report.actor_text(r),
                r.get("action"),
                f"{r.get('project')}/{r.get('app')}" if r.get("app") else "-",
                r.get("phase"),
                r.get("outcome"),
                audit_report.details(r),
            ]
            for r in records
        ),
        [40, 10, 60, 40, 120, 12, 16, 300],
    )
    if report["errors"]:
        lines += ["", "## Not included", ""] + [f"- {_cell(e, 300)}" for e in report["errors"]]
    return "\n".join(lines) + "\n"
