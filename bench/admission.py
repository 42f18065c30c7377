"""ValidatingAdmissionPolicy cost in the sim: what one admitted request pays for CEL evaluation.

Prints figures, asserts nothing. One policy (three validations, one matchCondition) bound to
Deployments; times `admission.admit` alone (the policy work of one request, objects already
defaulted) and a whole dry-run create, each with and without the binding, and the compile of
one policy generation (paid once, then cached by uid + resourceVersion).
Usage: python bench/admission.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.cluster.sim import (
    SimCluster,  # noqa: E402
    admission,  # noqa: E402
)

ADM = "admissionregistration.k8s.io/v1"
POLICY = {
    "apiVersion": ADM,
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "bench"},
    "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["apps"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["deployments"],
                }
            ]
        },
        "matchConditions": [{"name": "not-system", "expression": "request.namespace != 'kube-system'"}],
        "validations": [
            {"expression": "object.spec.replicas <= 50"},
            {
                "expression": "object.spec.template.spec.containers.all(c, "
                "c.image.startsWith('registry.example/'))",
                "message": "images must come from registry.example",
            },
            {"expression": "has(object.metadata.labels) && 'team' in object.metadata.labels"},
        ],
    },
}
BINDING = {
    "apiVersion": ADM,
    "kind": "ValidatingAdmissionPolicyBinding",
    "metadata": {"name": "bench"},
    "spec": {"policyName": "bench", "validationActions": ["Deny"]},
}


def deployment(i: int) -> dict:
    containers = [{"name": f"c{j}", "image": f"registry.example/app{j}:1.{i}"} for j in range(3)]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"web-{i}", "namespace": "default", "labels": {"team": "a", "app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
        },
    }


def per_request(fn: object, n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)  # type: ignore[operator]
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    n = ap.parse_args().requests
    sim = SimCluster(
        Path(tempfile.mkdtemp(prefix="trueup-bench-")) / "c.db", "bench", "https://127.0.0.1:6443"
    )
    sim.create(POLICY, field_manager="bench")
    core = sim.core
    info = core.info("apps/v1", "Deployment")
    obj = sim.create(deployment(0), field_manager="bench", dry_run=True)

    def admit(_: int) -> None:
        admission.admit(core, "CREATE", info, "apps/v1", obj, None, dry_run=True)

    def create(i: int) -> None:
        sim.create(deployment(i), field_manager="bench", dry_run=True)

    base_admit, base_create = per_request(admit, n), per_request(create, n // 4)
    sim.create(BINDING, field_manager="bench")
    admit(0)  # the first request compiles the policy; not part of the steady state
    t0 = time.perf_counter()
    bound_admit, bound_create = per_request(admit, n), per_request(create, n // 4)
    print(f"admission.admit, no binding:      {base_admit:8.1f} us/request")
    print(f"admission.admit, policy bound:    {bound_admit:8.1f} us/request")
    print(f"  -> CEL policy evaluation:       {bound_admit - base_admit:8.1f} us/request")
    print(f"dry-run create, no binding:       {base_create:8.1f} us/request")
    print(f"dry-run create, policy bound:     {bound_create:8.1f} us/request")
    print(f"(timed {n} admissions, {n // 4} creates; {time.perf_counter() - t0:.1f}s with the binding)")
    compile_policy = getattr(admission, "compile_policy", None)  # absent before the CEL library
    if compile_policy is not None:
        t0 = time.perf_counter()
        for _ in range(100):
            compile_policy(POLICY)
        print(f"compiling the policy (once per generation): {(time.perf_counter() - t0) * 10:.2f} ms")


if __name__ == "__main__":
    main()
