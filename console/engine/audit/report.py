"""Reading the chain for people: filters (`audit list`) and the incident timeline (`audit report`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from console.engine.audit.record import parse_time
from console.engine.audit.verify import Verdict

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def reason_matches(reason: str, incident: str) -> bool:
    """The reason is the incident reference, or names it as a word (`INC-42: roll back the cache`)."""
    if not incident:
        return False
    if reason.strip().lower() == incident.strip().lower():
        return True
    wanted = incident.strip().lower()
    return any(t.lower() == wanted for t in _TOKEN.findall(reason))


def select(
    records: Iterable[dict[str, Any]],
    *,
    app: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    incident: str | None = None,
) -> list[dict[str, Any]]:
    out = []
    for rec in records:
        if app and rec.get("app") != app:
            continue
        if actor and (rec.get("actor") or {}).get("user") != actor:
            continue
        if since is not None:
            at = parse_time(rec.get("time"))
            if at is None or at < since:
                continue
        if incident is not None and not reason_matches(str(rec.get("reason") or ""), incident):
            continue
        out.append(rec)
    return out


def _safe(text: Any, limit: int = 200) -> str:
    """One line for a Markdown table cell: control/format characters shown escaped, `|` escaped."""
    out = []
    for ch in str(text if text is not None else ""):
        if ch in "\r\n\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        elif ch == "|":
            out.append("\\|")
        else:
            out.append(ch)
    s = " ".join("".join(out).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def actor_text(rec: dict[str, Any]) -> str:
    actor = rec.get("actor") or {}
    user = str(actor.get("user") or "?")
    if actor.get("impersonatedBy"):
        user += f" (as, by {actor['impersonatedBy']})"
    if not actor.get("verified") and user != "system:trueup-controller":
        user += " (unverified)"
    return user


def details(rec: dict[str, Any]) -> str:
    params = rec.get("parameters") or {}
    parts = []
    for key in ("revision", "prune", "dryRun", "historyId", "autoSync", "for", "until", "cascade"):
        if key in params and params[key] not in (None, "", False):
            parts.append(f"{key}={params[key]}")
    if params.get("resources"):
        parts.append(f"resources={len(params['resources'])}")
    summary = rec.get("diffSummary") or {}
    if summary.get("outOfSync") is not None:
        parts.append(f"out of sync: {summary.get('outOfSync')}")
    if rec.get("breakGlass"):
        parts.append("BREAK-GLASS")
    if rec.get("message"):
        parts.append(str(rec["message"]))
    return "; ".join(parts)


def incident_report(
    incident: str, records: Sequence[dict[str, Any]], verdict: Verdict, chain_where: str
) -> dict[str, Any]:
    """Everything done under `incident`, plus the chain verdict it was read with."""
    chosen = select(records, incident=incident)
    times = [str(r["time"]) for r in chosen if r.get("time")]
    return {
        "incident": incident,
        "chain": {"source": chain_where, **verdict.to_dict()},
        "from": min(times) if times else None,
        "to": max(times) if times else None,
        "actors": sorted({actor_text(r) for r in chosen}),
        "applications": sorted({str(r.get("app")) for r in chosen if r.get("app")}),
        "breakGlass": sum(1 for r in chosen if r.get("breakGlass") and r.get("phase") != "result"),
        "records": chosen,
    }


def render_markdown(report: dict[str, Any]) -> str:
    chain = report["chain"]
    lines = [f"# Incident {_safe(report['incident'], 80)}: audit timeline", ""]
    if chain.get("ok"):
        lines.append(
            f"Audit chain: verified ({chain['records']} records, head {chain['head']['seq']}, {chain['source']})."
        )
    else:
        lines.append(f"Audit chain: **NOT VERIFIED** ({chain['source']}): {_safe(chain.get('problem'), 400)}")
    lines.append("")
    records = report["records"]
    if not records:
        lines.append(f"No audit record names `{_safe(report['incident'], 80)}` as its reason.")
        return "\n".join(lines) + "\n"
    lines += [
        f"- Period: {report['from']} to {report['to']} (UTC, control-cluster clock)",
        f"- Actors: {', '.join(_safe(a, 80) for a in report['actors'])}",
        f"- Applications: {', '.join(_safe(a, 80) for a in report['applications']) or '-'}",
        f"- Break-glass actions: {report['breakGlass']}",
        "",
        "| Time (UTC) | Seq | Actor | Action | Application | Phase | Outcome | Details |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        app = f"{r.get('project')}/{r.get('app')}" if r.get("app") else "-"
        lines.append(
            "| "
            + " | ".join(
                [
                    _safe(r.get("time"), 40),
                    str(r.get("seq")),
                    _safe(actor_text(r), 60),
                    _safe(r.get("action"), 40),
                    _safe(app, 120),
                    _safe(r.get("phase"), 12),
                    _safe(r.get("outcome"), 16),
                    _safe(details(r), 300),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"
