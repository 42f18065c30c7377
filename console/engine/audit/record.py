"""One audit record: its fields, its canonical JSON and its hash (SHA-256 over canonical JSON).

`hash = sha256(canonical(record without "hash"))`, and every record carries the previous record's
hash (`prevHash`; the first one carries GENESIS), so changing, removing, inserting or reordering any
record breaks the chain at that point. Canonical JSON: keys sorted, no whitespace, UTF-8, and no
floats anywhere (times are RFC 3339 strings), so the bytes are the same in every language and
after a round trip through the Kubernetes API.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console.engine.timestamps import parse_time as parse_time

GENESIS = "0" * 64

# record phases: an attempt refused before anything ran, an intent (before), a result (after)
PHASE_ATTEMPT, PHASE_INTENT, PHASE_RESULT = "attempt", "intent", "result"
# outcomes
PENDING, SUCCEEDED, FAILED, DENIED, BLOCKED, ERROR, REQUESTED = (
    "pending",
    "succeeded",
    "failed",
    "denied",
    "blocked",
    "error",
    "requested",
)
FIELDS = (
    "seq",
    "time",
    "actor",
    "action",
    "phase",
    "project",
    "app",
    "parameters",
    "reason",
    "breakGlass",
    "outcome",
    "message",
    "diffSummary",
    "intentSeq",
    "prevHash",
    "hash",
)
MAX_MESSAGE = 1000


def canonical(value: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8; floats are refused (they do not round-trip exactly)."""
    _no_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _no_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("audit records hold no floats (use strings or integers)")
    if isinstance(value, dict):
        for v in value.values():
            _no_floats(v)
    elif isinstance(value, list):
        for v in value:
            _no_floats(v)


def record_hash(rec: dict[str, Any]) -> str:
    body = {k: v for k, v in rec.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def rfc3339_micro(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """JSON-safe copy: floats become strings, tuples lists, other objects their str(). Null
    members are dropped: the API server (and the sim) drop them when storing an object, and a
    record must hash the same after the round trip."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass
class Entry:
    """What a writer says happened; the chain adds seq, time, prevHash and hash."""

    actor: dict[str, Any]
    action: str
    phase: str
    outcome: str
    project: str = ""
    app: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    break_glass: bool = False
    message: str = ""
    diff_summary: dict[str, Any] = field(default_factory=dict)
    intent_seq: int = 0

    def body(self) -> dict[str, Any]:
        message = " ".join(self.message.split())
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        out: dict[str, Any] = {
            "actor": _plain(self.actor),
            "action": self.action,
            "phase": self.phase,
            "project": self.project,
            "app": self.app,
            "parameters": _plain(self.parameters),
            "reason": self.reason,
            "breakGlass": bool(self.break_glass),
            "outcome": self.outcome,
            "message": message,
            "diffSummary": _plain(self.diff_summary),
        }
        if self.intent_seq:
            out["intentSeq"] = int(self.intent_seq)
        return out


def seal(entry: Entry, seq: int, at: datetime, prev_hash: str) -> dict[str, Any]:
    """The full record for position `seq` after a record whose hash is `prev_hash`."""
    rec: dict[str, Any] = {"seq": int(seq), "time": rfc3339_micro(at), **entry.body(), "prevHash": prev_hash}
    rec["hash"] = record_hash(rec)
    return rec
