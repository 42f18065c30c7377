"""Label selector strings as kubectl/apiserver accept them: `a=b,c!=d,e in (x,y),f notin (z),g,!h`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from console.cluster.api import BadRequest

Matcher = Callable[[Mapping[str, str]], bool]
_TOKEN = re.compile(
    r"\s*(?:(?P<neg>!)\s*(?P<nkey>[^\s,!=()]+)"
    r"|(?P<key>[^\s,!=()]+)\s*(?:(?P<op>==|=|!=)\s*(?P<val>[^\s,()]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<vals>[^)]*)\))?)\s*(?:,|$)"
)


def parse_selector(text: str | None) -> Matcher:
    """Compile a selector; raises BadRequest with the apiserver's wording on bad syntax."""
    if not text or not text.strip():
        return lambda labels: True
    reqs: list[Matcher] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise BadRequest(f"unable to parse requirement: found '{text[pos:]}', expected: identifier")
        pos = m.end()
        reqs.append(_requirement(m))
    return lambda labels: all(r(labels) for r in reqs)


def _requirement(m: re.Match[str]) -> Matcher:
    if m.group("neg"):
        key = m.group("nkey")
        return lambda labels: key not in labels
    key = m.group("key")
    op = m.group("op")
    if op:
        val = m.group("val")
        if op == "!=":
            return lambda labels: labels.get(key) != val
        return lambda labels: labels.get(key) == val
    setop = m.group("setop")
    if setop:
        vals = {v.strip() for v in m.group("vals").split(",") if v.strip()}
        if setop == "in":
            return lambda labels: labels.get(key) in vals
        return lambda labels: labels.get(key) not in vals
    return lambda labels: key in labels


def matches_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector semantics (matchLabels + matchExpressions); empty selects everything."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, vals = expr.get("key"), expr.get("operator"), set(expr.get("values") or [])
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and key in labels and labels.get(key) in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True
