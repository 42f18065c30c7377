"""ApplicationSet: generators that produce parameters, and an Application template they fill in.

Each generator names exactly one type; matrix takes exactly two children and combinations nest one
level deep, as in Argo. The template is validated as an Application spec with `{{ ... }}` allowed
where a value will be substituted (and the destination/source checks left to the generated apps).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import Field, ValidationError, field_validator, model_validator

from console.engine.model.application import ApplicationSpec
from console.engine.model.base import (
    Bool,
    Canonical,
    JsonDict,
    KeepsUnknown,
    List,
    Model,
    Str,
    StrMap,
    adapter,
    field_aliases,
    model,
)
from console.engine.model.errors import fail, one_of, spec_error
from console.engine.model.meta import KIND_APPLICATIONSET, Envelope

GENERATOR_KEYS = (
    "list",
    "clusters",
    "git",
    "matrix",
    "merge",
    "scmProvider",
    "pullRequest",
    "clusterDecisionResource",
    "plugin",
)
APPLICATIONS_SYNC_POLICIES = ("create-only", "create-update", "create-delete", "sync")
APPSET_STRATEGY_TYPES = ("AllAtOnce", "RollingSync")
APPSET_DELETION_ORDERS = ("AllAtOnce", "Reverse")
MAX_COMBINATION_DEPTH = 2  # a matrix/merge may hold one more matrix/merge, no deeper


@model
class Generator(Model):
    list_: JsonDict | None = None
    clusters: JsonDict | None = None
    git: JsonDict | None = None
    matrix: MatrixGenerator | None = None
    merge: MergeGenerator | None = None
    scm_provider: JsonDict | None = None
    pull_request: JsonDict | None = None
    cluster_decision_resource: JsonDict | None = None
    plugin: JsonDict | None = None
    selector: JsonDict | None = None
    values: JsonDict | None = None

    @model_validator(mode="after")
    def _exactly_one_type(self) -> Generator:
        present = self.types()
        if not present:
            raise fail(f"generator is empty: set exactly one of {', '.join(GENERATOR_KEYS)}")
        if len(present) > 1:
            raise fail(f"more than one generator defined: {', '.join(present)}")
        return self

    def types(self) -> list[str]:
        return [
            alias
            for name, alias in field_aliases(type(self))
            if name not in ("selector", "values") and getattr(self, name) is not None
        ]

    def children(self) -> Iterator[tuple[str, list[Generator]]]:
        """(`matrix`|`merge`, its child generators) for a combination generator."""
        if self.matrix is not None:
            yield "matrix", self.matrix.generators
        if self.merge is not None:
            yield "merge", self.merge.generators


@model(extra="ignore")
class MergeGenerator(KeepsUnknown):
    """Children plus keys Argo defines on the combination (mergeKeys, template), kept as written."""

    generators: List[Generator]


@model(extra="ignore")
class MatrixGenerator(MergeGenerator):
    @field_validator("generators")
    @classmethod
    def _exactly_two(cls, children: list[Generator]) -> list[Generator]:
        if len(children) > 2:
            raise fail("found more than two generators, Matrix support only two")
        if len(children) < 2:
            raise fail("found less than two generators, Matrix support only two")
        return children


@model
class TemplateMetadata(Model):
    name: Str | None = None
    namespace: Str | None = None
    labels: StrMap | None = None
    annotations: StrMap | None = None
    finalizers: List[Str] | None = None


@model
class ApplicationSetTemplate(Canonical):
    ALWAYS: ClassVar[dict[str, Any]] = {"metadata": {}}

    metadata: TemplateMetadata = Field(default_factory=TemplateMetadata)
    spec: ApplicationSpec


@model
class AppSetSyncPolicy(Model):
    applications_sync: Str | None = None
    preserve_resources_on_deletion: Bool | None = None

    @field_validator("applications_sync")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        return one_of(value, APPLICATIONS_SYNC_POLICIES)


@model
class MatchExpression(Model):
    key: Str | None = None
    operator: Str = Field(default="", validate_default=True)
    values: List[Str] | None = None

    @field_validator("operator")
    @classmethod
    def _in_or_not_in(cls, op: str) -> str:
        if op not in ("In", "NotIn"):
            raise fail(f"unsupported value {op!r}: must be one of In, NotIn")
        return op


@model
class RollingSyncStep(Model):
    match_expressions: List[MatchExpression] | None = None
    max_update: Any = None  # int or percentage string, as Kubernetes' IntOrString


@model
class RollingSync(Model):
    steps: List[RollingSyncStep] | None = None


@model
class AppSetStrategy(Model):
    type: Str | None = None
    rolling_sync: RollingSync | None = None
    deletion_order: Str | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return one_of(value, APPSET_STRATEGY_TYPES)

    @field_validator("deletion_order")
    @classmethod
    def _known_order(cls, value: str) -> str:
        return one_of(value, APPSET_DELETION_ORDERS)


@model
class PreservedFields(Model):
    annotations: List[Str] | None = None
    labels: List[Str] | None = None


@model
class ApplicationDifferences(Model):
    name: Str | None = None
    json_pointers: List[Str] | None = None
    jq_path_expressions: List[Str] | None = None


@model
class ApplicationSetSpec(Model):
    generators: List[Generator]
    template: ApplicationSetTemplate
    go_template: Bool = False
    go_template_options: List[Str] = Field(default_factory=list)
    template_patch: Str = ""
    sync_policy: AppSetSyncPolicy | None = None
    strategy: AppSetStrategy | None = None
    preserved_fields: PreservedFields | None = None
    ignore_application_differences: List[ApplicationDifferences] = Field(default_factory=list)
    apply_nested_selectors: Bool = False

    @field_validator("generators")
    @classmethod
    def _nesting(cls, generators: list[Generator]) -> list[Generator]:
        for i, gen in enumerate(generators):
            _check_depth(gen, (i,), 0)
        return generators

    def applications_sync(self) -> str:
        if self.sync_policy is None:
            return "sync"
        return self.sync_policy.applications_sync or "sync"


def _check_depth(gen: Generator, at: tuple[str | int, ...], depth: int) -> None:
    for key, children in gen.children():
        if depth >= MAX_COMBINATION_DEPTH:
            raise fail("combination generators may nest only one level deep", *at, key)
        for i, child in enumerate(children):
            _check_depth(child, (*at, key, "generators", i), depth + 1)


@model
class ApplicationSet(Envelope):
    KIND: ClassVar[str] = KIND_APPLICATIONSET

    spec: ApplicationSetSpec
    status: JsonDict = Field(default_factory=dict)


def parse_applicationset(obj: Any) -> ApplicationSet:
    """Validate an ApplicationSet: generators have exactly one known type, template is an App spec."""
    try:
        return adapter(ApplicationSet).validate_python(
            obj, by_alias=True, by_name=False, context={"templated": True}
        )
    except ValidationError as exc:
        raise spec_error(KIND_APPLICATIONSET, obj, exc, ApplicationSet) from None
