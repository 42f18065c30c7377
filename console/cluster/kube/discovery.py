"""Discovery of a real cluster: aggregated (2 requests) with a fallback to per-group-version calls.

The table is cached; a miss refreshes it at most once per `min_interval` seconds so an unknown kind
in every refresh cycle cannot hammer the apiserver, while a CRD written through this client (see
`expect_change`) makes the next misses refresh quickly because a new kind is about to appear.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from console.cluster.api import APIResource, NoKindMatch, NotFound, Unavailable, split_api_version

_AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
Fetch = Callable[[str, str], Any]  # (path, accept) -> parsed JSON
_FAST_GAP = 0.25
_FAST_WINDOW = 15.0


def no_kind_match(api_version: str, kind: str) -> NoKindMatch:
    return NoKindMatch(f'no matches for kind "{kind}" in version "{api_version}"')


def _from_aggregated(doc: dict[str, Any]) -> list[APIResource]:
    out: list[APIResource] = []
    for group in doc.get("items") or []:
        gname = str((group.get("metadata") or {}).get("name") or "")
        for ver in group.get("versions") or []:  # preferred version first
            version = str(ver.get("version") or "")
            for r in ver.get("resources") or []:
                rk = r.get("responseKind") or {}
                kind = str(rk.get("kind") or "")
                if not kind:
                    continue
                out.append(
                    APIResource(
                        group=gname,
                        version=version,
                        kind=kind,
                        plural=str(r.get("resource") or ""),
                        namespaced=r.get("scope") == "Namespaced",
                        verbs=tuple(r.get("verbs") or ()),
                        subresources=tuple(
                            sorted(str(s.get("subresource")) for s in r.get("subresources") or [])
                        ),
                    )
                )
    return out


def _from_legacy_list(group: str, version: str, doc: dict[str, Any]) -> list[APIResource]:
    subs: dict[str, list[str]] = {}
    mains: list[dict[str, Any]] = []
    for r in doc.get("resources") or []:
        name = str(r.get("name") or "")
        if "/" in name:
            base, sub = name.split("/", 1)
            subs.setdefault(base, []).append(sub)
        else:
            mains.append(r)
    return [
        APIResource(
            group=group,
            version=version,
            kind=str(r.get("kind") or ""),
            plural=str(r["name"]),
            namespaced=bool(r.get("namespaced")),
            verbs=tuple(r.get("verbs") or ()),
            subresources=tuple(sorted(subs.get(str(r["name"]), []))),
        )
        for r in mains
    ]


class Discovery:
    """Thread-safe cached discovery table for one cluster."""

    def __init__(self, fetch: Fetch, *, min_interval: float = 5.0) -> None:
        self._fetch = fetch
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._resources: list[APIResource] | None = None
        self._index: dict[tuple[str, str, str], APIResource] = {}
        self._last_refresh = 0.0
        self._fast_until = 0.0
        self.generation = 0  # bumped on every refresh that changed the table

    def resources(self) -> list[APIResource]:
        with self._lock:
            if self._resources is None:
                self._refresh_locked()
            assert self._resources is not None
            return list(self._resources)

    def resource_for(self, api_version: str, kind: str) -> APIResource:
        group, version = split_api_version(api_version)
        key = (group, version, kind)
        with self._lock:
            if self._resources is None:
                self._refresh_locked()
            found = self._index.get(key)
            if found is None and self._may_refresh():
                self._refresh_locked()
                found = self._index.get(key)
        if found is None:
            raise no_kind_match(api_version, kind)
        return found

    def expect_change(self) -> None:
        """A CRD/APIService was written: let misses refresh quickly for a while."""
        with self._lock:
            self._fast_until = time.monotonic() + _FAST_WINDOW
            self._last_refresh = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._last_refresh = 0.0
            self._resources = None

    def _may_refresh(self) -> bool:
        now = time.monotonic()
        gap = _FAST_GAP if now < self._fast_until else self.min_interval
        return now - self._last_refresh >= gap

    def _refresh_locked(self) -> None:
        self._last_refresh = time.monotonic()
        table = self._load()
        if table != self._resources:
            self.generation += 1
        self._resources = table
        self._index = {}
        for r in table:
            self._index.setdefault((r.group, r.version, r.kind), r)

    def _load(self) -> list[APIResource]:
        core = self._fetch("/api", _AGGREGATED)
        if isinstance(core, dict) and core.get("kind") == "APIGroupDiscoveryList":
            groups = self._fetch("/apis", _AGGREGATED)
            return _from_aggregated(core) + _from_aggregated(groups)
        return self._load_legacy(core)

    def _load_legacy(self, core: dict[str, Any]) -> list[APIResource]:
        out: list[APIResource] = []
        for version in core.get("versions") or ["v1"]:
            out += _from_legacy_list("", version, self._fetch(f"/api/{version}", "application/json"))
        groups = self._fetch("/apis", "application/json")
        for g in groups.get("groups") or []:
            preferred = (g.get("preferredVersion") or {}).get("version")
            versions = [v.get("version") for v in g.get("versions") or []]
            versions.sort(key=lambda v: v != preferred)
            for v in versions:
                try:
                    doc = self._fetch(f"/apis/{g['name']}/{v}", "application/json")
                except (NotFound, Unavailable) as exc:  # aggregated API server down: skip, like kubectl
                    if getattr(exc, "transport", False):
                        raise  # the apiserver itself is unreachable: a partial table would lie
                    continue
                out += _from_legacy_list(str(g["name"]), str(v), doc)
        return out
