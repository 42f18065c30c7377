"""Checks about live drift: who changed which field (people vs controllers and admission
mutations), the precise ignore rule for a legitimate controller-owned field (verified by comparing
again with it), and other writers fighting trueup (another app claiming the objects, self-heal
undone by a controller)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from console.cluster.api import ResourceKey
from console.cluster.schema import list_map_keys
from console.engine import tracking, yamlsafe
from console.engine.compare import ResourceState, compare_app
from console.engine.diff.attribution import FieldAttribution
from console.engine.diff.paths import parse_pointer
from console.engine.diff.resource import OWN_MANAGER
from console.engine.refresh import new_context
from console.engine.runbooks import gitlog
from console.engine.runbooks.checks.base import (
    Result,
    check,
    dotted,
    is_human,
    resource,
    short_value,
    value_at,
)
from console.engine.runbooks.facts import FactError, Facts, ago, parse_time
from console.engine.sources import RepoError


@dataclass(frozen=True)
class Drift:
    res: ResourceState
    attr: FieldAttribution

    @property
    def human(self) -> bool:
        return is_human(self.attr.manager)

    def values(self) -> tuple[str, str]:
        diff = self.res.diff
        if diff is None:
            return "?", "?"
        found_live, live = value_at(diff.live, self.attr.path)
        found_git, git = value_at(diff.predicted, self.attr.path)
        return (short_value(git) if found_git else "absent"), (short_value(live) if found_live else "absent")

    def line(self, facts: Facts) -> str:
        git, live = self.values()
        op = self.attr.operation or "write"
        if self.attr.subresource:
            op += f" on /{self.attr.subresource}"
        when = ago(facts.now, parse_time(self.attr.time))
        what = _describe_path(self.res, self.attr.path)
        return f"{resource(self.res.key)}: {what} changed by {self.attr.manager} ({op}) {when}: Git {git}, live {live}"


def _describe_path(res: ResourceState, pointer: str) -> str:
    item = _keyed_item(res, pointer)
    if item is not None:
        list_path, key, value, rest = item
        if not rest:
            return f"{list_path[1:].replace('/', '.')}[{key}={value}] (not in Git)"
    return dotted(pointer)


def _keyed_item(res: ResourceState, pointer: str) -> tuple[str, str, str, list[str]] | None:
    """(list pointer, key field, key value, tokens after the item) for the first keyed list item
    on `pointer` (containers/1 -> name=istio-proxy), read from the normalised live object."""
    diff = res.diff
    if diff is None:
        return None
    tokens = parse_pointer(pointer)
    node: Any = diff.live
    for i, token in enumerate(tokens):
        if isinstance(node, list) and token.isdigit():
            idx = int(token)
            path = tuple(t for t in tokens[:i] if not t.isdigit())
            keys = list_map_keys(res.key.kind, path) or ("name",)
            if idx < len(node) and isinstance(node[idx], dict):
                for k in keys:
                    if k in node[idx]:
                        return "/" + "/".join(tokens[:i]), k, str(node[idx][k]), tokens[i + 1 :]
            return None
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return None


def drifts(facts: Facts) -> list[Drift]:
    """Changed fields another field manager wrote (not trueup), on resources this app holds."""
    out = []
    annotation = facts.ws.settings.tracking_annotation
    for r in facts.resources:
        if r.status != "OutOfSync" or r.diff is None or r.live is None or r.hook:
            continue
        owner = tracking.app_of(r.live, annotation)
        if owner and owner != facts.name:
            continue  # another app holds it: a claim, not drift
        for a in r.diff.attributions:
            if a.drift and a.manager != OWN_MANAGER:
                out.append(Drift(r, a))
    return out


# --- the precise ignore rule -----------------------------------------------------------------------


def _jq_path(tokens: list[str]) -> str:
    return "".join(
        f".{t}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", t) else f"[{t!r}]".replace("'", '"')
        for t in tokens
    )


def rule_for(found: list[Drift]) -> list[dict[str, Any]]:
    """One ignoreDifferences item per resource: jqPathExpressions selecting a keyed list item by
    its key (`containers[] | select(.name == "istio-proxy")`), jsonPointers for plain fields."""
    by_key: dict[ResourceKey, dict[str, Any]] = {}
    for d in found:
        k = d.res.key
        rule = by_key.setdefault(
            k,
            {
                "group": k.group,
                "kind": k.kind,
                "name": k.name,
                **({"namespace": k.namespace} if k.namespace else {}),
            },
        )
        item = _keyed_item(d.res, d.attr.path)
        if item is not None:
            list_ptr, key, value, rest = item
            expr = f"{_jq_path(parse_pointer(list_ptr))}[] | select(.{key} == {value!r})".replace("'", '"')
            if rest:
                expr += f" | {_jq_path(rest)}"
            exprs = rule.setdefault("jqPathExpressions", [])
            if expr not in exprs:
                exprs.append(expr)
        else:
            ptrs = rule.setdefault("jsonPointers", [])
            if d.attr.path not in ptrs:
                ptrs.append(d.attr.path)
    return list(by_key.values())


def _verify(facts: Facts, rules: list[dict[str, Any]], keys: set[ResourceKey]) -> bool | None:
    """Compare again with the rules added: do the drifted resources become Synced?"""
    try:
        app = copy.deepcopy(facts.app)
        spec = app.setdefault("spec", {})
        spec["ignoreDifferences"] = list(spec.get("ignoreDifferences") or []) + copy.deepcopy(rules)
        ctx = new_context(facts.ws, facts.store)
        cmp = compare_app(ctx, app)
    except Exception:  # noqa: BLE001 - verification is a bonus; an error only means "not verified"
        return None
    states = {r.key: r.status for r in cmp.resources}
    return all(states.get(k) == "Synced" for k in keys)


def snippet(rules: list[dict[str, Any]], respect: bool) -> str:
    spec: dict[str, Any] = {"ignoreDifferences": rules}
    if respect:
        spec["syncPolicy"] = {"syncOptions": ["RespectIgnoreDifferences=true"]}
    return yamlsafe.dump({"spec": spec})


@check(
    "controller-owned-drift",
    "fields differ from Git because a controller or an admission mutation owns them (a diff ignore issue)",
)
def controller_owned_drift(facts: Facts, _p: Any) -> Result:
    found = [d for d in drifts(facts) if not d.human]
    if not found:
        return Result("no", "no: no differing field is owned by a controller or an admission mutation")
    managers = sorted({d.attr.manager for d in found})
    rules = rule_for(found)
    respect = any(d.attr.subresource == "scale" or d.attr.path == "/spec/replicas" for d in found)
    verified = _verify(facts, rules, {d.res.key for d in found})
    evidence = [d.line(facts) for d in found[:8]]
    evidence.append(
        f"owned by {', '.join(managers)}: "
        + (
            "with the rule below the app compares Synced (verified)"
            if verified
            else "the rule below covers these fields"
            + (" (a compare with it still differs: check the other fields)" if verified is False else "")
        )
    )
    if respect:
        evidence.append(
            "the HPA scales through /scale: add RespectIgnoreDifferences=true so syncs leave replicas alone"
        )
    evidence.append(
        f"alternative: managedFieldsManagers: [{', '.join(managers)}] ignores every field they own"
    )
    head = found[0]
    return Result(
        "yes",
        f"yes: {_describe_path(head.res, head.attr.path)} of {resource(head.res.key)} is owned by {head.attr.manager}",
        evidence,
        {"rules": rules, "managers": managers, "snippet": snippet(rules, respect), "verified": verified},
    )


@check("live-mutated", "someone changed live objects by hand (kubectl edit/patch/scale, a dashboard)")
def live_mutated(facts: Facts, _p: Any) -> Result:
    found = [d for d in drifts(facts) if d.human]
    if not found:
        return Result("no", "no: no differing field was written by a person's tool (kubectl, a dashboard)")
    head = found[0]
    selfheal = bool((facts.automated or {}).get("selfHeal"))
    evidence = [d.line(facts) for d in found[:8]]
    evidence.append(
        "selfHeal is on: trueup will revert it"
        if selfheal
        else "selfHeal is off: the edit stays until someone syncs"
    )
    return Result(
        "yes",
        f"yes: {_describe_path(head.res, head.attr.path)} changed by {head.attr.manager} "
        f"{ago(facts.now, parse_time(head.attr.time))}",
        evidence,
        {"managers": sorted({d.attr.manager for d in found})},
    )


@check(
    "controller-fight",
    "another writer undoes trueup's syncs (another Application, a controller after self-heal)",
)
def controller_fight(facts: Facts, _p: Any) -> Result:
    evidence: list[str] = []
    data: dict[str, Any] = {}
    claims = facts.claims()
    annotation = facts.ws.settings.tracking_annotation
    holders = {}
    for r in facts.resources:
        if r.live is not None:
            owner = tracking.app_of(r.live, annotation)
            if owner and owner != facts.name:
                holders[r.key] = owner
    others = sorted({a for apps in claims.values() for a in apps} | set(holders.values()))
    if others:
        keys = sorted(set(claims) | set(holders))
        shown = ", ".join(resource(k) for k in keys[:4]) + (" …" if len(keys) > 4 else "")
        evidence.append(f"Application {', '.join(others)} also manages {shown} (SharedResourceWarning)")
        for k, owner in sorted(holders.items())[:4]:
            evidence.append(f"{resource(k)} is tracked by {owner} now (its tracking id names {owner})")
        intro = _introduced(facts, others[0])
        if intro is not None:
            evidence.append(
                f"{others[0]} was added by commit {intro['sha'][:7]} '{intro['subject']}' ({intro['author']})"
            )
            data["commit"] = intro
        data["apps"] = others
    op = facts.operation
    attempts = int((op.get("operation") or {}).get("sync", {}).get("autoHealAttemptsCount") or 0)
    finished = parse_time(op.get("finishedAt"))
    if attempts and finished is not None:
        for d in drifts(facts):
            written = parse_time(d.attr.time)
            if not d.human and written is not None and written > finished:
                evidence.append(
                    f"self-heal synced {resource(d.res.key)} at {finished.strftime('%H:%M:%S')} (attempt {attempts}); "
                    f"{d.attr.manager} wrote {dotted(d.attr.path)} again {ago(facts.now, written)}"
                )
    if not evidence:
        return Result("no", "no: no other Application or controller writes this app's objects")
    return Result("yes", "yes: " + evidence[0], evidence, data)


def _introduced(facts: Facts, app_name: str) -> dict[str, Any] | None:
    """The commit that added the Application `app_name` to Git (the app-of-apps source)."""
    try:
        other = next(a for a in facts.other_apps if a["metadata"]["name"] == app_name)
    except StopIteration:
        return None
    if not facts.repo_url:
        return None
    try:
        found = gitlog.pickaxe(facts.ws, facts.repo_url, facts.target_branch, f"name: {app_name}")
    except (RepoError, FactError):
        return None
    del other
    if found is None:
        return None
    return {"sha": found.sha, "subject": found.subject, "author": f"{found.author} <{found.email}>"}
