"""A resource diff as lines a reader can follow: YAML of normalised live vs predicted live, each
line knowing the JSON pointer it shows, so the drift attribution of a changed field (who wrote
it, when; `# drift:` another field manager, `# git:` Git moved and live is what trueup applied)
sits beside that field's lines, and the fields ignored by rules are listed apart.

Input objects come from `ResourceDiff`, so Secret data and sensitive annotations are masked
already. The YAML is for reading, not for re-parsing (block style, sorted keys, JSON-quoted
scalars where plain YAML would be ambiguous).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from console.engine.diff.attribution import FieldAttribution, label
from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.resource import ResourceDiff

LineKind = Literal["header", "hunk", "context", "add", "remove"]
_PLAIN = re.compile(r"[A-Za-z0-9_./@%+-][A-Za-z0-9_ ./:@%+=,()-]*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}
_NUMBER = re.compile(r"[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan")


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    text: str
    path: str = ""
    note: str = ""  # "# drift: kubectl-edit (Update) 2026-03-01T12:00:00Z" beside a changed field


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if (
        text
        and _PLAIN.fullmatch(text)
        and text.lower() not in _RESERVED
        and not _NUMBER.fullmatch(text)
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def yaml_lines(obj: Any) -> list[tuple[str, str]]:
    """(text, JSON pointer) per line of a block-YAML rendering of `obj`."""
    out: list[tuple[str, str]] = []
    _emit(out, obj, 0, "", None)
    return out


def _emit(out: list[tuple[str, str]], value: Any, ind: int, path: str, prefix: str | None) -> None:
    first = [prefix]

    def line(text: str, at: str) -> None:
        lead = first[0]
        if lead is not None:
            out.append((lead + text, at))
            first[0] = None
        else:
            out.append((" " * ind + text, at))

    if isinstance(value, dict):
        if not value:
            line("{}", path)
        for k in sorted(value, key=str):
            v = value[k]
            kp = f"{path}/{_esc(str(k))}"
            ks = _scalar(str(k))
            if isinstance(v, dict) and v:
                line(f"{ks}:", kp)
                _emit(out, v, ind + 2, kp, None)
            elif isinstance(v, list) and v:
                line(f"{ks}:", kp)
                _emit(out, v, ind, kp, None)
            elif isinstance(v, str) and "\n" in v:
                line(f"{ks}: |", kp)
                for part in v.splitlines():
                    out.append((" " * (ind + 2) + part, kp))
            elif isinstance(v, dict | list):
                line(f"{ks}: {'{}' if isinstance(v, dict) else '[]'}", kp)
            else:
                line(f"{ks}: {_scalar(v)}", kp)
        return
    if isinstance(value, list):
        if not value:
            line("[]", path)
        for i, v in enumerate(value):
            ip = f"{path}/{i}"
            dash = (first[0] if first[0] is not None else " " * ind) + "- "
            first[0] = None
            if isinstance(v, dict) and v:
                _emit(out, v, ind + 2, ip, dash)
            elif isinstance(v, list) and v:
                out.append((dash.rstrip(), ip))
                _emit(out, v, ind + 2, ip, None)
            elif isinstance(v, str) and "\n" in v:
                out.append((dash + "|", ip))
                for part in v.splitlines():
                    out.append((" " * (ind + 2) + part, ip))
            else:
                out.append(
                    (
                        dash
                        + (
                            _scalar(v)
                            if not isinstance(v, dict | list)
                            else "{}"
                            if isinstance(v, dict)
                            else "[]"
                        ),
                        ip,
                    )
                )
        return
    line(_scalar(value), path)


def _note(attr: FieldAttribution) -> str:
    when = f" {attr.time}" if attr.time else ""
    if not attr.drift:
        return f"# git: changed in Git; live is what {attr.manager} applied{when}"
    op = attr.operation or "unknown operation"
    if attr.subresource:
        op += f" on /{attr.subresource}"
    return f"# {label(attr)}: {attr.manager} ({op}){when}"


def _attribution_for(path: str, attrs: Sequence[FieldAttribution]) -> FieldAttribution | None:
    best: FieldAttribution | None = None
    for a in attrs:
        if path == a.path or path.startswith(a.path + "/"):
            if best is None or len(a.path) > len(best.path):
                best = a
    return best


def render(diff: ResourceDiff, context: int = 3) -> list[DiffLine]:
    """The unified diff of one modified resource, attributed; [] when unmodified."""
    if not diff.modified:
        return []
    before = yaml_lines(diff.live) if diff.live is not None else []
    after = yaml_lines(diff.predicted) if diff.predicted is not None else []
    a = [t for t, _ in before]
    b = [t for t, _ in after]
    out: list[DiffLine] = [DiffLine("header", "--- live"), DiffLine("header", "+++ desired")]
    attrs = list(diff.attributions)
    last_note = ""
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(DiffLine("hunk", f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@"))
        for tag, x1, x2, y1, y2 in group:
            if tag == "equal":
                for t, p in before[x1:x2]:
                    out.append(DiffLine("context", " " + t, p))
                last_note = ""
                continue
            for kind, rows in (("remove", before[x1:x2]), ("add", after[y1:y2])):
                for t, p in rows:
                    attr = _attribution_for(p, attrs)
                    note = _note(attr) if attr is not None else ""
                    shown = note if note and note != last_note else ""
                    if note:
                        last_note = note
                    out.append(DiffLine(kind, ("-" if kind == "remove" else "+") + t, p, shown))  # type: ignore[arg-type]
    return out


def plain(lines: Sequence[DiffLine]) -> str:
    """Text for a pager: the diff with its notes as trailing comments."""
    return "".join(f"{ln.text}  {ln.note}\n" if ln.note else f"{ln.text}\n" for ln in lines)


def ignored_fields(
    rules: Sequence[IgnoreRule], group: str, kind: str, namespace: str, name: str, *, ignore_status: bool
) -> list[str]:
    """What the comparison of this resource leaves out, one line each."""
    out: list[str] = []
    if ignore_status:
        out.append("/status (ignoreResourceStatusField)")
    for r in rules:
        if not r.matches(group, kind, namespace, name):
            continue
        out += [f"{p} (jsonPointers)" for p in r.json_pointers]
        out += [f"{e} (jqPathExpressions)" for e in r.jq_path_expressions]
        out += [f"fields owned by {m} (managedFieldsManagers)" for m in r.managed_fields_managers]
    return out


@dataclass
class ResourceDiffView:
    """One out-of-sync resource of an app, ready to show."""

    group: str
    kind: str
    namespace: str
    name: str
    reason: str  # missing from the cluster | requires pruning | changed in Git | live differs from Git
    lines: list[DiffLine]
    ignored: list[str]
    attributions: list[FieldAttribution]

    @property
    def title(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.group or 'core'}/{self.kind} {ns}{self.name}"


def _reason(diff: ResourceDiff, requires_pruning: bool) -> str:
    if diff.live is None:
        return "missing from the cluster"
    if requires_pruning:
        return "requires pruning"
    if diff.attributions and not any(a.drift for a in diff.attributions):
        return "changed in Git"
    return "live differs from Git"


def app_diffs(cmp: Any) -> list[ResourceDiffView]:
    """Every modified resource of a Comparison (console.engine.compare), attributed."""
    rules: list[IgnoreRule] = []
    ignore_status = True
    ctx = cmp.context
    if ctx is not None:
        rules += list(ctx.system_rules)
        ignore_status = ctx.ws.settings.ignore_resource_status_field == "all"
    for item in (cmp.app.get("spec") or {}).get("ignoreDifferences") or []:
        try:
            rules.append(IgnoreRule.from_spec(item))
        except ValueError:
            continue
    out = []
    for r in cmp.resources:
        if r.diff is None or not r.diff.modified:
            continue
        k = r.key
        status_ignored = ignore_status or (
            ctx is not None
            and ctx.ws.settings.ignore_resource_status_field == "crd"
            and k.kind == "CustomResourceDefinition"
        )
        out.append(
            ResourceDiffView(
                group=k.group,
                kind=k.kind,
                namespace=k.namespace,
                name=k.name,
                reason=_reason(r.diff, r.requires_pruning),
                lines=render(r.diff),
                ignored=ignored_fields(
                    rules, k.group, k.kind, k.namespace, k.name, ignore_status=status_ignored
                ),
                attributions=list(r.diff.attributions),
            )
        )
    return out
