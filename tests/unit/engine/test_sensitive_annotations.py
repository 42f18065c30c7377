"""`settings.sensitiveMaskAnnotations` (Argo's `resource.sensitive.mask.annotations`) is applied.

Parsed as Argo does (a comma-separated string, or a YAML list), then masked on any resource with
Argo's per-key numbering wherever Secret values are masked: the compare diff (through a real
repository and the sim), single objects shown alone (`app manifests`, `app get -o json`), the
last-applied copy, and apiserver error messages of a sync.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.cluster.api import Invalid, ResourceKey
from console.engine.diff.masking import MASK, mask_for_display
from console.engine.diff.normalize import LAST_APPLIED
from console.engine.refresh import compare_one
from console.engine.sync.apply import error_message
from console.engine.sync.tasks import SyncTask
from console.engine.workspace import WorkspaceError, load
from tests.helpers import application, make_workspace

TOKEN = "tok-" + "1234567890abcdef"


def cm(annotations: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": annotations}}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com/token, api-key,   key", ("example.com/token", "api-key", "key")),
        (["example.com/token", "api-key", "api-key"], ("example.com/token", "api-key")),
        ("", ()),
        (None, ()),
    ],
)
def test_setting_is_parsed_like_argo(tmp_path: Path, value: Any, expected: tuple[str, ...]) -> None:
    ws, _, _ = make_workspace(tmp_path, {"a/cm.yaml": "{}\n"}, settings={"sensitiveMaskAnnotations": value})
    assert ws.settings.sensitive_annotations == expected


def test_wrong_type_names_the_field(tmp_path: Path) -> None:
    make_workspace(tmp_path, {"a/cm.yaml": "{}\n"})
    path = tmp_path / "trueup.yaml"
    path.write_text(path.read_text().replace("settings: {}", "settings: {sensitiveMaskAnnotations: {a: 1}}"))
    with pytest.raises(WorkspaceError, match="settings.sensitiveMaskAnnotations: must be a list"):
        load(tmp_path)


def test_single_object_masking_covers_annotations_and_the_last_applied_copy() -> None:
    obj = cm({"example.com/token": TOKEN, "app": "web"})
    obj["metadata"]["annotations"][LAST_APPLIED] = json.dumps(cm({"example.com/token": TOKEN}))
    shown = mask_for_display(obj, ["example.com/token"])
    annotations = shown["metadata"]["annotations"]
    assert annotations["example.com/token"] == MASK and annotations["app"] == "web"
    assert TOKEN not in json.dumps(shown)
    # equal values mask identically across the object and its last-applied copy (Argo's numbering)
    assert json.loads(annotations[LAST_APPLIED])["metadata"]["annotations"]["example.com/token"] == MASK
    assert obj["metadata"]["annotations"]["example.com/token"] == TOKEN  # the input is not modified
    assert mask_for_display(obj, []) is obj


def test_secret_data_and_annotations_together() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": {"example.com/token": TOKEN}},
        "stringData": {"pw": "hunter2-long"},
    }
    text = json.dumps(mask_for_display(secret, ["example.com/token"]))
    assert TOKEN not in text and "hunter2-long" not in text


def test_sync_error_messages_never_echo_a_sensitive_annotation() -> None:
    target = cm({"example.com/token": TOKEN})
    task = SyncTask("Sync", 0, target, None, ResourceKey.of(target))
    exc = Invalid(f'ConfigMap "c" is invalid: metadata.annotations: Invalid value: "{TOKEN}"')
    assert TOKEN in error_message(exc, task)  # not listed: shown as the apiserver said it
    text = error_message(exc, task, ["example.com/token"])
    assert TOKEN not in text and MASK in text


def test_compare_diff_masks_listed_annotations_from_a_real_repository(tmp_path: Path) -> None:
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        f"  annotations: {{example.com/token: {TOKEN}, app: web}}\ndata: {{a: '1'}}\n"
    )
    ws, repo, _ = make_workspace(
        tmp_path, {"app/cm.yaml": manifest}, settings={"sensitiveMaskAnnotations": "example.com/token"}
    )
    ws.control().create(application("web", repo, "app"), field_manager="test")
    dev = ws.open_cluster("dev")
    live = cm({"example.com/token": TOKEN + "-old", "app": "web"})
    live["metadata"]["namespace"] = "default"
    live["metadata"]["annotations"]["trueup.dev/tracking-id"] = "web:/ConfigMap:default/c"
    dev.create(live, field_manager="kubectl-edit")
    cmp = compare_one(ws, "web")
    (state,) = [r for r in cmp.resources if r.key.kind == "ConfigMap"]
    assert state.diff is not None and state.diff.modified  # the change is still detected
    rendered = state.diff.unified() + json.dumps(state.diff.changes())
    assert TOKEN not in rendered
    assert "++++++++++++" in rendered and "++++++++" in rendered  # two distinct values, two masks
