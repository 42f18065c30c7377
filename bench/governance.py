"""Governance benchmark: what the gate adds to a mutation and to a read, on sim.

Prints figures, asserts nothing:
- audit append: records per second on a sim control cluster (one writer), and with two writer
  processes racing for the head;
- verify: seconds to verify a chain of N records (live) and its JSONL export;
- RBAC: microseconds per `enforce_claims` (user + 2 groups, the demo-sized policy, a project role),
  cold (first decision) and the app-list case (1,000 distinct applications).
Usage: python bench/governance.py [--records 500] [--apps 1000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.cluster.sim import SimCluster  # noqa: E402
from console.engine.appstore import AppStore  # noqa: E402
from console.engine.audit.chain import AuditChain  # noqa: E402
from console.engine.audit.record import Entry  # noqa: E402
from console.engine.audit.verify import (  # noqa: E402
    verify_chain,
    verify_export,
    write_export,  # noqa: E402
)
from console.engine.governance import rbac  # noqa: E402
from console.engine.model import parse_project  # noqa: E402

POLICY = "\n".join(
    [
        "g, sre-oncall, role:admin",
        *(f"p, role:team{i}, applications, sync, team{i}/*, allow" for i in range(40)),
        *(f"p, role:team{i}, applications, get, team{i}/*, allow" for i in range(40)),
        *(f"g, team{i}-dev, role:team{i}" for i in range(40)),
    ]
)


def _entry(i: int, who: str = "bench") -> Entry:
    return Entry(
        actor={"user": who, "groups": ["g"], "verified": False},
        action="sync",
        phase="intent",
        outcome="pending",
        project="p",
        app=f"app-{i}",
        parameters={"revision": "main", "prune": False},
    )


def _writer(path: str, who: str, n: int) -> None:
    chain = AuditChain(SimCluster(path, "c", "https://c", must_exist=True))
    for i in range(n):
        chain.append(_entry(i, who))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=500)
    ap.add_argument("--apps", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "control.db"
        sim = SimCluster.create_db(db, "c", "https://c")
        AppStore(sim).install()
        chain = AuditChain(sim)
        t0 = time.perf_counter()
        for i in range(args.records):
            chain.append(_entry(i))
        one = time.perf_counter() - t0
        print(
            f"audit append, 1 writer:  {args.records / one:8.1f} records/s ({one / args.records * 1000:.2f} ms each)"
        )
        half = args.records // 2
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_writer, args=(str(db), f"w{k}", half)) for k in range(2)]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        two = time.perf_counter() - t0
        print(f"audit append, 2 writers: {2 * half / two:8.1f} records/s (incl. process start-up)")
        t0 = time.perf_counter()
        verdict = verify_chain(chain)
        print(
            f"verify live chain:       {time.perf_counter() - t0:8.3f} s for {verdict.records} records (ok={verdict.ok})"
        )
        export = Path(tmp) / "chain.jsonl"
        with export.open("w") as out:
            write_export(chain, out)
        t0 = time.perf_counter()
        verdict = verify_export(export)
        print(
            f"verify export:           {time.perf_counter() - t0:8.3f} s for {verdict.records} records (ok={verdict.ok})"
        )

    project = parse_project(
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team1", "namespace": "trueup"},
            "spec": {
                "roles": [
                    {
                        "name": "deployer",
                        "groups": ["team1-ci"],
                        "policies": ["p, proj:team1:deployer, applications, sync, team1/*, allow"],
                    }
                ]
            },
        }
    )
    t0 = time.perf_counter()
    enforcer = rbac.Enforcer(rbac.PolicyConfig(POLICY, "role:readonly"), projects={"team1": project})
    enforcer.enforce_claims("bob", ["team1-dev", "other"], "applications", "sync", "team1/app-0")
    print(
        f"RBAC first decision:     {(time.perf_counter() - t0) * 1000:8.2f} ms (builds the casbin enforcer)"
    )
    t0 = time.perf_counter()
    for i in range(args.apps):
        enforcer.enforce_claims("bob", ["team1-dev", "other"], "applications", "get", f"team{i % 40}/app-{i}")
    per = (time.perf_counter() - t0) / args.apps
    print(
        f"RBAC get per app:        {per * 1e6:8.1f} us ({args.apps} apps: {per * args.apps:.3f} s; default role allows)"
    )
    t0 = time.perf_counter()
    for i in range(args.apps):
        enforcer.enforce_claims(
            "bob", ["team1-dev", "other"], "applications", "sync", f"team{i % 40}/app-{i}"
        )
    per = (time.perf_counter() - t0) / args.apps
    print(f"RBAC sync per app:       {per * 1e6:8.1f} us (user, then each bound group; mostly denied)")


if __name__ == "__main__":
    main()
