"""Typed Application / AppProject / ApplicationSet objects with Argo CD's schema, parsed strictly.

Field names are Argo CD's (camelCase in YAML/JSON, snake_case here). Parsing rejects what Argo's CRD
or controller would reject *and* what Kubernetes would silently drop (unknown fields), because a
typo such as `sourc:` or `selfheal:` that quietly disables behaviour is the worst kind of 3 a.m.
surprise. Every error is a `SpecError` naming the dotted field path.

`to_dict()` gives the canonical JSON form (defaults omitted), and `parse_*(x.to_dict()) == x`.
Presence that carries meaning is preserved: an empty `automated: {}` enables auto-sync, an empty
`directory: {}` selects the Directory tool, and `namespaceResourceWhitelist: []` (deny all) is not
the same as leaving it out (allow all).
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from croniter import croniter

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
_OUR_KINDS = (KIND_APPLICATION, KIND_APPPROJECT, KIND_APPLICATIONSET)

DEFAULT_PROJECT = "default"
DEFAULT_TARGET_REVISION = "HEAD"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_RETRY_DURATION = 5.0  # seconds (application_defaults.go)
DEFAULT_RETRY_FACTOR = 2
DEFAULT_RETRY_MAX_DURATION = 180.0  # 3m

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
SOURCE_TYPES = ("Helm", "Kustomize", "Directory", "Plugin")

DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ROLE_NAME = re.compile(r"^[a-zA-Z0-9]([-_a-zA-Z0-9]*[a-zA-Z0-9])?$")


class SpecError(ValueError):
    """An invalid Application/AppProject/ApplicationSet; `field` is the dotted path at fault."""

    def __init__(self, kind: str, name: str, field: str, message: str) -> None:
        self.kind = kind
        self.name = name
        self.field = field
        self.message = message
        super().__init__(f"{kind} {name or '(unnamed)'}: {field}: {message}")


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------

_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # Go accepts both micro signs
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: str | int | float, *, bare_seconds: bool = True) -> float:
    """Parse a Go duration ("5s", "1h30m", "1.5h", "300ms") into seconds.

    Argo's retry backoff fields also take a bare number meaning seconds ("90" or 90); sync window
    durations use plain `time.ParseDuration`, so pass `bare_seconds=False` for those.
    Negative durations are refused: nothing in these specs means anything with one.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        if not bare_seconds:
            raise ValueError(f"invalid duration {value!r}: missing unit")
        if value < 0 or math.isnan(value) or math.isinf(value):
            raise ValueError(f"invalid duration {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}")
    text = value.strip()
    if not text:
        raise ValueError('invalid duration ""')
    if re.fullmatch(r"\d+", text):
        if bare_seconds or text == "0":
            return float(int(text))
        raise ValueError(f'time: missing unit in duration "{value}"')
    body = text[1:] if text.startswith("+") else text
    if body.startswith("-"):
        raise ValueError(f'invalid duration "{value}": negative')
    pos = 0
    total = 0.0
    while pos < len(body):
        m = _GO_DURATION_PART.match(body, pos)
        if not m:
            raise ValueError(f'time: invalid duration "{value}"')
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise ValueError(f'time: invalid duration "{value}"')
    return total


def validate_cron(schedule: str) -> str | None:
    """Return None for a valid 5-field cron spec, else the reason (robfig/cron with 5 fields)."""
    fields = schedule.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{schedule}]"
    if not croniter.is_valid(" ".join(fields)):
        return f"invalid cron expression: {schedule}"
    return None


# --------------------------------------------------------------------------------------------
# Validation toolkit
# --------------------------------------------------------------------------------------------

