"""Small text helpers for the console: ages on the cluster's clock, short SHAs, plurals."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if not isinstance(value, str) or not value:
        return None
    return _parse(value)


@lru_cache(maxsize=8192)
def _parse(value: str) -> datetime | None:
    """Cached: a fleet shares a few thousand distinct timestamps at most."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def age(value: object, now: datetime) -> str:
    """`45s`, `12m`, `3h`, `2d`; never negative (a time a little ahead of our clock is `0s`)."""
    at = parse_time(value)
    if at is None:
        return ""
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        h, m = divmod(seconds // 60, 60)
        return f"{h}h{m:02d}m" if h < 10 and m else f"{h}h"
    return f"{seconds // 86400}d"


def ago(value: object, now: datetime) -> str:
    text = age(value, now)
    return f"{text} ago" if text else ""


def clock(value: object) -> str:
    """`12:03:11Z` today-style time of an RFC 3339 value (UTC), or the date when not today."""
    at = parse_time(value)
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at else ""


def short(sha: str) -> str:
    return sha[:7]


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
