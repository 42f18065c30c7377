"""The incident review document from audit records alone (as from an export): actions folded,
policy verdicts as the gate recorded them, walk-throughs assembled from their records, hostile
strings escaped in Markdown."""

from __future__ import annotations

from typing import Any

from console.engine.audit.verify import Verdict
from console.engine.incident import build, render_markdown

ALICE = {"user": "alice", "verified": True}
OK = Verdict(True, 9, 9, "ab" * 32)


def rec(seq: int, action: str, phase: str, outcome: str, **kw: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "time": f"2026-03-02T09:{seq:02d}:00.000000Z",
        "actor": kw.pop("actor", ALICE),
        "action": action,
        "phase": phase,
        "outcome": outcome,
        "project": "payments",
        "app": "api",
        "reason": kw.pop("reason", "INC-1"),
        "breakGlass": kw.pop("breakGlass", False),
        "parameters": kw.pop("parameters", {}),
        "message": kw.pop("message", ""),
        "diffSummary": kw.pop("diffSummary", {}),
        **kw,
    }


RECORDS = [
    rec(1, "sync", "attempt", "denied", actor={"user": "carol"}, message="permission denied: carol may not sync"),
    rec(2, "sync", "attempt", "blocked", message="deny window 'freeze' is active until 18:00 UTC"),
    rec(3, "sync", "intent", "pending", breakGlass=True, message="deny window 'freeze' is active until 18:00 UTC",
        parameters={"revision": "abc1234"}, diffSummary={"revision": "0ld0000", "changed": ["apps/Deployment p/api"]}),
    rec(4, "sync", "result", "succeeded", breakGlass=True, intentSeq=3, message="Succeeded: synced",
        parameters={"revision": "abc1234", "syncedRevision": "abc1234"}),
    rec(5, "runbook", "intent", "pending", parameters={"runbook": "freeze", "title": "Freeze", "via": "console"}),
    rec(6, "runbook", "result", "succeeded", intentSeq=5, parameters={"runbook": "freeze", "via": "console"}),
    rec(7, "runbook-step", "intent", "pending", parameters={"walk": 5, "step": "window", "index": 1,
        "question": "Is a window blocking?", "result": "yes", "summary": "yes: deny window 'freeze'",
        "decision": "Break glass \x1b]52;c;x\x07", "suggestedAction": "break-glass-sync", "overrides": "Wait."}),
    rec(8, "runbook-step", "result", "succeeded", intentSeq=7, parameters={"walk": 5, "step": "window"}),
    rec(9, "sync", "intent", "pending", reason="CHG-2"),  # another incident: not in this report
]  # fmt: skip


def test_actions_policy_walks_and_revisions_from_the_records() -> None:
    report = build("INC-1", RECORDS, OK, "export.jsonl")
    assert [r["seq"] for r in report["records"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    actions = report["actions"]
    assert [(a["seq"], a["resultSeq"], a["outcome"]) for a in actions] == [
        (1, None, "denied"),
        (2, None, "blocked"),
        (3, 4, "succeeded"),
    ]
    checks = {p["seq"]: p for p in report["policyChecks"]}
    assert (
        checks[1]["rbac"] == "denied: permission denied: carol may not sync"
        and checks[1]["windows"] == "not reached"
    )
    assert checks[2]["rbac"] == "allowed (applications, sync, payments/api)"
    assert checks[2]["windows"] == "blocked: deny window 'freeze' is active until 18:00 UTC"
    assert checks[3]["windows"] == "break-glass overrode: deny window 'freeze' is active until 18:00 UTC"
    assert checks[5]["rbac"] == "allowed (applications, get, payments/api)"
    [walk] = report["walks"]
    assert walk["walk"] == 5 and walk["runbook"] == "freeze" and walk["via"] == "console"
    [step] = walk["steps"]
    assert step["step"] == "window" and step["overrides"] == "Wait." and step["actor"] == "alice"
    revs = {r["revision"]: r["roles"] for r in report["revisions"]}
    assert revs["abc1234"] == ["requested by sync (record 3)", "synced by sync (record 3)"]
    assert revs["0ld0000"] == ["running before sync (record 3)"]
    assert report["impact"] == [
        {"app": "api", "project": "payments", "destination": "?/", "resources": ["apps/Deployment p/api"]}
    ]
    assert report["outcome"]["actions"] == {"denied": 1, "blocked": 1, "succeeded": 1}
    assert report["outcome"]["applications"] is None  # an export: no live state

    md = render_markdown(report)
    assert "\x1b" not in md and "\x07" not in md and "Break glass \\u001b]52;c;x\\u0007" in md
    assert "(chosen over the suggested branch)" in md
    assert "| 1 | Is a window blocking? | manual | yes: deny window 'freeze' |" in md


def test_no_records_names_the_incident_once() -> None:
    md = render_markdown(build("INC-404", RECORDS, OK, "export.jsonl"))
    assert "No audit record names `INC-404` as its reason." in md and "## Timeline" not in md
