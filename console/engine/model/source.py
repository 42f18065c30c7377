"""ApplicationSource and its tool blocks (helm, kustomize, directory/jsonnet, plugin).

A source names at most one tool: the block present (even empty) selects it, and two blocks are
Argo's "multiple application sources defined". A source with `ref` (a `$values` source for
multi-source apps) cannot be a Helm chart. Git sources track HEAD by default; a chart has no
default revision (Argo requires one, and the project check says so).
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from console.engine.model.base import Bool, JsonDict, List, Model, Required, Str, Templatable, model
from console.engine.model.errors import fail

DEFAULT_TARGET_REVISION = "HEAD"
SOURCE_TYPES = ("Helm", "Kustomize", "Directory", "Plugin")

TBool = Templatable[Bool]
TStrs = Templatable[List[Str]]
TDict = Templatable[JsonDict]
TDicts = Templatable[List[TDict]]


@model
class HelmSource(Model):
    value_files: TStrs | None = None
    parameters: TDicts | None = None
    file_parameters: TDicts | None = None
    release_name: Str | None = None
    values: Str | None = None
    values_object: TDict | None = None
    version: Str | None = None
    pass_credentials: TBool | None = None
    ignore_missing_value_files: TBool | None = None
    skip_crds: TBool | None = None
    skip_tests: TBool | None = None
    skip_schema_validation: TBool | None = None
    namespace: Str | None = None
    kube_version: Str | None = None
    api_versions: TStrs | None = None


@model
class KustomizeSource(Model):
    name_prefix: Str | None = None
    name_suffix: Str | None = None
    images: TStrs | None = None
    common_labels: TDict | None = None
    common_annotations: TDict | None = None
    common_annotations_envsubst: TBool | None = None
    force_common_labels: TBool | None = None
    force_common_annotations: TBool | None = None
    label_without_selector: TBool | None = None
    label_include_templates: TBool | None = None
    namespace: Str | None = None
    replicas: TDicts | None = None
    patches: TDicts | None = None
    components: TStrs | None = None
    ignore_missing_components: TBool | None = None
    version: Str | None = None
    kube_version: Str | None = None
    api_versions: TStrs | None = None


@model
class PluginSource(Model):
    name: Str | None = None
    env: TDicts | None = None
    parameters: TDicts | None = None


@model
class JsonnetSource(Model):
    ext_vars: TDicts | None = None
    tlas: TDicts | None = None
    libs: TStrs | None = None


@model
class DirectorySource(Model):
    """`source.directory`; present (even empty) selects the Directory tool explicitly."""

    recurse: Bool = False
    include: Str = ""
    exclude: Str = ""
    jsonnet: JsonnetSource | None = None
    disable_extension_filter: Bool = False


@model
class ApplicationSource(Model):
    repo_url: Required
    path: Str = ""
    target_revision: Str = ""  # "" -> HEAD for a Git source; a chart has no default
    chart: Str = ""
    ref: Str = ""
    name: Str = ""
    tag_prefix: Str = ""
    helm: HelmSource | None = None
    kustomize: KustomizeSource | None = None
    directory: DirectorySource | None = None
    plugin: PluginSource | None = None

    @field_validator("ref")
    @classmethod
    def _ref_is_not_a_chart(cls, ref: str, info: ValidationInfo) -> str:
        if ref and info.data.get("chart"):
            raise fail("a source with 'ref' cannot also set 'chart'")
        return ref

    @model_validator(mode="after")
    def _one_tool(self) -> ApplicationSource:
        if not self.target_revision:
            self.target_revision = self.default_target_revision()
        types = self._tool_types()
        if len(types) > 1:
            raise fail(f"multiple application sources defined: {','.join(types)}")
        return self

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if self.target_revision == DEFAULT_TARGET_REVISION and not self.chart:
            out.pop("targetRevision", None)
        return out

    def default_target_revision(self) -> str:
        """Git sources track HEAD by default; a Helm chart has no default (Argo requires one)."""
        return "" if self.chart else DEFAULT_TARGET_REVISION

    def explicit_type(self) -> str | None:
        """The tool named by a tool block (Kustomize, Helm, Directory, Plugin), if any."""
        types = self._tool_types()
        return types[0] if types else None

    def _tool_types(self) -> list[str]:
        types = []
        if self.kustomize is not None:
            types.append("Kustomize")
        if self.helm is not None:
            types.append("Helm")
        if self.directory is not None:
            types.append("Directory")
        if self.plugin is not None:
            types.append("Plugin")
        return types

    def is_helm_chart(self) -> bool:
        return bool(self.chart)
