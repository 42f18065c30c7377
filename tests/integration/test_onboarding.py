"""Your own repositories (issue 13): init, repo add with keyring credentials against real loopback
servers (git http-backend behind basic auth, sshd with a test key), app create/set/unset, apply -f,
credential templates, mirrors, git isolation, and no credential anywhere it must not be.

The keyring is a real file backend chosen explicitly (keyrings.alt PlaintextKeyring in a temp XDG
data directory), as an operator would configure it on a headless machine.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.engine import yamlsafe
from tests.onboarding_helpers import (
    GUESTBOOK,
    SECRET,
    USER,
    Env,
    assert_secret_nowhere,
    keyring_entry,
    make_env,
    make_repo,
)
from tests.servers import git_http_server, ssh_server, sshd_available


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield make_env(tmp_path)


def test_own_repository_end_to_end_with_basic_auth(env: Env) -> None:
    srv = env.base / "srv"
    srv.mkdir()
    make_repo(srv, "apps", {"guestbook/cm.yaml": GUESTBOOK})
    ws = env.base / "ws"
    with git_http_server(srv, USER, SECRET) as server:
        url = f"{server.url}/apps.git"
        env.run("init", str(ws))
        # a wrong password: refused (exit 3), nothing registered
        r = env.run(
            "repo", "add", url, "--username", USER, "--password-stdin", stdin="wrong\n", ws=ws, want=3
        )
        assert "refused access" in r.stderr
        assert (
            "repos" not in (yamlsafe.load_one((ws / "trueup.yaml").read_text()).get("repositories") or {})
            or not (yamlsafe.load_one((ws / "trueup.yaml").read_text())["repositories"]["repos"])
        )
        env.run("repo", "add", url, "--username", USER, "--password-stdin", stdin=SECRET + "\n", ws=ws)
        listing = json.loads(env.run("repo", "list", "-o", "json", ws=ws).stdout)
        assert (
            listing[0]["connectionState"]["status"] == "Successful" and listing[0]["credentials"] == "https"
        )
        env.run(
            "app", "create", "guestbook", "--repo", url, "--path", "guestbook", "--dest-name", "in-cluster",
            "--dest-namespace", "guestbook", "--sync-option", "CreateNamespace=true", ws=ws,
        )  # fmt: skip
        env.run("refresh", ws=ws)
        env.run("app", "sync", "guestbook", ws=ws)
        r = env.run("app", "wait", "guestbook", "--health", "--sync", "--timeout", "60", ws=ws)
        assert "Synced, Healthy" in r.stdout
        assert any(p.startswith("/apps.git/") for p in server.requests)
        # apply -f of the same Application as an unchanged argoproj.io manifest
        app = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "guestbook", "namespace": "argocd"},
            "spec": {
                "project": "default",
                "source": {"repoURL": url, "path": "guestbook"},
                "destination": {"name": "in-cluster", "namespace": "guestbook"},
                "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
            },
        }
        (env.base / "app.yaml").write_text(yamlsafe.dump(app))
        r = env.run("apply", "-f", str(env.base / "app.yaml"), ws=ws)
        assert r.stdout.strip() == "application.trueup.dev/guestbook unchanged"
        second = {**app, "metadata": {"name": "guestbook-2", "namespace": "argocd"}}
        (env.base / "app2.yaml").write_text(yamlsafe.dump(second))
        r = env.run("apply", "-f", str(env.base / "app2.yaml"), ws=ws)
        assert r.stdout.strip() == "application.trueup.dev/guestbook-2 created"
        env.run("app", "sync", "guestbook-2", ws=ws)
        assert "Synced, Healthy" in env.run("app", "wait", "guestbook-2", "--timeout", "60", ws=ws).stdout
        # the server goes away: the error names the repository, never the credential
        env.run("app", "set", "guestbook-2", "--repo", url.replace(server.url, "http://127.0.0.1:9"), ws=ws)
        r = env.run("app", "get", "guestbook-2", "--refresh", ws=ws)
        assert "127.0.0.1:9" in r.stdout
        # repo rm: unregistered and its keyring entry deleted
        assert SECRET in keyring_entry(env, f"repo:{url}")
        env.run("repo", "rm", url, ws=ws)
        assert json.loads(env.run("repo", "list", "-o", "json", ws=ws).stdout) == []
        assert keyring_entry(env, f"repo:{url}") == ""
        r = env.run("repo", "rm", url, ws=ws, want=2)
        assert "not registered" in r.stderr
    assert_secret_nowhere(env, ws)


def test_keyring_unavailable_fails_closed(env: Env) -> None:
    ws = env.base / "ws"
    env.run("init", str(ws))
    env.env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    r = env.run(
        "repo", "add", "https://git.example.invalid/a.git", "--username", "u", "--password-stdin",
        stdin=SECRET + "\n", ws=ws, want=2,
    )  # fmt: skip
    assert "no usable OS keyring backend" in r.stderr and "PYTHON_KEYRING_BACKEND" in r.stderr
    assert "git.example.invalid" not in (ws / "trueup.yaml").read_text()  # nothing written
    assert_secret_nowhere_in(ws)


def assert_secret_nowhere_in(ws: Path) -> None:
    hits = subprocess.run(
        ["grep", "-rl", "--binary-files=text", SECRET, str(ws)], capture_output=True, text=True
    )
    assert hits.stdout == ""


def test_credential_template_mirror_and_isolated_git_config(env: Env) -> None:
    """A template serves every repo under its prefix; an upstream URL fetched from its mirror keeps
    the project's sourceRepos check on the upstream URL; the operator's global git config is ignored."""
    srv = env.base / "srv"
    srv.mkdir()
    make_repo(srv, "team-app", {"app/cm.yaml": GUESTBOOK})
    ws = env.base / "ws"
    with git_http_server(srv, USER, SECRET) as server:
        env.run("init", str(ws))
        env.run(
            "repocreds",
            "add",
            f"{server.url}/",
            "--username",
            USER,
            "--password-stdin",
            stdin=SECRET + "\n",
            ws=ws,
        )
        upstream = "https://git.example.invalid/acme/team-app.git"
        doc = yamlsafe.load_one((ws / "trueup.yaml").read_text())
        doc["repositories"]["urlRewrites"] = {"https://git.example.invalid/acme/": f"{server.url}/"}
        (ws / "trueup.yaml").write_text(yamlsafe.dump(doc))
        # a hostile global git config: would send every fetch to a dead port
        gitconfig = env.base / "gitconfig"
        gitconfig.write_text(f'[url "http://127.0.0.1:9/"]\n\tinsteadOf = {server.url}/\n')
        env.env["GIT_CONFIG_GLOBAL"] = str(gitconfig)
        project = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team", "namespace": "argocd"},
            "spec": {
                "sourceRepos": ["https://git.example.invalid/acme/*"],
                "destinations": [{"server": "*", "namespace": "team"}],
                "orphanedResources": {"warn": True, "ignore": [{"kind": "Secret"}]},
            },
        }
        app = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "team-app", "namespace": "argocd"},
            "spec": {
                "project": "team",
                "source": {"repoURL": upstream, "path": "app"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "team"},
                "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
            },
        }
        bad = {**app, "metadata": {"name": "mirror-url", "namespace": "argocd"}}
        bad["spec"] = {**app["spec"], "source": {"repoURL": f"{server.url}/team-app.git", "path": "app"}}
        invalid = {**app, "metadata": {"name": "no-path"}, "spec": {**app["spec"], "destination": "nowhere"}}
        (env.base / "all.yaml").write_text(yamlsafe.dump_all([app, bad, invalid, project]))
        r = env.run("apply", "-f", str(env.base / "all.yaml"), ws=ws, want=2)
        assert r.stdout.splitlines() == [
            "appproject.trueup.dev/team created",
            "application.trueup.dev/team-app created",
        ]
        assert (
            "mirror-url" in r.stderr
            and "repository not permitted" in r.stderr.lower()
            or "not permitted" in r.stderr
        )
        assert "spec.destination" in r.stderr  # the invalid object names its field
        env.run("app", "sync", "team-app", ws=ws)
        assert "Synced, Healthy" in env.run("app", "wait", "team-app", "--timeout", "60", ws=ws).stdout
        assert any(p.startswith("/team-app.git/") for p in server.requests)
        # orphaned resources: a ConfigMap nobody tracks in the destination namespace; Secrets are ignored
        from console.engine.workspace import load

        w = load(ws)
        live = w.open_cluster("in-cluster")
        live.apply(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stray", "namespace": "team"}},
            field_manager="kubectl",
        )
        live.apply(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ignored", "namespace": "team"}},
            field_manager="kubectl",
        )
        env.run("refresh", "team-app", ws=ws)
        got = json.loads(env.run("app", "get", "team-app", "-o", "json", ws=ws).stdout)
        conds = [c for c in got["status"].get("conditions") or [] if c["type"] == "OrphanedResourceWarning"]
        assert [c["message"] for c in conds] == ["Application has 1 orphaned resources"]
        orphans = json.loads(
            env.run("app", "resources", "team-app", "--orphaned", "-o", "json", ws=ws).stdout
        )
        assert [(o["kind"], o["name"]) for o in orphans] == [("ConfigMap", "stray")]
    assert_secret_nowhere(env, ws)


def test_app_create_validates_before_writing_and_set_unset(env: Env) -> None:
    srv = env.base / "srv"
    srv.mkdir()
    bare = make_repo(srv, "apps", {"guestbook/cm.yaml": GUESTBOOK})
    ws = env.base / "ws"
    env.run("init", str(ws))
    doc = yamlsafe.load_one((ws / "trueup.yaml").read_text())
    doc["repositories"]["allowFileURLs"] = True
    (ws / "trueup.yaml").write_text(yamlsafe.dump(doc))
    url = bare.as_uri()
    r = env.run(
        "app",
        "create",
        "x",
        "--repo",
        url,
        "--path",
        "guestbook",
        "--dest-server",
        "https://nowhere.invalid",
        "--dest-namespace",
        "a",
        ws=ws,
        want=2,
    )
    assert "has not been configured" in r.stderr
    r = env.run(
        "app",
        "create",
        "x",
        "--repo",
        url,
        "--path",
        "guestbook",
        "--dest-name",
        "in-cluster",
        "--dest-namespace",
        "a",
        "--project",
        "nope",
        ws=ws,
        want=2,
    )
    assert "nope" in r.stderr
    assert json.loads(env.run("app", "list", "-o", "json", ws=ws).stdout) == []
    env.run(
        "app",
        "create",
        "x",
        "--repo",
        url,
        "--path",
        "guestbook",
        "--dest-name",
        "in-cluster",
        "--dest-namespace",
        "a",
        ws=ws,
    )
    r = env.run(
        "app",
        "create",
        "x",
        "--repo",
        url,
        "--path",
        "other",
        "--dest-name",
        "in-cluster",
        "--dest-namespace",
        "a",
        ws=ws,
        want=2,
    )
    assert "use --upsert" in r.stderr
    env.run(
        "app",
        "set",
        "x",
        "--sync-policy",
        "automated",
        "--auto-prune",
        "--self-heal",
        "--sync-option",
        "CreateNamespace=true",
        ws=ws,
    )
    spec = json.loads(env.run("app", "get", "x", "-o", "json", ws=ws).stdout)["spec"]
    assert spec["syncPolicy"] == {
        "automated": {"prune": True, "selfHeal": True},
        "syncOptions": ["CreateNamespace=true"],
    }
    env.run("app", "unset", "x", "--self-heal", "--sync-option", "CreateNamespace=true", ws=ws)
    spec = json.loads(env.run("app", "get", "x", "-o", "json", ws=ws).stdout)["spec"]
    assert spec["syncPolicy"] == {"automated": {"prune": True}}
    r = env.run("app", "set", "x", "--project", "missing-project", ws=ws, want=2)
    assert "missing-project" in r.stderr
    assert json.loads(env.run("app", "get", "x", "-o", "json", ws=ws).stdout)["spec"]["project"] == "default"
    env.run("cluster", "add", "staging", "--sim", ws=ws)
    env.run("app", "set", "x", "--dest-name", "staging", ws=ws)
    r = env.run("cluster", "rm", "staging", ws=ws, want=2)
    assert "x" in r.stderr and "destination" in r.stderr
    clusters = json.loads(env.run("cluster", "list", "-o", "json", ws=ws).stdout)
    assert {c["name"]: c["connectionState"]["status"] for c in clusters} == {
        "in-cluster": "Successful",
        "staging": "Successful",
    }
    env.run("app", "delete", "x", "--yes", ws=ws)
    env.run("cluster", "rm", "staging", ws=ws)


def test_ssh_repository_with_a_key(env: Env) -> None:
    why = sshd_available()
    if why:
        pytest.fail(why, pytrace=False)
    srv = env.base / "srv"
    srv.mkdir()
    bare = make_repo(srv, "ops", {"app/cm.yaml": GUESTBOOK})
    ws = env.base / "ws"
    with ssh_server(env.base / "sshd") as sshd:
        url = sshd.url(bare)
        env.run("init", str(ws))
        # the host key is checked: without known hosts the repository is refused
        r = env.run("repo", "add", url, "--ssh-private-key-path", str(sshd.client_key), ws=ws, want=5)
        assert "was not added" in r.stderr
        doc = yamlsafe.load_one((ws / "trueup.yaml").read_text())
        doc["repositories"]["sshKnownHostsFile"] = str(sshd.known_hosts)
        (ws / "trueup.yaml").write_text(yamlsafe.dump(doc))
        env.run("repo", "add", url, "--ssh-private-key-path", str(sshd.client_key), ws=ws)
        env.run(
            "app",
            "create",
            "ops",
            "--repo",
            url,
            "--path",
            "app",
            "--dest-name",
            "in-cluster",
            "--dest-namespace",
            "ops",
            "--sync-option",
            "CreateNamespace=true",
            ws=ws,
        )
        env.run("app", "sync", "ops", ws=ws)
        assert "Synced, Healthy" in env.run("app", "wait", "ops", "--timeout", "60", ws=ws).stdout
    key_line = sshd.client_key.read_text().splitlines()[1]
    hits = subprocess.run(
        ["grep", "-rl", "--binary-files=text", key_line, str(ws)], capture_output=True, text=True
    )
    assert hits.stdout == ""
    assert not list(Path("/tmp").glob("trueup-ssh-*/id"))  # the temporary key file is gone
