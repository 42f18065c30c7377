"""Every equivalent command the console shows is a command line the real CLI parser accepts,
with the flags that do what the console did."""

from __future__ import annotations

import shlex

import pytest

from console.cli.main import build_parser
from console.tui.equivalent import command_line

CASES = [
    ("sync", {}, ["app", "sync", "a"]),
    ("sync", {"prune": True, "dry_run": True, "force": True, "out_of_sync_only": True}, None),
    ("sync", {"resources": ["apps:Deployment:ns/web", ":ConfigMap:ns/cfg"]}, None),
    ("break_glass_sync", {"break_glass": True, "reason": "INC-1 it's down"}, None),
    ("rollback", {"history_id": 3, "prune": True, "break_glass": True, "reason": "INC-2"}, None),
    ("terminate", {"break_glass": True, "reason": "INC-3"}, None),
    ("suspend_autosync", {"for": "4h", "self_heal_only": True, "break_glass": True, "reason": "INC-4"}, None),
    ("resume_autosync", {}, None),
    ("restart", {"kind": "Deployment", "name": "web", "namespace": "ns", "reason": "INC-5"}, None),
    ("delete", {"cascade": "orphan", "reason": "retired"}, None),
    ("refresh", {}, None),
    ("hard_refresh", {}, None),
    ("write_mode", {}, None),
]


@pytest.mark.parametrize(("action", "values", "prefix"), CASES)
def test_command_parses(action: str, values: dict[str, object], prefix: list[str] | None) -> None:
    line = command_line(action, "a" if action != "write_mode" else "", values)
    words = shlex.split(line)
    assert words[0] == "trueup"
    args = build_parser().parse_args(words[1:])
    if prefix:
        assert words[1:] == prefix
    if values.get("break_glass"):
        assert args.break_glass and args.confirm == "a" and args.reason == values["reason"]
    if action == "sync" and values.get("out_of_sync_only"):
        assert args.apply_out_of_sync_only and args.prune and args.dry_run and args.force
    if action == "sync" and values.get("resources"):
        assert args.resource == values["resources"]
    if action == "hard_refresh":
        assert args.hard
    if action == "delete":
        assert args.cascade == "orphan" and args.yes
    if action == "write_mode":
        assert args.write
