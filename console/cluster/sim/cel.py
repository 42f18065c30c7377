"""Kubernetes' CEL environment for the sim's ValidatingAdmissionPolicy, on Google's CEL runtime.

Parsing, type checking and evaluation are done by cel-expr-python, Google's Python binding of
cel-cpp (the C++ sibling of cel-go, which the apiserver uses: same grammar, checker, standard
library and extensions, same compile-error text). This module only declares what kube-apiserver
1.36 declares (`object`, `oldObject`, `request`, `namespaceObject`, `params`, `variables.<name>`;
strings ext v2, sets, lists, optional syntax, two-variable comprehensions, cross-type numeric
comparisons; Kubernetes' list library `isSorted/sum/min/max` and regex library `find/findAll`)
and rewords runtime errors the way cel-go words them, so that a denial reads as it would on a
real cluster.

Not available here: Kubernetes' `quantity`, `url`, `ip`, `cidr`, `semver`, `format` and
`authorizer` libraries (they need opaque CEL types, which cel-expr-python cannot register from
Python), the list `indexOf`/`lastIndexOf` (the name clashes with the strings extension's),
optional-typed variables, and the apiserver's cost limits. An expression that needs one of these
is refused when the policy is written, with a note saying it is the sim's limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel

from console.cluster.sim import celtypes

_T = cel.Type
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Extension versions of kube-apiserver 1.36's base environment (k8s.io/apiserver/pkg/cel/environment).
# The ordering operators are re-declared below with the cross-type numeric overloads that
# cel.CrossTypeNumericComparisons adds in cel-go; cel-cpp's runtime already implements them.
_CONFIG = """
extensions:
  - name: strings
    version: 2
  - name: sets
  - name: lists
  - name: optional
  - name: two-var-comprehensions
stdlib:
  exclude_functions:
    - name: "_<_"
    - name: "_<=_"
    - name: "_>_"
    - name: "_>=_"
"""

SIM_LIMIT_NOTE = "(not available in the sim's CEL, see docs/design-notes.md)"
_UNSUPPORTED = re.compile(
    r"undeclared reference to '((?:is)?(?:quantity|Quantity|url|URL|ip|IP|cidr|CIDR|semver|Semver)"
    r"|authorizer|format\.\w+)'"
)
_STATUS_PREFIX = re.compile(r"^[A-Z_]+: ")
_STATUS_SUFFIX = re.compile(r" \[[A-Z_]+\]$")


class CelError(Exception):
    """A compile or evaluation error, worded as the apiserver words it."""


def _clean(message: str) -> str:
    """cel-cpp's status text without its code: 'INVALID_ARGUMENT: x [INVALID_ARGUMENT]' -> 'x'."""
    return _STATUS_SUFFIX.sub("", _STATUS_PREFIX.sub("", message.strip(), count=1))


# ------------------------------------------------------------------ types, as cel-go prints them

_SCALARS = {
    "BOOL": "bool",
    "INT": "int",
    "UINT": "uint",
    "DOUBLE": "double",
    "STRING": "string",
    "BYTES": "bytes",
    "NULL": "null_type",
    "DYN": "dyn",
    "ERROR": "*error*",
    "DURATION": "google.protobuf.Duration",
    "TIMESTAMP": "google.protobuf.Timestamp",
}
_GENERICS = {"LIST": "list", "MAP": "map", "TYPE": "type", "optional_type": "optional_type"}


def go_type_name(name: str) -> str:
    """cel-cpp's `LIST<MAP<STRING, DYN>>` as cel-go's `list(map(string, dyn))`."""
    head, sep, rest = name.partition("<")
    if not sep:
        return _SCALARS.get(name, name)
    args: list[str] = []
    depth, cur = 0, ""
    for ch in rest:
        if ch == ">" and depth == 0:
            break  # cel-cpp may repeat a parameter list ('optional_type<INT><INT>'): keep the first
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    args.append(cur.strip())
    return f"{_GENERICS.get(head, head.lower())}({', '.join(go_type_name(a) for a in args)})"


