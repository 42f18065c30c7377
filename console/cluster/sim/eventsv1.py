"""`events.k8s.io/v1` Event in the sim: the same storage as core/v1 Event, as a real apiserver has it.

One resource, two API groups: objects are stored in core/v1 form and converted on the way in and
out (k8s pkg/apis/events/v1 conversion: `regarding` <-> `involvedObject`, `note` <-> `message`,
`reportingController` <-> `reportingComponent`, `deprecatedSource/FirstTimestamp/LastTimestamp/
Count` <-> `source/firstTimestamp/lastTimestamp/count`), so an Event written through either group
is read through both, in lists and watches too. Requests through events.k8s.io are authorized
against that group's `events` resource and validated as ValidateEventCreate/Update do for the v1
API (strict: eventTime, type, reportingController/Instance, action, reason required; the
deprecated fields unset). Patches are applied in the events.k8s.io form, then stored.

Differences from a real apiserver: managedFields of Events written here are recorded in core/v1
terms; update validation checks the immutable scalar fields but not `regarding`/`related`.
"""

from __future__ import annotations

import builtins
import copy
import re
from collections.abc import Iterator
from typing import Any, Literal

from console.cluster.api import (
    AlreadyExists,
    APIResource,
    BadRequest,
    ClusterError,
    Conflict,
    Invalid,
    ListResult,
    NotFound,
    Obj,
    PropagationPolicy,
    WatchEvent,
)
from console.cluster.sim import convert as conv
from console.cluster.sim.discovery import KindInfo, builtin
from console.cluster.sim.labels import parse_selector
from console.cluster.sim.patch import json_patch, merge_patch
from console.cluster.sim.validation import Errs

GROUP = "events.k8s.io"
API_VERSION = "events.k8s.io/v1"
KIND = "Event"
INFO = KindInfo(
    APIResource(GROUP, "v1", KIND, "events", True), skeleton=(("regarding",), ("deprecatedSource",))
)

_CORE = KindInfo(APIResource("", "v1", KIND, "events", True))
# core field -> events.k8s.io/v1 field
RENAMES = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
)
_TO_V1 = dict(RENAMES)
_TO_CORE = {v: k for k, v in RENAMES}
SAME = ("metadata", "eventTime", "series", "reason", "action", "type", "related", "reportingInstance")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def handles(api_version: str, kind: str) -> bool:
    return api_version == API_VERSION and kind == KIND


def to_core(obj: Obj) -> Obj:
    """An events.k8s.io/v1 Event as the core/v1 object it is stored as."""
    out: Obj = {"apiVersion": "v1", "kind": KIND}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        out[_TO_CORE.get(key, key)] = copy.deepcopy(value)
    out.setdefault("involvedObject", {})
    out.setdefault("source", {})
    out.setdefault("reportingComponent", "")
    out.setdefault("reportingInstance", "")
    return out


def from_core(obj: Obj) -> Obj:
    """A stored (core/v1) Event as events.k8s.io/v1 returns it (Go's zero values where they show)."""
    core = conv.convert(obj, "v1") if obj.get("apiVersion") != "v1" else obj
    out: Obj = {"kind": KIND, "apiVersion": API_VERSION}
    for key, value in core.items():
        if key in ("apiVersion", "kind"):
            continue
        name = _TO_V1.get(key, key)
        if value in ("", None, 0) and name not in (
            "eventTime",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
        ):
            continue  # omitempty in events/v1 types
        out[name] = copy.deepcopy(value)
    out.setdefault("eventTime", None)
    out.setdefault("regarding", {})
    out.setdefault("deprecatedSource", {})
    out.setdefault("deprecatedFirstTimestamp", None)
    out.setdefault("deprecatedLastTimestamp", None)
    return out


def _rename_error(exc: ClusterError) -> ClusterError:
    """Core's messages name `events`/`Event`; through this group they name events.events.k8s.io."""
    msg = exc.message
    msg = msg.replace('events "', 'events.events.k8s.io "', 1)
    out = type(exc)(msg, causes=exc.causes)
    return out


