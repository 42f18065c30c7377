"""KubeCluster against the real control plane: every call, every typed error, the live cache.

Messages are asserted verbatim where the engine shows them to users (they are the apiserver's own).
"""

from __future__ import annotations

import copy
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from console.cluster.api import (
    AlreadyExists,
    Cluster,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NoKindMatch,
    NotFound,
    Obj,
    Unavailable,
    WatchEvent,
)
from console.cluster.kube import client as kube
from console.cluster.kube.client import KubeCluster
from console.engine import yamlsafe
from tests.integration.controlplane import ControlPlane

pytestmark = pytest.mark.realcluster
T = TypeVar("T")
FM = "trueup-test"


def eventually(fn: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def uid() -> str:
    return uuid.uuid4().hex[:6]


def cm(name: str, ns: str, data: dict[str, str] | None = None, **md: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, **md},
        "data": data or {"k": "v"},
    }


def deployment(name: str, ns: str, labels: dict[str, str], selector: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector or labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
            },
        },
    }


def crd(group: str, kind: str) -> Obj:
    plural = kind.lower() + "s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def admin(control_plane: ControlPlane) -> Iterator[KubeCluster]:
    c = KubeCluster("real", kubeconfig=str(control_plane.admin_kubeconfig))
    yield c
    c.close()


@pytest.fixture(scope="module")
def ns(admin: KubeCluster) -> Iterator[str]:
    name = f"kube-backend-{uid()}"
    admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, field_manager=FM)
    yield name
    admin.delete("v1", "Namespace", "", name)


# ------------------------------------------------------------------ identity, CRUD, conflicts


def test_is_a_cluster_with_server_from_kubeconfig(admin: KubeCluster, control_plane: ControlPlane) -> None:
    assert isinstance(admin, Cluster)
    assert admin.server == control_plane.server
    assert admin.server_version().startswith("v1.")
    deploy = admin.resource_for("apps/v1", "Deployment")
    assert (deploy.plural, deploy.namespaced) == ("deployments", True)
    assert {"status", "scale"} <= set(deploy.subresources)
    kinds = {(r.group, r.version, r.kind) for r in admin.discovery()}
    assert ("", "v1", "Namespace") in kinds and ("rbac.authorization.k8s.io", "v1", "ClusterRole") in kinds


