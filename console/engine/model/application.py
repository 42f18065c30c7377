"""Application: what to deploy (sources), where (destination), how (sync policy), and its status."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, ValidationError, ValidationInfo, model_validator

from console.engine.model.base import Int, JsonDict, List, Model, Required, Str, adapter, model, templated
from console.engine.model.destination import ApplicationDestination
from console.engine.model.errors import fail, spec_error
from console.engine.model.meta import CONTROL_NAMESPACE, KIND_APPLICATION, Envelope
from console.engine.model.source import ApplicationSource
from console.engine.model.status import ApplicationStatus
from console.engine.model.syncpolicy import SyncPolicy

DEFAULT_PROJECT = "default"
DEFAULT_REVISION_HISTORY_LIMIT = 10


@model
class ResourceIgnoreDifferences(Model):
    group: Str = ""
    kind: Required
    name: Str = ""
    namespace: Str = ""
    json_pointers: List[Str] = Field(default_factory=list)
    jq_path_expressions: List[Str] = Field(default_factory=list)
    managed_fields_managers: List[Str] = Field(default_factory=list)


@model
class InfoItem(Model):
    name: Str | None = None
    value: Str | None = None


@model
class SourceHydrator(Model):
    """`spec.sourceHydrator`; its three parts are kept as written (the hydrator is not run here)."""

    dry_source: JsonDict | None = None
    sync_source: JsonDict | None = None
    hydrate_to: JsonDict | None = None


@model
class ApplicationSpec(Model):
    source: ApplicationSource | None = None
    sources: List[ApplicationSource] = Field(default_factory=list)
    destination: ApplicationDestination
    project: Required
    sync_policy: SyncPolicy | None = None
    ignore_differences: List[ResourceIgnoreDifferences] = Field(default_factory=list)
    info: List[InfoItem] = Field(default_factory=list)
    revision_history_limit: Int | None = Field(default=None, ge=0)
    source_hydrator: SourceHydrator | None = None

    @model_validator(mode="after")
    def _argo_rules(self, info: ValidationInfo) -> ApplicationSpec:
        if templated(info):  # an ApplicationSet template: parameters fill these in
            return self
        dest = self.destination
        if dest.server and dest.name:
            raise fail(
                f"application destination can't have both name and server defined: {dest.name} {dest.server}",
                "destination",
            )
        if not dest.server and not dest.name:
            raise fail("Destination server missing from app spec", "destination")
        if self.source is None and not self.sources and self.source_hydrator is None:
            raise fail("one of spec.source or spec.sources is required", "source")
        return self

    def has_multiple_sources(self) -> bool:
        return len(self.sources) > 0

    def sources_list(self) -> list[ApplicationSource]:
        """`sources` when set (then `source` is ignored), else `[source]`."""
        if self.sources:
            return list(self.sources)
        return [self.source] if self.source is not None else []

    def effective_revision_history_limit(self) -> int:
        if self.revision_history_limit is None:
            return DEFAULT_REVISION_HISTORY_LIMIT
        return self.revision_history_limit


@model
class Application(Envelope):
    KIND: ClassVar[str] = KIND_APPLICATION

    spec: ApplicationSpec
    status: ApplicationStatus = Field(default_factory=ApplicationStatus)
    operation: JsonDict | None = None

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or CONTROL_NAMESPACE)

    @property
    def project(self) -> str:
        return self.spec.project

    @property
    def instance_name(self) -> str:
        """Tracking instance: the name, or `<ns>_<name>` outside the control namespace (T:InstanceName)."""
        ns = self.metadata.get("namespace") or ""
        if ns in ("", CONTROL_NAMESPACE):
            return self.name
        return f"{ns}_{self.name}"

    def sources_list(self) -> list[ApplicationSource]:
        return self.spec.sources_list()

    def is_automated(self) -> bool:
        """T:IsAutomatedSyncEnabled: `automated` present and `enabled` is not false."""
        policy = self.spec.sync_policy
        if policy is None or policy.automated is None:
            return False
        return policy.automated.enabled is not False

    def has_sync_option(self, option: str) -> bool:
        return self.spec.sync_policy is not None and self.spec.sync_policy.has_sync_option(option)

    def sync_option_value(self, key: str) -> str | None:
        if self.spec.sync_policy is None:
            return None
        return self.spec.sync_policy.sync_option_value(key)


def parse_application(obj: Any) -> Application:
    """Validate an Application manifest (argoproj.io or trueup.dev) into a typed object."""
    try:
        return adapter(Application).validate_python(obj, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise spec_error(KIND_APPLICATION, obj, exc, Application) from None
