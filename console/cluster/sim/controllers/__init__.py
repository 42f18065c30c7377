"""Simulated controllers, driven by the sim clock through the due-time queue (store.due).

Importing this package registers every controller with `registry.REGISTRY`.
"""

from __future__ import annotations

from console.cluster.sim.controllers import (  # noqa: F401  (imported for registration)
    crd,
    daemonset,
    deployment,
    events,
    hpa,
    ingress,
    job,
    namespace,
    pod,
    pvc,
    quota,
    replicaset,
    service,
    statefulset,
)
from console.cluster.sim.controllers.registry import REGISTRY, run_due

__all__ = ["REGISTRY", "run_due"]
