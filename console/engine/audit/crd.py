"""The audit kinds in the control cluster: `AuditRecord` (one per record) and `AuditChain` (the head).
Their CRDs are among the trueup.dev CRDs `trueup install` applies (console.engine.appstore.crds).

Records are `rec-<seq, 12 digits>` so names sort in chain order and a second writer that raced for
the same position gets AlreadyExists from the API server. The head (`AuditChain/head`) holds the
last sequence number and hash and is only ever written with a resourceVersion precondition.
"""

from __future__ import annotations

from console.engine import model

API_VERSION = model.API_VERSION
NAMESPACE = model.CONTROL_NAMESPACE
RECORD_KIND, CHAIN_KIND = "AuditRecord", "AuditChain"
HEAD_NAME = "head"


def record_name(seq: int) -> str:
    return f"rec-{seq:012d}"


def seq_of_name(name: str) -> int | None:
    if not name.startswith("rec-") or not name[4:].isdigit():
        return None
    return int(name[4:])
