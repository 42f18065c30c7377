"""The tamper-evident audit chain in the control cluster (DESIGN.md §2), its Events and reports."""

from console.engine.audit.chain import AuditChain, ChainError
from console.engine.audit.record import Entry
from console.engine.audit.verify import ExportError, Verdict, verify_chain, verify_export

__all__ = [
    "AuditChain",
    "ChainError",
    "Entry",
    "ExportError",
    "Verdict",
    "crds",
    "verify_chain",
    "verify_export",
]