_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    dict: "an object",
    list: "a list",
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _Ctx:
    """Error factory carrying the object's kind and name, plus relaxations for templates."""

    def __init__(self, kind: str, name: str, *, templated: bool = False) -> None:
        self.kind = kind
        self.name = name
        self.templated = templated

    def error(self, path: str, message: str) -> SpecError:
        return SpecError(self.kind, self.name, path, message)

    def is_template_expr(self, value: Any) -> bool:
        return self.templated and isinstance(value, str) and "{{" in value

    def expect(self, value: Any, typ: type, path: str) -> Any:
        ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
        if not ok:
            hint = ""
            if typ is str and isinstance(value, int | float | bool):
                hint = " (quote it in YAML)"
            raise self.error(path, f"must be {_TYPE_NAMES[typ]}, got {_type_name(value)}{hint}")
        return value

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        result: dict[str, Any] = self.expect(value, dict, path)
        return result

    def check_keys(self, obj: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = tuple(allowed)
        for key in obj:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                msg = "unknown field" + (f' (did you mean "{hint[0]}"?)' if hint else "")
                raise self.error(_join(path, str(key)), msg)

    def opt_str(self, obj: Mapping[str, Any], key: str, path: str, default: str = "") -> str:
        value = obj.get(key)
        if value is None:
            return default
        result: str = self.expect(value, str, _join(path, key))
        return result

    def req_str(self, obj: Mapping[str, Any], key: str, path: str) -> str:
        value = obj.get(key)
        if value is None or value == "":
            raise self.error(_join(path, key), "required field is missing")
        result: str = self.expect(value, str, _join(path, key))
        return result

    def opt_bool(self, obj: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = obj.get(key)
        if value is None:
            return None
        result: bool = self.expect(value, bool, _join(path, key))
        return result

    def opt_int(self, obj: Mapping[str, Any], key: str, path: str) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        result: int = self.expect(value, int, _join(path, key))
        return result

    def str_list(self, obj: Mapping[str, Any], key: str, path: str) -> list[str] | None:
        value = obj.get(key)
        if value is None:
            return None
        where = _join(path, key)
        self.expect(value, list, where)
        for i, item in enumerate(value):
            self.expect(item, str, f"{where}[{i}]")
        return list(value)

    def dict_list(self, obj: Mapping[str, Any], key: str, path: str) -> list[dict[str, Any]] | None:
        value = obj.get(key)
        if value is None:
            return None
        where = _join(path, key)
        self.expect(value, list, where)
        for i, item in enumerate(value):
            self.mapping(item, f"{where}[{i}]")
        result: list[dict[str, Any]] = value
        return result

    def str_map(self, obj: Mapping[str, Any], key: str, path: str) -> dict[str, str] | None:
        value = obj.get(key)
        if value is None:
            return None
        where = _join(path, key)
        self.mapping(value, where)
        for k, v in value.items():
            self.expect(v, str, f"{where}.{k}")
        return dict(value)

    def duration(self, value: Any, path: str, *, bare_seconds: bool) -> str:
        """Validate a duration field and return it as a string (ints become their decimal form)."""
        if self.is_template_expr(value):
            return str(value)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(path, f'must be a duration string such as "5s" or "3m", got {_type_name(value)}')
        try:
            parse_duration(value, bare_seconds=bare_seconds)
        except ValueError as exc:
            raise self.error(path, f"cannot parse duration '{value}': {exc}") from None
        return str(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# Typed checks for the free-form tool blocks: key -> (expected type, element type for lists).
_BlockSpec = dict[str, tuple[type, type | None]]

HELM_KEYS: _BlockSpec = {
    "valueFiles": (list, str),
    "parameters": (list, dict),
    "fileParameters": (list, dict),
    "releaseName": (str, None),
    "values": (str, None),
    "valuesObject": (dict, None),
    "version": (str, None),
    "passCredentials": (bool, None),
    "ignoreMissingValueFiles": (bool, None),
    "skipCrds": (bool, None),
    "skipTests": (bool, None),
    "skipSchemaValidation": (bool, None),
    "namespace": (str, None),
    "kubeVersion": (str, None),
    "apiVersions": (list, str),
}
KUSTOMIZE_KEYS: _BlockSpec = {
    "namePrefix": (str, None),
    "nameSuffix": (str, None),
    "images": (list, str),
    "commonLabels": (dict, None),
    "commonAnnotations": (dict, None),
    "commonAnnotationsEnvsubst": (bool, None),
    "forceCommonLabels": (bool, None),
    "forceCommonAnnotations": (bool, None),
    "labelWithoutSelector": (bool, None),
    "labelIncludeTemplates": (bool, None),
    "namespace": (str, None),
    "replicas": (list, dict),
    "patches": (list, dict),
    "components": (list, str),
    "ignoreMissingComponents": (bool, None),
    "version": (str, None),
    "kubeVersion": (str, None),
    "apiVersions": (list, str),
}
PLUGIN_KEYS: _BlockSpec = {
    "name": (str, None),
    "env": (list, dict),
    "parameters": (list, dict),
}
JSONNET_KEYS: _BlockSpec = {
    "extVars": (list, dict),
    "tlas": (list, dict),
    "libs": (list, str),
}


def _check_block(ctx: _Ctx, value: Any, spec: _BlockSpec, path: str) -> dict[str, Any]:
    block = ctx.mapping(value, path)
    ctx.check_keys(block, spec, path)
    for key, (typ, elem) in spec.items():
        if block.get(key) is None:
            continue
        where = _join(path, key)
        item = block[key]
        if ctx.is_template_expr(item):
            continue
        ctx.expect(item, typ, where)
        if elem is not None:
            for i, sub in enumerate(item):
                if not ctx.is_template_expr(sub):
                    ctx.expect(sub, elem, f"{where}[{i}]")
    return copy.deepcopy(block)


def _omit_empty(d: dict[str, Any]) -> dict[str, Any]:
    """Drop None, "", False, [] and {} — the canonical form omits defaults."""
    return {
        k: v for k, v in d.items() if v is not None and v != "" and v is not False and v != [] and v != {}
    }


# --------------------------------------------------------------------------------------------
# Application
# --------------------------------------------------------------------------------------------


@dataclass
class ApplicationDestination:
    server: str = ""
    namespace: str = ""
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _omit_empty({"server": self.server, "namespace": self.namespace, "name": self.name})


@dataclass
class DirectorySource:
    """`source.directory`; present (even empty) selects the Directory tool explicitly."""

    recurse: bool = False
    include: str = ""
    exclude: str = ""
    jsonnet: dict[str, Any] | None = None
    disable_extension_filter: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _omit_empty(
            {
                "recurse": self.recurse,
                "include": self.include,
                "exclude": self.exclude,
                "jsonnet": copy.deepcopy(self.jsonnet) if self.jsonnet else None,
                "disableExtensionFilter": self.disable_extension_filter,
            }
        )


@dataclass
class ApplicationSource:
    repo_url: str
    path: str = ""
    target_revision: str = DEFAULT_TARGET_REVISION
    chart: str = ""
    ref: str = ""
    name: str = ""
    tag_prefix: str = ""
    helm: dict[str, Any] | None = None
    kustomize: dict[str, Any] | None = None
    directory: DirectorySource | None = None
    plugin: dict[str, Any] | None = None

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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"repoURL": self.repo_url}
        if self.path:
            out["path"] = self.path
        if self.target_revision != self.default_target_revision():
            out["targetRevision"] = self.target_revision
        for key, value in (("chart", self.chart), ("ref", self.ref), ("name", self.name)):
            if value:
                out[key] = value
        if self.tag_prefix:
            out["tagPrefix"] = self.tag_prefix
        if self.helm is not None:
            out["helm"] = copy.deepcopy(self.helm)
        if self.kustomize is not None:
            out["kustomize"] = copy.deepcopy(self.kustomize)
        if self.directory is not None:
            out["directory"] = self.directory.to_dict()
        if self.plugin is not None:
            out["plugin"] = copy.deepcopy(self.plugin)
        return out


@dataclass
class SyncPolicyAutomated:
    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False
    enabled: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _omit_empty({"prune": self.prune, "selfHeal": self.self_heal, "allowEmpty": self.allow_empty})
        if self.enabled is not None:
            out["enabled"] = self.enabled
        return out


@dataclass
class Backoff:
    duration: str = ""
    factor: int | None = None
    max_duration: str = ""

    def duration_seconds(self) -> float:
        return parse_duration(self.duration) if self.duration else DEFAULT_RETRY_DURATION

    def max_duration_seconds(self) -> float:
        return parse_duration(self.max_duration) if self.max_duration else DEFAULT_RETRY_MAX_DURATION

    def effective_factor(self) -> int:
        return DEFAULT_RETRY_FACTOR if self.factor is None else self.factor

    def to_dict(self) -> dict[str, Any]:
        out = _omit_empty({"duration": self.duration, "maxDuration": self.max_duration})
        if self.factor is not None:
            out["factor"] = self.factor
        return dict(sorted(out.items(), key=lambda kv: ("duration", "factor", "maxDuration").index(kv[0])))


@dataclass
class RetryStrategy:
    """`retry`: limit 0 = no retries, < 0 = unlimited; backoff defaults 5s x2 capped at 3m."""

    limit: int = 0
    backoff: Backoff | None = None
    refresh: bool = False

    def next_retry_delay(self, retry_count: int) -> float:
        """Seconds to wait before retry number `retry_count` (0 for the first retry).

        T:RetryStrategy.NextRetryAt: duration * factor^retryCount, capped at maxDuration (if > 0).
        """
        backoff = self.backoff or Backoff()
        duration = backoff.duration_seconds()
        factor = backoff.effective_factor()
        cap = backoff.max_duration_seconds()
        try:
            delay = duration * math.pow(factor, retry_count)
        except OverflowError:
            delay = math.inf
        if cap > 0:
            delay = min(cap, delay)
        return delay

    def allows_retry(self, retry_count: int) -> bool:
        return self.limit < 0 or retry_count < self.limit

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.limit:
            out["limit"] = self.limit
        if self.backoff is not None:
            out["backoff"] = self.backoff.to_dict()
        if self.refresh:
            out["refresh"] = True
        return out


@dataclass
class SyncPolicy:
    automated: SyncPolicyAutomated | None = None
    sync_options: list[str] = field(default_factory=list)
    retry: RetryStrategy | None = None
    managed_namespace_metadata: dict[str, Any] | None = None

    def has_sync_option(self, option: str) -> bool:
        """Exact string match, as Argo's SyncOptions.HasOption."""
        return option in self.sync_options

    def sync_option_value(self, key: str) -> str | None:
        """Value of the first `key=value` entry (SyncOptions.GetOptionValue)."""
        prefix = f"{key}="
        for opt in self.sync_options:
            if opt.startswith(prefix):
                return opt[len(prefix) :]
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.automated is not None:
            out["automated"] = self.automated.to_dict()
        if self.sync_options:
            out["syncOptions"] = list(self.sync_options)
        if self.retry is not None:
            out["retry"] = self.retry.to_dict()
        if self.managed_namespace_metadata is not None:
            out["managedNamespaceMetadata"] = copy.deepcopy(self.managed_namespace_metadata)
        return out


@dataclass
class ResourceIgnoreDifferences:
    kind: str
    group: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: list[str] = field(default_factory=list)
    jq_path_expressions: list[str] = field(default_factory=list)
    managed_fields_managers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _omit_empty(
            {
                "group": self.group,
                "kind": self.kind,
                "name": self.name,
                "namespace": self.namespace,
                "jsonPointers": list(self.json_pointers),
                "jqPathExpressions": list(self.jq_path_expressions),
                "managedFieldsManagers": list(self.managed_fields_managers),
            }
        )


@dataclass
class ApplicationSpec:
    project: str
    destination: ApplicationDestination
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] = field(default_factory=list)
    sync_policy: SyncPolicy | None = None
    ignore_differences: list[ResourceIgnoreDifferences] = field(default_factory=list)
    info: list[dict[str, str]] = field(default_factory=list)
    revision_history_limit: int | None = None
    source_hydrator: dict[str, Any] | None = None

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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.source is not None:
            out["source"] = self.source.to_dict()
        if self.sources:
            out["sources"] = [s.to_dict() for s in self.sources]
        out["destination"] = self.destination.to_dict()
        out["project"] = self.project
        if self.sync_policy is not None:
            out["syncPolicy"] = self.sync_policy.to_dict()
        if self.ignore_differences:
            out["ignoreDifferences"] = [d.to_dict() for d in self.ignore_differences]
        if self.info:
            out["info"] = copy.deepcopy(self.info)
        if self.revision_history_limit is not None:
            out["revisionHistoryLimit"] = self.revision_history_limit
        if self.source_hydrator is not None:
            out["sourceHydrator"] = copy.deepcopy(self.source_hydrator)
        return out


@dataclass
class Condition:
    type: str
    message: str
    last_transition_time: str | None = None

    def is_error(self) -> bool:
        return is_error_condition(self.type)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.last_transition_time is not None:
            out["lastTransitionTime"] = self.last_transition_time
        return out


def is_error_condition(condition: str | Condition) -> bool:
    """Argo: a condition is an error iff its type ends with "Error"."""
    ctype = condition.type if isinstance(condition, Condition) else condition
    return ctype.endswith("Error")


def is_warning_condition(condition: str | Condition) -> bool:
    ctype = condition.type if isinstance(condition, Condition) else condition
    return ctype.endswith("Warning")


def _pop_known(raw: dict[str, Any], known: Iterable[str]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in raw.items() if k not in set(known)}


@dataclass
class HealthStatus:
    status: str = ""
    message: str = ""
    last_transition_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _omit_empty({"status": self.status, "message": self.message})
        if self.last_transition_time is not None:
            out["lastTransitionTime"] = self.last_transition_time
        return out


@dataclass
class SyncStatus:
    status: str = ""
    revision: str = ""
    revisions: list[str] = field(default_factory=list)
    compared_to: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = _omit_empty(
            {"status": self.status, "revision": self.revision, "revisions": list(self.revisions)}
        )
        if self.compared_to is not None:
            out["comparedTo"] = copy.deepcopy(self.compared_to)
        out.update(copy.deepcopy(self.extra))
        return out


@dataclass
class ResourceStatus:
    kind: str
    name: str
    group: str = ""
    version: str = ""
    namespace: str = ""
    status: str = ""
    health: HealthStatus | None = None
    hook: bool = False
    requires_pruning: bool = False
    sync_wave: int | None = None
    requires_deletion_confirmation: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = _omit_empty(
            {
                "group": self.group,
                "version": self.version,
                "kind": self.kind,
                "namespace": self.namespace,
                "name": self.name,
                "status": self.status,
                "hook": self.hook,
                "requiresPruning": self.requires_pruning,
                "requiresDeletionConfirmation": self.requires_deletion_confirmation,
            }
        )
        if self.health is not None:
            out["health"] = self.health.to_dict()
        if self.sync_wave is not None:
            out["syncWave"] = self.sync_wave
        out.update(copy.deepcopy(self.extra))
        return out


@dataclass
class RevisionHistory:
    id: int
    revision: str = ""
    revisions: list[str] = field(default_factory=list)
    source: dict[str, Any] | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    deployed_at: str = ""
    deploy_started_at: str = ""
    initiated_by: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        out.update(
            _omit_empty(
                {
                    "revision": self.revision,
                    "revisions": list(self.revisions),
                    "source": copy.deepcopy(self.source),
                    "sources": copy.deepcopy(self.sources),
                    "deployedAt": self.deployed_at,
                    "deployStartedAt": self.deploy_started_at,
                    "initiatedBy": copy.deepcopy(self.initiated_by),
                }
            )
        )
        out.update(copy.deepcopy(self.extra))
        return out


@dataclass
class OperationState:
    phase: str
    operation: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    sync_result: dict[str, Any] | None = None
    started_at: str = ""
    finished_at: str | None = None
    retry_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def is_completed(self) -> bool:
        return self.phase in ("Failed", "Error", "Succeeded")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.operation:
            out["operation"] = copy.deepcopy(self.operation)
        out["phase"] = self.phase
        if self.message:
            out["message"] = self.message
        if self.sync_result is not None:
            out["syncResult"] = copy.deepcopy(self.sync_result)
        if self.started_at:
            out["startedAt"] = self.started_at
        if self.finished_at is not None:
            out["finishedAt"] = self.finished_at
        if self.retry_count:
            out["retryCount"] = self.retry_count
        out.update(copy.deepcopy(self.extra))
        return out


@dataclass
class ApplicationStatus:
    sync: SyncStatus = field(default_factory=SyncStatus)
    health: HealthStatus = field(default_factory=HealthStatus)
    conditions: list[Condition] = field(default_factory=list)
    operation_state: OperationState | None = None
    history: list[RevisionHistory] = field(default_factory=list)
    resources: list[ResourceStatus] = field(default_factory=list)
    reconciled_at: str = ""
    observed_at: str = ""
    source_type: str = ""
    source_types: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    controller_namespace: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def error_conditions(self) -> list[Condition]:
        return [c for c in self.conditions if c.is_error()]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.resources:
            out["resources"] = [r.to_dict() for r in self.resources]
        sync = self.sync.to_dict()
        if sync:
            out["sync"] = sync
        health = self.health.to_dict()
        if health:
            out["health"] = health
        if self.history:
            out["history"] = [h.to_dict() for h in self.history]
        if self.conditions:
            out["conditions"] = [c.to_dict() for c in self.conditions]
        out.update(
            _omit_empty(
                {
                    "reconciledAt": self.reconciled_at,
                    "observedAt": self.observed_at,
                }
            )
        )
        if self.operation_state is not None:
            out["operationState"] = self.operation_state.to_dict()
        out.update(
            _omit_empty(
                {
                    "sourceType": self.source_type,
                    "sourceTypes": list(self.source_types),
                    "summary": copy.deepcopy(self.summary),
                    "controllerNamespace": self.controller_namespace,
                }
            )
        )
        out.update(copy.deepcopy(self.extra))
        return out


def _envelope(
    kind: str, metadata: dict[str, Any], spec: dict[str, Any], *, status: dict[str, Any]
) -> dict[str, Any]:
    """The canonical top-level form shared by Application, AppProject and ApplicationSet."""
    out: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": copy.deepcopy(metadata),
        "spec": spec,
    }
    if status:
        out["status"] = status
    return out