def validate_create(obj: Obj) -> None:
    """ValidateEventCreate for the events.k8s.io/v1 request version (internal field names)."""
    errs = Errs()
    md = obj.get("metadata") or {}
    ns = str(md.get("namespace") or "default")
    regarding = obj.get("regarding") if isinstance(obj.get("regarding"), dict) else {}
    assert isinstance(regarding, dict)
    event_time = obj.get("eventTime")
    # legacyValidateEvent (an event with eventTime set)
    if event_time:
        if not regarding.get("namespace") and ns not in ("default", "kube-system"):
            errs.invalid("involvedObject.namespace", "", "does not match event.namespace")
        controller = str(obj.get("reportingController") or "")
        if not controller:
            errs.required("reportingController")
        else:
            for problem in _qualified_name(controller):
                errs.invalid("reportingController", controller, problem)
        instance = str(obj.get("reportingInstance") or "")
        if not instance:
            errs.required("reportingInstance")
        if len(instance) > 128:
            errs.invalid("reportingInstance", "", "can have at most 128 characters")
        for fname, limit in (("action", 128), ("reason", 128)):
            value = str(obj.get(fname) or "")
            if not value:
                errs.required(fname)
            if len(value) > limit:
                errs.invalid(fname, "", f"can have at most {limit} characters")
        if len(str(obj.get("note") or "")) > 1024:
            errs.invalid("message", "", "can have at most 1024 characters")
    elif not regarding.get("namespace"):
        if ns not in ("", "default"):
            errs.invalid("involvedObject.namespace", "", "does not match event.namespace")
    elif regarding.get("namespace") != ns:
        errs.invalid("involvedObject.namespace", regarding.get("namespace"), "does not match event.namespace")
    if not _DNS1123_SUB.match(ns) or len(ns) > 253:
        errs.invalid(
            "namespace",
            ns,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        )
    # strict v1 validation
    series = obj.get("series")
    if isinstance(series, dict):
        if int(series.get("count") or 0) < 2:
            errs.invalid("series.count", "", "should be at least 2")
        if not series.get("lastObservedTime"):
            errs.required("series.lastObservedTime")
    if not event_time:
        errs.required("eventTime")
    etype = obj.get("type") or ""
    if etype not in ("Normal", "Warning"):
        errs.invalid("type", "", f"has invalid value: {etype}")
    if obj.get("deprecatedFirstTimestamp"):
        errs.invalid("firstTimestamp", "", "needs to be unset")
    if obj.get("deprecatedLastTimestamp"):
        errs.invalid("lastTimestamp", "", "needs to be unset")
    if obj.get("deprecatedCount"):
        errs.invalid("count", "", "needs to be unset")
    source = obj.get("deprecatedSource") or {}
    if isinstance(source, dict) and (source.get("component") or source.get("host")):
        errs.invalid("source", "", "needs to be unset")
    errs.raise_for(_CORE, str(md.get("name") or ""))  # the apiserver names the internal kind: `Event "x"`


