"""A small, strict subset of CEL, enough for ValidatingAdmissionPolicy expressions in the sim.

Supported: literals (int, double, 'string'/"string" with \\ escapes, true, false, null, [lists],
{maps}); `object`, `oldObject`, `request` and comprehension variables; field selection `a.b`,
indexing `a[k]`; `!`, unary `-`, `* / %`, `+ -`, `< <= > >= == !=`, `in`, `&&`, `||`, `? :`;
`has(a.b)`, `size(x)`, `int(x)`, `string(x)`; methods `size() startsWith() endsWith() contains()
matches()` and the macros `all exists exists_one map filter`.

Anything else (other functions or identifiers, `params`, `variables`, `namespaceObject`, ...) is
rejected by `compile_expr` with a CelError, so a policy the sim cannot evaluate fails loudly when
it is created instead of silently allowing everything. Semantics follow CEL where it matters for
admission: selecting a missing field is an error ("no such key"), `&&`/`||` absorb an error when
the other side decides, equality across types is false, comparisons across types are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

VARIABLES = frozenset({"object", "oldObject", "request"})
_FUNCS = frozenset({"has", "size", "int", "string"})
_METHODS = frozenset({"size", "startsWith", "endsWith", "contains", "matches"})
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.\d+|\d+)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}]))"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


class CelError(Exception):
    """Compilation (syntax, unsupported construct) or evaluation error; message as CEL words it."""


@dataclass(frozen=True)
class Tok:
    kind: str  # num | str | id | op | eof
    text: str
    pos: int


def _tokens(src: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while True:
        while pos < len(src) and src[pos].isspace():
            pos += 1
        if pos >= len(src):
            out.append(Tok("eof", "<EOF>", pos))
            return out
        m = _TOKEN.match(src, pos)
        if not m:
            raise _syntax(pos, f"token recognition error at: '{src[pos]}'")
        kind = next(k for k in ("num", "str", "id", "op") if m.group(k) is not None)
        out.append(Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()


def _syntax(pos: int, detail: str) -> CelError:
    return CelError(f"ERROR: <input>:1:{pos + 1}: Syntax error: {detail}")


def _unsupported(pos: int, what: str) -> CelError:
    return CelError(
        f"ERROR: <input>:1:{pos + 1}: {what} (not in the sim's CEL subset, see console/cluster/sim/cel.py)"
    )


# An AST node is a tuple: (op, ...). Evaluation closes over it.
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks = _tokens(src)
        self.i = 0
        self.scopes: list[set[str]] = []

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self, text: str | None = None) -> Tok:
        tok = self.toks[self.i]
        if text is not None and tok.text != text:
            raise _syntax(tok.pos, f"mismatched input '{tok.text}' expecting '{text}'")
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        tok = self.peek()
        return tok.kind in ("op", "id") and tok.text in texts

    def parse(self) -> Node:
        node = self.expr()
        tok = self.peek()
        if tok.kind != "eof":
            raise _syntax(tok.pos, f"extraneous input '{tok.text}' expecting <EOF>")
        return node

    def expr(self) -> Node:
        cond = self.binary(0)
        if self.at("?"):
            self.take()
            yes = self.expr()
            self.take(":")
            no = self.expr()
            return ("?:", cond, yes, no)
        return cond

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("<", "<=", ">", ">=", "==", "!=", "in"),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.at(*self._LEVELS[level]):
            op = self.take().text
            left = (op, left, self.binary(level + 1))
        return left

    def unary(self) -> Node:
        if self.at("!", "-"):
            op = self.take().text
            return ("!" if op == "!" else "neg", self.unary())
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.at("."):
                self.take()
                tok = self.peek()
                if tok.kind != "id":
                    raise _syntax(tok.pos, f"mismatched input '{tok.text}' expecting IDENTIFIER")
                self.take()
                if self.at("("):
                    node = self.method(node, tok)
                else:
                    node = ("field", node, tok.text)
            elif self.at("["):
                self.take()
                idx = self.expr()
                self.take("]")
                node = ("index", node, idx)
            else:
                return node

    def method(self, target: Node, name: Tok) -> Node:
        self.take("(")
        if name.text in _MACROS:
            var = self.peek()
            if var.kind != "id":
                raise _syntax(var.pos, f"{name.text}() variable name must be a simple identifier")
            self.take()
            self.take(",")
            self.scopes.append({var.text})
            body = self.expr()
            self.scopes.pop()
            self.take(")")
            return ("macro", name.text, target, var.text, body)
        if name.text not in _METHODS:
            raise _unsupported(name.pos, f"undeclared reference to '{name.text}'")
        args = self.args()
        return ("call", name.text, target, args)

    def args(self) -> list[Node]:
        out: list[Node] = []
        if not self.at(")"):
            out.append(self.expr())
            while self.at(","):
                self.take()
                out.append(self.expr())
        self.take(")")
        return out

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "num":
            self.take()
            return ("lit", float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "str":
            self.take()
            return ("lit", _unquote(tok.text))
        if tok.kind == "id":
            self.take()
            if tok.text in ("true", "false"):
                return ("lit", tok.text == "true")
            if tok.text == "null":
                return ("lit", None)
            if self.at("("):
                if tok.text not in _FUNCS:
                    raise _unsupported(tok.pos, f"undeclared reference to '{tok.text}'")
                self.take("(")
                if tok.text == "has":
                    arg = self.expr()
                    self.take(")")
                    if arg[0] != "field":
                        raise CelError(f"ERROR: <input>:1:{tok.pos + 1}: invalid argument to has() macro")
                    return ("has", arg[1], arg[2])
                return ("call", tok.text, None, self.args())
            if tok.text in VARIABLES or any(tok.text in s for s in self.scopes):
                return ("var", tok.text)
            raise _unsupported(tok.pos, f"undeclared reference to '{tok.text}'")
        if tok.kind == "op" and tok.text == "(":
            self.take()
            node = self.expr()
            self.take(")")
            return node
        if tok.kind == "op" and tok.text == "[":
            self.take()
            items: list[Node] = []
            if not self.at("]"):
                items.append(self.expr())
                while self.at(","):
                    self.take()
                    items.append(self.expr())
            self.take("]")
            return ("list", items)
        if tok.kind == "op" and tok.text == "{":
            self.take()
            pairs: list[tuple[Node, Node]] = []
            if not self.at("}"):
                while True:
                    k = self.expr()
                    self.take(":")
                    pairs.append((k, self.expr()))
                    if not self.at(","):
                        break
                    self.take()
            self.take("}")
            return ("map", pairs)
        raise _syntax(
            tok.pos,
            f"mismatched input '{tok.text}' expecting {{'[', '{{', '(', '.', '-', '!', 'true', 'false', "
            "'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}",
        )


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


@dataclass(frozen=True)
class Program:
    source: str
    ast: Node

    def eval(self, activation: dict[str, Any]) -> Any:
        return _eval(self.ast, activation)


def compile_expr(source: str) -> Program:
    """Parse `source`; raises CelError for syntax errors and constructs outside the subset."""
    return Program(source, _Parser(source).parse())


# ------------------------------------------------------------------ evaluation


def _type(v: Any) -> str:
    if v is None:
        return "null_type"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "map"


def _eq(a: Any, b: Any) -> bool:
    ta, tb = _type(a), _type(b)
    if ta != tb and not ({ta, tb} <= {"int", "double"}):
        return False
    if ta == "list":
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b, strict=True))
    if ta == "map":
        return a.keys() == b.keys() and all(_eq(a[k], b[k]) for k in a)
    return bool(a == b)


def _no_overload(op: str, *vals: Any) -> CelError:
    return CelError(f"no such overload: {op}({', '.join(_type(v) for v in vals)})")


def _bool(v: Any, op: str) -> bool:
    if not isinstance(v, bool):
        raise _no_overload(op, v)
    return v


def _select(target: Any, name: str) -> Any:
    if not isinstance(target, dict):
        raise CelError(
            f"no such key: {name}"
            if target is None
            else f"type '{_type(target)}' does not support field selection"
        )
    if name not in target:
        raise CelError(f"no such key: {name}")
    return target[name]


def _logic(op: str, left: Node, right: Node, act: dict[str, Any]) -> bool:
    short = op == "||"  # the value that decides
    err: CelError | None = None
    try:
        lv = _bool(_eval(left, act), op)
        if lv is short:
            return short
    except CelError as exc:
        err = exc
    rv = _bool(_eval(right, act), op)
    if rv is short:
        return short
    if err is not None:
        raise err
    return not short


def _compare(op: str, a: Any, b: Any) -> bool:
    num = {"int", "double"}
    if not (_type(a) == _type(b) or {_type(a), _type(b)} <= num) or _type(a) in ("map", "list", "null_type"):
        raise _no_overload(op, a, b)
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def _arith(op: str, a: Any, b: Any) -> Any:
    ta, tb = _type(a), _type(b)
    if op == "+" and ta == tb and ta in ("string", "list"):
        return a + b
    if ta != tb or ta not in ("int", "double"):
        raise _no_overload(op, a, b)
    if op in ("/", "%") and b == 0:
        raise CelError("division by zero" if op == "/" else "modulus by zero")
    if op == "/":
        return int(a / b) if ta == "int" else a / b
    if op == "%":
        return int(a - b * int(a / b)) if ta == "int" else a % b
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def _call(name: str, method: bool, target: Any, args: list[Any]) -> Any:
    if name == "size":
        if len(args) != (0 if method else 1):
            raise _no_overload("size", *args)
        v = target if method else args[0]
        if not isinstance(v, str | list | dict):
            raise _no_overload("size", v)
        return len(v)
    if len(args) != 1:
        raise _no_overload(name, *args)
    if name == "int":
        v = args[0]
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise _no_overload("int", v)
        try:
            return int(v)
        except ValueError as exc:
            raise CelError(f"cannot convert {v!r} to int") from exc
    if name == "string":
        v = args[0]
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float | str):
            return str(v)
        raise _no_overload("string", v)
    if not method or not isinstance(target, str) or not isinstance(args[0], str):
        raise _no_overload(name, target, *args)
    arg = args[0]
    if name == "startsWith":
        return target.startswith(arg)
    if name == "endsWith":
        return target.endswith(arg)
    if name == "contains":
        return arg in target
    try:  # matches: RE2 and Python re agree on the usual patterns
        return re.search(arg, target) is not None
    except re.error as exc:
        raise CelError(f"invalid regular expression {arg!r}: {exc}") from exc


def _macro(name: str, target: Any, var: str, body: Node, act: dict[str, Any]) -> Any:
    if isinstance(target, dict):
        items: list[Any] = list(target.keys())
    elif isinstance(target, list):
        items = target
    else:
        raise _no_overload(name, target)

    def run(item: Any) -> Any:
        return _eval(body, {**act, var: item})

    if name == "map":
        return [run(i) for i in items]
    if name == "filter":
        return [i for i in items if _bool(run(i), name)]
    results = [_bool(run(i), name) for i in items]
    if name == "all":
        return all(results)
    if name == "exists":
        return any(results)
    return sum(results) == 1


def _eval(node: Node, act: dict[str, Any]) -> Any:
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "var":
        return act.get(node[1])
    if op == "field":
        return _select(_eval(node[1], act), node[2])
    if op == "has":
        target = _eval(node[1], act)
        if not isinstance(target, dict):
            raise _no_overload("has", target)
        return node[2] in target
    if op == "index":
        target, key = _eval(node[1], act), _eval(node[2], act)
        if isinstance(target, list) and isinstance(key, int) and not isinstance(key, bool):
            if not 0 <= key < len(target):
                raise CelError(f"index out of bounds: {key}")
            return target[key]
        if isinstance(target, dict) and isinstance(key, str):
            if key not in target:
                raise CelError(f"no such key: {key}")
            return target[key]
        raise _no_overload("_[_]", target, key)
    if op in ("&&", "||"):
        return _logic(op, node[1], node[2], act)
    if op == "!":
        return not _bool(_eval(node[1], act), "!_")
    if op == "neg":
        v = _eval(node[1], act)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _no_overload("-_", v)
        return -v
    if op == "?:":
        return _eval(node[2] if _bool(_eval(node[1], act), "_?_:_") else node[3], act)
    if op == "list":
        return [_eval(n, act) for n in node[1]]
    if op == "map":
        return {_eval(k, act): _eval(v, act) for k, v in node[1]}
    if op == "call":
        method = node[2] is not None
        target = _eval(node[2], act) if method else None
        return _call(node[1], method, target, [_eval(a, act) for a in node[3]])
    if op == "macro":
        return _macro(node[1], _eval(node[2], act), node[3], node[4], act)
    a, b = _eval(node[1], act), _eval(node[2], act)
    if op == "==":
        return _eq(a, b)
    if op == "!=":
        return not _eq(a, b)
    if op == "in":
        if isinstance(b, dict):
            return a in b
        if isinstance(b, list):
            return any(_eq(a, x) for x in b)
        raise _no_overload("@in", a, b)
    if op in ("<", "<=", ">", ">="):
        return _compare(op, a, b)
    return _arith(op, a, b)
