"""The two backends of the contract suite behind one small interface.

`Backend` hides only what legitimately differs between a SimCluster and a real control plane:
how a namespace and an engine identity are obtained, and how "wait until the controllers got
there" works (real: poll the wall clock; sim: let sim time pass a second per poll, so time-driven
sim controllers run exactly as they would under a real clock). Everything else a test does goes
through the `Cluster` protocol, identically on both.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from console.cluster.api import Cluster, ClusterError, NoKindMatch, NotFound, Obj, Unavailable
from console.cluster.kube.client import KubeCluster
from console.cluster.sim import SimCluster
from tests.integration.controlplane import (
    ENGINE_GROUP,
    ENGINE_USER,
    RBAC_GROUP,
    READ_VERBS,
    VIEWER_GROUP,
    VIEWER_USER,
    WRITE_VERBS,
    ControlPlane,
    _binding,
    viewer_rbac,
)

T = TypeVar("T")
FM = "contract"
CRD_API = "apiextensions.k8s.io/v1"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class Backend:
    """One backend under test: `c` is the admin client, `ns` a fresh namespace of this test."""

    name: Literal["sim", "real"]
    c: Cluster
    ns: str
    engine_factory: Callable[[], Cluster]
    grant_engine_write: Callable[[str], None]
    """Let the engine write custom resources of a group registered after start (harness API)."""
    cleanups: list[Callable[[], Any]] = field(default_factory=list)
    viewer_factory: Callable[[], Cluster] | None = None
    _engine: Cluster | None = None
    _viewer: Cluster | None = None

    @property
    def viewer(self) -> Cluster:
        """A person with read access only (tests/integration/controlplane.py VIEWER_RBAC_DOC)."""
        if self._viewer is None:
            assert self.viewer_factory is not None
            self._viewer = self.viewer_factory()
        return self._viewer

    @property
    def engine(self) -> Cluster:
        """The GitOps engine's least-privilege identity (tests/integration/controlplane.py)."""
        if self._engine is None:
            self._engine = self.engine_factory()
        return self._engine

    def unique(self, prefix: str) -> str:
        """Names of cluster-scoped things must not collide across tests on the shared real cluster."""
        return f"{prefix}{uuid.uuid4().hex[:6]}"

    def eventually(self, fn: Callable[[], T | None], what: str, timeout: float = 30) -> T:
        """Poll fn until it returns something truthy. Sim: one simulated second passes per poll."""
        deadline = time.monotonic() + timeout
        while True:
            value = fn()
            if value:
                return value
            assert time.monotonic() < deadline, f"[{self.name}] timed out waiting for {what}"
            if isinstance(self.c, SimCluster):
                self.c.clock.advance(1)
            else:
                time.sleep(0.05)

    def gone(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        try:
            self.c.get(api_version, kind, self.ns if namespace is None else namespace, name)
        except NotFound:
            return True
        return False

    def served(self, fn: Callable[[], T]) -> T | None:
        """fn(), or None while the kind is not served yet (NoKindMatch; real: warming watch cache)."""
        try:
            return fn()
        except NoKindMatch:
            return None
        except Unavailable as exc:
            assert exc.message == "storage is (re)initializing", exc.message
            return None

    def apply_crd(self, crd: Obj) -> None:
        """Create a CRD, remove it after the test, wait until its kind is served."""
        self.c.apply(crd, field_manager=FM)
        name = crd["metadata"]["name"]
        self.cleanups.append(
            lambda: _quiet(lambda: self.c.delete(CRD_API, "CustomResourceDefinition", "", name))
        )
        version = crd["spec"]["versions"][0]["name"]
        api_version = f"{crd['spec']['group']}/{version}"
        kind = crd["spec"]["names"]["kind"]
        self.eventually(lambda: self.served(lambda: self.c.resource_for(api_version, kind)), f"{kind} served")

    def close(self) -> None:
        for fn in reversed(self.cleanups):
            fn()
        for client in (self._engine, self._viewer, self.c):
            close = getattr(client, "close", None)
            if close is not None:
                close()


def _quiet(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except ClusterError:
        pass


def engine_rbac(api_groups: list[str]) -> list[Obj]:
    """The harness's engine RBAC (ENGINE_RBAC_DOC), built the way ControlPlane._install_engine_rbac
    builds it from the groups served at start-up, so the sim can hold exactly the same objects."""
    groups = sorted({g for g in api_groups if g and g != RBAC_GROUP})
    read = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "trueup-engine:read"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": list(READ_VERBS)}],
    }
    write = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "trueup-engine:write"},
        "rules": [
            {"apiGroups": ["", *groups], "resources": ["*"], "verbs": list(WRITE_VERBS)},
            {"apiGroups": [RBAC_GROUP], "resources": ["roles", "rolebindings"], "verbs": list(WRITE_VERBS)},
        ],
    }
    return [read, write, _binding("trueup-engine:read"), _binding("trueup-engine:write")]


def engine_grant(group: str) -> list[Obj]:
    """What ControlPlane.grant_engine_write(group) applies."""
    name = f"trueup-engine:write:{group}"
    role = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": [{"apiGroups": [group], "resources": ["*"], "verbs": list(WRITE_VERBS)}],
    }
    return [role, _binding(name)]


def sim_backend(tmp_path: Path) -> Iterator[Backend]:
    path = tmp_path / "contract.db"
    sim = SimCluster(path, "sim", "https://127.0.0.1:6443")
    sim.clock.freeze(T0)
    for obj in [*engine_rbac([r.group for r in sim.discovery()]), *viewer_rbac()]:
        sim.apply(obj, field_manager="trueup-harness")
    ns = f"contract-{uuid.uuid4().hex[:6]}"
    sim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, field_manager=FM)

    def engine() -> Cluster:
        return SimCluster(path, "sim", sim.server, user=ENGINE_USER, groups=(ENGINE_GROUP,))

    def grant(group: str) -> None:
        for obj in engine_grant(group):
            sim.apply(obj, field_manager="trueup-harness")

    def viewer() -> Cluster:
        return SimCluster(path, "sim", sim.server, user=VIEWER_USER, groups=(VIEWER_GROUP,))

    backend = Backend("sim", sim, ns, engine, grant, viewer_factory=viewer)
    try:
        yield backend
    finally:
        backend.close()


def real_backend(control_plane: ControlPlane, ns: str) -> Iterator[Backend]:
    admin = KubeCluster("real", kubeconfig=str(control_plane.admin_kubeconfig))

    def engine() -> Cluster:
        return KubeCluster("engine", kubeconfig=str(control_plane.engine_kubeconfig))

    def grant(group: str) -> None:
        control_plane.grant_engine_write(group)
        name = f"trueup-engine:write:{group}"

        def revoke() -> None:
            for kind in ("ClusterRoleBinding", "ClusterRole"):
                _quiet(functools.partial(admin.delete, f"{RBAC_GROUP}/v1", kind, "", name))

        backend.cleanups.append(revoke)

    def viewer() -> Cluster:
        return KubeCluster("viewer", kubeconfig=str(control_plane.viewer_kubeconfig))

    backend = Backend("real", admin, ns, engine, grant, viewer_factory=viewer)
    try:
        yield backend
    finally:
        backend.close()
