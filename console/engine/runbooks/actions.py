"""Suggested actions: the exact command lines (or Git commands, or YAML) a responder runs.

Nothing here mutates the cluster or the Applications: a runbook suggests, people act (through
the CLI or the console, with RBAC and break-glass). The one write is local and reversible:
`revert-commit` prepares the revert commit on a new branch of the workspace's working clone for
review — it never pushes, and prints the commands to review and push.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from console.engine.runbooks.facts import Facts
from console.engine.runbooks.schema import Branch
from console.engine.sources.workclone import CloneError, Identity, find_clone, prepare_revert
from console.engine.workspace import current_user


@dataclass
class Suggestion:
    action: str
    text: str
    commands: list[str] = field(default_factory=list)
    snippet: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.action, "text": self.text, "commands": list(self.commands)}
        if self.snippet:
            out["snippet"] = self.snippet
        out.update(self.details)
        return out


@dataclass(frozen=True)
class Options:
    incident: str = ""
    prepare: bool = True  # prepare a revert commit when the conclusion is "revert"
    title: str = ""
    actor: str = ""  # who the prepared revert commit is by (default: the login name)


def _q(text: str) -> str:
    return shlex.quote(text)


def actor_identity(facts: Facts, user: str = "") -> Identity:
    user = user or current_user()
    info = facts.ws.users.get(user) if isinstance(facts.ws.users, dict) else None
    if isinstance(info, dict) and info.get("name") and info.get("email"):
        return Identity(str(info["name"]), str(info["email"]))
    return Identity(user, f"{user}@trueup.invalid")


def _commit_from(data: list[dict[str, Any]]) -> dict[str, Any] | None:
    for d in data:
        c = d.get("commit")
        if isinstance(c, dict) and c.get("sha"):
            return c
    return None


def render(
    facts: Facts,
    branch: Branch,
    data: dict[str, Any],
    others: list[dict[str, Any]],
    opts: Options,
    *,
    decisive: bool,
) -> Suggestion:
    app = facts.name
    action = branch.action
    if action == "sync":
        prune = any(r.requires_pruning for r in facts.resources)
        cmd = f"trueup app sync {_q(app)}" + (" --prune" if prune else "")
        return Suggestion(action, "sync the application to Git", [cmd])
    if action == "terminate-operation":
        return Suggestion(
            action,
            "terminate the running operation, then fix its cause in Git",
            [f"trueup app terminate-op {_q(app)}"],
        )
    if action == "start-controller":
        return Suggestion(
            action, "start a controller (or open the console, which runs one)", ["trueup controller run"]
        )
    if action == "break-glass-sync":
        reason = f"{opts.incident or 'INCIDENT-ID'}: {opts.title or 'emergency sync'}"
        until = str(data.get("until") or "")
        text = "break-glass sync (needs `applications, override` on the app; audited before and after)"
        if until:
            text += f"; or wait until the window closes at {until}"
        details: dict[str, Any] = {}
        if not opts.incident:
            details["note"] = "replace INCIDENT-ID with the incident reference (or pass --incident)"
        return Suggestion(
            action,
            text,
            [f"trueup app sync {_q(app)} --break-glass --reason {_q(reason)} --confirm {_q(app)}"],
            details=details,
        )
    if action == "ignore-rule":
        snippet = str(data.get("snippet") or "")
        managers = data.get("managers") or []
        text = "add this precise ignore rule to the Application in Git"
        if managers:
            text += f" (the fields are owned by {', '.join(managers)})"
        if data.get("verified"):
            text += "; verified: with it the app compares Synced"
        return Suggestion(action, text, [], snippet, {"managers": managers, "verified": data.get("verified")})
    if action == "wait":
        until = str(data.get("until") or "")
        return Suggestion(action, f"wait until {until}" if until else "wait, and check again")
    if action == "fix-health-check":
        return Suggestion(
            action,
            "fix the custom health check (settings.resourceCustomizations.<group>/<kind>.health.lua in trueup.yaml)",
        )
    if action == "escalate":
        who = branch.escalate_to or facts.info("Escalation") or "the owning team"
        links = [f"{k}: {facts.info(k)}" for k in ("Runbook", "Dashboard") if facts.info(k)]
        return Suggestion(action, f"escalate to {who}", [], details={"to": who, "links": links})
    if action == "revert-commit":
        return _revert(facts, data, others, opts, decisive=decisive)
    return Suggestion("none", "")


def _revert(
    facts: Facts, data: dict[str, Any], others: list[dict[str, Any]], opts: Options, *, decisive: bool
) -> Suggestion:
    commit = _commit_from([data, *others])
    if commit is None:
        return Suggestion("revert-commit", "revert the offending commit in Git (no commit was identified)")
    sha, subject = str(commit["sha"]), str(commit.get("subject") or "")
    base = {"commit": commit}
    clone = find_clone(facts.ws.root, facts.repo_url)
    if clone is None:
        return Suggestion(
            "revert-commit",
            f"revert {sha[:7]} '{subject}' in Git and push it for review",
            [
                f"git clone {_q(facts.repo_url)} fleet && cd fleet",
                f"git revert {sha}",
                f"git push origin HEAD:{_q(facts.target_branch)}",
            ],
            details=base,
        )
    if not (decisive and opts.prepare):
        return Suggestion(
            "revert-commit",
            f"revert {sha[:7]} '{subject}' in Git",
            [f"git -C {_q(str(clone.path))} revert {sha}"],
            details=base,
        )
    note = f"Prepared by trueup runbook for {facts.name}" + (f" ({opts.incident})" if opts.incident else "")
    try:
        prepared = prepare_revert(
            clone,
            facts.target_branch,
            sha,
            facts.name,
            actor_identity(facts, opts.actor),
            note=note,
            at=facts.now,
        )
    except CloneError as exc:
        return Suggestion(
            "revert-commit",
            f"revert {sha[:7]} '{subject}' in Git (trueup could not prepare it: {exc})",
            [f"git -C {_q(str(clone.path))} revert {sha}"],
            details=base,
        )
    verb = "already prepared" if prepared.reused else "prepared"
    return Suggestion(
        "revert-commit",
        f"revert {sha[:7]} '{subject}': {verb} on branch {prepared.branch} of {clone.shown}/ "
        f"(not pushed: review it, then push it to {prepared.target_branch} and let auto-sync deliver it)",
        [shlex.join(c) for c in prepared.review_commands()],
        details={
            **base,
            "prepared": {
                "branch": prepared.branch,
                "sha": prepared.sha,
                "base": prepared.base,
                "clone": str(clone.path),
                "reused": prepared.reused,
            },
        },
    )