# ------------------------------------------------------------------ runtime errors, as cel-go words them

_GO_ARG_TYPES = {
    "int64": "int",
    "uint64": "uint",
    "duration": "google.protobuf.Duration",
    "timestamp": "google.protobuf.Timestamp",
}
# RE2's error codes (re2/regexp.cc) as Go's regexp/syntax words them.
_RE2_TO_GO = {
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid UTF-8": "invalid UTF-8",
    "invalid named capture group": "invalid named capture",
}
_NO_OVERLOAD = re.compile(
    r"^No matching overloads found : (?:\((?P<recv>[^)]*)\)\.)?(?P<fn>[^(]+)(?:\((?P<args>.*)\))?$"
)


def go_error(message: str) -> str:
    """cel-cpp's evaluation error in cel-go's words (the ones the apiserver puts in a denial)."""
    msg = _clean(message)
    if m := re.fullmatch(r'Key not found in map : "?(.*?)"?', msg):
        return f"no such key: {m.group(1)}"
    if m := re.fullmatch(r"Index error: index=(-?\d+) size=\d+", msg):
        return f"index out of bounds: {m.group(1)}"
    if msg == "divide by zero":
        return "division by zero"
    if m := re.fullmatch(r"cannot convert (\w+) to (\w+)", msg):
        return f"type conversion error from '{m.group(1)}' to '{m.group(2)}'"
    if m := re.fullmatch(r"(?:int64|uint64|double) out of (u?)int64 range", msg):
        return "unsigned integer overflow" if m.group(1) else "integer overflow"
    if m := re.fullmatch(r"invalid regular expression: (.+?): (.*)", msg, re.S):
        code = _RE2_TO_GO.get(m.group(1), m.group(1))
        return f"error parsing regexp: {code}: `{m.group(2)}`"
    if " clause can only be used on " in msg:  # strings.format
        return "error during formatting: " + msg.replace(
            "decimal clause can only be used on numbers", "decimal clause can only be used on integers"
        )
    if m := _NO_OVERLOAD.match(msg):
        fn = m.group("fn")
        if not fn[:1].isalpha():  # operators (_+_, _<_, !_, @in, ...) say no more in cel-go
            return "no such overload"
        args = [a.strip() for a in (m.group("args") or "").split(",") if a.strip()]
        if m.group("recv"):
            args.insert(0, m.group("recv"))
        return f"no such overload: {fn}({', '.join(_GO_ARG_TYPES.get(a, a) for a in args)})"
    return msg


# ------------------------------------------------------------------ Kubernetes library functions


