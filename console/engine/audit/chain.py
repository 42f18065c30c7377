"""The hash-chained audit log in the control cluster: append, read, head.

Appending record n+1 (every console, CLI and controller of a team writes the same chain):

1. read the head `AuditChain/head` (seq n, hash h, resourceVersion R);
2. create `AuditRecord/rec-<n+1>` with prevHash h. Two writers racing for n+1: the API server
   lets one create win and answers AlreadyExists to the other, which re-reads and retries — the
   chain never forks;
3. advance the head to (n+1, hash) with resourceVersion R as precondition (409 -> re-read).

A writer that dies between 2 and 3 leaves a record one past the head; the next writer finds it
(AlreadyExists), checks that it chains onto the head and advances the head over it before
appending its own. So the head is never ahead of the records, and at most one record behind.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from console.cluster.api import AlreadyExists, Cluster, Conflict, NotFound, Obj
from console.engine.audit import crd
from console.engine.audit.record import GENESIS, Entry, record_hash, seal
from console.engine.timestamps import cluster_time

_ATTEMPTS = 64
FIELD_MANAGER = "trueup-audit"


class ChainError(Exception):
    """The chain cannot be appended to (a record at the next position does not chain onto the head)."""


cluster_now = cluster_time  # the control cluster's clock


def _spec(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


class AuditChain:
    """Reads and appends the chain in `cluster` (namespace `trueup`)."""

    def __init__(self, cluster: Cluster, *, clock: Callable[[], datetime] | None = None) -> None:
        self.cluster = cluster
        self._clock = clock or (lambda: cluster_now(cluster))

    # reads ------------------------------------------------------------------------------------
    def head(self) -> Obj | None:
        try:
            return self.cluster.get(crd.API_VERSION, crd.CHAIN_KIND, crd.NAMESPACE, crd.HEAD_NAME)
        except NotFound:
            return None

    def head_state(self) -> tuple[int, str]:
        head = self.head()
        if head is None:
            return 0, GENESIS
        spec = _spec(head)
        return int(spec.get("seq") or 0), str(spec.get("hash") or GENESIS)

    def record_objects(self) -> list[Obj]:
        """Every AuditRecord object, in name (= sequence) order."""
        items = self.cluster.list(crd.API_VERSION, crd.RECORD_KIND, crd.NAMESPACE).items
        return sorted(items, key=lambda o: str((o.get("metadata") or {}).get("name") or ""))

    def records(self) -> list[dict[str, Any]]:
        return [_spec(o) for o in self.record_objects()]

    # writes -----------------------------------------------------------------------------------
    def _read_head(self) -> Obj:
        head = self.head()
        if head is not None:
            return head
        genesis = {
            "apiVersion": crd.API_VERSION,
            "kind": crd.CHAIN_KIND,
            "metadata": {"name": crd.HEAD_NAME, "namespace": crd.NAMESPACE},
            "spec": {"seq": 0, "hash": GENESIS},
        }
        try:
            return self.cluster.create(genesis, field_manager=FIELD_MANAGER)
        except AlreadyExists:
            head = self.head()
            if head is None:
                raise ChainError("the audit chain head vanished while it was created") from None
            return head

    def _advance(self, head: Obj, seq: int, digest: str, at: str) -> bool:
        """CAS the head from its current state to (seq, digest); False when someone else moved it."""
        new = copy.deepcopy(head)
        new["spec"] = {"seq": seq, "hash": digest, "time": at}
        try:
            self.cluster.update(new, field_manager=FIELD_MANAGER)
        except Conflict:
            return False
        return True

    def append(self, entry: Entry) -> dict[str, Any]:
        """Append one record; returns it (with seq and hash). Raises ChainError or ClusterError."""
        for attempt in range(_ATTEMPTS):
            head = self._read_head()
            spec = _spec(head)
            seq = int(spec.get("seq") or 0) + 1
            prev = str(spec.get("hash") or GENESIS)
            rec = seal(entry, seq, self._clock(), prev)
            obj = {
                "apiVersion": crd.API_VERSION,
                "kind": crd.RECORD_KIND,
                "metadata": {
                    "name": crd.record_name(seq),
                    "namespace": crd.NAMESPACE,
                    "labels": {"trueup.dev/audit": "true"},
                },
                "spec": rec,
            }
            try:
                self.cluster.create(obj, field_manager=FIELD_MANAGER)
            except AlreadyExists:
                self._catch_up(head, seq, prev)
                time.sleep(0.002 * min(attempt, 10))
                continue
            while not self._advance(head, seq, rec["hash"], rec["time"]):
                head = self._read_head()
                if int(_spec(head).get("seq") or 0) >= seq:
                    break  # another writer advanced the head over our record (crash recovery)
            return rec
        raise ChainError(f"could not append to the audit chain: {_ATTEMPTS} writers raced for it")

    def _catch_up(self, head: Obj, seq: int, prev: str) -> None:
        """Record `seq` exists but the head still says seq-1: its writer stopped before step 3."""
        try:
            existing = self.cluster.get(crd.API_VERSION, crd.RECORD_KIND, crd.NAMESPACE, crd.record_name(seq))
        except NotFound:
            return
        rec = _spec(existing)
        if rec.get("prevHash") != prev or rec.get("hash") != record_hash(rec) or rec.get("seq") != seq:
            current = self.head_state()
            if current[0] >= seq:
                return  # the head moved past it meanwhile: a normal race
            raise ChainError(
                f"audit record {crd.record_name(seq)} does not chain onto the head (seq {seq - 1}); "
                "run `trueup audit verify` and repair the chain before writing to it"
            )
        self._advance(head, seq, str(rec["hash"]), str(rec.get("time") or ""))