_IMMUTABLE = (
    ("reason", "reason"),
    ("note", "message"),
    ("type", "type"),
    ("action", "action"),
    ("reportingController", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("eventTime", "eventTime"),
)


def validate_update(new: Obj, old: Obj) -> None:
    """ValidateEventUpdate for events.k8s.io/v1: the scalar fields are immutable."""
    errs = Errs()
    for v1_name, path in _IMMUTABLE:
        if (new.get(v1_name) or None) != (old.get(v1_name) or None):
            errs.invalid(path, new.get(v1_name) or "", "field is immutable")
    errs.raise_for(_CORE, str((new.get("metadata") or {}).get("name") or ""))


def _qualified_name(value: str) -> list[str]:
    """k8s IsQualifiedName: [prefix/]name, name <= 63 characters."""
    prefix, _, name = value.rpartition("/")
    out = []
    if prefix and (not _DNS1123_SUB.match(prefix) or len(prefix) > 253):
        out.append(
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    if not name:
        out.append("name part must be non-empty")
    elif len(name) > 63:
        out.append("name part must be no more than 63 characters")
    elif not _QUALIFIED.match(name):
        out.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )
    return out


class EventsV1:
    """The events.k8s.io/v1 Event endpoints of one SimCluster."""

    def __init__(self, sim: Any) -> None:
        """`sim` is the SimCluster (typed Any: this module is imported by the cluster module)."""
        self.sim = sim

    @property
    def core_info(self) -> KindInfo:
        info = builtin("", "v1", KIND)
        assert info is not None
        return info

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except (NotFound, AlreadyExists, Conflict, Invalid, BadRequest) as exc:
            raise _rename_error(exc) from None

    # reads ------------------------------------------------------------------------------------
    def get(self, namespace: str, name: str) -> Obj:
        sim = self.sim
        sim._sync()
        with sim.store.read():
            sim._authorize("get", INFO, namespace, name)
            return from_core(self._call(lambda: sim.core.get(self.core_info, namespace, name)))

    def list(self, namespace: str | None, label_selector: str | None) -> ListResult:
        sim = self.sim
        matcher = parse_selector(label_selector)
        sim._sync()
        with sim.store.read():
            sim._authorize("list", INFO, namespace or None)
            rows = sim.store.list_objects("", KIND, namespace or None)
            rv = sim.store.current_rv()
        items = [from_core(o) for o in rows if matcher((o.get("metadata") or {}).get("labels") or {})]
        return ListResult(items=items, resource_version=str(rv))

    def watch(
        self, namespace: str | None, resource_version: str | None, timeout: float
    ) -> Iterator[WatchEvent]:
        """The core Event watch, authorized for and converted to events.k8s.io/v1."""
        sim = self.sim
        sim._sync()
        sim._authorize("watch", INFO, namespace or None)
        initial: builtins.list[WatchEvent] = []
        if resource_version in (None, "", "0"):
            listed = self.list(namespace, None)
            initial = [WatchEvent("ADDED", o) for o in listed.items]
            start = int(listed.resource_version)
        else:
            start = int(str(resource_version))
            sim._check_gone(self.core_info, start)
        return self._stream(namespace or None, start, initial, timeout)

    def _stream(
        self, namespace: str | None, start: int, initial: builtins.list[WatchEvent], timeout: float
    ) -> Iterator[WatchEvent]:
        yield from initial
        for ev in self.sim._watch_iter(self.core_info, namespace, start, [], timeout):
            yield WatchEvent(ev.type, from_core(ev.object) if ev.type != "ERROR" else ev.object)

    # writes -----------------------------------------------------------------------------------
    def create(self, obj: Obj, field_manager: str, dry_run: bool) -> Obj:
        sim = self.sim
        md = obj.get("metadata") or {}

        def run() -> Obj:
            sim._authorize("create", INFO, md.get("namespace") or "default")
            validate_create(obj)
            return from_core(
                self._call(
                    lambda: sim.core.create(to_core(obj), field_manager=field_manager, dry_run=dry_run)
                )
            )

        out: Obj = sim._write(run, dry_run)
        return out

    def _current(self, namespace: str, name: str) -> Obj:
        return from_core(self._call(lambda: self.sim.core.get(self.core_info, namespace, name)))

    def update(self, obj: Obj, field_manager: str, dry_run: bool) -> Obj:
        sim = self.sim
        md = obj.get("metadata") or {}
        ns, name = str(md.get("namespace") or "default"), str(md.get("name") or "")

        def run() -> Obj:
            sim._authorize("update", INFO, ns, name)
            validate_update(obj, self._current(ns, name))
            return from_core(
                self._call(
                    lambda: sim.core.update(to_core(obj), field_manager=field_manager, dry_run=dry_run)
                )
            )

        out: Obj = sim._write(run, dry_run)
        return out

    def apply(self, obj: Obj, field_manager: str, force: bool, dry_run: bool) -> Obj:
        sim = self.sim
        md = obj.get("metadata") or {}
        ns, name = str(md.get("namespace") or "default"), str(md.get("name") or "")

        def run() -> Obj:
            sim._authorize("patch", INFO, ns, name)
            try:
                current: Obj | None = self._current(ns, name)
            except NotFound:
                current = None
                sim._authorize("create", INFO, ns)
            if current is None:
                validate_create(obj)
            core = to_core(obj)
            for key in ("involvedObject", "source", "reportingComponent", "reportingInstance"):
                if core.get(key) in ({}, ""):
                    core.pop(key)  # apply only what the caller set
            return from_core(
                self._call(
                    lambda: sim.core.apply(core, field_manager=field_manager, force=force, dry_run=dry_run)
                )
            )

        out: Obj = sim._write(run, dry_run)
        return out

    def patch(
        self,
        namespace: str,
        name: str,
        patch: Obj | builtins.list[Obj],
        patch_type: Literal["merge", "json", "strategic"],
        field_manager: str,
        dry_run: bool,
    ) -> Obj:
        sim = self.sim

        def run() -> Obj:
            sim._authorize("patch", INFO, namespace, name)
            current = self._current(namespace, name)
            if patch_type == "json":
                patched = json_patch(copy.deepcopy(current), patch)  # type: ignore[arg-type]
            else:  # Event has no patch strategies: strategic merge == JSON merge here
                patched = merge_patch(copy.deepcopy(current), patch)
            if not isinstance(patched, dict):
                raise BadRequest("patch result is not an object")
            validate_update(patched, current)
            return from_core(
                self._call(
                    lambda: sim.core.update(to_core(patched), field_manager=field_manager, dry_run=dry_run)
                )
            )

        out: Obj = sim._write(run, dry_run)
        return out

    def delete(
        self,
        namespace: str,
        name: str,
        propagation_policy: PropagationPolicy,
        dry_run: bool,
        resource_version: str | None,
    ) -> Obj | None:
        sim = self.sim

        def run() -> Obj | None:
            sim._authorize("delete", INFO, namespace, name)
            out = self._call(
                lambda: sim.core.delete(
                    self.core_info,
                    namespace,
                    name,
                    propagation_policy=propagation_policy,
                    dry_run=dry_run,
                    resource_version=resource_version,
                )
            )
            return from_core(out) if out is not None else None

        result: Obj | None = sim._write(run, dry_run)
        return result