@dataclass
class Application:
    metadata: dict[str, Any]
    spec: ApplicationSpec
    status: ApplicationStatus = field(default_factory=ApplicationStatus)
    operation: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

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

    def to_dict(self) -> dict[str, Any]:
        out = _envelope(KIND_APPLICATION, self.metadata, self.spec.to_dict(), status=self.status.to_dict())
        if self.operation is not None:
            out["operation"] = copy.deepcopy(self.operation)
        return out


# --------------------------------------------------------------------------------------------
# AppProject
# --------------------------------------------------------------------------------------------


@dataclass
class GroupKind:
    group: str = ""
    kind: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "kind": self.kind}


@dataclass
class ClusterResourceRestriction:
    """Cluster-scoped white/blacklist item; empty `name` matches every name."""

    group: str = ""
    kind: str = ""
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"group": self.group, "kind": self.kind}
        if self.name:
            out["name"] = self.name
        return out


@dataclass
class OrphanedResources:
    warn: bool | None = None
    ignore: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.warn is not None:
            out["warn"] = self.warn
        if self.ignore:
            out["ignore"] = copy.deepcopy(self.ignore)
        return out


@dataclass
class SyncWindow:
    kind: str
    schedule: str
    duration: str
    applications: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    manual_sync: bool = False
    time_zone: str = ""
    and_operator: bool = False
    description: str = ""
    sync_overrun: bool = False

    def duration_seconds(self) -> float:
        return parse_duration(self.duration, bare_seconds=False)

    def to_dict(self) -> dict[str, Any]:
        return _omit_empty(
            {
                "kind": self.kind,
                "schedule": self.schedule,
                "duration": self.duration,
                "applications": list(self.applications),
                "namespaces": list(self.namespaces),
                "clusters": list(self.clusters),
                "manualSync": self.manual_sync,
                "timeZone": self.time_zone,
                "andOperator": self.and_operator,
                "description": self.description,
                "syncOverrun": self.sync_overrun,
            }
        )


@dataclass
class ProjectRole:
    name: str
    description: str = ""
    policies: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    jwt_tokens: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        out.update(
            _omit_empty(
                {
                    "description": self.description,
                    "policies": list(self.policies),
                    "groups": list(self.groups),
                    "jwtTokens": copy.deepcopy(self.jwt_tokens),
                }
            )
        )
        return out


