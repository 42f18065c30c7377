"""AppProject: what a team may deploy (repos), where (destinations), which kinds, when (sync windows), who (roles).

Allow/deny lists keep the difference between absent and empty: `namespaceResourceWhitelist: []`
denies every namespaced kind, leaving it out allows all. `!*` is refused where Argo refuses it
(it would deny everything while reading like a pattern).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from console.engine.model.application import DEFAULT_PROJECT
from console.engine.model.base import Bool, Canonical, JsonDict, List, Model, Required, Str, adapter, model
from console.engine.model.destination import ApplicationDestination
from console.engine.model.durations import CronSchedule, WindowDuration, parse_duration
from console.engine.model.errors import SpecError, fail, spec_error
from console.engine.model.meta import CONTROL_NAMESPACE, KIND_APPPROJECT, Envelope

_ROLE_NAME = re.compile(r"^[a-zA-Z0-9]([-_a-zA-Z0-9]*[a-zA-Z0-9])?$")
_NOT_ALL = "!*"


@model
class GroupKind(Canonical):
    ALWAYS: ClassVar[dict[str, Any]] = {"group": ""}

    group: Str = ""
    kind: Required


@model
class ClusterResourceRestriction(Canonical):
    """Cluster-scoped white/blacklist item; empty `name` matches every name."""

    ALWAYS: ClassVar[dict[str, Any]] = {"group": ""}

    group: Str = ""
    kind: Required
    name: Str = ""


@model
class OrphanedResourceKey(Model):
    group: Str | None = None
    kind: Str | None = None
    name: Str | None = None


@model
class OrphanedResources(Model):
    warn: Bool | None = None
    ignore: List[OrphanedResourceKey] = Field(default_factory=list)


@model
class DestinationServiceAccount(Model):
    server: Str | None = None
    namespace: Str | None = None
    default_service_account: Str | None = None

    @field_validator("server", "namespace")
    @classmethod
    def _not_all(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == _NOT_ALL:
            raise fail(f"{info.field_name} has an invalid format, '!*'")
        return value


@model
class SyncWindow(Model):
    kind: Str = Field(default="", validate_default=True)
    schedule: CronSchedule = Field(default="", validate_default=True)
    duration: WindowDuration = Field(default="", validate_default=True)
    applications: List[Str] = Field(default_factory=list)
    namespaces: List[Str] = Field(default_factory=list)
    clusters: List[Str] = Field(default_factory=list)
    manual_sync: Bool = False
    time_zone: Str = ""
    and_operator: Bool = False
    description: Str = ""
    sync_overrun: Bool = False

    @field_validator("kind")
    @classmethod
    def _allow_or_deny(cls, kind: str) -> str:
        if kind not in ("allow", "deny"):
            raise fail(f"kind '{kind}' mismatch: can only be allow or deny")
        return kind

    def selects_nothing(self) -> str | None:
        """Argo refuses to save a window with no selector; checked where windows are parsed
        (a project, `parse_sync_window`), so code and tests can still build one directly."""
        if self.applications or self.namespaces or self.clusters:
            return None
        return (
            f"window '{self.kind}':'{self.schedule}':'{self.duration}' "
            "requires one of application, cluster or namespace"
        )

    def duration_seconds(self) -> float:
        return parse_duration(self.duration, bare_seconds=False)


@model
class ProjectRole(Model):
    name: Required
    description: Str = ""
    policies: List[Str] = Field(default_factory=list)
    groups: List[Str] = Field(default_factory=list)
    jwt_tokens: List[JsonDict] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _role_name(cls, name: str) -> str:
        if not _ROLE_NAME.match(name):
            raise fail(
                f"invalid role name '{name}'. Must consist of alphanumeric characters, '-' or '_', "
                "and must start and end with an alphanumeric character"
            )
        return name


@model
class AppProjectSpec(Model):
    description: Str = ""
    source_repos: List[Str] = Field(default_factory=list)
    source_namespaces: List[Str] = Field(default_factory=list)
    destinations: List[ApplicationDestination] = Field(default_factory=list)
    destination_service_accounts: List[DestinationServiceAccount] = Field(default_factory=list)
    # None = field absent. Only matters for namespaceResourceWhitelist (nil => all, [] => none),
    # but all four keep the distinction so the canonical form round-trips.
    cluster_resource_whitelist: List[ClusterResourceRestriction] | None = None
    cluster_resource_blacklist: List[ClusterResourceRestriction] | None = None
    namespace_resource_whitelist: List[GroupKind] | None = None
    namespace_resource_blacklist: List[GroupKind] | None = None
    orphaned_resources: OrphanedResources | None = None
    sync_windows: List[SyncWindow] = Field(default_factory=list)
    roles: List[ProjectRole] = Field(default_factory=list)
    signature_keys: List[JsonDict] = Field(default_factory=list)
    source_integrity: JsonDict | None = None
    permit_only_project_scoped_clusters: Bool = False

    @field_validator("source_repos")
    @classmethod
    def _repos_not_all(cls, repos: list[str]) -> list[str]:
        for i, repo in enumerate(repos):
            if repo == _NOT_ALL:
                raise fail("source repository has an invalid format, '!*'", i)
        return repos

    @field_validator("destinations")
    @classmethod
    def _destinations_not_all(
        cls, destinations: list[ApplicationDestination]
    ) -> list[ApplicationDestination]:
        for i, dest in enumerate(destinations):
            for fname in ("name", "server", "namespace"):
                if getattr(dest, fname) == _NOT_ALL:
                    raise fail(f"{fname} has an invalid format, '!*'", i, fname)
        return destinations

    @field_validator("sync_windows")
    @classmethod
    def _windows_select(cls, windows: list[SyncWindow]) -> list[SyncWindow]:
        for i, window in enumerate(windows):
            problem = window.selects_nothing()
            if problem:
                raise fail(problem, i)
        return windows

    @field_validator("roles")
    @classmethod
    def _roles_unique(cls, roles: list[ProjectRole]) -> list[ProjectRole]:
        seen: set[str] = set()
        for i, role in enumerate(roles):
            if role.name in seen:
                raise fail(f"role '{role.name}' already exists", i, "name")
            seen.add(role.name)
        return roles


@model
class AppProject(Envelope):
    KIND: ClassVar[str] = KIND_APPPROJECT

    spec: AppProjectSpec = Field(default_factory=AppProjectSpec)
    status: JsonDict = Field(default_factory=dict)


def default_project() -> AppProject:
    """The auto-created `default` project (D:user-guide/projects.md): everything permitted."""
    return AppProject(
        metadata={"name": DEFAULT_PROJECT, "namespace": CONTROL_NAMESPACE},
        spec=AppProjectSpec(
            source_repos=["*"],
            destinations=[ApplicationDestination(server="*", namespace="*")],
            cluster_resource_whitelist=[ClusterResourceRestriction(group="*", kind="*")],
        ),
    )


def parse_project(obj: Any) -> AppProject:
    """Validate an AppProject manifest; `!*` patterns and malformed sync windows are refused."""
    try:
        return adapter(AppProject).validate_python(obj, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise spec_error(KIND_APPPROJECT, obj, exc, AppProject) from None


def parse_sync_window(obj: dict[str, Any], project: str = "") -> SyncWindow:
    """Validate one sync window on its own (e.g. from a CLI flag set)."""
    try:
        window = adapter(SyncWindow).validate_python(obj, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise spec_error(KIND_APPPROJECT, obj, exc, SyncWindow, prefix="syncWindow", name=project) from None
    problem = window.selects_nothing()
    if problem:
        raise SpecError(KIND_APPPROJECT, project, "syncWindow", problem)
    return window
