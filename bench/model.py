"""Model benchmark: parse 10,000 Applications and a few hundred AppProjects (the validate-everything path).

Prints figures, asserts nothing: total seconds and µs per object for the parse (best of --repeat
runs; CPU time of this process, so other work on a shared machine does not count, with the wall
time beside it), the to_dict round trip, and the peak memory of holding every parsed object (tracemalloc, in
a separate pass so it does not slow the timed ones). The fleet is deterministic and shaped like a
real one: directory / kustomize / helm sources, multi-source apps with a `$values` ref, sync
policies with retry, ignoreDifferences, and controller-written status on half of the apps.

Usage: python bench/model.py [--apps 10000] [--projects 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import gc
import random
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.engine.model import parse_application, parse_project  # noqa: E402

Obj = dict[str, Any]


def _source(rng: random.Random, i: int) -> Obj:
    repo = f"https://git.example.com/org/team-{i % 40}.git"
    roll = rng.random()
    if roll < 0.4:
        src: Obj = {"repoURL": repo, "path": f"apps/app-{i}", "targetRevision": rng.choice(["HEAD", "main"])}
        if rng.random() < 0.5:
            src["directory"] = {"recurse": True, "include": "*.yaml", "exclude": "test/*"}
        if rng.random() < 0.1:
            src["directory"] = {
                "jsonnet": {"extVars": [{"name": "env", "value": "prod"}], "libs": ["vendor"]}
            }
        return src
    if roll < 0.7:
        return {
            "repoURL": repo,
            "path": f"overlays/prod/app-{i}",
            "targetRevision": "main",
            "kustomize": {
                "namePrefix": "prod-",
                "images": [f"registry.example.com/app-{i}:v{i % 7}"],
                "commonLabels": {"team": f"team-{i % 40}"},
            },
        }
    return {
        "repoURL": "https://charts.example.com",
        "chart": f"chart-{i % 25}",
        "targetRevision": f"1.{i % 9}.{i % 4}",
        "helm": {
            "releaseName": f"app-{i}",
            "valueFiles": ["values.yaml", "values-prod.yaml"],
            "parameters": [{"name": "image.tag", "value": f"v{i}"}, {"name": "replicaCount", "value": "3"}],
            "valuesObject": {"resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}},
        },
    }


def _status(rng: random.Random, i: int) -> Obj:
    resources = [
        {
            "group": "apps",
            "version": "v1",
            "kind": "Deployment",
            "namespace": f"ns-{i % 50}",
            "name": f"app-{i}-{r}",
            "status": rng.choice(["Synced", "OutOfSync"]),
            "health": {"status": rng.choice(["Healthy", "Progressing", "Degraded"])},
        }
        for r in range(5)
    ]
    return {
        "sync": {
            "status": "Synced",
            "revision": f"{i:040x}",
            "comparedTo": {"destination": {"name": "prod"}},
        },
        "health": {"status": "Healthy"},
        "resources": resources,
        "conditions": [
            {
                "type": "SharedResourceWarning",
                "message": "shared",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
        "operationState": {
            "operation": {"sync": {"revision": f"{i:040x}"}},
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "startedAt": "2024-05-01T10:00:00Z",
            "finishedAt": "2024-05-01T10:00:09Z",
        },
        "history": [
            {
                "id": h,
                "revision": f"{h:040x}",
                "deployedAt": "2024-05-01T10:00:09Z",
                "source": {"repoURL": "x"},
            }
            for h in range(3)
        ],
        "reconciledAt": "2024-05-01T10:02:00Z",
        "sourceType": "Kustomize",
        "summary": {"images": [f"registry.example.com/app-{i}:v1"]},
    }


def application(rng: random.Random, i: int) -> Obj:
    spec: Obj = {
        "project": f"team-{i % 300}",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": f"ns-{i % 50}"},
    }
    if rng.random() < 0.1:
        spec["sources"] = [
            {
                "repoURL": "https://charts.example.com",
                "chart": f"chart-{i % 25}",
                "targetRevision": "2.0.0",
                "helm": {"valueFiles": ["$values/envs/prod/values.yaml"]},
            },
            {
                "repoURL": f"https://git.example.com/org/values-{i % 40}.git",
                "targetRevision": "main",
                "ref": "values",
            },
        ]
    else:
        spec["source"] = _source(rng, i)
    if rng.random() < 0.8:
        policy: Obj = {"syncOptions": ["CreateNamespace=true", "ServerSideApply=true"]}
        if rng.random() < 0.6:
            policy["automated"] = {"prune": True, "selfHeal": rng.random() < 0.5}
        if rng.random() < 0.4:
            policy["retry"] = {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}
        spec["syncPolicy"] = policy
    if rng.random() < 0.3:
        spec["ignoreDifferences"] = [
            {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
            {"kind": "Secret", "name": "tls", "jqPathExpressions": [".data.ca"]},
        ]
    if rng.random() < 0.2:
        spec["info"] = [{"name": "owner", "value": f"team-{i % 40}"}]
    obj: Obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": f"app-{i}",
            "namespace": "argocd",
            "labels": {"team": f"team-{i % 40}", "tier": rng.choice(["web", "api", "db"])},
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": spec,
    }
    if i % 2 == 0:
        obj["status"] = _status(rng, i)
    return obj


def project(rng: random.Random, i: int) -> Obj:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": f"team-{i}", "namespace": "argocd"},
        "spec": {
            "description": f"Team {i}",
            "sourceRepos": [f"https://git.example.com/org/team-{i % 40}*", "https://charts.example.com"],
            "destinations": [
                {"server": "https://kubernetes.default.svc", "namespace": f"ns-{i % 50}"},
                {"name": "prod-eu", "namespace": f"team-{i}-*"},
            ],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}],
            "syncWindows": [
                {"kind": "deny", "schedule": "0 22 * * *", "duration": "8h", "applications": ["*"]},
                {
                    "kind": "allow",
                    "schedule": "0 9 * * 1-5",
                    "duration": "8h",
                    "namespaces": [f"ns-{i % 50}"],
                },
            ],
            "roles": [
                {
                    "name": "deployer",
                    "policies": [f"p, proj:team-{i}:deployer, applications, sync, team-{i}/*, allow"],
                    "groups": [f"team-{i}"],
                }
            ],
            "orphanedResources": {"warn": rng.random() < 0.5},
        },
    }


def parse_all(apps: list[Obj], projects: list[Obj]) -> list[Any]:
    return [parse_application(a) for a in apps] + [parse_project(p) for p in projects]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=10_000)
    ap.add_argument("--projects", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(8)
    apps = [application(rng, i) for i in range(args.apps)]
    projects = [project(rng, i) for i in range(args.projects)]
    pristine = copy.deepcopy(apps)
    n = len(apps) + len(projects)

    parse_all(apps[:50], projects[:5])  # warm-up: imports, lazily built validators
    best = best_wall = float("inf")
    parsed: list[Any] = []
    for _ in range(args.repeat):
        parsed = []
        gc.collect()
        t0, w0 = time.process_time(), time.perf_counter()
        parsed = parse_all(apps, projects)
        best, best_wall = min(best, time.process_time() - t0), min(best_wall, time.perf_counter() - w0)
    if apps != pristine:
        print("WARNING: parsing modified its input", file=sys.stderr)
    print(
        f"parse: {len(apps)} Applications + {len(projects)} AppProjects in {best:.3f}s "
        f"({best / n * 1e6:.1f} µs/object, best of {args.repeat}; wall {best_wall:.3f}s)"
    )

    t0 = time.process_time()
    dumped = [p.to_dict() for p in parsed]
    dump_s = time.process_time() - t0
    print(f"to_dict: {n} objects in {dump_s:.3f}s ({dump_s / n * 1e6:.1f} µs/object)")
    app_dumps = dumped[: len(apps)]
    t0 = time.process_time()
    again = [parse_application(d) for d in app_dumps]
    round_s = time.process_time() - t0
    same = sum(1 for a, b in zip(again, parsed, strict=False) if a == b)
    print(f"round trip: re-parsed {len(again)} dumps in {round_s:.3f}s, {same} equal to the original")

    del parsed, dumped, app_dumps, again
    gc.collect()
    tracemalloc.start()
    held = parse_all(apps, projects)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: peak {peak / 2**20:.1f} MiB while parsing and holding {len(held)} objects")


if __name__ == "__main__":
    main()
