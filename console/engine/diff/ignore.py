"""`ignoreDifferences` rules (argocd-features.md §3.3): which objects a rule matches, and removing
the fields its jsonPointers and jqPathExpressions select. managedFieldsManagers are applied by
`managedfields.remove_manager_fields`, since they need the live object.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from console.cluster.api import split_api_version
from console.engine.diff.errors import IgnoreRuleError
from console.engine.diff.jq import compile_jq, delete_jq_paths
from console.engine.diff.paths import delete_path, parse_pointer


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str] | None:
    """Compiled glob, or None when the pattern has no wildcard (plain equality is faster)."""
    if not any(c in pattern for c in "*?["):
        return None
    return re.compile(fnmatch.translate(pattern))


def _glob_match(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    rx = _glob(pattern)
    return value == pattern if rx is None else rx.match(value) is not None


@dataclass(frozen=True)
class IgnoreRule:
    """One `ignoreDifferences` item (application spec or system-level customisation)."""

    group: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()

    def matches(self, group: str, kind: str, namespace: str, name: str) -> bool:
        """Argo's match: globs on group/kind; empty name/namespace match any object."""
        return (
            _glob_match(self.group, group)
            and _glob_match(self.kind, kind)
            and (not self.name or self.name == name)
            and (not self.namespace or self.namespace == namespace)
        )

    @classmethod
    def from_spec(cls, spec: object) -> IgnoreRule:
        """Parse Argo's camelCase item; jq expressions are compiled now so typos surface at load."""
        if not isinstance(spec, dict):
            raise IgnoreRuleError(f"ignoreDifferences entry must be a mapping, got {type(spec).__name__}")

        def text(key: str) -> str:
            value = spec.get(key)
            if value is None:
                return ""
            if not isinstance(value, str):
                raise IgnoreRuleError(f"ignoreDifferences.{key} must be a string, got {value!r}")
            return value

        def strings(key: str) -> tuple[str, ...]:
            value = spec.get(key)
            if value is None:
                return ()
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise IgnoreRuleError(f"ignoreDifferences.{key} must be a list of strings, got {value!r}")
            return tuple(value)

        rule = cls(
            group=text("group"),
            kind=text("kind"),
            name=text("name"),
            namespace=text("namespace"),
            json_pointers=strings("jsonPointers"),
            jq_path_expressions=strings("jqPathExpressions"),
            managed_fields_managers=strings("managedFieldsManagers"),
        )
        for pointer in rule.json_pointers:
            if pointer and not pointer.startswith("/"):
                raise IgnoreRuleError(f"ignoreDifferences jsonPointer {pointer!r} must start with '/'")
        for expr in rule.jq_path_expressions:
            compile_jq(expr)
        return rule


def matching_rules(obj: dict[str, Any], rules: Sequence[IgnoreRule]) -> list[IgnoreRule]:
    """The rules that apply to `obj` (by its group, kind, namespace and name)."""
    if not rules:
        return []
    group, kind, namespace, name = identity(obj)
    return [r for r in rules if r.matches(group, kind, namespace, name)]


def identity(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    api_version = obj.get("apiVersion")
    group = split_api_version(api_version)[0] if isinstance(api_version, str) else ""
    md = obj.get("metadata")
    md = md if isinstance(md, dict) else {}
    kind = obj.get("kind")
    return (
        group,
        kind if isinstance(kind, str) else "",
        str(md.get("namespace") or ""),
        str(md.get("name") or ""),
    )


def apply_rules(obj: dict[str, Any], rules: Sequence[IgnoreRule]) -> None:
    """Remove, in place, the fields that matching rules' jsonPointers and jqPathExpressions select."""
    for rule in matching_rules(obj, rules):
        for pointer in rule.json_pointers:
            delete_path(obj, parse_pointer(pointer))
        for expr in rule.jq_path_expressions:
            delete_jq_paths(obj, expr)


def has_path_rules(obj: dict[str, Any], rules: Sequence[IgnoreRule]) -> bool:
    """Whether any rule would delete paths from `obj` (so a private copy is needed first)."""
    return any(r.json_pointers or r.jq_path_expressions for r in matching_rules(obj, rules))
