"""Drift attribution: who changed a drifted field, from live `metadata.managedFields`.

Argo CD shows *that* live differs from Git; at 3 a.m. the next question is *who* did it
(`kubectl-edit`, an HPA, a mutating webhook, another controller). The apiserver records, per
field manager, a FieldsV1 tree of the fields it owns and when it last wrote them; we walk those
trees along each changed path and name the manager owning the most specific node.

Only a change by *another* manager is drift. When the owner of a changed field is trueup's own
field manager, the live value is exactly what trueup last applied (any other writer of that field
would have taken it over) — Git moved, the cluster did not: `drift` is False and the line says so.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from console.engine.diff.managedfields import key_matches, managed_fields, parse_fields_key, same_value
from console.engine.diff.paths import parse_pointer


@dataclass(frozen=True)
class FieldAttribution:
    """The field manager that last wrote the live value at `path` (a JSON pointer)."""

    path: str
    manager: str
    operation: str
    time: str | None
    subresource: str = ""
    drift: bool = True  # False: the owner is trueup itself, so Git changed and live did not


def _child(node: dict[str, Any], container: Any, token: str) -> tuple[Any, Any] | None:
    """(FieldsV1 child node, concrete child value) for one pointer token, or None."""
    if isinstance(container, list):
        if not token.isdigit() or not 0 <= int(token) < len(container):
            return None
        item = container[int(token)]
        for key, sub in node.items():
            kind, arg = parse_fields_key(key)
            if (kind == "k" and isinstance(item, dict) and key_matches(item, arg)) or (
                kind == "v" and same_value(item, arg)
            ):
                return sub, item
        return None
    sub = node.get("f:" + token)
    if sub is None:
        return None
    value = container.get(token) if isinstance(container, dict) else None
    return sub, value


def _score(tree: dict[str, Any], resolve_in: Any, tokens: Sequence[str]) -> int:
    """How deep along `tokens` this tree owns a node covering the path (0: not at all).

    A leaf (`{}`) or an item owned as a whole (`.`) covers everything below it; reaching the end
    of the path on an interior node means the manager owns fields inside it.
    """
    node: Any = tree
    value = resolve_in
    best = 0
    for depth, token in enumerate(tokens, start=1):
        found = _child(node, value, token) if isinstance(node, dict) else None
        if found is None:
            return best
        node, value = found
        if not isinstance(node, dict):
            return best  # malformed FieldsV1: claims nothing
        if not node:
            return depth
        if "." in node:
            best = depth
    return len(tokens)


def attribute(
    live: dict[str, Any],
    paths: Sequence[str],
    *,
    resolve_in: dict[str, Any] | None = None,
    own_managers: Collection[str] = (),
) -> list[FieldAttribution]:
    """One attribution per path that some manager owns in `live`.

    A path owned by one of `own_managers` (the engine's field manager) is not drift.

    List indices in `paths` are read from `resolve_in` (default: `live`) and translated to the
    item's `k:{...}` / `v:` key, so indices of a normalised copy (which may have dropped ignored
    items) still find the right item. When several managers cover a path equally, the most recent
    `time` wins.
    """
    entries = managed_fields(live)
    if not entries:
        return []
    target = live if resolve_in is None else resolve_in
    out: list[FieldAttribution] = []
    for path in paths:
        tokens = parse_pointer(path)
        if not tokens:
            continue
        best: tuple[int, str, int] | None = None
        chosen: dict[str, Any] | None = None
        for index, entry in enumerate(entries):
            if not entry.get("manager"):
                continue
            score = _score(entry["fieldsV1"], target, tokens)
            if score == 0:
                continue
            rank = (score, str(entry.get("time") or ""), -index)
            if best is None or rank > best:
                best, chosen = rank, entry
        if chosen is not None:
            time = chosen.get("time")
            manager = str(chosen.get("manager") or "")
            subresource = str(chosen.get("subresource") or "")
            out.append(
                FieldAttribution(
                    path=path,
                    manager=manager,
                    operation=str(chosen.get("operation") or ""),
                    time=str(time) if time else None,
                    subresource=subresource,
                    drift=not (manager in own_managers and not subresource),
                )
            )
    return out


def describe(attr: FieldAttribution) -> str:
    """One line for the console and CLI: path, manager, operation and time.

    Drift names who changed live; a Git change says live still holds what trueup applied.
    """
    if not attr.drift:
        text = f"{attr.path} changed in Git; live is what {attr.manager} applied"
        return f"{text} at {attr.time}" if attr.time else text
    op = attr.operation or "unknown operation"
    if attr.subresource:
        op += f" on /{attr.subresource}"
    text = f"{attr.path} changed by {attr.manager} ({op})"
    return f"{text} at {attr.time}" if attr.time else text


def label(attr: FieldAttribution) -> str:
    """`drift` for a change by another manager, `git` for a change of the desired state."""
    return "drift" if attr.drift else "git"