def test_crud_and_stale_resource_version(admin: KubeCluster, ns: str) -> None:
    created = admin.create(cm("crud", ns, labels={"tier": "a"}), field_manager=FM)
    assert created["metadata"]["uid"] and created["metadata"]["managedFields"][0]["manager"] == FM
    got = admin.get("v1", "ConfigMap", ns, "crud")
    assert (
        got["data"] == {"k": "v"}
        and got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    )

    fresh = copy.deepcopy(got)
    fresh["data"] = {"k": "v2"}
    updated = admin.update(fresh, field_manager=FM)
    assert updated["data"] == {"k": "v2"}
    stale = copy.deepcopy(got)
    stale["data"] = {"k": "lost"}
    with pytest.raises(Conflict) as exc:
        admin.update(stale, field_manager=FM)
    assert exc.value.message == (
        'Operation cannot be fulfilled on configmaps "crud": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert admin.get("v1", "ConfigMap", ns, "crud")["data"] == {"k": "v2"}

    admin.create(cm("other", ns, labels={"tier": "b"}), field_manager=FM)
    listed = admin.list("v1", "ConfigMap", ns, label_selector="tier=a")
    assert [o["metadata"]["name"] for o in listed.items] == ["crud"]
    assert listed.items[0]["kind"] == "ConfigMap" and listed.items[0]["apiVersion"] == "v1"
    assert int(listed.resource_version) >= int(updated["metadata"]["resourceVersion"])
    assert admin.delete("v1", "ConfigMap", ns, "crud") is None
    with pytest.raises(NotFound) as nf:
        admin.get("v1", "ConfigMap", ns, "crud")
    assert nf.value.message == 'configmaps "crud" not found'


def test_list_follows_continue_tokens(admin: KubeCluster, ns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        admin.create(cm(f"page-{i}", ns, labels={"paged": "yes"}), field_manager=FM)
    monkeypatch.setattr(kube, "_LIST_PAGE", 2)
    listed = admin.list("v1", "ConfigMap", ns, label_selector="paged=yes")
    assert sorted(o["metadata"]["name"] for o in listed.items) == [f"page-{i}" for i in range(5)]


def test_already_exists_missing_namespace_and_immutable_field(admin: KubeCluster, ns: str) -> None:
    admin.create(cm("dup", ns), field_manager=FM)
    with pytest.raises(AlreadyExists) as exc:
        admin.create(cm("dup", ns), field_manager=FM)
    assert exc.value.message == 'configmaps "dup" already exists'
    with pytest.raises(NotFound) as nf:
        admin.create(cm("x", "no-such-namespace-kb"), field_manager=FM)
    assert nf.value.message == 'namespaces "no-such-namespace-kb" not found'

    admin.create(deployment("immut", ns, {"app": "a"}), field_manager=FM)
    changed = deployment("immut", ns, {"app": "a", "v": "2"})
    with pytest.raises(Invalid) as inv:
        admin.apply(changed, field_manager=FM, force=True)
    assert "field is immutable" in inv.value.message
    assert inv.value.message.startswith('Deployment.apps "immut" is invalid: spec.selector: Invalid value:')
    assert [c.field for c in inv.value.causes] == ["spec.selector"]
    assert inv.value.causes[0].reason == "FieldValueInvalid"


def test_invalid_with_field_causes(admin: KubeCluster, ns: str) -> None:
    bad = deployment("mismatch", ns, labels={"app": "web"}, selector={"app": "api"})
    with pytest.raises(Invalid) as exc:
        admin.create(bad, field_manager=FM)
    assert exc.value.message == (
        'Deployment.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: '
        '{"app":"web"}: `selector` does not match template `labels`'
    )
    assert exc.value.code == 422
    assert [(c.field, c.reason) for c in exc.value.causes] == [
        ("spec.template.metadata.labels", "FieldValueInvalid")
    ]


# ------------------------------------------------------------------ server-side apply, dry run, patch


def test_server_side_apply_conflict_and_force(admin: KubeCluster, ns: str) -> None:
    first = admin.apply(cm("ssa", ns, {"owner": "alice"}), field_manager="alice")
    assert first["metadata"]["managedFields"][0]["operation"] == "Apply"
    with pytest.raises(Conflict) as exc:
        admin.apply(cm("ssa", ns, {"owner": "bob"}), field_manager="bob")
    assert exc.value.message == 'Apply failed with 1 conflict: conflict with "alice": .data.owner'
    assert [(c.field, c.reason, c.message) for c in exc.value.causes] == [
        (".data.owner", "FieldManagerConflict", 'conflict with "alice"')
    ]
    forced = admin.apply(cm("ssa", ns, {"owner": "bob"}), field_manager="bob", force=True)
    assert forced["data"] == {"owner": "bob"}
    managers = {m["manager"] for m in forced["metadata"]["managedFields"]}
    assert managers == {"bob"}  # alice lost her only field


def test_dry_run_persists_nothing_and_shows_defaults(admin: KubeCluster, ns: str) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    preview = admin.apply(svc, field_manager=FM, dry_run=True)
    assert preview["spec"]["ports"] == [{"protocol": "TCP", "port": 80, "targetPort": 80}]
    assert preview["spec"]["type"] == "ClusterIP"
    with pytest.raises(NotFound):
        admin.get("v1", "Service", ns, "web")
    admin.create(cm("dry", ns), field_manager=FM, dry_run=True)
    with pytest.raises(NotFound):
        admin.get("v1", "ConfigMap", ns, "dry")

    real = admin.create(svc, field_manager=FM)
    assert real["spec"]["ports"][0]["protocol"] == "TCP" and real["spec"]["clusterIP"]
    patched = admin.patch(
        "v1", "Service", ns, "web", {"metadata": {"labels": {"x": "y"}}}, field_manager=FM, dry_run=True
    )
    assert patched["metadata"]["labels"] == {"x": "y"}
    assert "labels" not in admin.get("v1", "Service", ns, "web")["metadata"]
    assert admin.delete("v1", "Service", ns, "web", dry_run=True) is None
    assert admin.get("v1", "Service", ns, "web")["metadata"]["uid"] == real["metadata"]["uid"]


def test_patch_types_and_subresources(admin: KubeCluster, ns: str) -> None:
    admin.create(deployment("pt", ns, {"app": "pt"}), field_manager=FM)
    merged = admin.patch(
        "apps/v1", "Deployment", ns, "pt", {"metadata": {"labels": {"m": "1"}}}, field_manager=FM
    )
    assert merged["metadata"]["labels"] == {"m": "1"}
    sidecar = {
        "spec": {"template": {"spec": {"containers": [{"name": "side", "image": "registry.invalid/s:1"}]}}}
    }
    strategic = admin.patch(
        "apps/v1", "Deployment", ns, "pt", sidecar, patch_type="strategic", field_manager=FM
    )
    assert [c["name"] for c in strategic["spec"]["template"]["spec"]["containers"]] == ["side", "app"]
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    jsonp = admin.patch("apps/v1", "Deployment", ns, "pt", ops, patch_type="json", field_manager=FM)
    assert jsonp["spec"]["replicas"] == 3
    scale = admin.patch(
        "apps/v1", "Deployment", ns, "pt", {"spec": {"replicas": 2}}, field_manager=FM, subresource="scale"
    )
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    assert admin.get("apps/v1", "Deployment", ns, "pt")["spec"]["replicas"] == 2

    group = f"st{uid()}.kb.test"
    definition = crd(group, "Gadget")
    definition["spec"]["versions"][0]["subresources"] = {"status": {}}
    admin.apply(definition, field_manager=FM)
    gadget = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": ns}}
    made = eventually(lambda: _try(lambda: admin.create(gadget, field_manager=FM)), "Gadget served", 15)
    made["status"] = {"phase": "Ready"}
    ignored = admin.update(made, field_manager=FM)  # main resource: status is not written
    assert "status" not in ignored
    ignored["status"] = {"phase": "Ready"}
    written = admin.update(ignored, field_manager="status-writer", subresource="status")
    assert written["status"] == {"phase": "Ready"}
    status_patch = {**gadget, "status": {"phase": "Done"}}
    with pytest.raises(Conflict) as exc:  # the update above owns .status.phase as "before-first-apply"
        admin.apply(status_patch, field_manager="status-writer", subresource="status")
    assert exc.value.causes[0].field == ".status.phase"
    applied = admin.apply(status_patch, field_manager="status-writer", subresource="status", force=True)
    assert applied["status"] == {"phase": "Done"}
    admin.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", f"gadgets.{group}")


# ------------------------------------------------------------------ discovery and CRDs


def test_no_kind_match_until_crd_established_through_this_client(admin: KubeCluster, ns: str) -> None:
    group = f"g{uid()}.kb.test"
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": ns}}
    with pytest.raises(NoKindMatch) as exc:
        admin.apply(widget, field_manager=FM)
    assert exc.value.message == f'no matches for kind "Widget" in version "{group}/v1"'
    assert exc.value.code == 404
    admin.apply(crd(group, "Widget"), field_manager=FM)
    # The CRD write tells discovery to refresh on the next misses (no 5 s throttle).
    made = eventually(lambda: _try(lambda: admin.apply(widget, field_manager=FM)), "Widget served", 15)
    assert made["metadata"]["name"] == "w"
    assert admin.resource_for(f"{group}/v1", "Widget").plural == "widgets"
    admin.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", f"widgets.{group}")

    # Discovery still lists Widget; once the CRD is gone the server's "could not find the requested
    # resource" must surface as NoKindMatch, never as a NotFound that reads like "object deleted".
    def kind_gone() -> NoKindMatch | None:
        try:
            admin.get(f"{group}/v1", "Widget", ns, "w")
        except NoKindMatch as err:
            return err
        except NotFound as err:
            assert err.message == f'widgets.{group} "w" not found'  # CR deleted, CRD not yet
        return None

    err = eventually(kind_gone, "the CRD's deletion", 30)
    assert err.message == f'no matches for kind "Widget" in version "{group}/v1"'


def test_discovery_refresh_is_throttled_for_crds_made_elsewhere(control_plane: ControlPlane, ns: str) -> None:
    c = KubeCluster("throttled", kubeconfig=str(control_plane.admin_kubeconfig), discovery_interval=6.0)
    group = f"t{uid()}.kb.test"
    try:
        missed_at = time.monotonic()
        with pytest.raises(NoKindMatch):
            c.resource_for(f"{group}/v1", "Sprocket")
        control_plane.apply(crd(group, "Sprocket"))
        r = control_plane.kubectl(
            "wait", "--for=condition=Established", f"crd/sprockets.{group}", "--timeout=30s"
        )
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - missed_at < 6.0
        # Someone else made the CRD: within the interval the cached table answers (no request storm).
        with pytest.raises(NoKindMatch):
            c.resource_for(f"{group}/v1", "Sprocket")
        c.invalidate_discovery()
        found = eventually(lambda: _try(lambda: c.resource_for(f"{group}/v1", "Sprocket")), "refresh", 10)
        assert found.kind == "Sprocket"
    finally:
        c.close()
        control_plane.kubectl("delete", "crd", f"sprockets.{group}", "--wait=false")


def _try(fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except NoKindMatch:
        return None


# ------------------------------------------------------------------ RBAC


def test_forbidden_with_engine_identity(control_plane: ControlPlane, ns: str) -> None:
    engine = KubeCluster("engine", kubeconfig=str(control_plane.engine_kubeconfig))
    try:
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"kb-{uid()}"},
            "rules": [],
        }
        with pytest.raises(Forbidden) as exc:
            engine.create(role, field_manager=FM)
        assert exc.value.message == (
            'clusterroles.rbac.authorization.k8s.io is forbidden: User "trueup-engine" cannot create '
            'resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope'
        )
        assert exc.value.code == 403
        # Reads are allowed to the engine: same client, same cluster.
        assert engine.get("v1", "Namespace", "", ns)["metadata"]["name"] == ns
    finally:
        engine.close()


# ------------------------------------------------------------------ delete


def test_delete_propagation_and_finalizers(admin: KubeCluster, ns: str) -> None:
    def parent_and_child(name: str) -> tuple[Obj, Obj]:
        parent = admin.create(cm(name, ns), field_manager=FM)
        ref = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": name,
            "uid": parent["metadata"]["uid"],
            "blockOwnerDeletion": True,
        }
        child = admin.create(cm(f"{name}-child", ns, ownerReferences=[ref]), field_manager=FM)
        return parent, child

    def gone(name: str) -> bool:
        try:
            admin.get("v1", "ConfigMap", ns, name)
        except NotFound:
            return True
        return False

    parent_and_child("bg")
    assert admin.delete("v1", "ConfigMap", ns, "bg", propagation_policy="Background") is None
    assert gone("bg")
    eventually(lambda: gone("bg-child"), "garbage collector deletes the background child")

    parent_and_child("fg")
    marked = admin.delete("v1", "ConfigMap", ns, "fg", propagation_policy="Foreground")
    assert marked is not None and marked["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]
    eventually(lambda: gone("fg-child") and gone("fg"), "foreground deletion completes child first")

    parent_and_child("or")
    orphaning = admin.delete("v1", "ConfigMap", ns, "or", propagation_policy="Orphan")
    assert orphaning is not None and "orphan" in orphaning["metadata"]["finalizers"]
    eventually(lambda: gone("or"), "orphaning parent deletion")
    child = admin.get("v1", "ConfigMap", ns, "or-child")
    assert not child["metadata"].get("ownerReferences")

    held = admin.create(cm("held", ns, finalizers=["kb.test/hold"]), field_manager=FM)
    with pytest.raises(Conflict) as pre:
        admin.delete("v1", "ConfigMap", ns, "held", resource_version="1")
    assert "the ResourceVersion in the precondition (1) does not match" in pre.value.message
    marked = admin.delete("v1", "ConfigMap", ns, "held", resource_version=held["metadata"]["resourceVersion"])
    assert marked is not None and marked["metadata"]["finalizers"] == ["kb.test/hold"]
    assert admin.get("v1", "ConfigMap", ns, "held")["metadata"]["deletionTimestamp"]
    admin.patch("v1", "ConfigMap", ns, "held", {"metadata": {"finalizers": None}}, field_manager=FM)
    assert gone("held")


# ------------------------------------------------------------------ watch


def test_watch_from_resource_version(admin: KubeCluster, ns: str) -> None:
    start = admin.list("v1", "ConfigMap", ns).resource_version
    admin.create(cm("w1", ns), field_manager=FM)
    admin.patch("v1", "ConfigMap", ns, "w1", {"data": {"k": "2"}}, field_manager=FM)
    admin.delete("v1", "ConfigMap", ns, "w1")
    seen: list[tuple[str, str]] = []
    stream = admin.watch("v1", "ConfigMap", ns, resource_version=start, timeout_seconds=5)
    for ev in stream:
        assert isinstance(ev, WatchEvent)
        if ev.type != "BOOKMARK":
            seen.append((ev.type, ev.object["metadata"]["name"]))
        if len(seen) == 3:
            break
    stream.close()
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_watch_raises_gone_for_ancient_resource_version(admin: KubeCluster, ns: str) -> None:
    # A new CRD gets a fresh watch cache starting at the current revision: revision 1 is too old.
    group = f"gone{uid()}.kb.test"
    admin.apply(crd(group, "Relic"), field_manager=FM)
    eventually(lambda: _try(lambda: admin.resource_for(f"{group}/v1", "Relic")), "Relic served", 15)

    def gone() -> Gone | None:
        try:
            for _ev in admin.watch(f"{group}/v1", "Relic", ns, resource_version="1", timeout_seconds=5):
                pass
        except Gone as exc:
            return exc
        except Unavailable as exc:  # "storage is (re)initializing": the new kind's watch cache warms up
            assert exc.message == "storage is (re)initializing"
        return None

    err = eventually(gone, "Gone from the new kind's watch cache", 15)
    assert err.message.startswith("too old resource version: 1 (")
    assert err.code == 410
    admin.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", f"relics.{group}")


# ------------------------------------------------------------------ live cache


def test_list_all_objects_follows_the_cluster_within_a_second(control_plane: ControlPlane, ns: str) -> None:
    c = KubeCluster("cached", kubeconfig=str(control_plane.admin_kubeconfig))
    try:

        def names() -> set[tuple[str, str, str]]:
            return {
                (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
                for o in c.list_all_objects()
            }

        before = names()
        assert ("Namespace", "", ns) in before
        assert not any(k in ("Event", "Lease", "Endpoints", "EndpointSlice") for k, _n, _m in before)
        t0 = time.monotonic()
        c.create(cm("live", ns), field_manager=FM)
        eventually(lambda: ("ConfigMap", ns, "live") in names(), "cache sees the new ConfigMap", 10.0)
        print(f"\nwatch cache latency: {time.monotonic() - t0:.3f} s")
        c.delete("v1", "ConfigMap", ns, "live")
        eventually(lambda: ("ConfigMap", ns, "live") not in names(), "cache sees the deletion", 10.0)
        objs = c.list_all_objects()
        objs[0]["metadata"]["name"] = "mutated-by-caller"
        assert all(o["metadata"]["name"] != "mutated-by-caller" for o in c.list_all_objects())
        # A CRD created after the cache started: its custom resources are tracked too.
        group = f"live{uid()}.kb.test"
        c.apply(crd(group, "Gizmo"), field_manager=FM)
        gizmo = {"apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": "g", "namespace": ns}}
        eventually(lambda: _try(lambda: c.apply(gizmo, field_manager=FM)), "Gizmo served", 15)
        eventually(lambda: ("Gizmo", ns, "g") in names(), "cache tracks the new kind", 15)
        c.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", f"gizmos.{group}")
        threads = [t for t in threading.enumerate() if t.name.startswith("live-cached-")]
        assert threads
    finally:
        c.close()
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name.startswith("live-cached-") and t.is_alive()]


