"""The real control plane behaves like a cluster: controllers, scheduler, kwok, RBAC, admission."""

from __future__ import annotations

import ipaddress
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.integration.controlplane import (
    ENGINE_USER,
    NODE_NAME,
    POD_CIDR,
    SERVICE_CIDR,
    ControlPlane,
    ControlPlaneError,
)

pytestmark = pytest.mark.realcluster
T = TypeVar("T")


def eventually(fn: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    """Poll fn until it returns a truthy value; bounded so a broken controller fails, not hangs."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.25)


def get_json(cp: ControlPlane, *args: str) -> dict[str, Any]:
    r = cp.kubectl("get", *args, "-o", "json")
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
            },
        },
    }


def kubectl_in(cp: ControlPlane, ns: str, obj: dict[str, Any], *, engine: bool = False) -> Any:
    return cp.kubectl(
        "-n",
        ns,
        "create",
        "-f",
        "-",
        input=json.dumps(obj),
        kubeconfig=cp.engine_kubeconfig if engine else None,
    )


def test_startup_version_and_schedulable_node(control_plane: ControlPlane) -> None:
    cp = control_plane
    print(f"\n[controlplane] start-up took {cp.startup_seconds:.1f} s")
    assert cp.server.startswith("https://127.0.0.1:")
    assert cp.api_get("/version")["gitVersion"] == "v1.36.3"
    node = cp.api_get(f"/api/v1/nodes/{NODE_NAME}")
    assert not node["spec"].get("taints"), "the kwok node must accept ordinary pods"
    assert node["metadata"]["labels"]["type"] == "kwok"
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
    assert node["status"]["allocatable"]["pods"] == "110"


def test_deployment_runs_pods_and_gc_removes_them(control_plane: ControlPlane, kube_namespace: str) -> None:
    cp, ns = control_plane, kube_namespace
    r = kubectl_in(cp, ns, deployment("web", 2))
    assert r.returncode == 0, r.stderr

    def running_pods() -> list[dict[str, Any]] | None:
        pods = get_json(cp, "-n", ns, "pods")["items"]
        ok = [p for p in pods if p["status"].get("phase") == "Running" and p["status"].get("podIP")]
        return ok if len(ok) == 2 else None

    pods = eventually(running_pods, "2 Running pods")
    rs = get_json(cp, "-n", ns, "replicasets")["items"]
    assert len(rs) == 1
    assert rs[0]["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    for pod in pods:
        assert pod["spec"]["nodeName"] == NODE_NAME
        assert pod["metadata"]["ownerReferences"][0]["name"] == rs[0]["metadata"]["name"]
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(POD_CIDR)
        assert pod["status"]["hostIP"] == "127.0.0.1"
    assert len({p["status"]["podIP"] for p in pods}) == 2
    eventually(
        lambda: get_json(cp, "-n", ns, "deployment", "web")["status"].get("availableReplicas") == 2,
        "Deployment available",
    )

    r = cp.kubectl("-n", ns, "delete", "deployment", "web", "--wait=false")
    assert r.returncode == 0, r.stderr
    eventually(
        lambda: (
            not get_json(cp, "-n", ns, "replicasets")["items"] and not get_json(cp, "-n", ns, "pods")["items"]
        ),
        "garbage collection of ReplicaSet and Pods",
    )


def test_namespace_deletion_completes(control_plane: ControlPlane) -> None:
    cp = control_plane
    ns = f"t-nsdel-{os.getpid()}"
    assert cp.kubectl("create", "namespace", ns).returncode == 0
    eventually(lambda: cp.kubectl("-n", ns, "get", "sa", "default").returncode == 0, "default ServiceAccount")
    assert kubectl_in(cp, ns, deployment("doomed", 1)).returncode == 0
    assert cp.kubectl("-n", ns, "create", "configmap", "cm", "--from-literal=k=v").returncode == 0
    eventually(lambda: len(get_json(cp, "-n", ns, "pods")["items"]) == 1, "pod created")
    assert cp.kubectl("delete", "namespace", ns, "--wait=false").returncode == 0
    eventually(
        lambda: "NotFound" in cp.kubectl("get", "namespace", ns).stderr,
        "namespace finalized and gone",
        timeout=90,
    )


def test_engine_identity_is_least_privilege(control_plane: ControlPlane, kube_namespace: str) -> None:
    cp, ns = control_plane, kube_namespace
    eng = cp.engine_kubeconfig

    def as_engine(*args: str, input: str | None = None) -> Any:
        return cp.kubectl(*args, kubeconfig=eng, input=input)

    who = as_engine("auth", "whoami", "-o", "json")
    assert who.returncode == 0, who.stderr
    info = json.loads(who.stdout)["status"]["userInfo"]
    assert info["username"] == ENGINE_USER and "trueup" in info["groups"]

    # Allowed: everything a GitOps engine applies and reads.
    assert as_engine("-n", ns, "create", "configmap", "cm", "--from-literal=k=v").returncode == 0
    assert as_engine("-n", ns, "create", "secret", "generic", "s", "--from-literal=k=v").returncode == 0
    assert as_engine("-n", ns, "get", "secret", "s").returncode == 0
    assert kubectl_in(cp, ns, deployment("eng", 1), engine=True).returncode == 0
    assert as_engine("-n", ns, "patch", "deployment", "eng", "-p", '{"spec":{"replicas":0}}').returncode == 0
    assert as_engine("get", "clusterroles").returncode == 0
    r = as_engine("-n", ns, "create", "role", "pod-reader", "--verb=get", "--resource=pods")
    assert r.returncode == 0, r.stderr
    r = as_engine("-n", ns, "create", "rolebinding", "rb", "--role=pod-reader", "--user=someone")
    assert r.returncode == 0, r.stderr

    # Forbidden: cluster-scoped RBAC, and granting more than the engine holds (escalation check).
    r = as_engine("create", "clusterrolebinding", "x", "--clusterrole=view", f"--user={ENGINE_USER}")
    assert r.returncode != 0 and "forbidden" in r.stderr and "clusterrolebindings" in r.stderr
    r = as_engine("create", "clusterrole", "x", "--verb=get", "--resource=pods")
    assert r.returncode != 0 and "forbidden" in r.stderr
    r = as_engine("-n", ns, "create", "rolebinding", "esc", "--clusterrole=cluster-admin", "--user=someone")
    assert r.returncode != 0 and "forbidden" in r.stderr
    assert as_engine("auth", "can-i", "impersonate", "users").stdout.strip() == "no"
    assert as_engine("auth", "can-i", "delete", "clusterroles").stdout.strip() == "no"
    assert as_engine("auth", "can-i", "delete", "deployments", "-n", "kube-system").stdout.strip() == "yes"

    # Custom resources of a group registered after start-up: Forbidden until granted.
    group = f"g{os.getpid()}.trueup.test"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "scope": "Namespaced",
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
    r = as_engine("create", "-f", "-", input=json.dumps(crd))
    assert r.returncode == 0, r.stderr
    r = cp.kubectl("wait", "--for=condition=Established", f"crd/widgets.{group}", "--timeout=60s")
    assert r.returncode == 0, r.stderr
    widget = json.dumps({"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"}})

    def engine_create_widget() -> Any:
        x = as_engine("-n", ns, "create", "-f", "-", input=widget)
        return x if "forbidden" in x.stderr else None  # NotFound while discovery catches up

    r = eventually(engine_create_widget, "engine Forbidden on the new group", timeout=30)
    assert f'cannot create resource "widgets" in API group "{group}"' in r.stderr
    cp.grant_engine_write(group)
    eventually(
        lambda: as_engine("-n", ns, "create", "-f", "-", input=widget).returncode == 0,
        "engine allowed after grant_engine_write",
        timeout=30,
    )
    assert cp.kubectl("delete", "crd", f"widgets.{group}", "--wait=false").returncode == 0


def test_job_runs_to_complete(control_plane: ControlPlane, kube_namespace: str) -> None:
    cp, ns = control_plane, kube_namespace
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "registry.invalid/job:1"}],
                }
            },
        },
    }
    assert kubectl_in(cp, ns, job).returncode == 0
    r = cp.kubectl("-n", ns, "wait", "--for=condition=Complete", "job/once", "--timeout=90s")
    assert r.returncode == 0, r.stderr
    got = get_json(cp, "-n", ns, "job", "once")
    assert got["status"]["succeeded"] == 1
    pods = get_json(cp, "-n", ns, "pods", "-l", "job-name=once")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]


def test_loadbalancer_service_never_gets_ingress(control_plane: ControlPlane, kube_namespace: str) -> None:
    """No cloud controller: the apiserver allocates IP and nodePort, nobody fills status.loadBalancer."""
    cp, ns = control_plane, kube_namespace
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb"},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": "x"},
            "ports": [{"port": 80, "targetPort": 8080}],
        },
    }
    assert kubectl_in(cp, ns, svc).returncode == 0
    got = get_json(cp, "-n", ns, "service", "lb")
    assert ipaddress.ip_address(got["spec"]["clusterIP"]) in ipaddress.ip_network(SERVICE_CIDR)
    assert 30000 <= got["spec"]["ports"][0]["nodePort"] <= 32767
    time.sleep(3)  # give kcm a chance to (not) act
    assert get_json(cp, "-n", ns, "service", "lb")["status"] == {"loadBalancer": {}}


def test_quota_and_validating_admission_policy_are_enforced(
    control_plane: ControlPlane, kube_namespace: str
) -> None:
    cp, ns = control_plane, kube_namespace
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "q"},
        "spec": {"hard": {"configmaps": "2"}},
    }
    assert kubectl_in(cp, ns, quota).returncode == 0
    eventually(lambda: get_json(cp, "-n", ns, "resourcequota", "q")["status"].get("used"), "quota status")
    # kube-root-ca.crt already uses one of the two.
    eventually(
        lambda: get_json(cp, "-n", ns, "resourcequota", "q")["status"]["used"].get("configmaps") == "1",
        "quota counts kube-root-ca.crt",
    )
    assert cp.kubectl("-n", ns, "create", "configmap", "a").returncode == 0
    r = cp.kubectl("-n", ns, "create", "configmap", "b")
    assert r.returncode != 0 and "exceeded quota" in r.stderr

    name = f"deny-bad-{os.getpid()}"
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
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
            "validations": [{"expression": "object.spec.replicas <= 5", "message": "too many replicas"}],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}},
        },
    }
    cp.apply(policy, binding)
    try:

        def create_big() -> Any:
            x = kubectl_in(cp, ns, deployment(f"big{time.monotonic_ns()}", 6))
            return x if x.returncode != 0 else None  # the policy takes a moment to load

        r = eventually(create_big, "policy enforced", timeout=30)
        assert "too many replicas" in r.stderr
        assert kubectl_in(cp, ns, deployment("small", 1)).returncode == 0
    finally:
        cp.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name)


def test_start_failure_names_component_and_log_tail(control_plane: ControlPlane, tmp_path: Path) -> None:
    """A component that cannot start fails start() with its log tail; nothing is left running."""
    real = control_plane.bin_dir
    bins = tmp_path / "bin"
    bins.mkdir()
    for name in ("etcd", "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml"):
        (bins / name).symlink_to(real / name)
    (bins / "kube-apiserver").symlink_to(real / "kube-scheduler")  # real binary, wrong flags
    cp = ControlPlane(tmp_path / "cp", bins)
    with pytest.raises(ControlPlaneError) as err:
        cp.start(timeout=60)
    msg = str(err.value)
    assert "kube-apiserver exited" in msg and "unknown flag" in msg
    assert len(cp.launched_pids) == 2
    for pid in cp.launched_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
