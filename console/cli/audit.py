"""`trueup audit list|verify|export|report`: the tamper-evident audit chain in the control cluster."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from console.cli.args import fmt, with_workspace
from console.cli.errors import CommandError
from console.cli.governance import warn
from console.cli.output import emit_json, emit_yaml, one_line, table
from console.engine.workspace import Workspace

_SINCE = re.compile(r"^(\d+)([smhd])$")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    au = sub.add_parser("audit", help="the tamper-evident audit chain in the control cluster")
    au_sub = au.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)
    ls = au_sub.add_parser("list", help="audit records, oldest first")
    ls.add_argument("--app", metavar="A", help="only this application")
    ls.add_argument(
        "--actor", metavar="U", help="only this user (system:trueup-controller for the controller)"
    )
    ls.add_argument("--since", metavar="T", help="only records from this time: 30m, 2h, 7d, or RFC 3339")
    ls.add_argument("--incident", metavar="ID", help="only records whose reason names this incident")
    ls.add_argument("-o", "--output", **fmt(["json", "yaml", "wide"]))
    ver = au_sub.add_parser("verify", help="verify the chain (exit 1 naming the first bad record)")
    ver.add_argument(
        "--file", metavar="F", help="verify an export (`trueup audit export F`) instead of the live chain"
    )
    ver.add_argument("-o", "--output", **fmt(["json"]))
    exp = au_sub.add_parser(
        "export", help="write the chain as JSONL (line 1: the head; then one record a line)"
    )
    exp.add_argument("file", metavar="FILE", help="file to write (`-` for stdout)")
    rep = au_sub.add_parser(
        "report",
        help="the incident review: timeline, runbook walk-throughs, actions, revisions, actors, "
        "policy checks, impact, outcome",
    )
    rep.add_argument("--incident", required=True, metavar="ID", help="the --reason used (e.g. INC-42)")
    rep.add_argument(
        "--file",
        metavar="F",
        help="report from an export instead of the live chain (records only: no Git or cluster changes)",
    )
    rep.add_argument(
        "--lookback",
        metavar="T",
        default="2h",
        help="the timeline starts this long before the incident's first record (30m, 2h, 1d; default 2h)",
    )
    rep.add_argument("-o", "--output", **fmt(["markdown", "json"], "markdown"))

    for leaf in (ls, ver, exp, rep):
        leaf.set_defaults(run=with_workspace(cmd_audit))


def _since(text: str | None, now: datetime) -> datetime | None:
    if not text:
        return None
    m = _SINCE.match(text.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        unit_name = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]
        return now - timedelta(**{unit_name: n})
    from console.engine.audit.record import parse_time

    at = parse_time(text.strip())
    if at is None:
        raise CommandError(f"--since {text!r}: give a duration (30m, 2h, 7d) or an RFC 3339 time")
    return at


def _chain(ws: Any) -> Any:
    from console.engine.audit.chain import AuditChain

    return AuditChain(ws.control())


def cmd_audit(ws: Workspace, args: argparse.Namespace) -> int:
    return {
        "list": cmd_audit_list,
        "verify": cmd_audit_verify,
        "export": cmd_audit_export,
        "report": cmd_audit_report,
    }[args.audit_command](ws, args)


def cmd_audit_list(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.audit.chain import cluster_now
    from console.engine.audit.report import actor_text, details, select

    chain = _chain(ws)
    since = _since(args.since, cluster_now(chain.cluster))
    records = select(chain.records(), app=args.app, actor=args.actor, since=since, incident=args.incident)
    if args.output == "json":
        emit_json(records)
        return 0
    if args.output == "yaml":
        emit_yaml(records)
        return 0
    headers = ["SEQ", "TIME", "ACTOR", "ACTION", "APP", "PHASE", "OUTCOME", "REASON"]
    if args.output == "wide":
        headers += ["DETAILS"]
    rows = []
    for r in records:
        row = [
            r.get("seq"),
            str(r.get("time") or "")[:19] + "Z",
            actor_text(r),
            str(r.get("action") or "") + (" [break-glass]" if r.get("breakGlass") else ""),
            r.get("app") or "-",
            r.get("phase"),
            r.get("outcome"),
            one_line(str(r.get("reason") or "-"), 40),
        ]
        if args.output == "wide":
            row.append(one_line(details(r), 100))
        rows.append(row)
    table(headers, rows)
    return 0


def cmd_audit_verify(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.audit.verify import ExportError, verify_chain, verify_export

    if args.file:
        try:
            verdict = verify_export(Path(args.file))
        except ExportError as exc:
            if args.output == "json":
                emit_json({"ok": False, "problem": str(exc)})
            raise CommandError(f"audit export does not verify: {exc}", 1) from None
        where = Path(args.file).name
    else:
        verdict = verify_chain(_chain(ws))
        where = f"control cluster {ws.control_cluster}"
    if args.output == "json":
        emit_json({"source": where, **verdict.to_dict()})
    for note in verdict.notes:
        warn(note)
    if not verdict.ok:
        raise CommandError(f"audit chain does not verify ({where}): {verdict.problem}", 1)
    if args.output != "json":
        print(
            f"audit chain verified ({where}): {verdict.records} record(s), head {verdict.head_seq} "
            f"{verdict.head_hash[:12]}"
        )
    return 0


def cmd_audit_export(ws: Any, args: argparse.Namespace) -> int:
    from console.engine.audit.verify import write_export

    chain = _chain(ws)
    if args.file == "-":
        n = write_export(chain, sys.stdout)
        return 0
    path = Path(args.file)
    try:
        with path.open("w", encoding="utf-8") as out:
            n = write_export(chain, out)
    except OSError as exc:
        raise CommandError(f"cannot write {path.name}: {exc.strerror}") from None
    seq, digest = chain.head_state()
    print(f"exported {n} audit record(s) to {args.file} (head {seq} {digest[:12]})", file=sys.stderr)
    return 0


def cmd_audit_report(ws: Any, args: argparse.Namespace) -> int:
    from console.cli.governance import gate
    from console.engine.audit.verify import ExportError, read_export, verify_chain, verify_records
    from console.engine.incident import build, render_markdown

    m = _SINCE.match(str(args.lookback).strip())
    if not m:
        raise CommandError(f"--lookback {args.lookback!r}: give a duration such as 30m, 2h or 1d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
    lookback = timedelta(**{unit: int(m.group(1))})

    if args.file:
        try:
            head_seq, head_hash, records, labels = read_export(Path(args.file))
        except ExportError as exc:
            raise CommandError(f"audit export unreadable: {exc}", 1) from None
        verdict = verify_records(records, head_seq, head_hash, labels)
        where = Path(args.file).name
    else:
        chain = _chain(ws)
        records = chain.records()
        verdict = verify_chain(chain)
        where = f"control cluster {ws.control_cluster}"
    live = None if args.file else ws
    visible = gate(ws, args).can_get_app if live is not None else None
    report = build(args.incident, records, verdict, where, ws=live, visible=visible, lookback=lookback)
    for err in report["errors"]:
        warn(err)
    if args.output == "json":
        emit_json(report)
    else:
        sys.stdout.write(render_markdown(report))
    return 0 if verdict.ok else 1
