"""Deep copy with JSON round-trip semantics: 1.0 == 1, non-string keys become strings, nulls in maps
vanish as the apiserver drops them, datetimes and bytes become the strings the apiserver returns.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from typing import Any


def json_key(key: object) -> str:
    if isinstance(key, str):
        return key
    return json.dumps(key) if isinstance(key, (bool, int, float)) or key is None else str(key)


def _scalar(value: object) -> object:
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, _dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def json_copy(value: Any) -> Any:
    """Deep copy as a JSON round trip would produce it (maps drop null values; lists keep them)."""
    t = type(value)
    if t is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                k = json_key(k)
            tv = type(v)
            if tv is str or tv is int or tv is bool:
                out[k] = v
            elif v is not None:
                out[k] = json_copy(v)
        return out
    if t is list or t is tuple:
        return [v if type(v) in (str, int, bool) or v is None else json_copy(v) for v in value]
    if t is str or t is int or t is bool or value is None:
        return value
    if isinstance(value, dict):
        return json_copy(dict(value))
    return _scalar(value)