def test_list_all_objects_without_cache_lists_once(
    control_plane: ControlPlane, admin: KubeCluster, ns: str
) -> None:
    admin.create(cm("nocache", ns), field_manager=FM)
    c = KubeCluster("nocache", kubeconfig=str(control_plane.admin_kubeconfig), watch_cache=False)
    try:
        objs = c.list_all_objects()
        assert any(o["kind"] == "ConfigMap" and o["metadata"]["name"] == "nocache" for o in objs)
        assert not [t for t in threading.enumerate() if t.name.startswith("live-nocache-")]
    finally:
        c.close()


# ------------------------------------------------------------------ transport failures


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_unavailable_on_closed_port_names_cluster_and_server(control_plane: ControlPlane) -> None:
    server = f"https://127.0.0.1:{_closed_port()}"
    c = KubeCluster("prod-eu", kubeconfig=str(control_plane.admin_kubeconfig), server=server)
    try:
        with pytest.raises(Unavailable) as exc:
            c.get("v1", "Namespace", "", "default")
        assert exc.value.message == f'cluster "prod-eu" ({server}) is unreachable: connection refused'
        assert "\n" not in exc.value.message and exc.value.code == 503
        with pytest.raises(Unavailable):
            c.list_all_objects()
    finally:
        c.close()


