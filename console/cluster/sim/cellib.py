"""Kubernetes' own CEL functions that the sim provides on top of the CEL library.

Kubernetes' list library (`isSorted`, `sum`, `min`, `max`; k8s.io/apiserver/pkg/cel/library/lists.go),
its regex library (`find`, `findAll`), and the ordering operators re-declared with the
cross-type numeric overloads cel-go adds with CrossTypeNumericComparisons (cel-cpp's runtime
implements them; only its checker needs the declarations).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from cel_expr_python import cel

_T = cel.Type
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _no_such_overload() -> ValueError:
    return ValueError("no such overload")


def _sum(items: list[Any]) -> Any:
    """Like lists.go: starts from 0 and adds with CEL's rules (no int + double, no bools)."""
    if not items:
        return 0
    if {type(i) for i in items} not in ({int}, {float}):
        raise _no_such_overload()
    total = sum(items)
    if isinstance(total, int) and not INT64_MIN <= total <= INT64_MAX:
        raise ValueError("integer overflow")
    return total


def _comparable(items: list[Any]) -> None:
    kinds = {type(i) for i in items}
    if len(kinds) > 1 and not kinds <= {int, float}:  # only numbers compare across types in CEL
        raise _no_such_overload()


def _extreme(name: str, pick: Callable[[Any, Any], bool]) -> Callable[[list[Any]], Any]:
    def impl(items: list[Any]) -> Any:
        if not items:
            raise ValueError(f"{name} called on empty list")
        _comparable(items)
        best = items[0]
        try:
            for item in items[1:]:
                if pick(item, best):
                    best = item
        except TypeError:  # maps or lists: not comparable
            raise _no_such_overload() from None
        return best

    return impl


def _is_sorted(items: list[Any]) -> bool:
    _comparable(items)
    try:
        return all(not (b < a) for a, b in zip(items, items[1:], strict=False))
    except TypeError:  # maps or lists: not comparable
        raise _no_such_overload() from None


def _find(text: str, pattern: str) -> str:
    m = _regex(pattern).search(text)
    return m.group(0) if m else ""


def _find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    found = [m.group(0) for m in _regex(pattern).finditer(text)]
    return found if limit < 0 else found[:limit]


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"Illegal regex: {exc}") from None


# Kubernetes also sums and orders durations and timestamps; a Python function cannot return those
# through a dyn result, so the sim declares only the element types it can answer for.
_SUMMABLE = (("int", _T.INT), ("uint", _T.UINT), ("double", _T.DOUBLE))
_COMPARABLE = (
    ("int", _T.INT),
    ("uint", _T.UINT),
    ("double", _T.DOUBLE),
    ("bool", _T.BOOL),
    ("duration", _T.DURATION),
    ("timestamp", _T.TIMESTAMP),
    ("string", _T.STRING),
    ("bytes", _T.BYTES),
)
_ORDERED = tuple(t for t in _COMPARABLE if t[0] not in ("duration", "timestamp"))


def _templated(
    name: str, types: Sequence[tuple[str, Any]], typed_result: bool, impl: Callable[..., Any]
) -> Any:
    """One member overload per element type, as Kubernetes' list library declares them.

    cel-cpp dispatches a Python function by the runtime kinds of its arguments (here: one list),
    so only one overload may carry the implementation; it gets a receiver no expression has in
    practice (`list(type)`; not `list(null_type)`, which the checker lets durations and timestamps
    through) and a dyn result, which lets it return whichever element type the call produced."""
    overloads = [
        cel.Overload(
            f"list_{t}_{name}_{t if typed_result else 'bool'}",
            ty if typed_result else _T.BOOL,
            [_T.List(ty)],
            is_member=True,
        )
        for t, ty in types
    ]
    overloads.append(
        cel.Overload(
            f"list_type_{name}_sim",
            _T.DYN if typed_result else _T.BOOL,
            [_T.List(_T.Type(_T.DYN))],
            is_member=True,
            impl=impl,
        )
    )
    return cel.FunctionDecl(name, overloads)


def _ordering_decls() -> list[Any]:
    numeric = (("int64", _T.INT), ("uint64", _T.UINT), ("double", _T.DOUBLE))
    same = (
        ("bool", _T.BOOL),
        ("string", _T.STRING),
        ("bytes", _T.BYTES),
        ("timestamp", _T.TIMESTAMP),
        ("duration", _T.DURATION),
    )
    decls = []
    for op, word in (
        ("_<_", "less"),
        ("_<=_", "less_equals"),
        ("_>_", "greater"),
        ("_>=_", "greater_equals"),
    ):
        overloads = [cel.Overload(f"{word}_{n}", _T.BOOL, [t, t]) for n, t in same]
        for an, at in numeric:
            for bn, bt in numeric:
                oid = f"{word}_{an}" if an == bn else f"{word}_{an}_{bn}"
                overloads.append(cel.Overload(oid, _T.BOOL, [at, bt]))
        decls.append(cel.FunctionDecl(op, overloads))
    return decls


def library() -> list[Any]:
    """Fresh declarations (with their Python implementations) for one cel-cpp environment."""
    find_all = cel.FunctionDecl(
        "findAll",
        [
            cel.Overload(
                "string_find_all_string",
                _T.List(_T.STRING),
                [_T.STRING, _T.STRING],
                is_member=True,
                impl=_find_all,
            ),
            cel.Overload(
                "string_find_all_string_int",
                _T.List(_T.STRING),
                [_T.STRING, _T.STRING, _T.INT],
                is_member=True,
                impl=_find_all,
            ),
        ],
    )
    return [
        *_ordering_decls(),
        _templated("sum", _SUMMABLE, True, _sum),
        _templated("min", _ORDERED, True, _extreme("min", lambda a, b: a < b)),
        _templated("max", _ORDERED, True, _extreme("max", lambda a, b: a > b)),
        _templated("isSorted", _COMPARABLE, False, _is_sorted),
        cel.FunctionDecl(
            "find",
            [
                cel.Overload(
                    "string_find_string", _T.STRING, [_T.STRING, _T.STRING], is_member=True, impl=_find
                )
            ],
        ),
        find_all,
    ]