@dataclass
class AppProjectSpec:
    description: str = ""
    source_repos: list[str] = field(default_factory=list)
    source_namespaces: list[str] = field(default_factory=list)
    destinations: list[ApplicationDestination] = field(default_factory=list)
    destination_service_accounts: list[dict[str, Any]] = field(default_factory=list)
    # None = field absent. Only matters for namespaceResourceWhitelist (nil ⇒ all, [] ⇒ none),
    # but all four keep the distinction so the canonical form round-trips.
    cluster_resource_whitelist: list[ClusterResourceRestriction] | None = None
    cluster_resource_blacklist: list[ClusterResourceRestriction] | None = None
    namespace_resource_whitelist: list[GroupKind] | None = None
    namespace_resource_blacklist: list[GroupKind] | None = None
    orphaned_resources: OrphanedResources | None = None
    sync_windows: list[SyncWindow] = field(default_factory=list)
    roles: list[ProjectRole] = field(default_factory=list)
    signature_keys: list[dict[str, Any]] = field(default_factory=list)
    source_integrity: dict[str, Any] | None = None
    permit_only_project_scoped_clusters: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _omit_empty(
            {
                "description": self.description,
                "sourceRepos": list(self.source_repos),
                "sourceNamespaces": list(self.source_namespaces),
                "destinations": [d.to_dict() for d in self.destinations],
                "destinationServiceAccounts": copy.deepcopy(self.destination_service_accounts),
            }
        )
        for key, items in (
            ("clusterResourceWhitelist", self.cluster_resource_whitelist),
            ("clusterResourceBlacklist", self.cluster_resource_blacklist),
            ("namespaceResourceWhitelist", self.namespace_resource_whitelist),
            ("namespaceResourceBlacklist", self.namespace_resource_blacklist),
        ):
            if items is not None:
                out[key] = [i.to_dict() for i in items]
        if self.orphaned_resources is not None:
            out["orphanedResources"] = self.orphaned_resources.to_dict()
        if self.sync_windows:
            out["syncWindows"] = [w.to_dict() for w in self.sync_windows]
        if self.roles:
            out["roles"] = [r.to_dict() for r in self.roles]
        if self.signature_keys:
            out["signatureKeys"] = copy.deepcopy(self.signature_keys)
        if self.source_integrity is not None:
            out["sourceIntegrity"] = copy.deepcopy(self.source_integrity)
        if self.permit_only_project_scoped_clusters:
            out["permitOnlyProjectScopedClusters"] = True
        return out


@dataclass
class AppProject:
    metadata: dict[str, Any]
    spec: AppProjectSpec
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    def to_dict(self) -> dict[str, Any]:
        return _envelope(
            KIND_APPPROJECT, self.metadata, self.spec.to_dict(), status=copy.deepcopy(self.status)
        )


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


# --------------------------------------------------------------------------------------------
# ApplicationSet
# --------------------------------------------------------------------------------------------

GENERATOR_KEYS = (
    "list",
    "clusters",
    "git",
    "matrix",
    "merge",
    "scmProvider",
    "pullRequest",
    "clusterDecisionResource",
    "plugin",
)
APPLICATIONS_SYNC_POLICIES = ("create-only", "create-update", "create-delete", "sync")
APPSET_STRATEGY_TYPES = ("AllAtOnce", "RollingSync")
APPSET_DELETION_ORDERS = ("AllAtOnce", "Reverse")


@dataclass
class ApplicationSetTemplate:
    metadata: dict[str, Any]
    spec: ApplicationSpec

    def to_dict(self) -> dict[str, Any]:
        return {"metadata": copy.deepcopy(self.metadata), "spec": self.spec.to_dict()}


@dataclass
class ApplicationSetSpec:
    generators: list[dict[str, Any]]
    template: ApplicationSetTemplate
    go_template: bool = False
    go_template_options: list[str] = field(default_factory=list)
    template_patch: str = ""
    sync_policy: dict[str, Any] | None = None
    strategy: dict[str, Any] | None = None
    preserved_fields: dict[str, Any] | None = None
    ignore_application_differences: list[dict[str, Any]] = field(default_factory=list)
    apply_nested_selectors: bool = False

    def applications_sync(self) -> str:
        if self.sync_policy is None:
            return "sync"
        return str(self.sync_policy.get("applicationsSync") or "sync")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "generators": copy.deepcopy(self.generators),
            "template": self.template.to_dict(),
        }
        if self.go_template:
            out["goTemplate"] = True
        if self.go_template_options:
            out["goTemplateOptions"] = list(self.go_template_options)
        if self.template_patch:
            out["templatePatch"] = self.template_patch
        for key, value in (
            ("syncPolicy", self.sync_policy),
            ("strategy", self.strategy),
            ("preservedFields", self.preserved_fields),
        ):
            if value is not None:
                out[key] = copy.deepcopy(value)
        if self.ignore_application_differences:
            out["ignoreApplicationDifferences"] = copy.deepcopy(self.ignore_application_differences)
        if self.apply_nested_selectors:
            out["applyNestedSelectors"] = True
        return out


@dataclass
class ApplicationSet:
    metadata: dict[str, Any]
    spec: ApplicationSetSpec
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    def to_dict(self) -> dict[str, Any]:
        return _envelope(
            KIND_APPLICATIONSET, self.metadata, self.spec.to_dict(), status=copy.deepcopy(self.status)
        )


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def map_argo_api_version(obj: dict[str, Any]) -> dict[str, Any]:
    """Copy of `obj` with `argoproj.io/v1alpha1` Application/AppProject/ApplicationSet moved to trueup.dev.

    Argo CD keeps these objects in namespace `argocd`; an existing repo's `namespace: argocd` is mapped to
    the control namespace `trueup` so app-of-apps repos written for Argo work unchanged.
    """
    out = dict(obj)
    if out.get("apiVersion") == ARGO_API_VERSION and out.get("kind") in _OUR_KINDS:
        out["apiVersion"] = API_VERSION
        md = out.get("metadata")
        if isinstance(md, dict) and md.get("namespace") == ARGO_NAMESPACE:
            out["metadata"] = {**md, "namespace": CONTROL_NAMESPACE}
    return out


def _parse_envelope(obj: Any, kind: str) -> tuple[_Ctx, dict[str, Any], dict[str, Any]]:
    """Check apiVersion/kind/metadata; return (ctx, metadata copy, raw object)."""
    if not isinstance(obj, dict):
        raise SpecError(kind, "", "", f"must be an object, got {_type_name(obj)}")
    obj = map_argo_api_version(obj)
    raw_meta = obj.get("metadata")
    name = raw_meta.get("name", "") if isinstance(raw_meta, dict) else ""
    ctx = _Ctx(kind, name if isinstance(name, str) else "")
    api_version = obj.get("apiVersion")
    if api_version is not None and api_version != API_VERSION:
        raise ctx.error("apiVersion", f"must be {API_VERSION} or {ARGO_API_VERSION}, got {api_version!r}")
    if obj.get("kind") is not None and obj.get("kind") != kind:
        raise ctx.error("kind", f"must be {kind}, got {obj.get('kind')!r}")
    if raw_meta is None:
        raise ctx.error("metadata.name", "required field is missing")
    meta = ctx.mapping(raw_meta, "metadata")
    name = ctx.req_str(meta, "name", "metadata")
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        raise ctx.error("metadata.name", DNS1123_SUBDOMAIN_MSG)
    ns = ctx.opt_str(meta, "namespace", "metadata")
    if ns and (len(ns) > 63 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", ns)):
        raise ctx.error("metadata.namespace", "must be a valid RFC 1123 label (a DNS-1123 label)")
    return ctx, copy.deepcopy(meta), obj


def _parse_directory(ctx: _Ctx, value: Any, path: str) -> DirectorySource:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, ("recurse", "include", "exclude", "jsonnet", "disableExtensionFilter"), path)
    jsonnet = None
    if raw.get("jsonnet") is not None:
        jsonnet = _check_block(ctx, raw["jsonnet"], JSONNET_KEYS, _join(path, "jsonnet"))
    return DirectorySource(
        recurse=bool(ctx.opt_bool(raw, "recurse", path)),
        include=ctx.opt_str(raw, "include", path),
        exclude=ctx.opt_str(raw, "exclude", path),
        jsonnet=jsonnet,
        disable_extension_filter=bool(ctx.opt_bool(raw, "disableExtensionFilter", path)),
    )


_SOURCE_KEYS = (
    "repoURL",
    "path",
    "targetRevision",
    "chart",
    "ref",
    "name",
    "tagPrefix",
    "helm",
    "kustomize",
    "directory",
    "plugin",
)


def _parse_source(ctx: _Ctx, value: Any, path: str) -> ApplicationSource:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, _SOURCE_KEYS, path)
    chart = ctx.opt_str(raw, "chart", path)
    ref = ctx.opt_str(raw, "ref", path)
    if ref and chart:
        raise ctx.error(_join(path, "ref"), "a source with 'ref' cannot also set 'chart'")
    src = ApplicationSource(
        repo_url=ctx.req_str(raw, "repoURL", path),
        path=ctx.opt_str(raw, "path", path),
        target_revision=ctx.opt_str(raw, "targetRevision", path)
        or ("" if chart else DEFAULT_TARGET_REVISION),
        chart=chart,
        ref=ref,
        name=ctx.opt_str(raw, "name", path),
        tag_prefix=ctx.opt_str(raw, "tagPrefix", path),
        helm=_check_block(ctx, raw["helm"], HELM_KEYS, _join(path, "helm"))
        if raw.get("helm") is not None
        else None,
        kustomize=(
            _check_block(ctx, raw["kustomize"], KUSTOMIZE_KEYS, _join(path, "kustomize"))
            if raw.get("kustomize") is not None
            else None
        ),
        directory=_parse_directory(ctx, raw["directory"], _join(path, "directory"))
        if raw.get("directory") is not None
        else None,
        plugin=(
            _check_block(ctx, raw["plugin"], PLUGIN_KEYS, _join(path, "plugin"))
            if raw.get("plugin") is not None
            else None
        ),
    )
    types = src._tool_types()
    if len(types) > 1:
        raise ctx.error(path, f"multiple application sources defined: {','.join(types)}")
    return src


