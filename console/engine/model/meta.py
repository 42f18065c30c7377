"""The envelope every kind shares: apiVersion, kind, metadata, and the argoproj.io -> trueup.dev mapping.

trueup keeps its objects in its own API group and namespace. Manifests written for Argo CD
(`argoproj.io/v1alpha1`, namespace `argocd`) are accepted and mapped, so an app-of-apps repository
written for Argo works unchanged.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    field_validator,
    model_serializer,
    model_validator,
)

from console.engine.model.base import Model, copy_json, model
from console.engine.model.errors import fail, wrong_type

GROUP = "trueup.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
ARGO_GROUP = "argoproj.io"
ARGO_API_VERSION = f"{ARGO_GROUP}/{VERSION}"
CONTROL_NAMESPACE = "trueup"
ARGO_NAMESPACE = "argocd"

KIND_APPLICATION = "Application"
KIND_APPPROJECT = "AppProject"
KIND_APPLICATIONSET = "ApplicationSet"
OUR_KINDS = (KIND_APPLICATION, KIND_APPPROJECT, KIND_APPLICATIONSET)

DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def map_argo_api_version(obj: dict[str, Any]) -> dict[str, Any]:
    """Copy of `obj` with `argoproj.io/v1alpha1` Application/AppProject/ApplicationSet moved to trueup.dev.

    Argo CD keeps these objects in namespace `argocd`; an existing repo's `namespace: argocd` is mapped to
    the control namespace `trueup` so app-of-apps repos written for Argo work unchanged.
    """
    out = dict(obj)
    if out.get("apiVersion") == ARGO_API_VERSION and out.get("kind") in OUR_KINDS:
        out["apiVersion"] = API_VERSION
        md = out.get("metadata")
        if isinstance(md, dict) and md.get("namespace") == ARGO_NAMESPACE:
            out["metadata"] = {**md, "namespace": CONTROL_NAMESPACE}
    return out


def _check_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Name (a DNS-1123 subdomain) and namespace (a DNS-1123 label); the rest is kept as written."""
    name = meta.get("name")
    if name is None or name == "":
        raise fail("required field is missing", "name")
    if not isinstance(name, str):
        raise fail(wrong_type("a string", name), "name")
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        raise fail(DNS1123_SUBDOMAIN_MSG, "name")
    ns = meta.get("namespace")
    if ns is not None and not isinstance(ns, str):
        raise fail(wrong_type("a string", ns), "namespace")
    if ns and (len(ns) > 63 or not _DNS1123_LABEL.fullmatch(ns)):
        raise fail("must be a valid RFC 1123 label (a DNS-1123 label)", "namespace")
    return copy_json(meta)


@model
class Envelope(Model):
    """apiVersion + kind + metadata; subclasses add spec/status and set KIND."""

    KIND: ClassVar[str]

    metadata: Annotated[dict[str, Any], Strict()] = Field(default_factory=dict, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _envelope_of_this_kind(cls, data: Any) -> Any:
        """Map Argo's group, check apiVersion and kind; the body is left to the fields."""
        if not isinstance(data, dict):
            return data
        data = map_argo_api_version(data)
        api_version = data.pop("apiVersion", None)
        if api_version is not None and api_version != API_VERSION:
            raise fail(f"must be {API_VERSION} or {ARGO_API_VERSION}, got {api_version!r}", "apiVersion")
        kind = data.pop("kind", None)
        if kind is not None and kind != cls.KIND:
            raise fail(f"must be {cls.KIND}, got {kind!r}", "kind")
        return data

    @field_validator("metadata")
    @classmethod
    def _valid_metadata(cls, meta: dict[str, Any]) -> dict[str, Any]:
        return _check_metadata(meta)

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        body: dict[str, Any] = handler(self)
        out: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": self.KIND,
            "metadata": body.pop("metadata", {}),
        }
        out["spec"] = body.pop("spec", {})
        out.update(body)
        return out

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))
