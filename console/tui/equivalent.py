"""The `trueup` command line equivalent to a console action, flag for flag (lazygit's command
log; `tests/unit/tui/test_equivalent.py` parses every one with the real CLI parser). The console
shows it before and after an action and lets the user copy it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any


def _q(*words: object) -> str:
    return " ".join(shlex.quote(str(w)) for w in words)


def _break_glass(app: str, values: Mapping[str, Any]) -> list[str]:
    out = []
    if values.get("break_glass"):
        out += ["--break-glass"]
    if values.get("reason"):
        out += ["--reason", str(values["reason"])]
    if values.get("break_glass"):
        out += ["--confirm", app]
    return out


def command_line(action: str, app: str, values: Mapping[str, Any]) -> str:
    """`values`: the modal's choices (prune, dry_run, force, out_of_sync_only, resources, history_id,
    cascade, for, self_heal_only, kind, name, namespace, reason, break_glass)."""
    words: list[str]
    if action in ("sync", "break_glass_sync"):
        words = ["trueup", "app", "sync", app]
        for key, flag in (
            ("prune", "--prune"),
            ("dry_run", "--dry-run"),
            ("force", "--force"),
            ("out_of_sync_only", "--apply-out-of-sync-only"),
        ):
            if values.get(key):
                words.append(flag)
        for sel in values.get("resources") or []:
            words += ["--resource", str(sel)]
        words += _break_glass(app, values)
    elif action == "rollback":
        words = ["trueup", "app", "rollback", app, str(values.get("history_id", "ID"))]
        if values.get("prune"):
            words.append("--prune")
        if values.get("dry_run"):
            words.append("--dry-run")
        words += _break_glass(app, values)
    elif action == "terminate":
        words = ["trueup", "app", "terminate-op", app, *_break_glass(app, values)]
    elif action == "suspend_autosync":
        words = ["trueup", "app", "set", app, "--auto-sync", "off", "--for", str(values.get("for") or "1h")]
        if values.get("self_heal_only"):
            words.append("--self-heal-only")
        words += _break_glass(app, values)
    elif action == "resume_autosync":
        words = ["trueup", "app", "set", app, "--auto-sync", "on", *_break_glass(app, values)]
    elif action == "restart":
        words = [
            "trueup",
            "app",
            "actions",
            "run",
            app,
            "restart",
            "--kind",
            str(values.get("kind") or "Deployment"),
        ]
        words += ["--resource-name", str(values.get("name") or "NAME")]
        if values.get("namespace"):
            words += ["--namespace", str(values["namespace"])]
        if values.get("reason"):
            words += ["--reason", str(values["reason"])]
    elif action == "delete":
        words = [
            "trueup",
            "app",
            "delete",
            app,
            "--cascade",
            str(values.get("cascade") or "foreground"),
            "--yes",
        ]
        if values.get("reason"):
            words += ["--reason", str(values["reason"])]
    elif action in ("refresh", "hard_refresh"):
        words = ["trueup", "refresh", *([app] if app else [])]
        if action == "hard_refresh":
            words.append("--hard")
    elif action == "write_mode":
        words = ["trueup", "console", "--write"]
    else:
        raise ValueError(f"no command line for action {action!r}")
    return _q(*words)
