"""Kubernetes' CEL environment for the sim's ValidatingAdmissionPolicy, on Google's CEL runtime.

Parsing, type checking and evaluation are done by cel-expr-python, Google's Python binding of
cel-cpp (the C++ sibling of cel-go, which the apiserver uses: same grammar, checker, standard
library and extensions, same compile-error text). This module only declares what kube-apiserver
1.36 declares (`object`, `oldObject`, `request`, `namespaceObject`, `params`, `variables.<name>`;
strings ext v2, sets, lists, optional syntax, two-variable comprehensions, cross-type numeric
comparisons; Kubernetes' list and regex libraries from cellib.py) with the types of celtypes.py;
celwording.py rewords cel-cpp's messages as cel-go's, so that a denial reads as it would on a
real cluster.

Not available here: Kubernetes' `quantity`, `url`, `ip`, `cidr`, `semver`, `format` and
`authorizer` libraries (they need opaque CEL types, which cel-expr-python cannot register from
Python), the list `indexOf`/`lastIndexOf` (the name clashes with the strings extension's),
optional-typed variables, and the apiserver's cost limits. An expression that needs one of these
is refused when the policy is written, with a note saying it is the sim's limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel

from console.cluster.sim import celtypes
from console.cluster.sim.cellib import library
from console.cluster.sim.celwording import SIM_LIMIT_NOTE, go_compile_message, go_error, go_type_name

_T = cel.Type

# Extension versions of kube-apiserver 1.36's base environment (k8s.io/apiserver/pkg/cel/environment).
# The ordering operators are excluded here and re-declared by cellib.library() with the cross-type
# numeric overloads that cel.CrossTypeNumericComparisons adds in cel-go.
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


class CelError(Exception):
    """A compile or evaluation error, worded as the apiserver words it."""


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
        try:
            value = self._expr.eval(activation)
        except RuntimeError as exc:  # e.g. a value cel-cpp cannot take from a Python function
            raise CelError(go_error(str(exc))) from None
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
        return cel.NewEnv(config=config, variables=decls, functions=library())
    return cel.NewEnv(pool, config=config, variables=decls, functions=library())


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
