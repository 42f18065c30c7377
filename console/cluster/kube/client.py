"""`KubeCluster`: the Cluster protocol against a real apiserver, from a kubeconfig context.

Raw REST through one `ApiClient` per cluster (never the global default configuration), JSON in and
out, so objects are byte-for-byte what the server returns (no typed models dropping unknown fields).
Reads retry briefly on Unavailable/Timeout/429; writes never retry, because a write whose response
was lost may have happened and repeating it is the caller's decision (with a fresh resourceVersion).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from kubernetes import config as kconfig
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from console.cluster.api import (
    APIResource,
    BadRequest,
    Gone,
    ListResult,
    NotFound,
    Obj,
    PropagationPolicy,
    Timeout,
    Unavailable,
)
from console.cluster.kube.cache import ObjectCache, list_everything
from console.cluster.kube.discovery import Discovery, no_kind_match
from console.cluster.kube.errors import TRANSPORT_ERRORS, error_from_response, transport_error
from console.cluster.kube.logs import KubeLogStream, log_query
from console.cluster.kube.watch import WatchStream

_PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}
_APPLY_TYPE = "application/apply-patch+yaml"
_READ_ATTEMPTS = 3
_BACKOFF = (0.2, 0.6)  # sleeps between the 3 read attempts; Retry-After is honoured up to 2 s
_LIST_PAGE = 500
# 404 bodies meaning "no such resource type" (the first a Status, the second the mux's plain text
# once the whole group is gone), as opposed to `<plural> "<name>" not found` for a missing object.
_NO_RESOURCE = ("the server could not find the requested resource", "404 page not found")
# Writes to these kinds change what discovery serves: misses refresh quickly afterwards.
_DISCOVERY_KINDS = {
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
}
Query = list[tuple[str, Any]]
T = TypeVar("T")
ObjList = list[Obj]  # the `list` method shadows the builtin inside the class body


class KubeCluster:
    """A real cluster reached through a kubeconfig context."""

    def __init__(
        self,
        name: str,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        server: str | None = None,
        request_timeout: float = 30.0,
        discovery_interval: float = 5.0,
        watch_cache: bool = True,
        cache_exclude: set[tuple[str, str]] | None = None,
        config_dict: dict[str, Any] | None = None,
    ) -> None:
        """`server` overrides the server URL of the context's cluster entry (default: that URL).
        `config_dict`: an in-memory kubeconfig (credentials from the keyring, never a file of ours)."""
        self.name = name
        cfg = Configuration()
        cfg.retries = False  # urllib3 would silently resend PUT/DELETE on read errors: we decide
        cfg.connection_pool_maxsize = 256  # one connection per watched kind when the cache runs
        try:
            if config_dict is not None:
                self.api: ApiClient = kconfig.new_client_from_config_dict(
                    config_dict, context=context, persist_config=False, client_configuration=cfg
                )
            else:
                self.api = kconfig.new_client_from_config(
                    config_file=kubeconfig, context=context, persist_config=False, client_configuration=cfg
                )
        except (ConfigException, OSError) as exc:
            raise Unavailable(f'cluster "{name}": cannot load kubeconfig: {exc}') from None
        if server:
            self.api.configuration.host = server.rstrip("/")
            self.api.rest_client = type(self.api.rest_client)(self.api.configuration)
        self.api.user_agent = "trueup"
        self.server: str = self.api.configuration.host
        self.request_timeout = request_timeout
        self.discovery_cache = Discovery(self._fetch_json, min_interval=discovery_interval)
        self._watch_cache_enabled = watch_cache
        self._cache_exclude = cache_exclude
        self._cache: ObjectCache | None = None
        self._cache_lock = threading.Lock()
        self._open: set[WatchStream] = set()
        self._open_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KubeCluster({self.name!r}, server={self.server!r})"

    # ------------------------------------------------------------------ transport

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
        timeout: Any = None,
    ) -> Any:
        """One HTTP exchange; returns the urllib3 response (not yet read). Raises typed errors."""
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            _m, url, hdrs, data, _pp = self.api.param_serialize(
                method,
                path,
                query_params=query or None,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            resp = self.api.call_api(
                method,
                url,
                header_params=hdrs,
                body=data,
                _request_timeout=timeout or (5.0, self.request_timeout),
            )
        except ApiException as exc:  # the client wraps TLS failures as status 0
            if not exc.status:
                err = Unavailable(
                    f'cluster "{self.name}" ({self.server}) is unreachable: TLS error: '
                    f"{str(exc.reason).strip().splitlines()[-1]}"
                )
                err.transport = True  # type: ignore[attr-defined]
                raise err from None
            raise error_from_response(int(exc.status), (exc.body or "").encode()) from None
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, self.name, self.server) from None
        return resp.response

    def _checked(self, method: str, path: str, *, res: APIResource | None = None, **kw: Any) -> Any:
        """Send; a non-2xx answer is read and raised as its typed error, a 2xx one returned unread.

        With `res`, a 404 for the resource type itself (CRD deleted since discovery) becomes
        NoKindMatch and drops the cached table, so callers never mistake it for a missing object.
        """
        resp = self._send(method, path, **kw)
        if resp.status < 400:
            return resp
        try:
            data = resp.data
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, self.name, self.server) from None
        finally:
            resp.release_conn()
        err = error_from_response(resp.status, data)
        if res is not None and isinstance(err, NotFound) and err.message in _NO_RESOURCE:
            self.discovery_cache.invalidate()
            raise no_kind_match(res.api_version, res.kind)
        err.retry_after = resp.headers.get("Retry-After")  # type: ignore[attr-defined]
        raise err

    def _attempts(self, fn: Callable[[], T], retry: bool) -> T:
        """Run fn once, or (reads) up to 3 times while the server is unavailable or busy."""
        attempts = _READ_ATTEMPTS if retry else 1
        for attempt in range(attempts):
            try:
                return fn()
            except (Unavailable, Timeout) as err:
                if attempt + 1 >= attempts:
                    raise
                time.sleep(self._backoff(attempt, getattr(err, "retry_after", None)))
        raise AssertionError("unreachable")

    def _call(
        self, method: str, path: str, *, retry: bool = False, res: APIResource | None = None, **kw: Any
    ) -> Any:
        """Request + parse JSON; non-2xx becomes a typed error. `retry` only for reads."""

        def once() -> Any:
            resp = self._checked(method, path, res=res, **kw)
            try:
                data = resp.data
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc, self.name, self.server) from None
            finally:
                resp.release_conn()
            return json.loads(data) if data else {}

        return self._attempts(once, retry)

    @staticmethod
    def _backoff(attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), 2.0)
            except ValueError:
                pass
        return _BACKOFF[min(attempt, len(_BACKOFF) - 1)]

    def _fetch_json(self, path: str, accept: str) -> Any:
        return self._call("GET", path, retry=True, accept=accept)

    # ------------------------------------------------------------------ paths

    @staticmethod
    def _path(
        res: APIResource, namespace: str | None, name: str | None = None, sub: str | None = None
    ) -> str:
        p = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
        if res.namespaced and namespace:
            p += f"/namespaces/{quote(namespace, safe='')}"
        p += f"/{res.plural}"
        if name is not None:
            if not name:
                raise BadRequest("resource name may not be empty")
            p += f"/{quote(name, safe='')}"
        if sub:
            p += f"/{quote(sub, safe='')}"
        return p

    def _obj_target(self, obj: Obj) -> tuple[APIResource, str, str]:
        res = self.resource_for(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))
        md = obj.get("metadata") or {}
        ns = (md.get("namespace") or "default") if res.namespaced else ""
        return res, ns, str(md.get("name") or "")

    @staticmethod
    def _write_query(field_manager: str, dry_run: bool) -> Query:
        q: Query = []
        if field_manager:
            q.append(("fieldManager", field_manager))
        if dry_run:
            q.append(("dryRun", "All"))
        return q

    def _after_write(self, res: APIResource, dry_run: bool) -> None:
        if not dry_run and (res.group, res.kind) in _DISCOVERY_KINDS:
            self.discovery_cache.expect_change()

    # ------------------------------------------------------------------ Cluster protocol: reads

    def discovery(self) -> list[APIResource]:
        return self.discovery_cache.resources()

    def resource_for(self, api_version: str, kind: str) -> APIResource:
        return self.discovery_cache.resource_for(api_version, kind)

    def invalidate_discovery(self) -> None:
        self.discovery_cache.invalidate()

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        res = self.resource_for(api_version, kind)
        ns = (namespace or "default") if res.namespaced else ""
        out: Obj = self._call("GET", self._path(res, ns, name), retry=True, res=res)
        return out

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
    ) -> ListResult:
        res = self.resource_for(api_version, kind)
        return self.list_resource(res, namespace, label_selector=label_selector)

    def list_resource(
        self, res: APIResource, namespace: str | None = None, *, label_selector: str | None = None
    ) -> ListResult:
        """Paged list (500 per page) of one discovery entry; items carry apiVersion and kind."""
        path = self._path(res, namespace or None)
        items: list[Obj] = []
        token = ""
        rv = ""
        while True:
            q: Query = [("limit", _LIST_PAGE)]
            if label_selector:
                q.append(("labelSelector", label_selector))
            if token:
                q.append(("continue", token))
            try:
                page = self._call("GET", path, retry=True, query=q, res=res)
            except Gone:
                if not token:
                    raise
                items, token, rv = [], "", ""  # continue token expired mid-list: start over
                continue
            md = page.get("metadata") or {}
            rv = rv or str(md.get("resourceVersion") or "")
            for it in page.get("items") or []:
                it.setdefault("apiVersion", res.api_version)
                it.setdefault("kind", res.kind)
                items.append(it)
            token = str(md.get("continue") or "")
            if not token:
                return ListResult(items=items, resource_version=rv)

    def server_version(self) -> str:
        return str(self._call("GET", "/version", retry=True).get("gitVersion") or "")

    def self_subject_review(self) -> Obj:
        """POST a SelfSubjectReview (nothing is stored): the authenticated user and groups."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        out = self._call(
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            body=body,
            content_type="application/json",
        )
        info: Obj = ((out.get("status") or {}).get("userInfo")) or {}
        return info

    def access_review(
        self, verb: str, resource: str, *, group: str = "", namespace: str = "", name: str = ""
    ) -> bool:
        attrs: Obj = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attrs["namespace"] = namespace
        if name:
            attrs["name"] = name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        out = self._call(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body=body,
            content_type="application/json",
        )
        return bool((out.get("status") or {}).get("allowed"))

    def logs(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        *,
        tail: int | None = None,
        follow: bool = False,
        previous: bool = False,
    ) -> KubeLogStream:
        """GET pods/log; the stream is open (errors raised) when this returns."""
        res = self.resource_for("v1", "Pod")
        path = self._path(res, namespace or "default", pod, "log")
        q = log_query(container, tail, follow, previous)
        timeout = (5.0, None) if follow else (5.0, self.request_timeout)
        resp = self._attempts(
            lambda: self._checked("GET", path, query=q, accept="*/*", timeout=timeout, res=res), retry=True
        )
        return KubeLogStream(resp, lambda exc: transport_error(exc, self.name, self.server))

    # ------------------------------------------------------------------ Cluster protocol: writes

    def create(self, obj: Obj, *, field_manager: str, dry_run: bool = False) -> Obj:
        res, ns, _name = self._obj_target(obj)
        body = dict(obj)
        if res.namespaced:
            body["metadata"] = {**(obj.get("metadata") or {}), "namespace": ns}
        out: Obj = self._call(
            "POST",
            self._path(res, ns),
            query=self._write_query(field_manager, dry_run),
            body=body,
            content_type="application/json",
            res=res,
        )
        self._after_write(res, dry_run)
        return out

    def update(
        self, obj: Obj, *, field_manager: str, dry_run: bool = False, subresource: str | None = None
    ) -> Obj:
        res, ns, name = self._obj_target(obj)
        out: Obj = self._call(
            "PUT",
            self._path(res, ns, name, subresource),
            query=self._write_query(field_manager, dry_run),
            body=obj,
            content_type="application/json",
            res=None if subresource else res,
        )
        self._after_write(res, dry_run)
        return out

    def apply(
        self,
        obj: Obj,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        res, ns, name = self._obj_target(obj)
        q = self._write_query(field_manager, dry_run)
        if force:
            q.append(("force", "true"))
        # JSON is YAML: the apply content type takes either; JSON keeps numbers/strings exact.
        out: Obj = self._call(
            "PATCH",
            self._path(res, ns, name, subresource),
            query=q,
            body=json.dumps(obj),
            content_type=_APPLY_TYPE,
            res=None if subresource else res,
        )
        self._after_write(res, dry_run)
        return out

    def patch(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        patch: Obj | ObjList,
        *,
        patch_type: Literal["merge", "json", "strategic"] = "merge",
        field_manager: str,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        if patch_type not in _PATCH_TYPES:
            raise BadRequest(f"unsupported patch type {patch_type!r}")
        if patch_type == "json" and not isinstance(patch, list):
            raise BadRequest("json patch must be a list of operations")
        res = self.resource_for(api_version, kind)
        ns = (namespace or "default") if res.namespaced else ""
        out: Obj = self._call(
            "PATCH",
            self._path(res, ns, name, subresource),
            query=self._write_query(field_manager, dry_run),
            body=patch,
            content_type=_PATCH_TYPES[patch_type],
            res=None if subresource else res,
        )
        self._after_write(res, dry_run)
        return out

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
        res = self.resource_for(api_version, kind)
        ns = (namespace or "default") if res.namespaced else ""
        opts: Obj = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation_policy}
        if dry_run:
            opts["dryRun"] = ["All"]
        if resource_version:
            opts["preconditions"] = {"resourceVersion": str(resource_version)}
        out = self._call(
            "DELETE", self._path(res, ns, name), body=opts, content_type="application/json", res=res
        )
        self._after_write(res, dry_run)
        if not isinstance(out, dict) or out.get("kind") == "Status":
            return None
        if (out.get("metadata") or {}).get("deletionTimestamp"):
            return out  # finalizers (or graceful pod termination) keep it: still there, marked
        return None

    # ------------------------------------------------------------------ watch

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        timeout_seconds: float = 30.0,
    ) -> WatchStream:
        """Opens the stream now (so 403/404/410 raise here), yields events lazily; an ERROR event
        with code 410 raises Gone, other ERROR events raise their typed error."""
        res = self.resource_for(api_version, kind)
        return self.watch_resource(
            res, namespace, resource_version=resource_version, timeout_seconds=timeout_seconds
        )

    def watch_resource(
        self,
        res: APIResource,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        timeout_seconds: float = 30.0,
    ) -> WatchStream:
        q: Query = [
            ("watch", "1"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", max(1, math.ceil(timeout_seconds))),
        ]
        if resource_version:
            q.append(("resourceVersion", str(resource_version)))
        path = self._path(res, namespace or None)
        resp = self._attempts(
            lambda: self._checked("GET", path, query=q, timeout=(5.0, timeout_seconds + 10.0), res=res),
            retry=True,
        )
        stream = WatchStream(resp, lambda exc: transport_error(exc, self.name, self.server), self._forget)
        with self._open_lock:
            self._open.add(stream)
        return stream

    def _forget(self, stream: WatchStream) -> None:
        with self._open_lock:
            self._open.discard(stream)

    # ------------------------------------------------------------------ live-object cache

    def list_all_objects(self) -> ObjList:
        """Every live object of every tracked kind, from the watch cache (started on first call)."""
        if not self._watch_cache_enabled:
            return list_everything(self, self._cache_exclude)
        with self._cache_lock:
            cache = self._cache
            if cache is None:
                cache = ObjectCache(self, exclude=self._cache_exclude)
                try:
                    cache.start()
                except BaseException:
                    cache.close()  # kinds listed before the failure already have threads
                    raise
                self._cache = cache
        return cache.objects()

    def close(self) -> None:
        """Stop cache threads and abort open watch streams (a later call starts afresh)."""
        with self._cache_lock:
            cache, self._cache = self._cache, None
        if cache is not None:
            cache.close()
        with self._open_lock:
            open_now = list(self._open)
        for stream in open_now:
            stream.close()
        self.api.rest_client.close()
