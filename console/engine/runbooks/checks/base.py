"""What a check is: a named function of the facts that answers one runbook question.

A check returns a `Result`: an outcome from the list it declares (`yes`/`no`, or a
classification such as `policy`/`capacity`), a one-line answer, concrete evidence lines (what,
who, when — never "something changed"), and data the suggested action uses (the commit to
revert, the ignore rule to add, the window to break). A check that cannot read what it needs
answers `unknown` with the reason; one failing check never stops the walk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from console.cluster.api import ResourceKey
from console.engine.diff.paths import parse_pointer

UNKNOWN = "unknown"
YES_NO = ("yes", "no")


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


@dataclass
class Result:
    outcome: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "summary": self.summary, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class CheckDef:
    name: str
    description: str
    outcomes: tuple[str, ...]
    params: type[BaseModel]
    fn: Callable[[Any, Any], Result]  # (Facts, params model) -> Result


REGISTRY: dict[str, CheckDef] = {}


def check(
    name: str, description: str, outcomes: tuple[str, ...] = YES_NO, params: type[BaseModel] = NoParams
) -> Callable[[Callable[[Any, Any], Result]], Callable[[Any, Any], Result]]:
    def register(fn: Callable[[Any, Any], Result]) -> Callable[[Any, Any], Result]:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = CheckDef(name, description, outcomes, params, fn)
        return fn

    return register


# --- wording shared by the checks ------------------------------------------------------------------

# Field managers of people's tools: a change under one of these is someone's manual edit. Anything
# else that is not trueup is a controller, an operator or an admission mutation.
HUMAN_MANAGERS = (
    "kubectl",
    "k9s",
    "Lens",
    "lens",
    "headlamp",
    "Mozilla",
    "dashboard",
    "kubernetes-dashboard",
    "rancher",
    "oc",
)


def is_human(manager: str) -> bool:
    return any(manager == m or manager.startswith(m + "-") for m in HUMAN_MANAGERS)


def dotted(pointer: str) -> str:
    """`/spec/template/spec/containers/0/env` -> `spec.template.spec.containers[0].env`."""
    out = ""
    for token in parse_pointer(pointer):
        if token.isdigit():
            out += f"[{token}]"
        elif out and "." not in token and "/" not in token:
            out += f".{token}"
        elif out:
            out += f"[{token!r}]"
        else:
            out = token
    return out or "."


def resource(key: ResourceKey) -> str:
    ns = f"{key.namespace}/" if key.namespace else ""
    return f"{key.kind} {ns}{key.name}"


def value_at(obj: Any, pointer: str) -> tuple[bool, Any]:
    node = obj
    for token in parse_pointer(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node


def short_value(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict):
        name = value.get("name")
        text = f"{{name: {name}, ...}}" if name else "{...}"
    elif isinstance(value, list):
        text = f"[{len(value)} items]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: object, limit: int = 300) -> str:
    s = " ".join(str(text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
