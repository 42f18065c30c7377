"""The one protocol the engine uses to talk to a cluster (sim or real), plus its typed errors.

Objects are plain JSON-shaped dicts exactly as the Kubernetes API returns them ("unstructured").
Both backends raise the same error classes so the engine never branches on which one it has.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

Obj = dict[str, Any]
PropagationPolicy = Literal["Foreground", "Background", "Orphan"]


class GroupKind(NamedTuple):
    group: str
    kind: str


class ResourceKey(NamedTuple):
    """Identity of an object inside one cluster (namespace is "" for cluster-scoped kinds)."""

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Obj) -> ResourceKey:
        group, _version = split_api_version(obj.get("apiVersion", ""))
        md = obj.get("metadata") or {}
        return cls(group, obj.get("kind", ""), md.get("namespace") or "", md.get("name") or "")

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.group or 'core'}/{self.kind} {ns}{self.name}"


def split_api_version(api_version: str) -> tuple[str, str]:
    """'apps/v1' -> ('apps', 'v1'); 'v1' -> ('', 'v1')."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


@dataclass(frozen=True)
class APIResource:
    """One entry of the discovery table."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: tuple[str, ...] = ("get", "list", "watch", "create", "update", "patch", "delete")
    subresources: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> GroupKind:
        return GroupKind(self.group, self.kind)


class LogStream(Protocol):
    """Container log lines (without their newline) as `kubectl logs` prints them. Iterating a
    followed stream blocks until a line arrives or the container ends; `close()` (from any
    thread) ends the iteration."""

    def __iter__(self) -> Iterator[str]: ...

    def close(self) -> None: ...


@dataclass
class WatchEvent:
    type: Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
    object: Obj


# ---------------------------------------------------------------- errors


@dataclass
class StatusCause:
    field: str
    message: str
    reason: str = "FieldValueInvalid"


class ClusterError(Exception):
    """Base of all cluster errors; `code` is the HTTP status the real apiserver would return."""

    code: int = 500
    reason: str = "InternalError"

    def __init__(self, message: str, *, causes: list[StatusCause] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.causes: list[StatusCause] = list(causes or [])

    def to_status(self) -> Obj:
        """The metav1.Status body the real apiserver would send."""
        st: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.causes:
            st["details"] = {
                "causes": [{"field": c.field, "message": c.message, "reason": c.reason} for c in self.causes]
            }
        return st


class BadRequest(ClusterError):
    code, reason = 400, "BadRequest"


class Unauthorized(ClusterError):
    code, reason = 401, "Unauthorized"


class Forbidden(ClusterError):
    code, reason = 403, "Forbidden"


class NotFound(ClusterError):
    code, reason = 404, "NotFound"


class Conflict(ClusterError):
    """Stale resourceVersion, or a server-side-apply field conflict (causes list the fields)."""

    code, reason = 409, "Conflict"


class AlreadyExists(ClusterError):
    code, reason = 409, "AlreadyExists"


class Gone(ClusterError):
    """A watch asked for a resourceVersion older than the server still keeps (relist)."""

    code, reason = 410, "Expired"


class Invalid(ClusterError):
    code, reason = 422, "Invalid"


class Unavailable(ClusterError):
    """Backend unreachable (connection refused, DNS, TLS) or 503 from the server."""

    code, reason = 503, "ServiceUnavailable"


class Timeout(ClusterError):
    code, reason = 504, "Timeout"


class NoKindMatch(NotFound):
    """The kind is not served by the cluster (unknown kind, or CR whose CRD does not exist yet)."""

    reason = "NotFound"


ERRORS_BY_REASON: dict[str, type[ClusterError]] = {
    "BadRequest": BadRequest,
    "Unauthorized": Unauthorized,
    "Forbidden": Forbidden,
    "NotFound": NotFound,
    "Conflict": Conflict,
    "AlreadyExists": AlreadyExists,
    "Expired": Gone,
    "Gone": Gone,
    "Invalid": Invalid,
    "ServiceUnavailable": Unavailable,
    "Timeout": Timeout,
}


# ---------------------------------------------------------------- protocol


@dataclass
class ListResult:
    items: list[Obj]
    resource_version: str
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Cluster(Protocol):
    """What the engine may do to a cluster. Both `sim` and `kube` implement exactly this.

    Writes take `field_manager` so managedFields attribute every field to who wrote it.
    `dry_run=True` runs admission/defaulting/validation and returns the would-be object without
    persisting (the real apiserver's `dryRun=All`).
    """

    name: str
    server: str

    def discovery(self) -> list[APIResource]:
        """All served kinds (built-ins plus established CRDs)."""
        ...

    def resource_for(self, api_version: str, kind: str) -> APIResource:
        """Discovery entry for apiVersion+kind; raises NoKindMatch when not served."""
        ...

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj: ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
    ) -> ListResult: ...

    def create(self, obj: Obj, *, field_manager: str, dry_run: bool = False) -> Obj: ...

    def update(
        self, obj: Obj, *, field_manager: str, dry_run: bool = False, subresource: str | None = None
    ) -> Obj:
        """PUT. metadata.resourceVersion, when set, must match (409 Conflict otherwise)."""
        ...

    def apply(
        self,
        obj: Obj,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        """Server-side apply (creates when missing). Conflicts raise Conflict unless force."""
        ...

    def patch(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        patch: Obj | builtins.list[Obj],
        *,
        patch_type: Literal["merge", "json", "strategic"] = "merge",
        field_manager: str,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj: ...

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        *,
        propagation_policy: PropagationPolicy = "Background",
        dry_run: bool = False,
        resource_version: str | None = None,
    ) -> Obj | None:
        """Returns the object when it is only marked for deletion (finalizers), None when gone."""
        ...

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        timeout_seconds: float = 30.0,
    ) -> Iterator[WatchEvent]:
        """Events after resource_version; raises Gone when it is too old to serve."""
        ...

    def logs(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        *,
        tail: int | None = None,
        follow: bool = False,
        previous: bool = False,
    ) -> LogStream:
        """A container's log (`pods/log`). No container name: the pod's only container. Errors are
        the apiserver's: BadRequest naming why there is no log yet (waiting to start, image cannot
        be pulled, container name required/invalid), NotFound for a missing pod."""
        ...

    def server_version(self) -> str: ...

    def self_subject_review(self) -> Obj:
        """Who this client is: `authentication.k8s.io/v1` SelfSubjectReview `status.userInfo`
        ({username, uid, groups, extra}). The sim answers with the identity it was opened as."""
        ...

    def access_review(
        self, verb: str, resource: str, *, group: str = "", namespace: str = "", name: str = ""
    ) -> bool:
        """May this client do `verb` on `resource` (SelfSubjectAccessReview `status.allowed`)?"""
        ...
