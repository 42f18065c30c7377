"""Fixtures for tests against the real control plane (tests/integration/controlplane.py).

One control plane per pytest session, started lazily: only when a collected test requests
`control_plane` (directly or through `kube_namespace`). Tests using it get the `realcluster`
marker automatically, so `-m "not realcluster"` deselects them.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.controlplane import ControlPlane, ControlPlaneError, ToolsUnavailable, find_bin_dir

START_TIMEOUT = float(os.environ.get("TRUEUP_CP_START_TIMEOUT", "240"))
_startup: list[float] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "control_plane" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realcluster)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _startup:
        terminalreporter.write_line(f"real control plane start-up: {_startup[0]:.1f} s")


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A running etcd + apiserver + kcm + scheduler + kwok; missing binaries fail in CI, else skip."""
    try:
        bin_dir = find_bin_dir()
    except ToolsUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"control-plane binaries unavailable in CI: {exc}", pytrace=False)
        pytest.skip(f"control-plane binaries unavailable (run scripts/build-tools.sh controlplane): {exc}")
    cp = ControlPlane(tmp_path_factory.mktemp("controlplane"), bin_dir)
    try:
        cp.start(timeout=START_TIMEOUT)
    except ControlPlaneError as exc:
        pytest.fail(f"control plane failed to start: {exc}", pytrace=False)
    assert cp.startup_seconds is not None
    _startup.append(cp.startup_seconds)
    print(f"\n[controlplane] started in {cp.startup_seconds:.1f} s at {cp.server} ({cp.workdir})")
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture
def kube_namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace whose default ServiceAccount exists (Pods are admitted); deleted afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"t-{slug}-{uuid.uuid4().hex[:6]}"
    r = control_plane.kubectl("create", "namespace", name)
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 60
    while control_plane.kubectl("-n", name, "get", "serviceaccount", "default").returncode != 0:
        assert time.monotonic() < deadline, f"ServiceAccount {name}/default never appeared"
        time.sleep(0.2)
    yield name
    control_plane.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")
