"""JSON paths: RFC 6901 pointers and jq-style token lists, and deleting what they select."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Path = tuple[str | int, ...]


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901 reference tokens (`~1` is '/', `~0` is '~'); "" is the whole document."""
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def to_pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def step(container: Any, token: str | int) -> tuple[bool, Any]:
    """Resolve one token; list tokens may arrive as strings (pointers) or ints (jq)."""
    if isinstance(container, dict):
        if isinstance(token, str) and token in container:
            return True, token
        return False, None
    if isinstance(container, list):
        if isinstance(token, bool):
            return False, None
        if isinstance(token, str):
            if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
                return False, None
            token = int(token)
        if isinstance(token, int) and 0 <= token < len(container):
            return True, token
    return False, None


def delete_path(obj: Any, path: Sequence[str | int]) -> bool:
    """Delete the node at `path`; a missing path (or the root) is a no-op. True if deleted."""
    if not path:
        return False
    node = obj
    for token in path[:-1]:
        ok, key = step(node, token)
        if not ok:
            return False
        node = node[key]
    ok, key = step(node, path[-1])
    if not ok:
        return False
    del node[key]
    return True


def _path_order(path: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) and not isinstance(p, bool) else (1, str(p)) for p in path)


def delete_paths(obj: Any, paths: Iterable[Sequence[str | int]]) -> None:
    """Delete several paths at once like jq `delpaths`: deepest and highest indices first."""
    unique = {tuple(p) for p in paths}
    for path in sorted(unique, key=_path_order, reverse=True):
        delete_path(obj, path)