def _parse_destination(ctx: _Ctx, value: Any, path: str) -> ApplicationDestination:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, ("server", "namespace", "name"), path)
    dest = ApplicationDestination(
        server=ctx.opt_str(raw, "server", path),
        namespace=ctx.opt_str(raw, "namespace", path),
        name=ctx.opt_str(raw, "name", path),
    )
    if ctx.templated:
        return dest
    if dest.server and dest.name:
        raise ctx.error(
            path,
            f"application destination can't have both name and server defined: {dest.name} {dest.server}",
        )
    if not dest.server and not dest.name:
        raise ctx.error(path, "Destination server missing from app spec")
    return dest


def _parse_retry(ctx: _Ctx, value: Any, path: str) -> RetryStrategy:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, ("limit", "backoff", "refresh"), path)
    limit = ctx.opt_int(raw, "limit", path)
    backoff = None
    if raw.get("backoff") is not None:
        bpath = _join(path, "backoff")
        braw = ctx.mapping(raw["backoff"], bpath)
        ctx.check_keys(braw, ("duration", "factor", "maxDuration"), bpath)
        duration = ""
        if braw.get("duration") is not None:
            duration = ctx.duration(braw["duration"], _join(bpath, "duration"), bare_seconds=True)
        max_duration = ""
        if braw.get("maxDuration") is not None:
            max_duration = ctx.duration(braw["maxDuration"], _join(bpath, "maxDuration"), bare_seconds=True)
        factor = ctx.opt_int(braw, "factor", bpath)
        if factor is not None and factor < 1:
            raise ctx.error(_join(bpath, "factor"), "must be at least 1")
        backoff = Backoff(duration=duration, factor=factor, max_duration=max_duration)
    return RetryStrategy(limit=limit or 0, backoff=backoff, refresh=bool(ctx.opt_bool(raw, "refresh", path)))


def _parse_sync_policy(ctx: _Ctx, value: Any, path: str) -> SyncPolicy:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, ("automated", "syncOptions", "retry", "managedNamespaceMetadata"), path)
    automated = None
    if raw.get("automated") is not None:
        apath = _join(path, "automated")
        araw = ctx.mapping(raw["automated"], apath)
        ctx.check_keys(araw, ("prune", "selfHeal", "allowEmpty", "enabled"), apath)
        automated = SyncPolicyAutomated(
            prune=bool(ctx.opt_bool(araw, "prune", apath)),
            self_heal=bool(ctx.opt_bool(araw, "selfHeal", apath)),
            allow_empty=bool(ctx.opt_bool(araw, "allowEmpty", apath)),
            enabled=ctx.opt_bool(araw, "enabled", apath),
        )
    mnm = None
    if raw.get("managedNamespaceMetadata") is not None:
        mpath = _join(path, "managedNamespaceMetadata")
        mraw = ctx.mapping(raw["managedNamespaceMetadata"], mpath)
        ctx.check_keys(mraw, ("labels", "annotations"), mpath)
        ctx.str_map(mraw, "labels", mpath)
        ctx.str_map(mraw, "annotations", mpath)
        mnm = copy.deepcopy(mraw)
    return SyncPolicy(
        automated=automated,
        sync_options=ctx.str_list(raw, "syncOptions", path) or [],
        retry=_parse_retry(ctx, raw["retry"], _join(path, "retry")) if raw.get("retry") is not None else None,
        managed_namespace_metadata=mnm,
    )


def _parse_ignore_differences(ctx: _Ctx, value: Any, path: str) -> ResourceIgnoreDifferences:
    raw = ctx.mapping(value, path)
    ctx.check_keys(
        raw,
        ("group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions", "managedFieldsManagers"),
        path,
    )
    return ResourceIgnoreDifferences(
        kind=ctx.req_str(raw, "kind", path),
        group=ctx.opt_str(raw, "group", path),
        name=ctx.opt_str(raw, "name", path),
        namespace=ctx.opt_str(raw, "namespace", path),
        json_pointers=ctx.str_list(raw, "jsonPointers", path) or [],
        jq_path_expressions=ctx.str_list(raw, "jqPathExpressions", path) or [],
        managed_fields_managers=ctx.str_list(raw, "managedFieldsManagers", path) or [],
    )


_APP_SPEC_KEYS = (
    "source",
    "sources",
    "destination",
    "project",
    "syncPolicy",
    "ignoreDifferences",
    "info",
    "revisionHistoryLimit",
    "sourceHydrator",
)


def _parse_app_spec(ctx: _Ctx, value: Any, path: str) -> ApplicationSpec:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, _APP_SPEC_KEYS, path)
    project = ctx.req_str(raw, "project", path)
    if raw.get("destination") is None:
        raise ctx.error(_join(path, "destination"), "required field is missing")
    destination = _parse_destination(ctx, raw["destination"], _join(path, "destination"))
    source = (
        _parse_source(ctx, raw["source"], _join(path, "source")) if raw.get("source") is not None else None
    )
    sources: list[ApplicationSource] = []
    if raw.get("sources") is not None:
        spath = _join(path, "sources")
        ctx.expect(raw["sources"], list, spath)
        sources = [_parse_source(ctx, s, f"{spath}[{i}]") for i, s in enumerate(raw["sources"])]
    hydrator = None
    if raw.get("sourceHydrator") is not None:
        hpath = _join(path, "sourceHydrator")
        hraw = ctx.mapping(raw["sourceHydrator"], hpath)
        ctx.check_keys(hraw, ("drySource", "syncSource", "hydrateTo"), hpath)
        hydrator = copy.deepcopy(hraw)
    if source is None and not sources and hydrator is None and not ctx.templated:
        raise ctx.error(_join(path, "source"), "one of spec.source or spec.sources is required")
    info = ctx.dict_list(raw, "info", path) or []
    for i, item in enumerate(info):
        ipath = f"{_join(path, 'info')}[{i}]"
        ctx.check_keys(item, ("name", "value"), ipath)
        ctx.opt_str(item, "name", ipath)
        ctx.opt_str(item, "value", ipath)
    limit = ctx.opt_int(raw, "revisionHistoryLimit", path)
    if limit is not None and limit < 0:
        raise ctx.error(_join(path, "revisionHistoryLimit"), "must be greater than or equal to 0")
    ignore: list[ResourceIgnoreDifferences] = []
    if raw.get("ignoreDifferences") is not None:
        ipath = _join(path, "ignoreDifferences")
        ctx.expect(raw["ignoreDifferences"], list, ipath)
        ignore = [
            _parse_ignore_differences(ctx, d, f"{ipath}[{i}]") for i, d in enumerate(raw["ignoreDifferences"])
        ]
    return ApplicationSpec(
        project=project,
        destination=destination,
        source=source,
        sources=sources,
        sync_policy=_parse_sync_policy(ctx, raw["syncPolicy"], _join(path, "syncPolicy"))
        if raw.get("syncPolicy") is not None
        else None,
        ignore_differences=ignore,
        info=copy.deepcopy(info),
        revision_history_limit=limit,
        source_hydrator=hydrator,
    )


def _parse_condition(ctx: _Ctx, value: Any, path: str) -> Condition:
    raw = ctx.mapping(value, path)
    return Condition(
        type=ctx.req_str(raw, "type", path),
        message=ctx.opt_str(raw, "message", path),
        last_transition_time=raw.get("lastTransitionTime")
        if isinstance(raw.get("lastTransitionTime"), str)
        else None,
    )


def _parse_health(ctx: _Ctx, value: Any, path: str) -> HealthStatus:
    raw = ctx.mapping(value, path)
    ltt = raw.get("lastTransitionTime")
    return HealthStatus(
        status=ctx.opt_str(raw, "status", path),
        message=ctx.opt_str(raw, "message", path),
        last_transition_time=ltt if isinstance(ltt, str) else None,
    )


