"""SpecError and the one formatter that turns pydantic's ValidationError into it.

Every message names the dotted field path (`spec.sources[1].path`) and says what is wrong in the
words an Argo CD user expects: `required field is missing`, `must be a string, got integer (quote
it in YAML)`, `unknown field (did you mean "source"?)`. The suggestion comes from the aliases of
the model the unknown key was found in, so it can never propose a field that does not exist.
Rules the models check themselves raise `fail(message, *at)`: `at` extends the error's location
when a rule on a parent names a child (`spec.source` for "one of spec.source or spec.sources").
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError

RULE = "trueup_rule"  # error type of every rule the models enforce themselves


class SpecError(ValueError):
    """An invalid Application/AppProject/ApplicationSet; `field` is the dotted path at fault."""

    def __init__(self, kind: str, name: str, field: str, message: str) -> None:
        self.kind = kind
        self.name = name
        self.field = field
        self.message = message
        super().__init__(f"{kind} {name or '(unnamed)'}: {field}: {message}")


def fail(message: str, *at: str | int) -> PydanticCustomError:
    """The error a model rule raises; `at` is the path below the validated value, if any."""
    return PydanticCustomError(RULE, "{message}", {"message": message, "at": at})


def one_of(value: str, allowed: tuple[str, ...]) -> str:
    """`value` if it is empty or one of `allowed`, else the error Argo's enum fields give."""
    if value and value not in allowed:
        raise fail(f"unsupported value {value!r}: must be one of {', '.join(allowed)}")
    return value


def type_name(value: Any) -> str:
    """The YAML word for a value's type, as the messages use it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def wrong_type(expected: str, value: Any) -> str:
    """`must be a string, got integer (quote it in YAML)`: the hint where YAML typed a scalar for you."""
    hint = " (quote it in YAML)" if expected == "a string" and isinstance(value, int | float) else ""
    return f"must be {expected}, got {type_name(value)}{hint}"


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "a boolean",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dataclass_type": "an object",
    "dataclass_exact_type": "an object",
}
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")
_MISSING = ("missing", "missing_keyword_argument")


def field_path(loc: Sequence[str | int]) -> str:
    """("spec", "sources", 1, "path") -> "spec.sources[1].path"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional so the walk sees the model, list or dict underneath."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _input_fields(tp: Any) -> dict[str, FieldInfo] | None:
    """alias -> field of a pydantic model or dataclass (fields not taken from input left out)."""
    fields: dict[str, FieldInfo] | None = getattr(tp, "__pydantic_fields__", None)
    if not isinstance(tp, type) or fields is None:
        return None
    return {f.alias or name: f for name, f in fields.items() if f.init is not False}


@lru_cache(maxsize=512)
def _aliases_at(root: type, loc: tuple[str | int, ...]) -> tuple[str, ...]:
    """The field aliases of the model found at `loc` below `root` (empty when it is not a model)."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        fields = _input_fields(tp)
        if fields is not None and isinstance(part, str):
            if part not in fields:
                return ()
            tp = fields[part].annotation
        elif origin is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return ()
    fields = _input_fields(_unwrap(tp))
    return tuple(fields) if fields else ()


def did_you_mean(key: str, aliases: Sequence[str]) -> str | None:
    """The field a mistyped key most likely meant: same letters in another case or spelling
    (`repo_url`, `repourl` -> `repoURL`), else the closest name (`sourc` -> `source`)."""
    squashed = key.replace("_", "").replace("-", "").lower()
    for alias in aliases:
        if alias.lower() == squashed:
            return alias
    close = difflib.get_close_matches(key, aliases, n=1, cutoff=0.6)
    return close[0] if close else None


def _message(root: type, err: ErrorDetails) -> tuple[tuple[str | int, ...], str]:
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    if kind == RULE:
        return loc + tuple(ctx.get("at") or ()), str(ctx["message"])
    if kind in _MISSING:
        return loc, "required field is missing"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return loc, "required field is missing"  # Argo treats "" like an absent required string
    if kind in _UNKNOWN:
        hint = did_you_mean(str(loc[-1]), _aliases_at(root, loc[:-1]))
        return loc, "unknown field" + (f' (did you mean "{hint}"?)' if hint else "")
    if kind in _EXPECTED:
        return loc, wrong_type(_EXPECTED[kind], err.get("input"))
    if kind == "greater_than_equal":
        return loc, f"must be greater than or equal to {ctx.get('ge')}"
    return loc, err["msg"]


def spec_error(
    kind: str, obj: Any, exc: ValidationError, root: type, *, prefix: str = "", name: str = ""
) -> SpecError:
    """The SpecError for `exc`, raised while validating `obj` as `root`.

    One error is reported (the CLI prints one sentence): an unknown field first, since a typo
    (`projet:`) usually explains the other errors (`project` missing), else pydantic's first
    error, which follows the models' field order (apiVersion, kind, metadata, spec, ...).
    """
    errors = exc.errors(include_url=False)
    chosen = next((e for e in errors if e["type"] in _UNKNOWN), errors[0])
    loc, message = _message(root, chosen)
    if not name and isinstance(obj, Mapping):
        meta = obj.get("metadata")
        if isinstance(meta, Mapping) and isinstance(meta.get("name"), str):
            name = meta["name"]
    path = field_path(loc)
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    return SpecError(kind, name, path, message)