def test_unavailable_on_untrusted_certificate(control_plane: ControlPlane, tmp_path: Path) -> None:
    doc = yamlsafe.load_one(control_plane.admin_kubeconfig.read_text())
    user = doc["users"][0]["user"]
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = user["client-certificate-data"]
    path = tmp_path / "wrong-ca.kubeconfig"
    path.write_text(yamlsafe.dump(doc))
    c = KubeCluster("tls", kubeconfig=str(path))
    try:
        with pytest.raises(Unavailable) as exc:
            c.server_version()
        assert exc.value.message.startswith(
            f'cluster "tls" ({control_plane.server}) is unreachable: TLS error: [SSL: CERTIFICATE_VERIFY_FAILED]'
        )
    finally:
        c.close()


class _HangUpServer:
    """A loopback TCP server that accepts and hangs up at once, counting connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_reads_retry_writes_never(control_plane: ControlPlane, admin: KubeCluster) -> None:
    hang = _HangUpServer()
    c = KubeCluster(
        "flaky", kubeconfig=str(control_plane.admin_kubeconfig), server=f"http://127.0.0.1:{hang.port}"
    )
    try:
        # Discovery from the healthy server so only the data requests hit the flaky one.
        c.discovery_cache = admin.discovery_cache
        with pytest.raises(Unavailable) as exc:
            c.get("v1", "ConfigMap", "default", "x")
        assert exc.value.message.startswith(
            f'cluster "flaky" (http://127.0.0.1:{hang.port}) is unreachable: '
        )
        assert hang.accepted == 3
        hang.accepted = 0
        with pytest.raises(Unavailable):
            c.create(cm("never-twice", "default"), field_manager=FM)
        assert hang.accepted == 1
    finally:
        c.close()
        hang.close()