def _parse_list(
    ctx: _Ctx, raw: Mapping[str, Any], key: str, path: str, item: Callable[[_Ctx, Any, str], Any]
) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    where = _join(path, key)
    ctx.expect(value, list, where)
    return [item(ctx, v, f"{where}[{i}]") for i, v in enumerate(value)]


def _parse_resource_status(ctx: _Ctx, value: Any, path: str) -> ResourceStatus:
    raw = ctx.mapping(value, path)
    known = (
        "group",
        "version",
        "kind",
        "namespace",
        "name",
        "status",
        "health",
        "hook",
        "requiresPruning",
        "syncWave",
        "requiresDeletionConfirmation",
    )
    return ResourceStatus(
        kind=ctx.opt_str(raw, "kind", path),
        name=ctx.opt_str(raw, "name", path),
        group=ctx.opt_str(raw, "group", path),
        version=ctx.opt_str(raw, "version", path),
        namespace=ctx.opt_str(raw, "namespace", path),
        status=ctx.opt_str(raw, "status", path),
        health=_parse_health(ctx, raw["health"], _join(path, "health"))
        if raw.get("health") is not None
        else None,
        hook=bool(ctx.opt_bool(raw, "hook", path)),
        requires_pruning=bool(ctx.opt_bool(raw, "requiresPruning", path)),
        sync_wave=ctx.opt_int(raw, "syncWave", path),
        requires_deletion_confirmation=bool(ctx.opt_bool(raw, "requiresDeletionConfirmation", path)),
        extra=_pop_known(raw, known),
    )


def _parse_history(ctx: _Ctx, value: Any, path: str) -> RevisionHistory:
    raw = ctx.mapping(value, path)
    known = (
        "id",
        "revision",
        "revisions",
        "source",
        "sources",
        "deployedAt",
        "deployStartedAt",
        "initiatedBy",
    )
    hid = ctx.opt_int(raw, "id", path)
    source = raw.get("source")
    initiated = raw.get("initiatedBy")
    return RevisionHistory(
        id=hid or 0,
        revision=ctx.opt_str(raw, "revision", path),
        revisions=ctx.str_list(raw, "revisions", path) or [],
        source=copy.deepcopy(ctx.mapping(source, _join(path, "source"))) if source is not None else None,
        sources=copy.deepcopy(ctx.dict_list(raw, "sources", path) or []),
        deployed_at=ctx.opt_str(raw, "deployedAt", path),
        deploy_started_at=ctx.opt_str(raw, "deployStartedAt", path),
        initiated_by=copy.deepcopy(ctx.mapping(initiated, _join(path, "initiatedBy")))
        if initiated is not None
        else None,
        extra=_pop_known(raw, known),
    )


def _parse_operation_state(ctx: _Ctx, value: Any, path: str) -> OperationState:
    raw = ctx.mapping(value, path)
    known = ("operation", "phase", "message", "syncResult", "startedAt", "finishedAt", "retryCount")
    phase = ctx.opt_str(raw, "phase", path)
    if phase and phase not in OPERATION_PHASES:
        raise ctx.error(
            _join(path, "phase"), f"unsupported value {phase!r}: must be one of {', '.join(OPERATION_PHASES)}"
        )
    op = raw.get("operation")
    sync_result = raw.get("syncResult")
    finished = raw.get("finishedAt")
    return OperationState(
        phase=phase,
        operation=copy.deepcopy(ctx.mapping(op, _join(path, "operation"))) if op is not None else {},
        message=ctx.opt_str(raw, "message", path),
        sync_result=copy.deepcopy(ctx.mapping(sync_result, _join(path, "syncResult")))
        if sync_result is not None
        else None,
        started_at=ctx.opt_str(raw, "startedAt", path),
        finished_at=ctx.expect(finished, str, _join(path, "finishedAt")) if finished is not None else None,
        retry_count=ctx.opt_int(raw, "retryCount", path) or 0,
        extra=_pop_known(raw, known),
    )


def _parse_status(ctx: _Ctx, value: Any, path: str) -> ApplicationStatus:
    """Status is controller-written: unknown keys are preserved, known ones type-checked."""
    raw = ctx.mapping(value, path)
    sync = SyncStatus()
    if raw.get("sync") is not None:
        spath = _join(path, "sync")
        sraw = ctx.mapping(raw["sync"], spath)
        code = ctx.opt_str(sraw, "status", spath)
        if code and code not in SYNC_STATUS_CODES:
            raise ctx.error(
                _join(spath, "status"),
                f"unsupported value {code!r}: must be one of {', '.join(SYNC_STATUS_CODES)}",
            )
        compared = sraw.get("comparedTo")
        sync = SyncStatus(
            status=code,
            revision=ctx.opt_str(sraw, "revision", spath),
            revisions=ctx.str_list(sraw, "revisions", spath) or [],
            compared_to=copy.deepcopy(ctx.mapping(compared, _join(spath, "comparedTo")))
            if compared is not None
            else None,
            extra=_pop_known(sraw, ("status", "revision", "revisions", "comparedTo")),
        )
    health = HealthStatus()
    if raw.get("health") is not None:
        health = _parse_health(ctx, raw["health"], _join(path, "health"))
        if health.status and health.status not in HEALTH_STATUS_CODES:
            raise ctx.error(
                _join(path, "health.status"),
                f"unsupported value {health.status!r}: must be one of {', '.join(HEALTH_STATUS_CODES)}",
            )
    summary = raw.get("summary")
    known = (
        "sync",
        "health",
        "conditions",
        "operationState",
        "history",
        "resources",
        "reconciledAt",
        "observedAt",
        "sourceType",
        "sourceTypes",
        "summary",
        "controllerNamespace",
    )
    return ApplicationStatus(
        sync=sync,
        health=health,
        conditions=_parse_list(ctx, raw, "conditions", path, _parse_condition),
        operation_state=_parse_operation_state(ctx, raw["operationState"], _join(path, "operationState"))
        if raw.get("operationState") is not None
        else None,
        history=_parse_list(ctx, raw, "history", path, _parse_history),
        resources=_parse_list(ctx, raw, "resources", path, _parse_resource_status),
        reconciled_at=ctx.opt_str(raw, "reconciledAt", path),
        observed_at=ctx.opt_str(raw, "observedAt", path),
        source_type=ctx.opt_str(raw, "sourceType", path),
        source_types=ctx.str_list(raw, "sourceTypes", path) or [],
        summary=copy.deepcopy(ctx.mapping(summary, _join(path, "summary"))) if summary is not None else {},
        controller_namespace=ctx.opt_str(raw, "controllerNamespace", path),
        extra=_pop_known(raw, known),
    )


def parse_application(obj: dict[str, Any]) -> Application:
    """Validate an Application manifest (argoproj.io or trueup.dev) into a typed object."""
    ctx, meta, raw = _parse_envelope(obj, KIND_APPLICATION)
    ctx.check_keys(raw, ("apiVersion", "kind", "metadata", "spec", "status", "operation"), "")
    if raw.get("spec") is None:
        raise ctx.error("spec", "required field is missing")
    spec = _parse_app_spec(ctx, raw["spec"], "spec")
    status = (
        _parse_status(ctx, raw["status"], "status") if raw.get("status") is not None else ApplicationStatus()
    )
    operation = None
    if raw.get("operation") is not None:
        operation = copy.deepcopy(ctx.mapping(raw["operation"], "operation"))
    return Application(metadata=meta, spec=spec, status=status, operation=operation)


def _parse_group_kinds(ctx: _Ctx, raw: Mapping[str, Any], key: str, path: str) -> list[GroupKind] | None:
    items = ctx.dict_list(raw, key, path)
    if items is None:
        return None
    out = []
    for i, item in enumerate(items):
        ipath = f"{_join(path, key)}[{i}]"
        ctx.check_keys(item, ("group", "kind"), ipath)
        out.append(GroupKind(group=ctx.opt_str(item, "group", ipath), kind=ctx.req_str(item, "kind", ipath)))
    return out


def _parse_cluster_restrictions(
    ctx: _Ctx, raw: Mapping[str, Any], key: str, path: str
) -> list[ClusterResourceRestriction] | None:
    items = ctx.dict_list(raw, key, path)
    if items is None:
        return None
    out = []
    for i, item in enumerate(items):
        ipath = f"{_join(path, key)}[{i}]"
        ctx.check_keys(item, ("group", "kind", "name"), ipath)
        out.append(
            ClusterResourceRestriction(
                group=ctx.opt_str(item, "group", ipath),
                kind=ctx.req_str(item, "kind", ipath),
                name=ctx.opt_str(item, "name", ipath),
            )
        )
    return out


