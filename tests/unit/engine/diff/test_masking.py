"""Secret masking (Argo's HideSecretData, argocd-features.md §3.4) and text redaction."""

from __future__ import annotations

import base64
import json
from typing import Any

from console.engine.diff.masking import (
    MASK,
    mask_annotations,
    mask_annotations_many,
    mask_secret_pair,
    redact_text,
)
from console.engine.diff.normalize import LAST_APPLIED
from console.engine.diff.resource import diff_resource


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(
    data: dict[str, str] | None = None, string_data: dict[str, str] | None = None, **md: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop", **md},
    }
    if data is not None:
        obj["data"] = data
    if string_data is not None:
        obj["stringData"] = string_data
    return obj


def test_equal_values_mask_identically_and_different_values_differently() -> None:
    target = secret({"user": b64("admin"), "password": b64("hunter2-new")})
    live = secret({"user": b64("admin"), "password": b64("hunter2-old")})
    t, lv = mask_secret_pair(target, live)
    assert t is not None and lv is not None
    assert t["data"]["user"] == lv["data"]["user"] == MASK
    assert t["data"]["password"] == MASK and lv["data"]["password"] == MASK + "++++"
    assert target["data"]["user"] == b64("admin")  # inputs untouched


def test_string_data_is_folded_before_masking() -> None:
    t, lv = mask_secret_pair(secret(string_data={"token": "abc123"}), secret({"token": b64("abc123")}))
    assert t is not None and lv is not None
    assert "stringData" not in t
    assert t["data"]["token"] == lv["data"]["token"] == MASK


def test_last_applied_copy_is_masked_consistently() -> None:
    applied = secret({"password": b64("old-pass")})
    live = secret({"password": b64("new-pass")}, annotations={LAST_APPLIED: json.dumps(applied)})
    t, lv = mask_secret_pair(secret({"password": b64("new-pass")}), live)
    assert t is not None and lv is not None
    inner = json.loads(lv["metadata"]["annotations"][LAST_APPLIED])
    assert t["data"]["password"] == lv["data"]["password"] == MASK
    assert inner["data"]["password"] == MASK + "++++"
    assert b64("old-pass") not in json.dumps(lv)


def test_unparsable_last_applied_is_hidden_whole() -> None:
    live = secret({"a": b64("x")}, annotations={LAST_APPLIED: '{"data": {"a": "c2VjcmV0'})
    _, lv = mask_secret_pair(None, live)
    assert lv is not None and lv["metadata"]["annotations"][LAST_APPLIED] == MASK


def test_non_secrets_and_foreign_secret_kinds_are_untouched() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    assert mask_secret_pair(cm, cm) == (cm, cm)
    sealed = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": "b"},
    }
    assert mask_secret_pair(sealed, None)[0] == sealed


def test_sensitive_annotations() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"token": "s3cr3t", "team": "a"}},
    }
    masked = mask_annotations(obj, ["token"])
    assert masked is not None and masked["metadata"]["annotations"] == {"token": MASK, "team": "a"}
    assert obj["metadata"]["annotations"]["token"] == "s3cr3t"
    other = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"token": "changed"}},
    }
    a, b = mask_annotations_many([obj, other], ["token"])
    assert a is not None and b is not None
    assert (a["metadata"]["annotations"]["token"], b["metadata"]["annotations"]["token"]) == (
        MASK,
        MASK + "++++",
    )
    with_applied = {"metadata": {"annotations": {LAST_APPLIED: '{"x": 1}'}}}
    assert mask_annotations(with_applied, [LAST_APPLIED]) == {
        "metadata": {"annotations": {LAST_APPLIED: MASK}}
    }


def test_secret_values_never_leave_diff_resource() -> None:
    raw_old, raw_new = "correct-horse-battery", "staple-9f8e7d6c"
    target = secret(string_data={"password": raw_new, "user": "admin-user"})
    live = secret(
        {"password": b64(raw_old), "user": b64("admin-user")},
        annotations={LAST_APPLIED: json.dumps(secret({"password": b64(raw_old)}))},
        resourceVersion="5",
    )
    result = diff_resource(target, live)
    assert result.modified
    assert result.changed_paths == ["/data/password"]
    assert result.target is not None and result.predicted is not None and result.live is not None
    # numbering runs over target, live, predicted: Git's new value is first, live's old one second
    assert result.target["data"] == result.predicted["data"] == {"password": MASK, "user": MASK}
    assert result.live["data"] == {"password": MASK + "++++", "user": MASK}
    everything = (
        json.dumps([result.target, result.live, result.predicted, result.changed_paths]) + result.unified()
    )
    for leaked in (raw_old, raw_new, b64(raw_old), b64(raw_new), "admin-user", b64("admin-user")):
        assert leaked not in everything
    assert "-  password: ++++++++++++\n+  password: ++++++++\n" in result.unified()


def test_unchanged_secret_is_not_modified() -> None:
    result = diff_resource(secret(string_data={"k": "value-1"}), secret({"k": b64("value-1")}))
    assert not result.modified


def test_redact_text() -> None:
    text = f"auth failed for p4ssw0rd! header={b64('p4ssw0rd!')} url=x?t={b64('p4ssw0rd!').rstrip('=')}"
    out = redact_text(text, ["p4ssw0rd!"])
    assert "p4ssw0rd" not in out and b64("p4ssw0rd!") not in out
    assert out.count(MASK) == 3
    # given the base64 data value of a Secret, the decoded form is redacted too
    assert redact_text("got token hello-world", [b64("hello-world")]) == f"got token {MASK}"
    # short values would shred unrelated text; empty ones are ignored
    assert redact_text("a b c", ["a", ""]) == "a b c"
    assert redact_text("longer value", [b"longer"]) == f"{MASK} value"
