"""Embedded simulated Kubernetes cluster persisted in SQLite (demo, training, incident drills, tests).

It behaves like a real kube-apiserver plus the core controllers, so the same contract tests run
against it and against a real control plane.
"""

from __future__ import annotations

from console.cluster.sim.clock import SimClock
from console.cluster.sim.cluster import SERVER_VERSION, SimCluster

__all__ = ["SERVER_VERSION", "SimClock", "SimCluster"]
