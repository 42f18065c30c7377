"""`trueup import argocd` on the real control plane (issue 13 item 4).

The cluster gets what an Argo CD install has: the Application and AppProject CRDs of argoproj.io,
and in namespace `argocd` the argocd-cm (nested and split-key customizations, exclusions, compare
options), argocd-rbac-cm, a repository Secret with credentials, a repo-creds Secret and a cluster
Secret. The import must leave every one of those objects as it was (read-only), put credentials only
into the keyring, and give a workspace whose `app list` matches the imported Applications.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.engine import yamlsafe
from tests.integration.controlplane import ControlPlane
from tests.onboarding_helpers import SECRET, USER, Env, assert_secret_nowhere, make_env, make_repo
from tests.servers import git_http_server


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield make_env(tmp_path)


NS = "argocd"
GUESTBOOK = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guestbook\ndata:\n  a: b\n"


def _crd(kind: str, plural: str) -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.argoproj.io"},
        "spec": {
            "group": "argoproj.io",
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                "operation": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def _secret(name: str, kind: str, data: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS, "labels": {"argocd.argoproj.io/secret-type": kind}},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def _resource_versions(cp: ControlPlane) -> dict[str, str]:
    out = {}
    for what in ("applications.argoproj.io", "appprojects.argoproj.io", "configmaps", "secrets"):
        r = cp.kubectl("-n", NS, "get", what, "-o", "json")
        assert r.returncode == 0, r.stderr
        for item in json.loads(r.stdout)["items"]:
            out[f"{what}/{item['metadata']['name']}"] = item["metadata"]["resourceVersion"]
    return out


def test_import_argocd_read_only(control_plane: ControlPlane, env: Env) -> None:
    cp = control_plane
    cp.apply(_crd("Application", "applications"), _crd("AppProject", "appprojects"))
    for _ in range(100):
        r = cp.kubectl(
            "wait",
            "--for=condition=Established",
            "crd/applications.argoproj.io",
            "crd/appprojects.argoproj.io",
            "--timeout=30s",
        )
        if r.returncode == 0:
            break
        time.sleep(0.2)
    cp.kubectl("create", "namespace", NS)
    srv = env.base / "srv"
    srv.mkdir()
    make_repo(srv, "apps", {"guestbook/cm.yaml": GUESTBOOK})
    admin = yamlsafe.load_one(Path(cp.admin_kubeconfig).read_text())
    user = admin["users"][0]["user"]
    ca = admin["clusters"][0]["cluster"]["certificate-authority-data"]
    with git_http_server(srv, USER, SECRET) as server:
        url = f"{server.url}/apps.git"
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": NS},
            "data": {
                "resource.customizations": yamlsafe.dump(
                    {
                        "example.com/Widget": {
                            "health.lua": 'return {status = "Healthy"}',
                            "health.lua.useOpenLibs": True,
                        },
                        "apps/Deployment": {"ignoreDifferences": "jsonPointers:\n- /spec/replicas\n"},
                    }
                ),
                "resource.customizations.health.cert-manager.io_Certificate": 'return {status = "Progressing"}',
                "resource.customizations.useOpenLibs.cert-manager.io_Certificate": "true",
                "resource.customizations.ignoreDifferences.all": "managedFieldsManagers:\n- kube-controller-manager\n",
                "resource.customizations.actions.apps_Deployment": "discovery.lua: return {}\n",
                "resource.exclusions": "- apiGroups: [cilium.io]\n  kinds: [CiliumIdentity]\n  clusters: ['*']\n",
                "resource.compareoptions": "ignoreAggregatedRoles: true\n",
            },
        }
        rbac = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-rbac-cm", "namespace": NS},
            "data": {"policy.csv": "g, sre, role:admin\n", "policy.default": "role:readonly"},
        }
        project = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team", "namespace": NS},
            "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]},
        }
        apps = [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {
                    "name": name,
                    "namespace": NS,
                    "finalizers": ["resources-finalizer.argocd.argoproj.io"],
                },
                "spec": {
                    "project": proj,
                    "source": {"repoURL": url, "path": "guestbook", "targetRevision": "main"},
                    "destination": dest,
                },
            }
            for name, proj, dest in (
                ("guestbook", "team", {"server": "https://kubernetes.default.svc", "namespace": "guestbook"}),
                ("guestbook-remote", "default", {"name": "remote", "namespace": "guestbook-remote"}),
            )
        ]
        secrets = [
            _secret(
                "repo-apps", "repository", {"url": url, "username": USER, "password": SECRET, "type": "git"}
            ),
            _secret(
                "creds-acme",
                "repo-creds",
                {"url": "https://git.acme.example/", "username": "bot", "password": SECRET + "-tpl"},
            ),
            _secret(
                "cluster-remote",
                "cluster",
                {
                    "name": "remote",
                    "server": cp.server,
                    "config": json.dumps(
                        {
                            "tlsClientConfig": {
                                "caData": ca,
                                "certData": user["client-certificate-data"],
                                "keyData": user["client-key-data"],
                            }
                        }
                    ),
                },
            ),
        ]
        cp.apply(cm, rbac, project, *apps, *secrets)
        before = _resource_versions(cp)
        ws = env.base / "imported"
        r = env.run(
            "-w", str(ws), "import", "argocd", "--context", "admin@trueup-test", "--kubeconfig", str(cp.admin_kubeconfig),
        )  # fmt: skip
        assert "imported 2 application(s), 1 project(s)" in r.stdout
        assert _resource_versions(cp) == before  # read-only: nothing in the Argo install changed
        listed = json.loads(env.run("app", "list", "-o", "json", ws=ws).stdout)
        assert sorted(a["name"] for a in listed) == ["guestbook", "guestbook-remote"]
        assert {a["name"]: a["project"] for a in listed} == {
            "guestbook": "team",
            "guestbook-remote": "default",
        }
        doc = yamlsafe.load_one((ws / "trueup.yaml").read_text())
        custom = doc["settings"]["resourceCustomizations"]
        assert custom["cert-manager.io/Certificate"] == {
            "health.lua": 'return {status = "Progressing"}',
            "health.lua.useOpenLibs": True,
        }
        assert custom["example.com/Widget"]["health.lua.useOpenLibs"] is True
        assert "managedFieldsManagers" in custom["all"]["ignoreDifferences"]
        assert "discovery.lua" in custom["apps/Deployment"]["actions"]
        assert doc["settings"]["resourceExclusions"][0]["kinds"] == ["CiliumIdentity"]
        assert doc["settings"]["resourceCompareOptions"] == {"ignoreAggregatedRoles": True}
        assert doc["settings"]["trackingAnnotation"] == "trueup.dev/tracking-id"  # no ownership taken
        assert doc["rbac"] == {"policy": "g, sre, role:admin\n", "default": "role:readonly"}
        assert [t["url"] for t in doc["repositories"]["credentialTemplates"]] == ["https://git.acme.example/"]
        assert {c["name"] for c in doc["clusters"]} == {"control", "in-cluster", "remote"}
        # the same apps compare: both clusters are reachable (one through keyring credentials)
        env.run("refresh", ws=ws)
        listed = {a["name"]: a for a in json.loads(env.run("app", "list", "-o", "json", ws=ws).stdout)}
        for name in ("guestbook", "guestbook-remote"):
            assert listed[name]["sync"]["status"] == "OutOfSync", listed[name]
            assert not [c for c in listed[name]["conditions"] if c["type"].endswith("Error")], listed[name]
        clusters = json.loads(env.run("cluster", "list", "-o", "json", ws=ws).stdout)
        assert all(c["connectionState"]["status"] == "Successful" for c in clusters), clusters
    assert_secret_nowhere(env, ws)
    for leaked in (SECRET + "-tpl", user["client-key-data"][:40]):
        hits = subprocess.run(
            ["grep", "-rl", "--binary-files=text", leaked, str(ws)], capture_output=True, text=True
        )
        assert hits.stdout == ""


def test_init_with_a_real_control_cluster(control_plane: ControlPlane, env: Env) -> None:
    """`init --control-context`: the control cluster is real; `install` applies the CRDs there."""
    cp = control_plane
    ws = env.base / "real"
    kc = str(cp.admin_kubeconfig)
    r = env.run("init", str(ws), "--control-context", "admin@trueup-test", "--kubeconfig", kc)
    assert "trueup install" in r.stdout
    env.run("install", ws=ws)
    assert cp.kubectl("get", "crd", "applications.trueup.dev").returncode == 0
    env.run("cluster", "add", "workload", "--kubeconfig", kc, "--context", "admin@trueup-test", ws=ws)
    clusters = {c["name"]: c for c in json.loads(env.run("cluster", "list", "-o", "json", ws=ws).stdout)}
    assert clusters["workload"]["connectionState"]["status"] == "Successful"
    assert clusters["workload"]["serverVersion"].startswith("v1.")
    r = env.run(
        "cluster",
        "add",
        "down",
        "--kubeconfig",
        kc,
        "--context",
        "admin@trueup-test",
        "--server",
        "https://127.0.0.1:9",
        ws=ws,
        want=5,
    )
    assert "nothing was added" in r.stderr
    assert json.loads(env.run("app", "list", "-o", "json", ws=ws).stdout) == []
