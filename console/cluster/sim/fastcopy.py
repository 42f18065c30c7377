"""Deep copies of JSON-shaped objects. marshal round-trips are ~10x faster than copy.deepcopy for
dicts/lists/str/int/float/bool/None, which is all an API object holds; anything else falls back."""

from __future__ import annotations

import copy
import marshal
from typing import TypeVar

T = TypeVar("T")


def fast_copy(obj: T) -> T:
    try:
        return marshal.loads(marshal.dumps(obj))  # type: ignore[arg-type]
    except ValueError:
        return copy.deepcopy(obj)


__all__ = ["fast_copy"]
