"""The audit chain on a sim control cluster: append, verify, every kind of tampering, exports, and two
writer processes appending at once without forking the chain."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from console.cluster.sim import SimCluster
from console.engine.appstore import AppStore
from console.engine.audit import crd as audit_crd
from console.engine.audit.chain import AuditChain
from console.engine.audit.record import GENESIS, Entry, canonical, record_hash
from console.engine.audit.verify import ExportError, verify_chain, verify_export, write_export


def control(tmp_path: Path) -> SimCluster:
    sim = SimCluster.create_db(tmp_path / "control.db", "in-cluster", "https://kubernetes.default.svc")
    AppStore(sim).install()
    return sim


def entry(i: int, **kw: object) -> Entry:
    base: dict[str, object] = {
        "actor": {"user": f"user{i % 3}", "groups": ["g"], "verified": False},
        "action": "sync",
        "phase": "intent",
        "outcome": "pending",
        "project": "p",
        "app": f"app{i}",
        "parameters": {"revision": "main", "prune": False},
    }
    base.update(kw)
    return Entry(**base)  # type: ignore[arg-type]


def test_append_chains_records_and_advances_the_head(tmp_path: Path) -> None:
    sim = control(tmp_path)
    chain = AuditChain(sim)
    recs = [chain.append(entry(i)) for i in range(5)]
    assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5]
    assert recs[0]["prevHash"] == GENESIS
    assert all(b["prevHash"] == a["hash"] for a, b in zip(recs, recs[1:], strict=False))
    assert all(r["hash"] == record_hash(r) for r in recs)
    assert chain.head_state() == (5, recs[-1]["hash"])
    verdict = verify_chain(chain)
    assert verdict.ok and verdict.records == 5
    # the objects are where DESIGN.md §2 says
    obj = sim.get("trueup.dev/v1alpha1", "AuditRecord", "trueup", "rec-000000000003")
    assert obj["spec"]["seq"] == 3
    assert sim.get("trueup.dev/v1alpha1", "AuditChain", "trueup", "head")["spec"]["seq"] == 5


def test_record_hash_is_sha256_of_canonical_json() -> None:
    import hashlib

    rec = {"seq": 1, "b": "ü", "a": [1, {"z": True}], "hash": "x"}
    body = {k: v for k, v in rec.items() if k != "hash"}
    assert canonical(body) == '{"a":[1,{"z":true}],"b":"ü","seq":1}'.encode()
    assert record_hash(rec) == hashlib.sha256(canonical(body)).hexdigest()
    with pytest.raises(TypeError):
        canonical({"x": 1.5})


def _tamper(sim: SimCluster, seq: int, mutate: object) -> None:
    obj = sim.get("trueup.dev/v1alpha1", "AuditRecord", "trueup", audit_crd.record_name(seq))
    mutate(obj["spec"])  # type: ignore[operator]
    sim.update(obj, field_manager="attacker")


def test_live_chain_detects_an_edit_and_names_the_record(tmp_path: Path) -> None:
    sim = control(tmp_path)
    chain = AuditChain(sim)
    for i in range(4):
        chain.append(entry(i))
    _tamper(sim, 2, lambda s: s.update(outcome="succeeded"))
    v = verify_chain(chain)
    assert not v.ok and v.bad_seq == 2 and "rec-000000000002" in v.problem and "edited" in v.problem


def test_live_chain_detects_an_edit_with_a_recomputed_hash(tmp_path: Path) -> None:
    sim = control(tmp_path)
    chain = AuditChain(sim)
    for i in range(4):
        chain.append(entry(i))

    def forge(s: dict) -> None:
        s["actor"]["user"] = "someone-else"
        s["hash"] = record_hash(s)

    _tamper(sim, 2, forge)
    v = verify_chain(chain)
    assert not v.ok and v.bad_seq == 3 and "does not chain onto record 2" in v.problem


def test_live_chain_detects_a_deleted_record_and_a_cut_tail(tmp_path: Path) -> None:
    sim = control(tmp_path)
    chain = AuditChain(sim)
    for i in range(5):
        chain.append(entry(i))
    sim.delete("trueup.dev/v1alpha1", "AuditRecord", "trueup", audit_crd.record_name(3))
    v = verify_chain(chain)
    assert not v.ok and v.bad_seq == 4 and "record 3 missing (deleted)" in v.problem
    sim2 = control(tmp_path / "b")
    chain2 = AuditChain(sim2)
    for i in range(5):
        chain2.append(entry(i))
    for seq in (4, 5):
        sim2.delete("trueup.dev/v1alpha1", "AuditRecord", "trueup", audit_crd.record_name(seq))
    v = verify_chain(chain2)
    assert not v.ok and v.bad_seq == 4 and "records 4-5 missing (the tail was cut)" in v.problem


def test_live_chain_detects_a_moved_record(tmp_path: Path) -> None:
    sim = control(tmp_path)
    chain = AuditChain(sim)
    recs = [chain.append(entry(i)) for i in range(4)]
    # swap the contents of records 2 and 3
    a = sim.get("trueup.dev/v1alpha1", "AuditRecord", "trueup", audit_crd.record_name(2))
    b = sim.get("trueup.dev/v1alpha1", "AuditRecord", "trueup", audit_crd.record_name(3))
    a["spec"], b["spec"] = recs[2], recs[1]
    sim.update(a, field_manager="attacker")
    sim.update(b, field_manager="attacker")
    v = verify_chain(chain)
    assert not v.ok and v.bad_seq == 2 and "AuditRecord rec-000000000002 holds record 3" in v.problem


def test_a_record_left_past_the_head_is_adopted(tmp_path: Path) -> None:
    """A writer that died after creating its record but before moving the head."""
    sim = control(tmp_path)
    chain = AuditChain(sim)
    chain.append(entry(0))
    head = chain.head()
    assert head is not None
    rec = chain.append(entry(1))
    head_obj = chain.head()
    assert head_obj is not None
    head_obj["spec"] = dict(head["spec"])  # roll the head back one record
    sim.update(head_obj, field_manager="attacker")
    v = verify_chain(chain)
    assert v.ok and v.notes and "past the chain head" in v.notes[0]
    nxt = chain.append(entry(2))
    assert nxt["seq"] == 3 and nxt["prevHash"] == rec["hash"]
    assert verify_chain(chain).ok


def _export(chain: AuditChain, path: Path) -> list[str]:
    with path.open("w") as out:
        write_export(chain, out)
    return path.read_text().splitlines()


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, list[str]]:
    sim = control(tmp_path)
    chain = AuditChain(sim)
    for i in range(6):
        chain.append(entry(i, reason="INC-1" if i % 2 else ""))
    path = tmp_path / "audit.jsonl"
    lines = _export(chain, path)
    assert json.loads(lines[0]) == {"kind": "AuditChain", "seq": 6, "hash": chain.head_state()[1]}
    assert verify_export(path).ok
    return path, lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_export_one_byte_changed(exported: tuple[Path, list[str]]) -> None:
    path, lines = exported
    changed = list(lines)
    changed[3] = (
        changed[3].replace('"user0"', '"user9"').replace('"user1"', '"user9"').replace('"user2"', '"user9"')
    )
    v = verify_export(_write(path, changed))
    assert not v.ok and v.bad_seq == 3 and "line 4" in v.problem and "edited" in v.problem
    # a byte that breaks the JSON itself
    broken = list(lines)
    broken[2] = broken[2][:10] + "\x00" + broken[2][11:]
    with pytest.raises(ExportError, match="line 3 is not valid JSON"):
        verify_export(_write(path, broken))


def test_export_one_record_removed(exported: tuple[Path, list[str]]) -> None:
    path, lines = exported
    v = verify_export(_write(path, lines[:3] + lines[4:]))
    assert not v.ok and v.bad_seq == 4 and "record 3 missing" in v.problem


def test_export_two_records_swapped(exported: tuple[Path, list[str]]) -> None:
    path, lines = exported
    swapped = list(lines)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    v = verify_export(_write(path, swapped))
    assert not v.ok and v.bad_seq == 3 and "line 3" in v.problem and "reordered" in v.problem


def test_export_tail_cut(exported: tuple[Path, list[str]]) -> None:
    path, lines = exported
    v = verify_export(_write(path, lines[:-2]))
    assert not v.ok and v.bad_seq == 5 and "the tail was cut" in v.problem


def test_export_inserted_record(exported: tuple[Path, list[str]]) -> None:
    path, lines = exported
    forged = json.loads(lines[3])
    forged["app"] = "evil"
    forged["hash"] = record_hash(forged)
    v = verify_export(_write(path, [*lines[:4], json.dumps(forged), *lines[4:]]))
    assert not v.ok and "line 5" in v.problem


def test_export_head_line_required(exported: tuple[Path, list[str]]) -> None:
    path, lines = exported
    with pytest.raises(ExportError, match="line 1 is not the chain head"):
        verify_export(_write(path, lines[1:]))


def _writer(path: str, who: str, n: int) -> None:
    sim = SimCluster(path, "in-cluster", "https://kubernetes.default.svc", must_exist=True)
    chain = AuditChain(sim)
    for i in range(n):
        chain.append(entry(i, actor={"user": who, "groups": [], "verified": False}))
    sim.close()


def test_two_writer_processes_never_fork_the_chain(tmp_path: Path) -> None:
    sim = control(tmp_path)
    sim.close()
    n = 25
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path / "control.db"), who, n)) for who in ("w1", "w2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0
    chain = AuditChain(SimCluster(tmp_path / "control.db", "in-cluster", "https://kubernetes.default.svc"))
    records = chain.records()
    assert [r["seq"] for r in records] == list(range(1, 2 * n + 1))
    assert sorted(r["actor"]["user"] for r in records).count("w1") == n
    assert verify_chain(chain).ok