_SYNC_WINDOW_KEYS = (
    "kind",
    "schedule",
    "duration",
    "applications",
    "namespaces",
    "clusters",
    "manualSync",
    "timeZone",
    "andOperator",
    "description",
    "syncOverrun",
)


def _parse_sync_window(ctx: _Ctx, value: Any, path: str) -> SyncWindow:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, _SYNC_WINDOW_KEYS, path)
    kind = ctx.opt_str(raw, "kind", path)
    if kind not in ("allow", "deny"):
        raise ctx.error(_join(path, "kind"), f"kind '{kind}' mismatch: can only be allow or deny")
    schedule = ctx.opt_str(raw, "schedule", path)
    problem = validate_cron(schedule)
    if problem:
        raise ctx.error(_join(path, "schedule"), f"cannot parse schedule '{schedule}': {problem}")
    duration_raw = raw.get("duration", "")
    duration = ctx.duration(duration_raw, _join(path, "duration"), bare_seconds=False)
    window = SyncWindow(
        kind=kind,
        schedule=schedule,
        duration=duration,
        applications=ctx.str_list(raw, "applications", path) or [],
        namespaces=ctx.str_list(raw, "namespaces", path) or [],
        clusters=ctx.str_list(raw, "clusters", path) or [],
        manual_sync=bool(ctx.opt_bool(raw, "manualSync", path)),
        time_zone=ctx.opt_str(raw, "timeZone", path),
        and_operator=bool(ctx.opt_bool(raw, "andOperator", path)),
        description=ctx.opt_str(raw, "description", path),
        sync_overrun=bool(ctx.opt_bool(raw, "syncOverrun", path)),
    )
    if not (window.applications or window.namespaces or window.clusters):
        raise ctx.error(
            path,
            f"window '{kind}':'{schedule}':'{duration}' requires one of application, cluster or namespace",
        )
    return window


def parse_sync_window(obj: dict[str, Any], project: str = "") -> SyncWindow:
    """Validate one sync window on its own (e.g. from a CLI flag set)."""
    return _parse_sync_window(_Ctx(KIND_APPPROJECT, project), obj, "syncWindow")


def _parse_role(ctx: _Ctx, value: Any, path: str) -> ProjectRole:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, ("name", "description", "policies", "groups", "jwtTokens"), path)
    name = ctx.req_str(raw, "name", path)
    if not _ROLE_NAME.match(name):
        raise ctx.error(
            _join(path, "name"),
            f"invalid role name '{name}'. Must consist of alphanumeric characters, '-' or '_', "
            "and must start and end with an alphanumeric character",
        )
    return ProjectRole(
        name=name,
        description=ctx.opt_str(raw, "description", path),
        policies=ctx.str_list(raw, "policies", path) or [],
        groups=ctx.str_list(raw, "groups", path) or [],
        jwt_tokens=copy.deepcopy(ctx.dict_list(raw, "jwtTokens", path) or []),
    )


_PROJECT_SPEC_KEYS = (
    "description",
    "sourceRepos",
    "sourceNamespaces",
    "destinations",
    "destinationServiceAccounts",
    "clusterResourceWhitelist",
    "clusterResourceBlacklist",
    "namespaceResourceWhitelist",
    "namespaceResourceBlacklist",
    "orphanedResources",
    "syncWindows",
    "roles",
    "signatureKeys",
    "sourceIntegrity",
    "permitOnlyProjectScopedClusters",
)


def parse_project(obj: dict[str, Any]) -> AppProject:
    """Validate an AppProject manifest; `!*` patterns and malformed sync windows are refused."""
    ctx, meta, raw = _parse_envelope(obj, KIND_APPPROJECT)
    ctx.check_keys(raw, ("apiVersion", "kind", "metadata", "spec", "status"), "")
    spec_raw = ctx.mapping(raw.get("spec") if raw.get("spec") is not None else {}, "spec")
    ctx.check_keys(spec_raw, _PROJECT_SPEC_KEYS, "spec")
    repos = ctx.str_list(spec_raw, "sourceRepos", "spec") or []
    for i, repo in enumerate(repos):
        if repo == "!*":
            raise ctx.error(f"spec.sourceRepos[{i}]", "source repository has an invalid format, '!*'")
    destinations = []
    for i, item in enumerate(ctx.dict_list(spec_raw, "destinations", "spec") or []):
        dpath = f"spec.destinations[{i}]"
        ctx.check_keys(item, ("server", "namespace", "name"), dpath)
        dest = ApplicationDestination(
            server=ctx.opt_str(item, "server", dpath),
            namespace=ctx.opt_str(item, "namespace", dpath),
            name=ctx.opt_str(item, "name", dpath),
        )
        for fname in ("name", "server", "namespace"):
            if getattr(dest, fname) == "!*":
                raise ctx.error(f"{dpath}.{fname}", f"{fname} has an invalid format, '!*'")
        destinations.append(dest)
    dsas = ctx.dict_list(spec_raw, "destinationServiceAccounts", "spec") or []
    for i, item in enumerate(dsas):
        dpath = f"spec.destinationServiceAccounts[{i}]"
        ctx.check_keys(item, ("server", "namespace", "defaultServiceAccount"), dpath)
        for fname in ("server", "namespace"):
            if ctx.opt_str(item, fname, dpath) == "!*":
                raise ctx.error(f"{dpath}.{fname}", f"{fname} has an invalid format, '!*'")
        ctx.opt_str(item, "defaultServiceAccount", dpath)
    orphaned = None
    if spec_raw.get("orphanedResources") is not None:
        opath = "spec.orphanedResources"
        oraw = ctx.mapping(spec_raw["orphanedResources"], opath)
        ctx.check_keys(oraw, ("warn", "ignore"), opath)
        ignore = ctx.dict_list(oraw, "ignore", opath) or []
        for i, item in enumerate(ignore):
            ipath = f"{opath}.ignore[{i}]"
            ctx.check_keys(item, ("group", "kind", "name"), ipath)
            for k in ("group", "kind", "name"):
                ctx.opt_str(item, k, ipath)
        orphaned = OrphanedResources(warn=ctx.opt_bool(oraw, "warn", opath), ignore=copy.deepcopy(ignore))
    windows = _parse_list(ctx, spec_raw, "syncWindows", "spec", _parse_sync_window)
    roles = _parse_list(ctx, spec_raw, "roles", "spec", _parse_role)
    seen_roles: set[str] = set()
    for i, role in enumerate(roles):
        if role.name in seen_roles:
            raise ctx.error(f"spec.roles[{i}].name", f"role '{role.name}' already exists")
        seen_roles.add(role.name)
    integrity = spec_raw.get("sourceIntegrity")
    spec = AppProjectSpec(
        description=ctx.opt_str(spec_raw, "description", "spec"),
        source_repos=repos,
        source_namespaces=ctx.str_list(spec_raw, "sourceNamespaces", "spec") or [],
        destinations=destinations,
        destination_service_accounts=copy.deepcopy(dsas),
        cluster_resource_whitelist=_parse_cluster_restrictions(
            ctx, spec_raw, "clusterResourceWhitelist", "spec"
        ),
        cluster_resource_blacklist=_parse_cluster_restrictions(
            ctx, spec_raw, "clusterResourceBlacklist", "spec"
        ),
        namespace_resource_whitelist=_parse_group_kinds(ctx, spec_raw, "namespaceResourceWhitelist", "spec"),
        namespace_resource_blacklist=_parse_group_kinds(ctx, spec_raw, "namespaceResourceBlacklist", "spec"),
        orphaned_resources=orphaned,
        sync_windows=windows,
        roles=roles,
        signature_keys=copy.deepcopy(ctx.dict_list(spec_raw, "signatureKeys", "spec") or []),
        source_integrity=copy.deepcopy(ctx.mapping(integrity, "spec.sourceIntegrity"))
        if integrity is not None
        else None,
        permit_only_project_scoped_clusters=bool(
            ctx.opt_bool(spec_raw, "permitOnlyProjectScopedClusters", "spec")
        ),
    )
    status = raw.get("status")
    return AppProject(
        metadata=meta,
        spec=spec,
        status=copy.deepcopy(ctx.mapping(status, "status")) if status is not None else {},
    )


