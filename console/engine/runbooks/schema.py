"""The runbook file format (docs/runbooks.md), as pydantic v2 models.

A runbook is data: questions, named checks (functions registered in `checks`, never code from the
file), and decision branches naming an action from a fixed set. Parsing refuses unknown fields,
and `library` then checks every check name, outcome and action against the registry, so a typo is
an error naming the file and the field (`runbooks/db.yaml: spec.steps[1].check: unknown check
'git-ahed' (did you mean 'git-ahead'?)`), never a step that silently does nothing.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
ACTIONS = (
    "sync",
    "revert-commit",
    "ignore-rule",
    "break-glass-sync",
    "terminate-operation",
    "start-controller",
    "escalate",
    "wait",
    "fix-health-check",
    "none",
)
Action = Literal[
    "sync",
    "revert-commit",
    "ignore-rule",
    "break-glass-sync",
    "terminate-operation",
    "start-controller",
    "escalate",
    "wait",
    "fix-health-check",
    "none",
]


def _outcomes(value: Any) -> Any:
    """One outcome or a list; YAML 1.1 reads a bare `yes`/`no` as a boolean, which means the word."""

    def word(v: Any) -> Any:
        return ("yes" if v else "no") if isinstance(v, bool) else v

    if isinstance(value, list):
        return [word(v) for v in value]
    return [word(value)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_by_name=False, validate_by_alias=True)


def _name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise ValueError(f"{what} {value!r} must be lowercase letters, digits and '-' (at most 63)")
    return value


class CheckRef(_Strict):
    """A registered check with its parameters."""

    check: str
    params: dict[str, Any] = Field(default_factory=dict)


class Condition(CheckRef):
    """`appliesWhen` item: the check's outcome must be one of `outcome` (default: yes)."""

    outcome: list[str] = Field(default_factory=lambda: ["yes"])

    @field_validator("outcome", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _outcomes(value)


class Branch(_Strict):
    """What to decide when the step's check has one of the outcomes in `when`."""

    when: list[str]
    decision: str = Field(min_length=1, max_length=500)
    action: Action = "none"
    conclusive: bool = False  # this answer explains the incident: the walk's conclusion
    escalate_to: str = Field(default="", alias="escalateTo", max_length=200)

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _outcomes(value)


class Step(_Strict):
    id: str
    question: str = Field(min_length=1, max_length=300)
    check: str = ""  # empty: a question only the responder can answer (shown as "manual")
    params: dict[str, Any] = Field(default_factory=dict)
    branches: list[Branch] = Field(default_factory=list)
    hint: str = Field(default="", max_length=500)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _name(value, "step id")


class Metadata(_Strict):
    name: str
    aliases: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _n(cls, value: str) -> str:
        return _name(value, "runbook name")

    @field_validator("aliases")
    @classmethod
    def _a(cls, value: list[str]) -> list[str]:
        return [_name(v, "alias") for v in value]


class Spec(_Strict):
    title: str = Field(min_length=1, max_length=120)
    reference: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    priority: int = Field(default=0, ge=0, le=1000)
    applies_when: list[Condition] = Field(default_factory=list, alias="appliesWhen")
    steps: list[Step] = Field(min_length=1, max_length=50)


class Runbook(_Strict):
    api_version: Literal["trueup.dev/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["Runbook"]
    metadata: Metadata
    spec: Spec

    @property
    def name(self) -> str:
        return self.metadata.name
