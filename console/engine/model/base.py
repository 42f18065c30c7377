"""The base of every model: Argo's schema rules (strict types, no unknown fields, camelCase) in one place.

- `@model`: a pydantic dataclass with `extra="forbid"` (a typo such as `sourc:` or `selfheal:`
  that Kubernetes would silently drop is refused), camelCase aliases (`repoURL`, `selfHeal`) with
  the snake_case names kept for Python code, keyword-only construction, and slots. Dataclasses
  rather than BaseModel because a fleet holds ~30 model objects per Application: a BaseModel
  instance carries a `__dict__` and a fields-set that the garbage collector walks on every full
  collection, which made holding 10,000 parsed Applications slower than the hand-written model.
- Scalars are strict where Argo's schema is (`Str`, `Int`, `Bool`, `List`): `path: 3` is an
  error, not "3". A key set to null counts as absent, as in Argo's Go structs (`namespace:` with
  no value is ""), except inside free-form values (Helm `valuesObject`), which are kept as written.
- `to_dict()` is the canonical form: camelCase, defaults omitted. Presence that carries meaning
  survives because such fields default to None: `automated: {}` enables auto-sync, and
  `namespaceResourceWhitelist: []` (deny all) is not the same as leaving it out (allow all).
  Free-form blocks (helm, kustomize, generators, ...) have only None defaults, so their canonical
  form is what was written, explicit `false` and `""` included.
- `Templatable[T]`: inside an ApplicationSet template a `{{ ... }}` string may stand for any value.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast, dataclass_transform, overload

import pydantic.dataclasses
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapSerializer,
    WrapValidator,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

_ALIASES = {"repo_url": "repoURL"}


def camel(name: str) -> str:
    """Argo's JSON name for a field: camelCase, `repoURL`, and `list_` -> `list`."""
    return _ALIASES.get(name) or to_camel(name.rstrip("_"))


def _config(extra: Literal["forbid", "ignore"]) -> ConfigDict:
    return ConfigDict(
        extra=extra,
        alias_generator=camel,
        validate_by_alias=True,
        validate_by_name=True,  # Python code builds models by field name; parsing passes by_name=False
        serialize_by_alias=True,
        hide_input_in_errors=True,  # values (Helm values, tokens) never reach a log through str(exc)
        defer_build=True,  # validators are built on first use: `trueup --help` does not pay for them
    )


_CONFIGS = {"forbid": _config("forbid"), "ignore": _config("ignore")}

C = TypeVar("C", bound=type)
T = TypeVar("T")


@overload
def model(cls: C, /) -> C: ...
@overload
def model(*, extra: Literal["forbid", "ignore"] = "forbid", kw_only: bool = True) -> Callable[[C], C]: ...
@dataclass_transform(kw_only_default=True, field_specifiers=(Field, dataclasses.field))
def model(
    cls: C | None = None, /, *, extra: Literal["forbid", "ignore"] = "forbid", kw_only: bool = True
) -> C | Callable[[C], C]:
    """Declare a model: `@model`, or `@model(extra="ignore")` for controller-written parts."""

    def build(c: C) -> C:
        built = pydantic.dataclasses.dataclass(c, config=_CONFIGS[extra], kw_only=kw_only, slots=True)
        return cast(C, built)

    return build if cls is None else build(cls)


R = TypeVar("R")


def per_class(fn: Callable[[type], R]) -> Callable[[type], R]:
    """Memoise `fn` per model class (computed on first use, not at import)."""
    memo: dict[type, R] = {}

    def get(cls: type) -> R:
        try:
            return memo[cls]
        except KeyError:
            memo[cls] = value = fn(cls)
            return value

    return get


@per_class
def adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


@per_class
def field_aliases(cls: type) -> tuple[tuple[str, str], ...]:
    """(name, alias) of each field a model validates from input (fields with init=False excluded)."""
    return tuple((f.name, camel(f.name)) for f in dataclasses.fields(cls) if f.init)


class Model:
    """Behaviour shared by every model (a slots mixin: it adds no per-instance state)."""

    __slots__ = ()

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """A key set to null is absent."""
        if type(data) is dict and None in data.values():
            return {k: v for k, v in data.items() if v is not None}
        return data

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form: camelCase keys, defaults omitted."""
        out: dict[str, Any] = adapter(type(self)).dump_python(self, by_alias=True, exclude_defaults=True)
        return out


class Canonical(Model):
    """Writes `ALWAYS` keys even at their default (`group: ""`, as Argo does) and the `extra` keys kept."""

    __slots__ = ()
    ALWAYS: ClassVar[dict[str, Any]] = {}

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if self.ALWAYS and not all(key in out for key in self.ALWAYS):
            ordered = {}
            for _, alias in field_aliases(type(self)):
                if alias in out:
                    ordered[alias] = out[alias]
                elif alias in self.ALWAYS:
                    ordered[alias] = copy.deepcopy(self.ALWAYS[alias])
            out = ordered
        extra = getattr(self, "extra", None)
        if extra:
            out.update(copy_json(extra))
        return out


@per_class
def _input_keys(cls: type) -> frozenset[str]:
    return frozenset(alias for _, alias in field_aliases(cls))


def templated(info: ValidationInfo) -> bool:
    """True while validating an ApplicationSet template (`context={"templated": True}`)."""
    ctx = info.context
    return isinstance(ctx, dict) and bool(ctx.get("templated"))


def is_template(value: Any, info: ValidationInfo) -> bool:
    return isinstance(value, str) and "{{" in value and templated(info)


def _template_or(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    return value if is_template(value, info) else handler(value)


def _template_or_dump(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    return value if isinstance(value, str) else handler(value)


def copy_json(value: Any) -> Any:
    """Deep copy of YAML/JSON data: containers rebuilt, immutable scalars shared (several times
    faster than `copy.deepcopy`, which is generic and memoises every object)."""
    kind = type(value)
    if kind is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if kind is list:
        return [copy_json(v) for v in value]
    if value is None or kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)  # anything else a YAML loader can make (a set, a bytearray)


_IMMUTABLE = frozenset({str, int, float, bool, bytes, datetime.date, datetime.datetime})

Str = Annotated[str, Strict()]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
List = Annotated[list[T], Strict()]
StrMap = Annotated[dict[str, Str], Strict()]

Required = Annotated[str, StringConstraints(strict=True, min_length=1)]
"""A required string: absent, null and "" are all "required field is missing", as in Argo."""

JsonDict = Annotated[dict[str, Any], Strict(), AfterValidator(copy_json)]
"""A free-form object, copied so the parsed model never shares state with its input."""

Templatable = Annotated[T, WrapValidator(_template_or), WrapSerializer(_template_or_dump)]
"""A value that a `{{ ... }}` string may replace inside an ApplicationSet template."""


@model(extra="ignore")
class KeepsUnknown(Canonical):
    """Keys it does not know are kept in `extra` and written back by `to_dict()` (status is
    controller-written: a newer controller's fields survive a round trip)."""

    extra: JsonDict = Field(default_factory=dict, init=False, exclude=True, repr=False)

    @model_validator(mode="wrap")
    @classmethod
    def _prepare(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """A key set to null is absent; unknown keys go to `extra` (one pass, replacing Model's)."""
        if type(data) is not dict:
            return handler(data)
        known = _input_keys(cls)
        if known.issuperset(data) and None not in data.values():
            return handler(data)
        obj = handler({k: v for k, v in data.items() if k in known and v is not None})
        obj.extra = copy_json({k: v for k, v in data.items() if k not in known and v is not None})
        return obj