def _check_generator(ctx: _Ctx, value: Any, path: str, *, depth: int = 0) -> None:
    gen = ctx.mapping(value, path)
    ctx.check_keys(gen, (*GENERATOR_KEYS, "selector", "values"), path)
    present = [k for k in GENERATOR_KEYS if gen.get(k) is not None]
    if not present:
        raise ctx.error(path, f"generator is empty: set exactly one of {', '.join(GENERATOR_KEYS)}")
    if len(present) > 1:
        raise ctx.error(path, f"more than one generator defined: {', '.join(present)}")
    key = present[0]
    body = ctx.mapping(gen[key], _join(path, key))
    if key in ("matrix", "merge"):
        if depth >= 2:
            raise ctx.error(_join(path, key), "combination generators may nest only one level deep")
        children = body.get("generators")
        cpath = _join(_join(path, key), "generators")
        if children is None:
            raise ctx.error(cpath, "required field is missing")
        ctx.expect(children, list, cpath)
        if key == "matrix":
            if len(children) > 2:
                raise ctx.error(cpath, "found more than two generators, Matrix support only two")
            if len(children) < 2:
                raise ctx.error(cpath, "found less than two generators, Matrix support only two")
        for i, child in enumerate(children):
            _check_generator(ctx, child, f"{cpath}[{i}]", depth=depth + 1)


_APPSET_SPEC_KEYS = (
    "generators",
    "template",
    "goTemplate",
    "goTemplateOptions",
    "templatePatch",
    "syncPolicy",
    "strategy",
    "preservedFields",
    "ignoreApplicationDifferences",
    "applyNestedSelectors",
)


def _parse_appset_template(ctx: _Ctx, value: Any, path: str) -> ApplicationSetTemplate:
    raw = ctx.mapping(value, path)
    ctx.check_keys(raw, ("metadata", "spec"), path)
    meta = ctx.mapping(
        raw.get("metadata") if raw.get("metadata") is not None else {}, _join(path, "metadata")
    )
    ctx.check_keys(
        meta, ("name", "namespace", "labels", "annotations", "finalizers"), _join(path, "metadata")
    )
    if raw.get("spec") is None:
        raise ctx.error(_join(path, "spec"), "required field is missing")
    tctx = _Ctx(ctx.kind, ctx.name, templated=True)
    spec = _parse_app_spec(tctx, raw["spec"], _join(path, "spec"))
    return ApplicationSetTemplate(metadata=copy.deepcopy(meta), spec=spec)


def parse_applicationset(obj: dict[str, Any]) -> ApplicationSet:
    """Validate an ApplicationSet: generators have exactly one known type, template is an App spec."""
    ctx, meta, raw = _parse_envelope(obj, KIND_APPLICATIONSET)
    ctx.check_keys(raw, ("apiVersion", "kind", "metadata", "spec", "status"), "")
    if raw.get("spec") is None:
        raise ctx.error("spec", "required field is missing")
    spec_raw = ctx.mapping(raw["spec"], "spec")
    ctx.check_keys(spec_raw, _APPSET_SPEC_KEYS, "spec")
    if spec_raw.get("generators") is None:
        raise ctx.error("spec.generators", "required field is missing")
    generators = ctx.expect(spec_raw["generators"], list, "spec.generators")
    for i, gen in enumerate(generators):
        _check_generator(ctx, gen, f"spec.generators[{i}]")
    if spec_raw.get("template") is None:
        raise ctx.error("spec.template", "required field is missing")
    template = _parse_appset_template(ctx, spec_raw["template"], "spec.template")
    sync_policy = None
    if spec_raw.get("syncPolicy") is not None:
        sp = ctx.mapping(spec_raw["syncPolicy"], "spec.syncPolicy")
        ctx.check_keys(sp, ("applicationsSync", "preserveResourcesOnDeletion"), "spec.syncPolicy")
        policy = ctx.opt_str(sp, "applicationsSync", "spec.syncPolicy")
        if policy and policy not in APPLICATIONS_SYNC_POLICIES:
            raise ctx.error(
                "spec.syncPolicy.applicationsSync",
                f"unsupported value {policy!r}: must be one of {', '.join(APPLICATIONS_SYNC_POLICIES)}",
            )
        ctx.opt_bool(sp, "preserveResourcesOnDeletion", "spec.syncPolicy")
        sync_policy = copy.deepcopy(sp)
    strategy = None
    if spec_raw.get("strategy") is not None:
        st = ctx.mapping(spec_raw["strategy"], "spec.strategy")
        ctx.check_keys(st, ("type", "rollingSync", "deletionOrder"), "spec.strategy")
        stype = ctx.opt_str(st, "type", "spec.strategy")
        if stype and stype not in APPSET_STRATEGY_TYPES:
            raise ctx.error(
                "spec.strategy.type",
                f"unsupported value {stype!r}: must be one of {', '.join(APPSET_STRATEGY_TYPES)}",
            )
        order = ctx.opt_str(st, "deletionOrder", "spec.strategy")
        if order and order not in APPSET_DELETION_ORDERS:
            raise ctx.error(
                "spec.strategy.deletionOrder",
                f"unsupported value {order!r}: must be one of {', '.join(APPSET_DELETION_ORDERS)}",
            )
        if st.get("rollingSync") is not None:
            rs = ctx.mapping(st["rollingSync"], "spec.strategy.rollingSync")
            ctx.check_keys(rs, ("steps",), "spec.strategy.rollingSync")
            for i, step in enumerate(ctx.dict_list(rs, "steps", "spec.strategy.rollingSync") or []):
                spath = f"spec.strategy.rollingSync.steps[{i}]"
                ctx.check_keys(step, ("matchExpressions", "maxUpdate"), spath)
                for j, expr in enumerate(ctx.dict_list(step, "matchExpressions", spath) or []):
                    epath = f"{spath}.matchExpressions[{j}]"
                    ctx.check_keys(expr, ("key", "operator", "values"), epath)
                    op = ctx.opt_str(expr, "operator", epath)
                    if op not in ("In", "NotIn"):
                        raise ctx.error(
                            f"{epath}.operator", f"unsupported value {op!r}: must be one of In, NotIn"
                        )
        strategy = copy.deepcopy(st)
    preserved = None
    if spec_raw.get("preservedFields") is not None:
        pf = ctx.mapping(spec_raw["preservedFields"], "spec.preservedFields")
        ctx.check_keys(pf, ("annotations", "labels"), "spec.preservedFields")
        ctx.str_list(pf, "annotations", "spec.preservedFields")
        ctx.str_list(pf, "labels", "spec.preservedFields")
        preserved = copy.deepcopy(pf)
    iad = ctx.dict_list(spec_raw, "ignoreApplicationDifferences", "spec") or []
    for i, item in enumerate(iad):
        ipath = f"spec.ignoreApplicationDifferences[{i}]"
        ctx.check_keys(item, ("name", "jsonPointers", "jqPathExpressions"), ipath)
        ctx.opt_str(item, "name", ipath)
        ctx.str_list(item, "jsonPointers", ipath)
        ctx.str_list(item, "jqPathExpressions", ipath)
    status = raw.get("status")
    spec = ApplicationSetSpec(
        generators=copy.deepcopy(generators),
        template=template,
        go_template=bool(ctx.opt_bool(spec_raw, "goTemplate", "spec")),
        go_template_options=ctx.str_list(spec_raw, "goTemplateOptions", "spec") or [],
        template_patch=ctx.opt_str(spec_raw, "templatePatch", "spec"),
        sync_policy=sync_policy,
        strategy=strategy,
        preserved_fields=preserved,
        ignore_application_differences=copy.deepcopy(iad),
        apply_nested_selectors=bool(ctx.opt_bool(spec_raw, "applyNestedSelectors", "spec")),
    )
    return ApplicationSet(
        metadata=meta,
        spec=spec,
        status=copy.deepcopy(ctx.mapping(status, "status")) if status is not None else {},
    )


def parse_object(obj: dict[str, Any]) -> Application | AppProject | ApplicationSet:
    """Dispatch on `kind` for any of the three custom resources."""
    kind = obj.get("kind") if isinstance(obj, dict) else None
    if kind == KIND_APPLICATION:
        return parse_application(obj)
    if kind == KIND_APPPROJECT:
        return parse_project(obj)
    if kind == KIND_APPLICATIONSET:
        return parse_applicationset(obj)
    raise SpecError(
        str(kind or "object"), "", "kind", f"must be one of {', '.join(_OUR_KINDS)}, got {kind!r}"
    )
