"""A Jsonnet app and Helm-repository apps with a dependency render and sync on sim (issue 13 items 6-7).

The chart repository is real: `helm package` + `helm repo index` served on 127.0.0.1 behind basic
auth; credentials come from the keyring; the dependency is built with `helm dependency build`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.engine import yamlsafe
from console.engine.sources import find_tool
from tests.onboarding_helpers import SECRET, USER, Env, assert_secret_nowhere, make_env, make_repo
from tests.servers import static_http_server


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield make_env(tmp_path)


JSONNET_APP = {
    "main.jsonnet": """local lib = import 'naming.libsonnet';
function(replicas=1) [
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: lib.name(std.extVar('team')), labels: { tier: std.extVar('tier') } },
    data: { replicas: std.toString(replicas) },
  },
]
""",
    "naming.libsonnet": "{ name(team):: team + '-settings' }\n",
}


def test_jsonnet_app_renders_and_syncs(env: Env) -> None:
    srv = env.base / "srv"
    srv.mkdir()
    files = {f"jsonnet/{k}": v for k, v in JSONNET_APP.items()}
    files["lib/shared.libsonnet"] = "{ tier: 'gold' }\n"
    files["jsonnet-escape/main.jsonnet"] = "import '../../../../../../etc/hostname'\n"
    bare = make_repo(srv, "js", files)
    ws = env.base / "ws"
    env.run("init", str(ws))
    doc = yamlsafe.load_one((ws / "trueup.yaml").read_text())
    doc["repositories"]["allowFileURLs"] = True
    (ws / "trueup.yaml").write_text(yamlsafe.dump(doc))
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "settings", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": bare.as_uri(),
                "path": "jsonnet",
                "directory": {
                    "jsonnet": {
                        "extVars": [
                            {"name": "team", "value": "payments"},
                            {"name": "tier", "value": "(import 'shared.libsonnet').tier", "code": True},
                        ],
                        "tlas": [{"name": "replicas", "value": "3", "code": True}],
                        "libs": ["lib"],
                    }
                },
            },
            "destination": {"name": "in-cluster", "namespace": "payments"},
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
        },
    }
    escape = json.loads(json.dumps(app))
    escape["metadata"]["name"] = "escape"
    escape["spec"]["source"]["path"] = "jsonnet-escape"
    (env.base / "apps.yaml").write_text(yamlsafe.dump_all([app, escape]))
    env.run("apply", "-f", str(env.base / "apps.yaml"), ws=ws)
    manifests = yamlsafe.load_all(env.run("app", "manifests", "settings", ws=ws).stdout)
    assert manifests[0]["metadata"]["name"] == "payments-settings"
    assert manifests[0]["metadata"]["labels"]["tier"] == "gold" and manifests[0]["data"]["replicas"] == "3"
    env.run("app", "sync", "settings", ws=ws)
    assert "Synced, Healthy" in env.run("app", "wait", "settings", "--timeout", "60", ws=ws).stdout
    r = env.run("app", "manifests", "escape", ws=ws, want=2)
    assert "points outside the repository" in r.stderr
    assert str(env.base) not in r.stderr  # repo-relative paths only


CHART_COMMON = {
    "Chart.yaml": "apiVersion: v2\nname: common\nversion: 1.2.0\n",
    "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-common\ndata:\n  from: common\n",
}


def _chart_web(repo_url: str) -> dict[str, str]:
    return {
        "Chart.yaml": (
            "apiVersion: v2\nname: web\nversion: 0.3.0\n"
            f"dependencies:\n  - name: common\n    version: 1.2.0\n    repository: {repo_url}\n"
        ),
        "values.yaml": "greeting: hello\n",
        "templates/cm.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-web\ndata:\n"
            "  greeting: {{ .Values.greeting | quote }}\n"
        ),
    }


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_helm_repository_chart_with_a_dependency(env: Env, tmp_path: Path) -> None:
    helm = find_tool("helm")
    if helm is None:
        pytest.fail("helm is not installed (scripts/build-tools.sh helm)", pytrace=False)
    charts = tmp_path / "charts-src"
    site = tmp_path / "site"
    site.mkdir()
    hhome = tmp_path / "helmhome"
    henv = {
        "HOME": str(hhome),
        "PATH": "/usr/bin:/bin",
        "HELM_CACHE_HOME": str(hhome / "c"),
        "HELM_CONFIG_HOME": str(hhome / "g"),
        "HELM_DATA_HOME": str(hhome / "d"),
    }
    with static_http_server(site, USER, SECRET) as server:
        _write(charts / "common", CHART_COMMON)
        _write(charts / "web", _chart_web(server.url))
        subprocess.run(
            [helm, "package", str(charts / "common"), "-d", str(site)],
            check=True,
            capture_output=True,
            env=henv,
        )
        (charts / "web" / "charts").mkdir()  # as a publisher does: the dependency packaged inside
        (charts / "web" / "charts" / "common-1.2.0.tgz").write_bytes((site / "common-1.2.0.tgz").read_bytes())
        subprocess.run(
            [helm, "package", str(charts / "web"), "-d", str(site)], check=True, capture_output=True, env=henv
        )
        subprocess.run(
            [helm, "repo", "index", str(site), "--url", server.url], check=True, capture_output=True, env=henv
        )
        ws = env.base / "ws"
        env.run("init", str(ws))
        r = env.run("repo", "add", server.url, "--type", "helm", ws=ws, want=3)  # the index needs credentials
        assert "401" in r.stderr
        env.run(
            "repo",
            "add",
            server.url,
            "--type",
            "helm",
            "--username",
            USER,
            "--password-stdin",
            stdin=SECRET + "\n",
            ws=ws,
        )
        env.run(
            "app", "create", "web", "--repo", server.url, "--helm-chart", "web", "--revision", "0.3.0",
            "--dest-name", "in-cluster", "--dest-namespace", "web", "--sync-option", "CreateNamespace=true", ws=ws,
        )  # fmt: skip
        names = sorted(
            o["metadata"]["name"] for o in yamlsafe.load_all(env.run("app", "manifests", "web", ws=ws).stdout)
        )
        assert names == ["web-common", "web-web"]
        env.run("app", "sync", "web", ws=ws)
        assert "Synced, Healthy" in env.run("app", "wait", "web", "--timeout", "90", ws=ws).stdout
        got = json.loads(env.run("app", "get", "web", "-o", "json", ws=ws).stdout)
        assert got["status"]["sync"]["revision"] == "0.3.0"

        # a chart kept in Git whose dependency comes from the registered Helm repository
        srv = env.base / "srv"
        srv.mkdir()
        bare = make_repo(srv, "charts", {f"web/{k}": v for k, v in _chart_web(server.url).items()})
        doc = yamlsafe.load_one((ws / "trueup.yaml").read_text())
        doc["repositories"]["allowFileURLs"] = True
        (ws / "trueup.yaml").write_text(yamlsafe.dump(doc))
        env.run(
            "app", "create", "web-git", "--repo", bare.as_uri(), "--path", "web", "--dest-name", "in-cluster",
            "--dest-namespace", "web-git", "--sync-option", "CreateNamespace=true", ws=ws,
        )  # fmt: skip
        env.run("app", "sync", "web-git", ws=ws)
        assert "Synced, Healthy" in env.run("app", "wait", "web-git", "--timeout", "90", ws=ws).stdout
        # a dependency from a repository nobody registered is refused, not fetched
        bare2 = make_repo(
            srv, "rogue", {f"web/{k}": v for k, v in _chart_web("http://127.0.0.1:9/charts").items()}
        )
        env.run(
            "app", "create", "rogue", "--repo", bare2.as_uri(), "--path", "web", "--dest-name", "in-cluster",
            "--dest-namespace", "rogue", ws=ws,
        )  # fmt: skip
        r = env.run("app", "manifests", "rogue", ws=ws, want=2)
        assert "not a registered Helm repository" in r.stderr
    assert_secret_nowhere(env, ws)
