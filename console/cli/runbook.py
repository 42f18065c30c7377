"""`trueup runbook list|show|suggest|run`: runbooks as data, walked against live evidence."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli import governance
from console.cli.args import fmt, with_workspace
from console.cli.context import get_app
from console.cli.errors import CommandError
from console.cli.output import emit_json, emit_yaml, one_line, table
from console.engine.runbooks import library
from console.engine.runbooks.facts import FactError, Facts
from console.engine.runbooks.walk import Walk, suggest, walk
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    rb = sub.add_parser("runbook", help="runbooks that check themselves against the app's live state")
    rb_sub = rb.add_subparsers(dest="runbook_command", metavar="SUBCOMMAND", required=True)
    ls = rb_sub.add_parser(
        "list", help="list the runbooks (shipped, and the workspace's runbooks/ directory)"
    )
    ls.add_argument("-o", "--output", **fmt(["json"]))
    ls.set_defaults(run=with_workspace(cmd_runbook_list))
    show = rb_sub.add_parser("show", help="print one runbook (its questions, checks and decisions)")
    show.add_argument("name", metavar="NAME", help="runbook name or alias")
    show.add_argument("-o", "--output", **fmt(["yaml", "json"], "yaml"))
    show.set_defaults(run=with_workspace(cmd_runbook_show))
    sg = rb_sub.add_parser(
        "suggest", help="name the runbook that fits the application's current state, and why"
    )
    sg.add_argument("app", metavar="APP", help="application name")
    sg.add_argument("-o", "--output", **fmt(["json"]))
    sg.set_defaults(run=with_workspace(cmd_runbook_suggest))
    run = rb_sub.add_parser(
        "run", help="walk a runbook against an application: each step's check, evidence and suggestion"
    )
    run.add_argument("name", metavar="NAME", help="runbook name or alias (see `trueup runbook list`)")
    run.add_argument("app", metavar="APP", help="application name")
    run.add_argument(
        "--incident",
        metavar="ID",
        help="incident reference: fills break-glass reasons and records the walk-through in the audit "
        "chain (`trueup audit report --incident ID` lists it)",
    )
    run.add_argument(
        "--no-prepare",
        dest="prepare",
        action="store_false",
        help="do not prepare a revert commit in the working clone (only print the git commands)",
    )
    run.add_argument("-o", "--output", **fmt(["json"]))
    run.set_defaults(run=with_workspace(cmd_runbook_run))


def _warn(lib: library.Library) -> None:
    for err in lib.errors:
        sys.stderr.write(f"warning: {err} (skipped)\n")


def _library(ws: Workspace) -> library.Library:
    lib = library.load(ws)
    _warn(lib)
    return lib


def _get(ws: Workspace, name: str) -> library.Loaded:
    """The named runbook; other broken files are warned about only when this one loads (the
    error about the one asked for is the command's one line)."""
    lib = library.load(ws)
    try:
        loaded = lib.get(name)
    except library.RunbookError as exc:
        raise CommandError(str(exc)) from None
    _warn(lib)
    return loaded


def _facts(ws: Workspace, args: argparse.Namespace, app: str) -> Facts:
    """The app's facts, for a user who may read it (`applications, get`; exit 3 otherwise)."""
    governance.require_get(ws, args, get_app(ws, app))
    try:
        return Facts(ws, app)
    except FactError as exc:
        raise CommandError(str(exc)) from None


def cmd_runbook_list(ws: Workspace, args: argparse.Namespace) -> int:
    lib = _library(ws)
    rows = lib.ordered()
    if args.output == "json":
        emit_json(
            [
                {
                    "name": r.name,
                    "title": r.runbook.spec.title,
                    "reference": r.runbook.spec.reference,
                    "aliases": r.runbook.metadata.aliases,
                    "priority": r.runbook.spec.priority,
                    "source": r.origin,
                    "file": r.file,
                    "steps": len(r.runbook.spec.steps),
                }
                for r in rows
            ]
        )
        return 0
    table(
        ["NAME", "TITLE", "REFERENCE", "STEPS", "SOURCE"],
        [
            [
                r.name,
                one_line(r.runbook.spec.title, 50),
                r.runbook.spec.reference or "-",
                len(r.runbook.spec.steps),
                r.file,
            ]
            for r in rows
        ],
    )
    return 0


def cmd_runbook_show(ws: Workspace, args: argparse.Namespace) -> int:
    loaded = _get(ws, args.name)
    doc = loaded.runbook.model_dump(by_alias=True, exclude_defaults=True)
    if args.output == "json":
        emit_json(doc)
    else:
        emit_yaml(doc)
    return 0


def cmd_runbook_suggest(ws: Workspace, args: argparse.Namespace) -> int:
    lib = _library(ws)
    facts = _facts(ws, args, args.app)
    fits, facts = suggest(ws, lib, args.app, facts)
    cmp = facts.comparison
    state = f"{cmp.sync_status}, {cmp.health.status}"
    if args.output == "json":
        emit_json(
            {
                "app": args.app,
                "state": {"sync": cmp.sync_status, "health": cmp.health.status},
                "runbook": fits[0].loaded.name if fits else None,
                "title": fits[0].loaded.runbook.spec.title if fits else None,
                "why": fits[0].why if fits else [],
                "alternatives": [{"runbook": f.loaded.name, "why": f.why} for f in fits[1:]],
            }
        )
        return 0
    if not fits:
        print(f"no runbook fits {args.app} now ({state})")
        return 0
    best = fits[0]
    print(f"{args.app} ({state}): {best.loaded.name} — {best.loaded.runbook.spec.title}")
    for why in best.why:
        print(f"  because {one_line(why, 200)}")
    for other in fits[1:]:
        print(f"  also fits: {other.loaded.name} ({one_line('; '.join(other.why), 160)})")
    print(f"run it: trueup runbook run {best.loaded.name} {args.app}")
    return 0


def cmd_runbook_run(ws: Workspace, args: argparse.Namespace) -> int:
    loaded = _get(ws, args.name)
    facts = _facts(ws, args, args.app)
    user = governance.identity(ws, args).user
    audit: dict[str, Any] | None = None
    if args.incident:
        from console.engine.runbooks.record import recorded_walk

        gated, result = recorded_walk(
            governance.gate(ws, args),
            ws,
            loaded,
            args.app,
            incident=args.incident,
            prepare=args.prepare,
            facts=facts,
        )
        governance.finish(gated)
        if result is None:  # the gate let it through but the walk did not run
            raise CommandError(gated.message or "the walk did not run", gated.code or 1)
        audit = {"intentSeq": gated.audit_seq, "resultSeq": gated.result_seq}
    else:
        result = walk(ws, loaded, args.app, prepare=args.prepare, facts=facts, actor=user)
    if args.output == "json":
        out = result.to_json()
        out["actor"] = user
        out["audit"] = audit
        emit_json(out)
        return 0
    _print_walk(result)
    if audit is not None:
        print(
            f"\nRecorded in the audit chain (records {audit['intentSeq']}-{audit['resultSeq']}, "
            f"incident {one_line(args.incident, 80)}): trueup audit report --incident {one_line(args.incident, 80)}"
        )
    return 0


def _print_walk(w: Walk) -> None:
    spec = w.runbook.runbook.spec
    ref = f" ({spec.reference})" if spec.reference else ""
    print(f"Runbook {w.runbook.name}: {spec.title}{ref}")
    print(
        f"Application {w.app} at {w.at.strftime('%Y-%m-%d %H:%M:%S UTC')}"
        + (f", incident {one_line(w.incident, 80)}" if w.incident else "")
    )
    for i, s in enumerate(w.steps, start=1):
        print()
        mark = "  <- conclusion" if s.decisive else ""
        check = f"{s.step.check}: {s.outcome}" if s.step.check else "manual"
        print(f"{i}. {s.step.question}  [{check}]{mark}")
        if s.result is not None:
            print(f"   {one_line(s.result.summary, 300)}")
            for e in s.result.evidence:
                print(f"   - {one_line(e, 400)}")
        elif s.step.hint:
            print(f"   {one_line(s.step.hint, 300)}")
        if s.branch is not None:
            print(f"   Decision: {one_line(s.branch.decision, 300)}")
        if s.suggestion is not None and s.suggestion.action != "none":
            print(f"   Suggested ({s.suggestion.action}): {one_line(s.suggestion.text, 400)}")
            for cmd in s.suggestion.commands:
                print(f"     $ {cmd}")
            if s.suggestion.snippet:
                for line in s.suggestion.snippet.rstrip("\n").splitlines():
                    print(f"     {line}")
            for link in s.suggestion.details.get("links") or []:
                print(f"     {link}")
    c = w.conclusion
    print()
    if c is None:
        print("Conclusion: no step explains it; escalate with the evidence above.")
    else:
        n = w.steps.index(c) + 1
        print(f"Conclusion (step {n}, {c.step.id}): {one_line(c.result.summary if c.result else '', 300)}")
        if c.suggestion is not None and c.suggestion.action != "none":
            print(f"Next: {one_line(c.suggestion.text, 300)}")
