"""Verify the audit chain (live or an export) and read/write JSONL exports.

Checks, in chain order: every record's hash is the SHA-256 of its canonical JSON (an edit shows),
its seq is one more than the previous one and its prevHash the previous hash (a removed, inserted
or reordered record shows), and the last record is the one the head names (a cut tail shows). The
first problem is reported with the record it was found at.

Export format: line 1 is the head `{"kind": "AuditChain", "seq": N, "hash": H}`, then one record per
line in chain order, each its canonical JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from console.engine.audit import crd
from console.engine.audit.chain import AuditChain
from console.engine.audit.record import GENESIS, canonical, record_hash

MAX_EXPORT_LINE = 1 << 20


class ExportError(ValueError):
    """An export file that cannot be read at all (one sentence naming the line)."""


@dataclass
class Verdict:
    ok: bool
    records: int
    head_seq: int
    head_hash: str
    problem: str = ""
    bad_seq: int | None = None
    bad_where: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "records": self.records,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
        }
        if not self.ok:
            out["problem"] = self.problem
            out["firstBadRecord"] = {"seq": self.bad_seq, "where": self.bad_where}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _where(labels: Sequence[str] | None, i: int) -> str:
    return labels[i] if labels is not None and i < len(labels) else f"position {i + 1}"


def verify_records(
    records: Sequence[dict[str, Any]],
    head_seq: int,
    head_hash: str,
    labels: Sequence[str] | None = None,
) -> Verdict:
    """Walk `records` (chain order) against the head; `labels[i]` names record i in messages."""

    def bad(i: int, problem: str) -> Verdict:
        seq = records[i].get("seq") if isinstance(records[i].get("seq"), int) else None
        return Verdict(False, len(records), head_seq, head_hash, problem, seq, _where(labels, i))

    prev_seq, prev_hash = 0, GENESIS
    notes: list[str] = []
    for i, rec in enumerate(records):
        seq = rec.get("seq")
        where = _where(labels, i)
        if not isinstance(seq, int) or isinstance(seq, bool):
            return bad(i, f"{where} has no sequence number: the record was edited")
        try:
            digest = record_hash(rec)
        except TypeError:
            return bad(i, f"record {seq} ({where}) holds a value no writer writes: the record was edited")
        if rec.get("hash") != digest:
            return bad(i, f"record {seq} ({where}) does not match its hash: the record was edited")
        if seq != prev_seq + 1:
            later = any(r.get("seq") == prev_seq + 1 for r in records[i + 1 :])
            if later and seq > prev_seq:
                return bad(
                    i, f"record {seq} ({where}) comes before record {prev_seq + 1}: records were reordered"
                )
            if seq <= prev_seq:
                return bad(
                    i,
                    f"record {seq} ({where}) comes after record {prev_seq}: records were reordered or inserted",
                )
            missing = f"record {prev_seq + 1}" if seq == prev_seq + 2 else f"records {prev_seq + 1}-{seq - 1}"
            return bad(i, f"record {seq} ({where}) follows record {prev_seq}: {missing} missing (deleted)")
        if rec.get("prevHash") != prev_hash:
            return bad(
                i,
                f"record {seq} ({where}) does not chain onto record {prev_seq}: record {prev_seq} was "
                "replaced, or a record was inserted",
            )
        if seq > head_seq:
            notes.append(
                f"record {seq} is past the chain head ({head_seq}): its writer stopped before advancing "
                "the head; the next write moves the head over it"
            )
        prev_seq, prev_hash = seq, str(rec["hash"])
    if prev_seq < head_seq:
        cut = f"record {head_seq}" if prev_seq + 1 == head_seq else f"records {prev_seq + 1}-{head_seq}"
        return Verdict(
            False,
            len(records),
            head_seq,
            head_hash,
            f"the chain ends at record {prev_seq} but its head says {head_seq}: {cut} missing (the tail was cut)",
            prev_seq + 1,
            "end of the chain",
        )
    if prev_seq == head_seq and prev_hash != head_hash:
        return Verdict(
            False,
            len(records),
            head_seq,
            head_hash,
            f"record {prev_seq} is not the record the chain head names (hash differs): "
            "the last record or the head was replaced",
            prev_seq,
            _where(labels, len(records) - 1) if records else "end of the chain",
        )
    return Verdict(True, len(records), head_seq, head_hash, notes=notes)


def verify_chain(chain: AuditChain) -> Verdict:
    """The live chain: also checks each object's name against the sequence number it holds."""
    objs = chain.record_objects()
    head_seq, head_hash = chain.head_state()
    records: list[dict[str, Any]] = []
    labels: list[str] = []
    for obj in objs:
        name = str((obj.get("metadata") or {}).get("name") or "")
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        named = crd.seq_of_name(name)
        if named is None or spec.get("seq") != named:
            if records:  # the records before it: chain checks only (the head is further on)
                verdict = verify_records(
                    records, int(records[-1].get("seq") or 0), str(records[-1].get("hash")), labels
                )
                if not verdict.ok:
                    return Verdict(
                        False,
                        len(objs),
                        head_seq,
                        head_hash,
                        verdict.problem,
                        verdict.bad_seq,
                        verdict.bad_where,
                    )
            return Verdict(
                False,
                len(objs),
                head_seq,
                head_hash,
                f"AuditRecord {name} holds record {spec.get('seq')!r}: the record was edited or moved",
                named,
                f"AuditRecord {name}",
            )
        records.append(spec)
        labels.append(f"AuditRecord {name}")
    return verify_records(records, head_seq, head_hash, labels)


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def export_lines(chain: AuditChain) -> Iterable[str]:
    seq, digest = chain.head_state()
    yield canonical({"kind": crd.CHAIN_KIND, "seq": seq, "hash": digest}).decode("utf-8")
    for rec in chain.records():
        yield canonical(rec).decode("utf-8")


def write_export(chain: AuditChain, out: IO[str]) -> int:
    """Write the export; returns the number of records (the head line not counted)."""
    lines = 0
    for line in export_lines(chain):
        out.write(line + "\n")
        lines += 1
    return max(lines - 1, 0)


def read_export(path: Path) -> tuple[int, str, list[dict[str, Any]], list[str]]:
    """(head seq, head hash, records, labels) of an export; ExportError names a line it cannot read."""
    shown = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read {shown}: {exc.strerror}") from None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise ExportError(f"{shown} is empty: an export starts with the chain head line")
    parsed: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_EXPORT_LINE:
            raise ExportError(
                f"{shown} line {number} is longer than {MAX_EXPORT_LINE} bytes: not an audit export"
            )
        try:
            value = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ExportError(
                f"{shown} line {number} is not valid JSON: the export was edited (or is not a trueup audit export)"
            ) from None
        if not isinstance(value, dict):
            raise ExportError(f"{shown} line {number} is not a JSON object: the export was edited")
        parsed.append(value)
    head = parsed[0]
    if head.get("kind") != crd.CHAIN_KIND or not isinstance(head.get("seq"), int):
        raise ExportError(
            f'{shown} line 1 is not the chain head ({{"kind": "AuditChain", ...}}): the export was edited or truncated at the start'
        )
    labels = [f"line {i + 2}" for i in range(len(parsed) - 1)]
    return int(head["seq"]), str(head.get("hash") or ""), parsed[1:], labels


def verify_export(path: Path) -> Verdict:
    head_seq, head_hash, records, labels = read_export(path)
    return verify_records(records, head_seq, head_hash, labels)
