"""Several connections and processes on one sim cluster file: optimistic concurrency holds across
them, concurrent writers do not lose writes, and the sim stays fast with thousands of objects."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cluster.api import Conflict
from console.cluster.sim import SimCluster

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[4]


def cm(name: str, **data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    }


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    SimCluster.create_db(path, "shared", "https://127.0.0.1:6443").clock.freeze(T0)
    return path


def test_two_connections_one_gets_conflict(db: Path) -> None:
    a = SimCluster(db, "shared", "https://127.0.0.1:6443")
    b = SimCluster(db, "shared", "https://127.0.0.1:6443")
    a.create(cm("x", v="0"), field_manager="a")
    seen_a = a.get("v1", "ConfigMap", "default", "x")
    seen_b = b.get("v1", "ConfigMap", "default", "x")
    seen_a["data"]["v"] = "a"
    seen_b["data"]["v"] = "b"
    a.update(seen_a, field_manager="a")
    with pytest.raises(Conflict):
        b.update(seen_b, field_manager="b")
    assert b.get("v1", "ConfigMap", "default", "x")["data"] == {"v": "a"}
    assert b.clock.now() == T0  # the frozen clock is shared through the file


def test_second_process_write_is_seen_and_wins(db: Path) -> None:
    sim = SimCluster(db, "shared", "https://127.0.0.1:6443")
    sim.create(cm("x", v="0"), field_manager="parent")
    stale = sim.get("v1", "ConfigMap", "default", "x")
    child = (
        "import sys\n"
        "from console.cluster.sim import SimCluster\n"
        "c = SimCluster(sys.argv[1], 'shared', 'https://127.0.0.1:6443')\n"
        "o = c.get('v1', 'ConfigMap', 'default', 'x')\n"
        "o['data']['v'] = 'child'\n"
        "c.update(o, field_manager='child')\n"
    )
    subprocess.run([sys.executable, "-c", child, str(db)], check=True, cwd=ROOT, timeout=60)
    stale["data"]["v"] = "parent"
    with pytest.raises(Conflict):
        sim.update(stale, field_manager="parent")
    live = sim.get("v1", "ConfigMap", "default", "x")
    assert live["data"] == {"v": "child"}
    assert {m["manager"] for m in live["metadata"]["managedFields"]} == {"parent", "child"}


def test_concurrent_processes_do_not_lose_writes(db: Path) -> None:
    writer = (
        "import sys\n"
        "from console.cluster.sim import SimCluster\n"
        "c = SimCluster(sys.argv[1], 'shared', 'https://127.0.0.1:6443')\n"
        "for i in range(40):\n"
        "    c.create({'apiVersion': 'v1', 'kind': 'ConfigMap',\n"
        "              'metadata': {'name': f'{sys.argv[2]}-{i}', 'namespace': 'default'}}, field_manager='w')\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(db), tag], cwd=ROOT) for tag in ("p", "q")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    sim = SimCluster(db, "shared", "https://127.0.0.1:6443")
    items = [o for o in sim.list("v1", "ConfigMap", "default").items if o["metadata"]["name"][0] in "pq"]
    assert len(items) == 80
    assert len({o["metadata"]["resourceVersion"] for o in items}) == 80


def test_five_thousand_configmaps_create_and_list_fast(db: Path) -> None:
    sim = SimCluster(db, "shared", "https://127.0.0.1:6443")
    t = time.perf_counter()
    for i in range(300):
        sim.create(cm(f"one-{i:03d}", k="v"), field_manager="kubectl")
    per_create = (time.perf_counter() - t) / 300
    print(f"\nsim: one create {per_create * 1000:.1f} ms")
    t = time.perf_counter()
    created = sim.create_many([cm(f"cm-{i:05d}", k="v") for i in range(5000)], field_manager="bulk")
    assert len({o["metadata"]["resourceVersion"] for o in created}) == 5000
    print(f"sim: create_many(5000) {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    items = sim.list("v1", "ConfigMap", "default").items
    listed = time.perf_counter() - t
    assert len(items) == 5301  # plus kube-root-ca.crt
    print(f"sim: list 5,301 ConfigMaps {listed:.2f} s")
    t = time.perf_counter()
    everything = sim.list_all_objects()
    assert len(everything) == sim.count() > 5000
    print(f"sim: list_all_objects {time.perf_counter() - t:.2f} s")
