"""Units of issue 13: argocd-cm customizations (both forms), credential scrubbing and the fail-closed
keyring rule, workspace edits validated before writing, loopback-only http://."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.engine import argocd_import, credentials, workspace_edit
from console.engine.sources import RepoError, validate_repo_url
from console.engine.workspace import WorkspaceError, load


def test_customizations_nested_and_split_keys() -> None:
    warnings: list[str] = []
    data = {
        "resource.customizations": "apps/Deployment:\n  health.lua: return nil\n  health.lua.useOpenLibs: true\n"
        "  ignoreDifferences: |\n    jsonPointers: [/spec/replicas]\n",
        "resource.customizations.health.cert-manager.io_Certificate": "return {}",
        "resource.customizations.useOpenLibs.cert-manager.io_Certificate": "true",
        "resource.customizations.ignoreDifferences.all": "jsonPointers: [/status]",
        "resource.customizations.actions.Service": "discovery.lua: return {}",
        "resource.customizations.ignoreDifferences.apps_Deployment": "jsonPointers: [/spec/template]",
        "resource.exclusions": "- apiGroups: ['*']",
    }
    out = argocd_import.customizations(data, warnings.append)
    assert out["apps/Deployment"]["health.lua"] == "return nil"
    assert out["apps/Deployment"]["health.lua.useOpenLibs"] is True
    assert out["apps/Deployment"]["ignoreDifferences"] == "jsonPointers: [/spec/template]"  # split key wins
    assert out["cert-manager.io/Certificate"] == {"health.lua": "return {}", "health.lua.useOpenLibs": True}
    assert out["all"]["ignoreDifferences"] == "jsonPointers: [/status]"
    assert out["Service"]["actions"] == "discovery.lua: return {}"
    assert warnings == []


def test_broken_nested_customizations_warn_and_do_not_stop_the_import() -> None:
    warnings: list[str] = []
    assert argocd_import.customizations({"resource.customizations": "a: [1"}, warnings.append) == {}
    assert warnings and "resource.customizations ignored" in warnings[0]


def test_scrub_removes_secrets_and_url_userinfo() -> None:
    text = "fatal: unable to access 'https://bot:hunter2-long@git.example/x.git/': hunter2-long rejected"
    assert (
        credentials.scrub(text, ["hunter2-long"])
        == "fatal: unable to access 'https://***@git.example/x.git/': *** rejected"
    )


def test_plaintext_backend_only_when_chosen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))  # no keyringrc.cfg
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(PlaintextKeyring())
        with pytest.raises(credentials.CredentialStoreUnavailable, match="plain text"):
            credentials.backend()
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
        credentials.store(
            "repo:https://x.example/r.git", credentials.Credential(username="u", password="p-secret")
        )
        got = credentials.load("repo:https://x.example/r.git")
        assert got is not None and (got.username, got.password) == ("u", "p-secret")
        assert not any(
            "p-secret" in p.read_text() for p in (tmp_path / "data").rglob("*") if p.is_file()
        )  # base64
    finally:
        keyring.set_keyring(previous)


def test_workspace_edit_refuses_an_invalid_result(tmp_path: Path) -> None:
    ws = workspace_edit.init_workspace(tmp_path / "ws")
    before = (ws.root / "trueup.yaml").read_text()

    def bad(doc: dict) -> None:  # type: ignore[type-arg]
        doc["repositories"]["gitConfig"] = {"core.sshCommand": "sh -c 'id'"}

    with pytest.raises(WorkspaceError, match="only http"):
        workspace_edit.edit(ws.root, bad)
    assert (ws.root / "trueup.yaml").read_text() == before


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("mine")
    with pytest.raises(WorkspaceError, match="not empty"):
        workspace_edit.init_workspace(tmp_path / "x")
    assert (tmp_path / "x" / "file").read_text() == "mine"


def test_cluster_rm_refuses_while_apps_target_it(tmp_path: Path) -> None:
    ws = workspace_edit.add_cluster(workspace_edit.init_workspace(tmp_path / "ws"), "dev", sim=True)
    with pytest.raises(WorkspaceError, match="a1, a2"):
        workspace_edit.remove_cluster(ws, "dev", ["a1", "a2"])
    with pytest.raises(WorkspaceError, match="control cluster"):
        workspace_edit.remove_cluster(ws, "in-cluster", [])
    ws = workspace_edit.remove_cluster(ws, "dev", [])
    assert "dev" not in load(ws.root).clusters and not ws.sim_path("dev").exists()


def test_hand_written_sim_workspace_installs(tmp_path: Path) -> None:
    from console.engine.appstore import AppStore
    from console.engine.workspace_edit import create_sim

    (tmp_path / "trueup.yaml").write_text(
        "kind: Workspace\ncontrolCluster: c\nclusters: [{name: c, server: https://c.sim.invalid, type: sim}]\n"
    )
    ws = load(tmp_path)
    with pytest.raises(WorkspaceError, match="trueup install"):
        ws.control()
    create_sim(ws, "c")  # what `trueup install` does first on a sim control cluster
    AppStore(ws.control()).install()
    assert AppStore(ws.control()).list_apps() == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "localhost", "[::1]"])
def test_plain_http_only_on_loopback(host: str) -> None:
    assert validate_repo_url(f"http://{host}:8080/a.git", allow_file=False).startswith("http://")


def test_plain_http_refused_elsewhere() -> None:
    with pytest.raises(RepoError, match="only on this machine"):
        validate_repo_url("http://10.0.0.5/a.git", allow_file=False)


def test_askpass_answers_only_for_the_credentials_origin() -> None:
    from console.engine.sources.askpass import prompt_matches

    url = "https://git.example.com:8443/team/app.git"
    assert prompt_matches("Username for 'https://git.example.com:8443': ", url)
    assert prompt_matches("Password for 'https://bot@git.example.com:8443': ", url)
    assert not prompt_matches("Password for 'https://bot@evil.example': ", url)  # a redirect elsewhere
    assert not prompt_matches("Password for 'http://bot@git.example.com:8443': ", url)
    assert not prompt_matches("Enter passphrase for key '/root/.ssh/id': ", url)
