"""Go durations and 5-field cron schedules: parsing, and the field types that validate them."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from croniter import croniter
from pydantic import AfterValidator, PlainValidator, ValidationInfo

from console.engine.model.base import is_template
from console.engine.model.errors import fail, type_name

_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # Go accepts both micro signs
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: str | int | float, *, bare_seconds: bool = True) -> float:
    """Parse a Go duration ("5s", "1h30m", "1.5h", "300ms") into seconds.

    Argo's retry backoff fields also take a bare number meaning seconds ("90" or 90); sync window
    durations use plain `time.ParseDuration`, so pass `bare_seconds=False` for those.
    Negative durations are refused: nothing in these specs means anything with one.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        if not bare_seconds:
            raise ValueError(f"invalid duration {value!r}: missing unit")
        if value < 0 or math.isnan(value) or math.isinf(value):
            raise ValueError(f"invalid duration {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}")
    text = value.strip()
    if not text:
        raise ValueError('invalid duration ""')
    if re.fullmatch(r"\d+", text):
        if bare_seconds or text == "0":
            return float(int(text))
        raise ValueError(f'time: missing unit in duration "{value}"')
    body = text[1:] if text.startswith("+") else text
    if body.startswith("-"):
        raise ValueError(f'invalid duration "{value}": negative')
    pos = 0
    total = 0.0
    while pos < len(body):
        m = _GO_DURATION_PART.match(body, pos)
        if not m:
            raise ValueError(f'time: invalid duration "{value}"')
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise ValueError(f'time: invalid duration "{value}"')
    return total


def validate_cron(schedule: str) -> str | None:
    """Return None for a valid 5-field cron spec, else the reason (robfig/cron with 5 fields)."""
    fields = schedule.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{schedule}]"
    if not croniter.is_valid(" ".join(fields)):
        return f"invalid cron expression: {schedule}"
    return None


def _duration_field(*, bare_seconds: bool, empty_is_unset: bool) -> PlainValidator:
    def check(value: Any, info: ValidationInfo) -> str:
        if is_template(value, info):
            return str(value)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise fail(f'must be a duration string such as "5s" or "3m", got {type_name(value)}')
        if empty_is_unset and value == "":
            return ""
        try:
            parse_duration(value, bare_seconds=bare_seconds)
        except ValueError as exc:
            raise fail(f"cannot parse duration '{value}': {exc}") from None
        return str(value)

    return PlainValidator(check)


BackoffDuration = Annotated[str, _duration_field(bare_seconds=True, empty_is_unset=True)]
"""Retry backoff: a Go duration or bare seconds ("90", 90); "" means the default, as in Argo."""

WindowDuration = Annotated[str, _duration_field(bare_seconds=False, empty_is_unset=False)]
"""Sync window length: a Go duration with a unit (`time.ParseDuration`), required."""


def _check_cron(schedule: str) -> str:
    problem = validate_cron(schedule)
    if problem:
        raise fail(f"cannot parse schedule '{schedule}': {problem}")
    return schedule


CronSchedule = Annotated[str, AfterValidator(_check_cron)]
