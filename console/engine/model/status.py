"""`status` of an Application: controller-written, so unknown keys are kept and known ones typed.

Extra keys survive a parse/to_dict round trip at every level (a newer controller's fields are not
lost), and the enumerations that drive decisions (sync status, health, operation phase) are checked.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, field_validator

from console.engine.model.base import (
    Bool,
    Canonical,
    Int,
    JsonDict,
    KeepsUnknown,
    List,
    Model,
    Required,
    Str,
    model,
)
from console.engine.model.errors import fail, one_of

# Application condition types (T L1902-1923). Suffix "Error" = error, "Warning" = warning.
CONDITION_INVALID_SPEC_ERROR = "InvalidSpecError"
CONDITION_COMPARISON_ERROR = "ComparisonError"
CONDITION_SYNC_ERROR = "SyncError"
CONDITION_DELETION_ERROR = "DeletionError"
CONDITION_UNKNOWN_ERROR = "UnknownError"
CONDITION_SHARED_RESOURCE_WARNING = "SharedResourceWarning"
CONDITION_REPEATED_RESOURCE_WARNING = "RepeatedResourceWarning"
CONDITION_EXCLUDED_RESOURCE_WARNING = "ExcludedResourceWarning"
CONDITION_ORPHANED_RESOURCE_WARNING = "OrphanedResourceWarning"
CONDITION_TYPES = (
    CONDITION_INVALID_SPEC_ERROR,
    CONDITION_COMPARISON_ERROR,
    CONDITION_SYNC_ERROR,
    CONDITION_DELETION_ERROR,
    CONDITION_UNKNOWN_ERROR,
    CONDITION_SHARED_RESOURCE_WARNING,
    CONDITION_REPEATED_RESOURCE_WARNING,
    CONDITION_EXCLUDED_RESOURCE_WARNING,
    CONDITION_ORPHANED_RESOURCE_WARNING,
)

SYNC_STATUS_CODES = ("Synced", "OutOfSync", "Unknown")
HEALTH_STATUS_CODES = ("Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown")
OPERATION_PHASES = ("Running", "Terminating", "Failed", "Error", "Succeeded")


Timestamp = Annotated[str | None, BeforeValidator(lambda v: v if isinstance(v, str) else None)]
"""An RFC 3339 time the controller wrote; anything else (an unquoted YAML timestamp) is dropped."""


@model(extra="ignore")
class HealthStatus(Model):
    status: Str = ""
    message: Str = ""
    last_transition_time: Timestamp = None


@model(extra="ignore", kw_only=False)
class Condition(Canonical):
    ALWAYS: ClassVar[dict[str, Any]] = {"message": ""}

    type: Required
    message: Str = ""
    last_transition_time: Timestamp = None

    def is_error(self) -> bool:
        return is_error_condition(self.type)


def is_error_condition(condition: str | Condition) -> bool:
    """Argo: a condition is an error iff its type ends with "Error"."""
    ctype = condition.type if isinstance(condition, Condition) else condition
    return ctype.endswith("Error")


def is_warning_condition(condition: str | Condition) -> bool:
    ctype = condition.type if isinstance(condition, Condition) else condition
    return ctype.endswith("Warning")


@model(extra="ignore")
class SyncStatus(KeepsUnknown):
    status: Str = ""
    revision: Str = ""
    revisions: List[Str] = Field(default_factory=list)
    compared_to: JsonDict | None = None

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        return one_of(value, SYNC_STATUS_CODES)


@model(extra="ignore")
class ResourceStatus(KeepsUnknown):
    group: Str = ""
    version: Str = ""
    kind: Str = ""
    namespace: Str = ""
    name: Str = ""
    status: Str = ""
    hook: Bool = False
    requires_pruning: Bool = False
    requires_deletion_confirmation: Bool = False
    health: HealthStatus | None = None
    sync_wave: Int | None = None


@model(extra="ignore")
class RevisionHistory(KeepsUnknown):
    ALWAYS: ClassVar[dict[str, Any]] = {"id": 0}

    id: Int = 0
    revision: Str = ""
    revisions: List[Str] = Field(default_factory=list)
    source: JsonDict | None = None
    sources: List[JsonDict] = Field(default_factory=list)
    deployed_at: Str = ""
    deploy_started_at: Str = ""
    initiated_by: JsonDict | None = None


@model(extra="ignore")
class OperationState(KeepsUnknown):
    ALWAYS: ClassVar[dict[str, Any]] = {"phase": ""}

    operation: JsonDict = Field(default_factory=dict)
    phase: Str = ""
    message: Str = ""
    sync_result: JsonDict | None = None
    started_at: Str = ""
    finished_at: Str | None = None
    retry_count: Int = 0

    @field_validator("phase")
    @classmethod
    def _known_phase(cls, value: str) -> str:
        return one_of(value, OPERATION_PHASES)

    def is_completed(self) -> bool:
        return self.phase in ("Failed", "Error", "Succeeded")


@model(extra="ignore")
class ApplicationStatus(KeepsUnknown):
    resources: List[ResourceStatus] = Field(default_factory=list)
    sync: SyncStatus = Field(default_factory=SyncStatus)
    health: HealthStatus = Field(default_factory=HealthStatus)
    history: List[RevisionHistory] = Field(default_factory=list)
    conditions: List[Condition] = Field(default_factory=list)
    reconciled_at: Str = ""
    observed_at: Str = ""
    operation_state: OperationState | None = None
    source_type: Str = ""
    source_types: List[Str] = Field(default_factory=list)
    summary: JsonDict = Field(default_factory=dict)
    controller_namespace: Str = ""

    @field_validator("health")
    @classmethod
    def _known_health(cls, health: HealthStatus) -> HealthStatus:
        if health.status and health.status not in HEALTH_STATUS_CODES:
            allowed = ", ".join(HEALTH_STATUS_CODES)
            raise fail(f"unsupported value {health.status!r}: must be one of {allowed}", "status")
        return health

    def error_conditions(self) -> list[Condition]:
        return [c for c in self.conditions if c.is_error()]
