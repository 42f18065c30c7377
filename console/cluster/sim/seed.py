"""What a fresh cluster contains: the system namespaces, one Ready node, a default StorageClass and
the `default/kubernetes` Service (10.96.0.1), as after `kind create cluster`."""

from __future__ import annotations

from console.cluster.sim.core import Core

NODE = "sim-node-1"


def seed(core: Core) -> None:
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        core.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            field_manager="kube-apiserver",
        )
    core.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]},
        },
        field_manager="kube-apiserver",
    )
    core.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        },
        field_manager="kubectl-create",
    )
    resources = {
        "cpu": "8",
        "ephemeral-storage": "102625208Ki",
        "hugepages-2Mi": "0",
        "memory": "16318504Ki",
        "pods": "110",
    }
    core.create(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE,
                "labels": {
                    "beta.kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": NODE,
                    "kubernetes.io/os": "linux",
                    "node-role.kubernetes.io/control-plane": "",
                },
            },
            "spec": {
                "podCIDR": "10.244.0.0/24",
                "podCIDRs": ["10.244.0.0/24"],
                "providerID": f"sim://{NODE}",
            },
            "status": {
                "addresses": [
                    {"address": "172.18.0.2", "type": "InternalIP"},
                    {"address": NODE, "type": "Hostname"},
                ],
                "allocatable": resources,
                "capacity": resources,
                "conditions": [
                    {"type": t, "status": "False", "reason": r, "message": m}
                    for t, r, m in (
                        (
                            "MemoryPressure",
                            "KubeletHasSufficientMemory",
                            "kubelet has sufficient memory available",
                        ),
                        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    )
                ]
                + [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                    }
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "containerRuntimeVersion": "containerd://2.1.0",
                    "kernelVersion": "6.8.0",
                    "kubeProxyVersion": "",
                    "kubeletVersion": "v1.36.3-sim",
                    "operatingSystem": "linux",
                    "osImage": "trueup sim",
                },
            },
        },
        field_manager="kubelet",
    )
