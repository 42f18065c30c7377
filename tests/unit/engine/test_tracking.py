"""Resource tracking ids (argocd-features.md §5)."""

from __future__ import annotations

import pytest

from console.engine.tracking import (
    ARGO_ANNOTATION,
    DEFAULT_ANNOTATION,
    TrackingInfo,
    app_of,
    is_self_referencing,
    parse_tracking_id,
    set_tracking,
    tracking_id,
)


def _cm(name: str = "cm", namespace: str | None = "default", annotations: dict | None = None) -> dict:
    md: dict = {"name": name}
    if namespace is not None:
        md["namespace"] = namespace
    if annotations is not None:
        md["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("my-app", "", "ConfigMap", "default", "cm"), "my-app:/ConfigMap:default/cm"),
        (("app", "", "Namespace", "", "ns1"), "app:/Namespace:/ns1"),
        (
            ("argocd_guestbook", "apps", "Deployment", "web", "api"),
            "argocd_guestbook:apps/Deployment:web/api",
        ),
    ],
)
def test_tracking_id_format(args: tuple[str, ...], expected: str) -> None:
    assert tracking_id(*args) == expected
    assert parse_tracking_id(expected) == TrackingInfo(*args)
    assert str(parse_tracking_id(expected)) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "app",
        "app:/ConfigMap",
        "app:/ConfigMap:default/cm:extra",  # 4 parts on ':'
        "app:ConfigMap:default/cm",  # group/kind without '/'
        "app:a/b/ConfigMap:default/cm",  # 3 parts on '/'
        "app:/ConfigMap:cm",
        "app:/ConfigMap:a/b/c",
        None,
        42,
    ],
)
def test_parse_rejects_what_argo_rejects(value: object) -> None:
    assert parse_tracking_id(value) is None


def test_set_tracking_copies_and_defaults_namespace() -> None:
    obj = _cm(namespace=None, annotations={"keep": "me"})
    out = set_tracking(obj, "shop", default_namespace="prod", namespaced=True)
    assert out["metadata"]["annotations"] == {"keep": "me", DEFAULT_ANNOTATION: "shop:/ConfigMap:prod/cm"}
    assert obj["metadata"]["annotations"] == {"keep": "me"}  # input untouched
    assert "namespace" not in obj["metadata"]


def test_set_tracking_cluster_scoped_has_empty_namespace() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}}
    out = set_tracking(ns, "app", default_namespace="prod", namespaced=False)
    assert out["metadata"]["annotations"][DEFAULT_ANNOTATION] == "app:/Namespace:/ns1"
    crb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
    out = set_tracking(crb, "app", annotation=ARGO_ANNOTATION, namespaced=False)
    assert out["metadata"]["annotations"][ARGO_ANNOTATION] == "app:rbac.authorization.k8s.io/ClusterRole:/r"


def test_app_of_and_self_reference() -> None:
    tracked = set_tracking(_cm(), "shop", namespaced=True)
    assert app_of(tracked) == "shop"
    assert app_of(tracked, ARGO_ANNOTATION) is None
    assert is_self_referencing(tracked)
    # a copy made by another controller (HNC) into another namespace keeps the original id
    copy = {**tracked, "metadata": {**tracked["metadata"], "namespace": "team-b"}}
    assert app_of(copy) == "shop"
    assert not is_self_referencing(copy)
    renamed = {**tracked, "metadata": {**tracked["metadata"], "name": "other"}}
    assert not is_self_referencing(renamed)
    other_kind = {**tracked, "kind": "Secret"}
    assert not is_self_referencing(other_kind)
    other_group = {**tracked, "apiVersion": "example.com/v1"}
    assert not is_self_referencing(other_group)


def test_untracked_or_malformed_counts_as_self_referencing() -> None:
    assert app_of(_cm()) is None
    assert is_self_referencing(_cm())
    bad = _cm(annotations={DEFAULT_ANNOTATION: "not-an-id"})
    assert app_of(bad) is None
    assert is_self_referencing(bad)


def test_live_object_without_namespace_matches_cluster_scoped_id() -> None:
    ns = set_tracking(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}}, "a", namespaced=False
    )
    assert is_self_referencing(ns)
