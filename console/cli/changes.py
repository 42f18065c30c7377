"""`trueup changes [APP | -p PROJECT] [--since 2h] [-o json]`: the fleet change timeline."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from console.cli import governance as gov
from console.cli.app_observe import FORMAT, age, visible_line
from console.cli.args import with_workspace
from console.cli.errors import CommandError
from console.cli.output import emit_json, one_line, table
from console.engine import changes
from console.engine.appstore import AppStore
from console.engine.compare import cluster_time
from console.engine.model.durations import parse_duration
from console.engine.workspace import Workspace


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """`changes`."""
    ch = sub.add_parser(
        "changes",
        help="the change timeline: commits, syncs, live edits, health transitions, Warning events (newest first)",
    )
    ch.add_argument("app", nargs="?", metavar="APP", help="only this application")
    ch.add_argument("-p", "--project", action="append", help="only applications of this project (repeatable)")
    ch.add_argument(
        "--since", metavar="DURATION", help="only changes this recent: 30m, 2h, 1d, or an RFC 3339 time"
    )
    ch.add_argument("-o", "--output", **FORMAT)
    ch.set_defaults(run=with_workspace(cmd_changes))


def since_time(text: str, now: datetime) -> datetime:
    t = text.strip()
    m = re.fullmatch(r"(\d+)d", t)
    if m:
        return now - timedelta(days=int(m.group(1)))
    try:
        return now - timedelta(seconds=parse_duration(t, bare_seconds=False))
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise CommandError(
            f"--since {text!r}: give a duration such as 30m, 2h or 1d, or an RFC 3339 time"
        ) from None


def cmd_changes(ws: Workspace, args: argparse.Namespace) -> int:
    store = AppStore(ws.control())
    apps = gov.visible_apps(ws, args, store.list_apps())  # what the user may `get`
    if args.app:
        apps = [a for a in apps if a["metadata"]["name"] == args.app]
        if not apps:
            raise CommandError(f"application {args.app!r} not found (see `trueup app list`)")
    if args.project:
        known = {p["metadata"]["name"] for p in store.list_projects()}
        missing = [p for p in args.project if p not in known]
        if missing:
            raise CommandError(f"project {missing[0]!r} not found (see `trueup project list`)")
        apps = [a for a in apps if ((a.get("spec") or {}).get("project") or "default") in args.project]
    now = cluster_time(ws.control())
    since = since_time(args.since, now) if args.since else None
    result = changes.timeline(ws, apps, since=since)
    for err in result.errors:
        print(f"trueup: warning: {visible_line(err)}", file=sys.stderr)
    if args.output == "json":
        emit_json([c.to_json() for c in result.changes])
        return 0
    table(
        ["TIME", "AGE", "APP", "KIND", "WHO", "WHAT"],
        [
            [
                c.at.strftime("%Y-%m-%d %H:%M:%SZ"),
                age(c.at, now),
                c.app,
                c.kind,
                one_line(c.actor, 40),
                one_line(c.summary, 110),
            ]
            for c in result.changes
        ],
    )
    return 0