def _cel_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _int_result(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("integer overflow")
    return value


def _sum(items: list[Any]) -> Any:
    if not items:
        return 0
    acc = items[0]
    for item in items[1:]:
        acc = acc + item
    return _int_result(acc)


def _extreme(name: str, pick: Callable[[Any, Any], bool]) -> Callable[[list[Any]], Any]:
    def impl(items: list[Any]) -> Any:
        if not items:
            raise ValueError(f"{name} called on empty list")
        best = items[0]
        for item in items[1:]:
            if pick(item, best):
                best = item
        return best

    return impl


def _is_sorted(items: list[Any]) -> bool:
    return all(not (b < a) for a, b in zip(items, items[1:], strict=False))


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


_SUMMABLE = (("int", _T.INT), ("uint", _T.UINT), ("double", _T.DOUBLE), ("duration", _T.DURATION))
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


def _templated(
    name: str, types: Sequence[tuple[str, Any]], typed_result: bool, impl: Callable[..., Any]
) -> Any:
    """One member overload per element type, as Kubernetes' list library declares them.

    cel-cpp dispatches a Python function by the runtime kinds of its arguments (here: one list),
    so only one overload may carry the implementation; it gets a `list(null_type)` receiver and a
    dyn result, which lets it return whichever element type the call produced."""
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
            f"list_null_{name}_sim",
            _T.DYN if typed_result else _T.BOOL,
            [_T.List(_T.NULL)],
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


def _library() -> list[Any]:
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
        _templated("min", _COMPARABLE, True, _extreme("min", lambda a, b: a < b)),
        _templated("max", _COMPARABLE, True, _extreme("max", lambda a, b: a > b)),
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


# ------------------------------------------------------------------ compile errors, as cel-go prints them

_BLOCK = re.compile(r"^ERROR: <input>:(\d+):(\d+): (.*)$")
_QUALIFIED = re.compile(r"undeclared reference to '(\w+)((?:\.\w+)+)' \(in container ''\)")
_STRUCT_FIELD = re.compile(r"(undefined field '\w+') not found in struct '[\w.]+'")
_OVERLOAD = re.compile(r"found no matching overload for '(\w+)' applied to '\((.*)\)'$")
_LIST_INDEX_OF = re.compile(r"found no matching overload for '(?:indexOf|lastIndexOf)' applied to '(?!string\.)")


@dataclass
class _Issue:
    line: int
    col: int
    message: str

    def render(self, source_lines: list[str]) -> str:
        text = f"ERROR: <input>:{self.line}:{self.col}: {self.message}"
        if 0 < self.line <= len(source_lines):
            snippet = source_lines[self.line - 1].replace("\t", " ")
            text += f"\n | {snippet}\n | {'.' * min(self.col - 1, len(snippet))}^"
        return text


def _issues(message: str) -> list[_Issue]:
    out: list[_Issue] = []
    for line in message.splitlines():
        if m := _BLOCK.match(line):
            out.append(_Issue(int(m.group(1)), int(m.group(2)), m.group(3)))
        elif out and not line.startswith(" | "):
            out[-1].message += "\n" + line
    return out


def _member_call(source_lines: list[str], issue: _Issue, name: str) -> bool:
    """Whether the call the issue points at (its '(') is `x.name(...)` rather than `name(...)`."""
    if not 0 < issue.line <= len(source_lines):
        return False
    before = source_lines[issue.line - 1][: issue.col - 1].rstrip()
    return before.endswith(name) and before[: -len(name)].rstrip().endswith(".")


def go_compile_message(raw: str, source: str, has_variables: bool) -> str:
    """cel-cpp's checker output in cel-go's words: member overloads as 'recv.(args)', a missing
    qualified name reported at its first identifier, errors sorted by position, and a note when
    the cause is a Kubernetes CEL library the sim does not have."""
    lines = source.splitlines() or [""]
    issues = _issues(_clean(raw))
    if not issues:
        return _clean(raw)
    note = False
    for issue in issues:
        issue.message = _STRUCT_FIELD.sub(r"\1", issue.message)
        if issue.message == "has() argument must be a field selection":
            issue.message = "invalid argument to has() macro"
        if m := _QUALIFIED.fullmatch(issue.message):
            head, rest = m.group(1), m.group(2)
            start = issue.col - (len(head) + len(rest) - len(rest.rsplit(".", 1)[1]) - 1)
            if head == "variables" and has_variables:
                issue.col, issue.message = start + len(head), f"undefined field '{rest.split('.')[1]}'"
            else:
                issue.col, issue.message = start, f"undeclared reference to '{head}' (in container '')"
        elif (m := _OVERLOAD.match(issue.message)) and _member_call(lines, issue, m.group(1)):
            recv, _, args = m.group(2).partition(", ")
            issue.message = f"found no matching overload for '{m.group(1)}' applied to '{recv}.({args})'"
        note = note or bool(_UNSUPPORTED.search(issue.message) or _LIST_INDEX_OF.search(issue.message))
    issues.sort(key=lambda i: (i.line, i.col))
    text = "\n".join(i.render(lines) for i in issues)
    return f"{text}\n{SIM_LIMIT_NOTE}" if note else text


# ------------------------------------------------------------------ environments and programs


@dataclass(frozen=True)
class Program:
    """One compiled expression. `output` is its static type as cel-go names it; `static_type`
    is that type as cel-cpp holds it (to declare the expression as a later variable)."""

    source: str
    output: str
    static_type: Any
    _expr: Any

    def eval(self, activation: Any) -> Any:
        """The result as a plain Python value; CelError (cel-go's wording) if evaluation failed.
        `activation` comes from `bind`."""
        value = self._expr.eval(activation)
        if value.type() == _T.ERROR:
            raise CelError(go_error(str(value.value())))
        try:
            return value.plain_value()
        except (RuntimeError, TypeError) as exc:  # optional values do not convert to Python
            raise CelError(
                f"unsupported result type {go_type_name(value.type().name())} {SIM_LIMIT_NOTE}"
            ) from exc


def _new_env(pool: Any, decls: dict[str, Any]) -> Any:
    config = cel.NewEnvConfigFromYaml(_CONFIG)
    if pool is None:
        return cel.NewEnv(config=config, variables=decls, functions=_library())
    return cel.NewEnv(pool, config=config, variables=decls, functions=_library())


class Env:
    """The declarations one kind of admission expression sees (build with `env_for`).

    Two cel-cpp environments: one type-checks with the apiserver's declared types
    (`request` and `namespaceObject` as objects, each variable with its static type), the other
    compiles the program that runs over plain maps, so reading an absent field is an error, as
    on the apiserver. `variables` are the policy's earlier variables and their static types;
    None means the policy has none (then `variables` itself is undeclared)."""

    def __init__(self, *, params: bool, variables: Sequence[tuple[str, Any]] | None = None) -> None:
        base = {"object": _T.DYN, "oldObject": _T.DYN, **({"params": _T.DYN} if params else {})}
        check = {**base, "request": _T(celtypes.REQUEST), "namespaceObject": _T(celtypes.NAMESPACE)}
        run = {**base, "request": _T.DYN, "namespaceObject": _T.DYN}
        self.has_variables = variables is not None
        for name, ty in variables or ():
            check[f"variables.{name}"] = ty
            run[f"variables.{name}"] = _T.DYN
        self._check = _new_env(celtypes.pool(), check)
        self._run = _new_env(None, run)

    def activation_of(self, data: Mapping[str, Any]) -> Any:
        return self._run.Activation(data)

    def compile(self, source: str, want: Sequence[str] = ()) -> Program:
        """Compile like the apiserver's CompileCELExpression: CelError carries its Detail text
        ('compilation failed: ERROR: <input>:1:3: ...' or 'must evaluate to bool but got int')."""
        try:
            checked = self._check.compile(source)
            expr = self._run.compile(source)
        except RuntimeError as exc:
            raise CelError(
                "compilation failed: " + go_compile_message(str(exc), source, self.has_variables)
            ) from None
        output = go_type_name(checked.return_type().name())
        if want and output not in want:
            if len(want) == 1:
                raise CelError(f"must evaluate to {want[0]} but got {output}")
            raise CelError(f"must evaluate to one of [{' '.join(want)}] but got {output}")
        return Program(source, output, checked.return_type(), expr)


def is_optional(program: Program) -> bool:
    return program.output.startswith("optional_type(")


_envs: dict[tuple[bool, tuple[tuple[str, str], ...] | None], Env] = {}


def env_for(*, params: bool, variables: Sequence[tuple[str, Any]] | None = None) -> Env:
    """A shared Env per set of declarations (building one costs a few milliseconds)."""
    key = (params, None if variables is None else tuple((n, t.name()) for n, t in variables))
    env = _envs.get(key)
    if env is None:
        if len(_envs) > 256:
            _envs.clear()
        env = _envs[key] = Env(params=params, variables=variables)
    return env


def bind(data: Mapping[str, Any]) -> Any:
    """An activation: variable name -> Python value. One serves programs of every Env (names a
    program does not declare are ignored), and it converts each value once, on first use."""
    return env_for(params=True).activation_of(data)
