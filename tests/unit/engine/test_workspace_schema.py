"""trueup.yaml validation: every known field's type, the field named in one sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.engine import yamlsafe
from console.engine.workspace import WorkspaceError, load

BASE: dict[str, Any] = {
    "apiVersion": "trueup.dev/v1alpha1",
    "kind": "Workspace",
    "controlCluster": "in-cluster",
    "clusters": [{"name": "in-cluster", "server": "https://kubernetes.default.svc", "type": "sim"}],
}


def _load(tmp_path: Path, **top: Any) -> Any:
    (tmp_path / "trueup.yaml").write_text(yamlsafe.dump({**BASE, **top}))
    return load(tmp_path)


@pytest.mark.parametrize(
    ("top", "message"),
    [
        (
            {"settings": {"repoErrorGracePeriodSeconds": "abc"}},
            "settings.repoErrorGracePeriodSeconds: must be an integer, got 'abc'",
        ),
        (
            {"settings": {"repoErrorGracePeriodSeconds": True}},
            "settings.repoErrorGracePeriodSeconds: must be an integer, got True",
        ),
        (
            {"settings": {"repoErrorGracePeriodSeconds": -1}},
            "settings.repoErrorGracePeriodSeconds: must be at least 0, got -1",
        ),
        ({"settings": [1]}, "settings: must be a mapping, got [1]"),
        ({"settings": {"trackingAnnotation": 5}}, "settings.trackingAnnotation: must be a string, got 5"),
        (
            {"settings": {"resourceCustomizations": []}},
            "settings.resourceCustomizations: must be a mapping, got []",
        ),
        (
            {"settings": {"resourceCustomizations": {"apps/Deployment": "x"}}},
            "settings.resourceCustomizations.apps/Deployment: must be a mapping, got 'x'",
        ),
        (
            {"settings": {"ignoreResourceStatusField": "some"}},
            "settings.ignoreResourceStatusField: must be one of 'all', 'crd', 'none', 'off' or 'false', got 'some'",
        ),
        (
            {"settings": {"sensitiveMaskAnnotations": 3}},
            "settings.sensitiveMaskAnnotations: must be a list, got 3",
        ),
        (
            {"repositories": {"allowFileURLs": "yes"}},
            "repositories.allowFileURLs: must be true or false, got 'yes'",
        ),
        ({"clusters": {"name": "x"}}, "clusters: must be a list, got {'name': 'x'}"),
        ({"clusters": [{"server": "https://x"}]}, "clusters[0].name: required field missing"),
        ({"clusters": [{"name": "in-cluster"}]}, "clusters[0].server: required field missing"),
        (
            {"clusters": [{"name": "a", "server": "s", "type": "k8s"}]},
            "clusters[0].type: must be one of 'sim' or 'kube', got 'k8s'",
        ),
        ({"controlCluster": ["x"]}, "controlCluster: must be a string, got ['x']"),
        ({"users": ["alice"]}, "users: must be a mapping, got ['alice']"),
        ({"inventory": {"roots": "apps"}}, "inventory.roots: must be a list, got 'apps'"),
        ({"console": {"keymap": {"apps.filter": 5}}}, "console.keymap.apps.filter: must be a string, got 5"),
        ({"console": {"ascii": "yes"}}, "console.ascii: must be true or false, got 'yes'"),
        ({"console": ["dark"]}, "console: must be a mapping, got ['dark']"),
    ],
)
def test_wrong_types_name_the_field(tmp_path: Path, top: dict[str, Any], message: str) -> None:
    with pytest.raises(WorkspaceError) as err:
        _load(tmp_path, **top)
    text = str(err.value)
    assert text.endswith(f"trueup.yaml: {message}") or text.endswith(
        f"trueup.yaml: {message} (sim clusters need a server URL)"
    ), text
    assert "\n" not in text


def test_valid_settings_load(tmp_path: Path) -> None:
    ws = _load(
        tmp_path,
        settings={
            "repoErrorGracePeriodSeconds": 30,
            "ignoreResourceStatusField": False,  # YAML false, as Argo's "false" = none
            "sensitiveMaskAnnotations": "vault.example/token, db.example/dsn",
            "futureSetting": {"anything": 1},  # unknown keys are kept for newer workspace files
        },
        repositories={"allowFileURLs": True},
    )
    assert ws.settings.repo_error_grace_period == 30.0
    assert ws.settings.ignore_resource_status_field == "none"
    assert ws.settings.sensitive_annotations == ("vault.example/token", "db.example/dsn")
    assert ws.settings.allow_file_urls is True
    assert _load(tmp_path, settings={"sensitiveMaskAnnotations": ["a/b"]}).settings.sensitive_annotations == (
        "a/b",
    )
    assert _load(tmp_path, settings=None).settings.repo_error_grace_period == 180.0


def test_console_settings_load(tmp_path: Path) -> None:
    ws = _load(tmp_path, console={"theme": "light", "keymap": {"apps.filter": "f"}, "ascii": True})
    assert (ws.console.theme, ws.console.keymap, ws.console.ascii) == ("light", {"apps.filter": "f"}, True)
    assert _load(tmp_path).console.keymap == {}
