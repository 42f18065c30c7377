"""The write path shared by the public API and the simulated controllers.

Every method here runs inside a Store transaction (the caller opens it). A write goes through the
same stages as in the real apiserver: resolve kind -> prepare (system metadata, status reset) ->
defaulting -> validation -> generation -> managedFields -> persist (global resourceVersion, watch
event, ownerReference index, controller queue).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from console.cluster.api import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PropagationPolicy,
    split_api_version,
)
from console.cluster.sim import admission
from console.cluster.sim import convert as conv
from console.cluster.sim import managedfields as mf
from console.cluster.sim.clock import SimClock, rfc3339
from console.cluster.sim.defaults import apply_defaults
from console.cluster.sim.discovery import (
    BUILTINS,
    KindInfo,
    builtin,
    crd_established,
    kinds_of_crd,
    no_kind_match,
    storage_info,
)
from console.cluster.sim.fastcopy import fast_copy
from console.cluster.sim.patch import json_patch, merge_patch, strategic_merge_patch
from console.cluster.sim.store import Key, Store
from console.cluster.sim.validation import validate

log = logging.getLogger(__name__)
Obj = dict[str, Any]
GC_KIND = "__gc"
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SYSTEM_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"

# Finalizers the real server (admission plugins / apiextensions) puts on new objects.
_CREATE_FINALIZERS = {
    ("", "PersistentVolumeClaim"): "kubernetes.io/pvc-protection",
    ("", "PersistentVolume"): "kubernetes.io/pv-protection",
    (CRD_GROUP, CRD_KIND): CRD_FINALIZER,
}

# Kinds with a simulated controller; writes to them enqueue a reconcile.
CONTROLLED: set[tuple[str, str]] = set()


def rand_suffix(n: int = 5) -> str:
    return "".join(random.choice(NAME_ALPHABET) for _ in range(n))


def clean(value: Any) -> Any:
    """Deep copy without nulls (typed decoding drops them)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def owner_refs(obj: Obj) -> list[Obj]:
    return [r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if isinstance(r, dict)]


def _sans_rv(obj: Obj) -> Obj:
    out = dict(obj)
    md = dict(out.get("metadata") or {})
    md.pop("resourceVersion", None)
    out["metadata"] = md
    return out


def _sans_rv_and_times(obj: Obj) -> Obj:
    """The object as the apiserver's no-op detection sees it: no resourceVersion, and managedFields
    without their timestamps (IgnoreManagedFieldsTimestampsTransformer)."""
    out = _sans_rv(obj)
    md = out["metadata"]
    if isinstance(md.get("managedFields"), list):
        md["managedFields"] = [
            {k: v for k, v in e.items() if k != "time"} if isinstance(e, dict) else e
            for e in md["managedFields"]
        ]
    return out


def _spec_part(obj: Obj, info: KindInfo) -> Obj:
    """What a generation bump looks at: everything but metadata (and status where it is separate)."""
    skip = {"metadata", "apiVersion", "kind"}
    if info.status_subresource or info.builtin:
        skip.add("status")
    return {k: v for k, v in obj.items() if k not in skip}


class Core:
    def __init__(self, store: Store, clock: SimClock, cluster_name: str) -> None:
        self.store = store
        self.clock = clock
        self.cluster_name = cluster_name
        self._crd_cache: tuple[int, list[KindInfo]] = (-1, [])
        self._now: datetime | None = None
        self.request_user = "admin"  # who the current API request is from (CEL request.userInfo)
        self.request_groups: tuple[str, ...] = admission.ADMIN_GROUPS

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return self._now or self.clock.now()

    def now_str(self) -> str:
        return rfc3339(self.now())

    def now_ts(self) -> float:
        return self.now().timestamp()

    # ------------------------------------------------------------------ discovery

    def crd_kinds(self) -> list[KindInfo]:
        row = self.store.conn.execute("SELECT value FROM meta WHERE key='crd_epoch'").fetchone()
        epoch = int(row[0]) if row else 0
        if self._crd_cache[0] != epoch:
            infos: list[KindInfo] = []
            for crd in self.store.list_objects(CRD_GROUP, CRD_KIND, ""):
                if crd_established(crd):
                    infos.extend(kinds_of_crd(crd))
            self._crd_cache = (epoch, infos)
        return self._crd_cache[1]

    def all_kinds(self) -> list[KindInfo]:
        return list(BUILTINS) + self.crd_kinds()

    def info(self, api_version: str, kind: str) -> KindInfo:
        group, version = split_api_version(api_version)
        found = builtin(group, version, kind)
        if found:
            return found
        for k in self.crd_kinds():
            if k.group == group and k.resource.version == version and k.kind == kind:
                return k
        raise no_kind_match(api_version, kind)

    def storage(self, group: str, kind: str) -> KindInfo | None:
        found = storage_info(group, kind)
        if found:
            return found
        for k in self.crd_kinds():
            if k.group == group and k.kind == kind:
                return k
        return None

    def _bump_crd_epoch(self) -> None:
        self.store.conn.execute(
            "INSERT INTO meta(key, value) VALUES('crd_epoch', '1') "
            "ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER)+1"
        )

    # ------------------------------------------------------------------ allocation (DefaultsContext)

    def allocate_cluster_ip(self) -> str:
        net = ipaddress.ip_network("10.96.0.0/12")
        n = int(self.store.meta_get("svc_ip_next", 11))
        while True:
            ip = str(net.network_address + n)
            n += 1
            used = self.store.conn.execute(
                "SELECT 1 FROM objects WHERE grp='' AND kind='Service' AND json_extract(body,'$.spec.clusterIP')=?",
                (ip,),
            ).fetchone()
            if not used:
                break
        self.store.meta_set("svc_ip_next", n)
        return ip

    def allocate_node_port(self) -> int:
        n = int(self.store.meta_get("node_port_next", 30000))
        self.store.meta_set("node_port_next", 30000 + ((n + 1 - 30000) % 2768))
        return n

    def default_storage_class(self) -> str | None:
        for sc in self.store.list_objects("storage.k8s.io", "StorageClass", ""):
            ann = (sc.get("metadata") or {}).get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                return str(sc["metadata"]["name"])
        return None

    def default_ingress_class(self) -> str | None:
        for ic in self.store.list_objects("networking.k8s.io", "IngressClass", ""):
            ann = (ic.get("metadata") or {}).get("annotations") or {}
            if ann.get("ingressclass.kubernetes.io/is-default-class") == "true":
                return str(ic["metadata"]["name"])
        return None

    # ------------------------------------------------------------------ reads

    def key_for(self, info: KindInfo, namespace: str | None, name: str) -> Key:
        ns = (namespace or "default") if info.namespaced else ""
        return (info.group, info.kind, ns, name)

    def get_raw(self, key: Key) -> Obj | None:
        return self.store.get(key)

    def get(self, info: KindInfo, namespace: str, name: str) -> Obj:
        key = self.key_for(info, namespace, name)
        obj = self.store.get(key)
        if obj is None:
            raise NotFound(f'{info.qualified_resource} "{name}" not found')
        return conv.convert(obj, info.resource.api_version)

    def find(self, group: str, kind: str, namespace: str, name: str) -> Obj | None:
        return self.store.get((group, kind, namespace, name))

    def dependents(self, uid: str) -> list[Obj]:
        out = []
        for key in self.store.dependents(uid):
            obj = self.store.get(key)
            if obj is not None:
                out.append(obj)
        return out

    # ------------------------------------------------------------------ namespace checks

    def _check_namespace(self, info: KindInfo, ns: str, name: str) -> None:
        if not info.namespaced:
            return
        nso = self.store.get(("", "Namespace", "", ns))
        if nso is None:
            raise NotFound(f'namespaces "{ns}" not found')
        if (nso.get("metadata") or {}).get("deletionTimestamp"):
            raise Forbidden(
                f'{info.qualified_resource} "{name}" is forbidden: unable to create new content in namespace '
                f"{ns} because it is being terminated"
            )

    def _check_crd_terminating(self, info: KindInfo) -> None:
        if info.builtin:
            return
        for crd in self.store.list_objects(CRD_GROUP, CRD_KIND, ""):
            spec = crd.get("spec") or {}
            if spec.get("group") == info.group and (spec.get("names") or {}).get("kind") == info.kind:
                if (crd.get("metadata") or {}).get("deletionTimestamp"):
                    raise Forbidden(
                        f'{info.qualified_resource} "{info.kind}" is forbidden: create not allowed while custom '
                        "resource definition is terminating"
                    )

    # ------------------------------------------------------------------ create

    def create(
        self,
        obj: Obj,
        *,
        field_manager: str,
        dry_run: bool = False,
        operation: str = "Update",
        applied_set: mf.FieldSet | None = None,
    ) -> Obj:
        if not field_manager and operation == "Apply":
            raise BadRequest(
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                "is required for apply patch"
            )
        api_version = str(obj.get("apiVersion") or "")
        info = self.info(api_version, str(obj.get("kind") or ""))
        obj = clean(obj)
        md = obj.setdefault("metadata", {})
        if info.namespaced:
            md["namespace"] = md.get("namespace") or "default"
        else:
            md.pop("namespace", None)
        ns = md.get("namespace", "")
        if not md.get("name") and md.get("generateName"):
            for _ in range(20):
                candidate = f"{md['generateName']}{rand_suffix()}"
                if self.store.get((info.group, info.kind, ns, candidate)) is None:
                    md["name"] = candidate
                    break
        name = str(md.get("name") or "")
        self._check_namespace(info, ns, name)
        self._check_crd_terminating(info)
        key: Key = (info.group, info.kind, ns, name)
        if name and self.store.get(key) is not None:
            raise AlreadyExists(f'{info.qualified_resource} "{name}" already exists')
        for k in (*_SYSTEM_META, "resourceVersion", "selfLink"):
            md.pop(k, None)
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = self.now_str()
        if info.generation:
            md["generation"] = 1
        obj = self._to_storage(obj, info)
        sinfo = self.storage(info.group, info.kind) or info
        self._reset_status_on_create(obj, sinfo)
        admission_finalizer = _CREATE_FINALIZERS.get((info.group, info.kind))
        if admission_finalizer:
            fins = md.setdefault("finalizers", [])
            if admission_finalizer not in fins:
                fins.append(admission_finalizer)
        apply_defaults(obj, info.group, info.kind, None, self)
        validate(obj, sinfo, None)
        admission.admit(
            self,
            "CREATE",
            sinfo,
            api_version,
            obj,
            None,
            dry_run=dry_run,
            user=self.request_user,
            groups=self.request_groups,
            field_manager=field_manager,
        )
        if operation == "Apply":
            entries = [
                mf.Entry(field_manager, "Apply", api_version, "", self.now_str(), set(applied_set or set()))
            ]
        else:
            cmp = mf.compare(mf.view(None, sinfo, None), mf.view(obj, sinfo, None), info.kind)
            cmp = cmp.filter(mf.keep_for(sinfo, None))
            entries = mf.record_update([], cmp, field_manager, api_version, "", self.now_str())
        self._set_managed(obj, entries)
        out = self._commit(sinfo, key, None, obj, dry_run)
        return conv.convert(out, api_version)

    def _reset_status_on_create(self, obj: Obj, info: KindInfo) -> None:
        if not info.status_subresource or info.kind == "Node":
            return
        if not info.builtin:
            obj.pop("status", None)
            return
        status: Obj = {}
        if info.kind == "Pod":
            status = {"phase": "Pending", "qosClass": _qos_class(obj)}
        elif info.kind == "Namespace":
            status = {"phase": "Active"}
        elif info.kind in ("PersistentVolumeClaim", "PersistentVolume"):
            status = {"phase": "Pending"}
        obj["status"] = status

    def _to_storage(self, obj: Obj, info: KindInfo) -> Obj:
        sinfo = self.storage(info.group, info.kind) or info
        return conv.convert(obj, sinfo.resource.api_version)

    @staticmethod
    def _set_managed(obj: Obj, entries: list[mf.Entry]) -> None:
        encoded = mf.encode(entries)
        md = obj.setdefault("metadata", {})
        if encoded:
            md["managedFields"] = encoded
        else:
            md.pop("managedFields", None)

    # ------------------------------------------------------------------ update / patch / apply

    def _load_for_write(self, info: KindInfo, namespace: str | None, name: str) -> tuple[Key, Obj]:
        key = self.key_for(info, namespace, name)
        old = self.store.get(key)
        if old is None:
            raise NotFound(f'{info.qualified_resource} "{name}" not found')
        return key, old

    @staticmethod
    def _conflict(info: KindInfo, name: str) -> Conflict:
        return Conflict(
            f'Operation cannot be fulfilled on {info.qualified_resource} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )

    def update(
        self, obj: Obj, *, field_manager: str, dry_run: bool = False, subresource: str | None = None
    ) -> Obj:
        api_version = str(obj.get("apiVersion") or "")
        kind = str(obj.get("kind") or "")
        if subresource == "scale" and kind == "Scale":
            raise BadRequest(
                "pass the scaled object itself (with spec.replicas) to update(subresource='scale')"
            )
        info = self.info(api_version, kind)
        obj = clean(obj)
        md = obj.setdefault("metadata", {})
        name = str(md.get("name") or "")
        key, old = self._load_for_write(info, md.get("namespace"), name)
        rv = md.get("resourceVersion")
        if rv and str(rv) != (old.get("metadata") or {}).get("resourceVersion"):
            raise self._conflict(info, name)
        new = self._merge_subresource(info, old, self._to_storage(obj, info), subresource)
        return conv.convert(
            self._finish_update(info, key, old, new, field_manager, api_version, subresource, dry_run),
            api_version,
        )

    def patch(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        body: Obj | list[Obj],
        *,
        patch_type: str,
        field_manager: str,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        info = self.info(api_version, kind)
        key, old = self._load_for_write(info, namespace, name)
        current = conv.convert(fast_copy(old), api_version)
        if patch_type == "merge":
            patched = merge_patch(current, body)
        elif patch_type == "json":
            patched = json_patch(current, body)  # type: ignore[arg-type]
        elif patch_type == "strategic":
            if not info.builtin:
                raise BadRequest(
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                )
            patched = strategic_merge_patch(current, body, info.kind)
        else:
            raise BadRequest(f"unsupported patch type {patch_type!r}")
        if not isinstance(patched, dict):
            raise BadRequest("patch result is not an object")
        pmd = patched.setdefault("metadata", {})
        if pmd.get("name") != name:
            raise BadRequest(
                f"the name of the object ({pmd.get('name')}) does not match the name on the URL ({name})"
            )
        rv = pmd.get("resourceVersion")
        if rv and str(rv) != (old.get("metadata") or {}).get("resourceVersion"):
            raise self._conflict(info, name)
        if pmd.get("managedFields") == (current.get("metadata") or {}).get("managedFields"):
            pmd.pop("managedFields", None)
        patched = clean(patched)
        new = self._merge_subresource(info, old, self._to_storage(patched, info), subresource)
        return conv.convert(
            self._finish_update(info, key, old, new, field_manager, api_version, subresource, dry_run),
            api_version,
        )

    def _merge_subresource(self, info: KindInfo, old: Obj, obj: Obj, subresource: str | None) -> Obj:
        sinfo = self.storage(info.group, info.kind) or info
        if subresource == "status":
            if not sinfo.status_subresource:
                raise NotFound(f'{info.qualified_resource} "{old["metadata"]["name"]}" not found')
            new = fast_copy(old)
            new["status"] = fast_copy(obj.get("status") or {})
            if (sinfo.group, sinfo.kind) == ("apps", "Deployment"):
                # deploymentStatusStrategy resets spec and labels only: the controller writes the
                # revision annotation through /status.
                annotations = (obj.get("metadata") or {}).get("annotations")
                if annotations:
                    new["metadata"]["annotations"] = fast_copy(annotations)
                else:
                    new["metadata"].pop("annotations", None)
            return new
        if subresource == "scale":
            if "scale" not in sinfo.resource.subresources:
                raise NotFound(f'{info.qualified_resource} "{old["metadata"]["name"]}" not found')
            new = fast_copy(old)
            new.setdefault("spec", {})["replicas"] = (obj.get("spec") or {}).get("replicas")
            return new
        if subresource:
            raise BadRequest(f"subresource {subresource!r} does not accept writes in the sim")
        new = fast_copy(obj)
        md = new.setdefault("metadata", {})
        omd = old.get("metadata") or {}
        for k in (*_SYSTEM_META, "name", "namespace"):
            if k in omd:
                md[k] = omd[k]
            else:
                md.pop(k, None)
        if "managedFields" not in md and "managedFields" in omd:
            md["__keep_managed__"] = True
        if sinfo.status_subresource:
            if "status" in old:
                new["status"] = fast_copy(old["status"])
            else:
                new.pop("status", None)
        if sinfo.kind == "Namespace":
            new.setdefault("spec", {})["finalizers"] = list((old.get("spec") or {}).get("finalizers") or [])
        return new

    def _finish_update(
        self,
        info: KindInfo,
        key: Key,
        old: Obj,
        new: Obj,
        manager: str,
        api_version: str,
        subresource: str | None,
        dry_run: bool,
        entries: list[mf.Entry] | None = None,
    ) -> Obj:
        sinfo = self.storage(info.group, info.kind) or info
        md = new.setdefault("metadata", {})
        keep_old_managed = md.pop("__keep_managed__", False)
        apply_defaults(new, info.group, info.kind, old, self)
        validate(new, sinfo, old)
        admission.admit(
            self,
            "UPDATE",
            sinfo,
            api_version,
            new,
            old,
            subresource=subresource,
            dry_run=dry_run,
            user=self.request_user,
            groups=self.request_groups,
            field_manager=manager,
        )
        if entries is None:
            incoming = md.get("managedFields")
            old_managed = (old.get("metadata") or {}).get("managedFields")
            if keep_old_managed or incoming is None or incoming == old_managed:
                base, record = mf.decode(old_managed), True
            else:
                base, record = mf.decode(incoming), bool(incoming)
            entries = []
            if record:
                cmp = mf.compare(
                    mf.view(old, sinfo, subresource), mf.view(new, sinfo, subresource), info.kind
                )
                cmp = cmp.filter(mf.keep_for(sinfo, subresource))
                entries = mf.record_update(base, cmp, manager, api_version, subresource or "", self.now_str())
        self._set_managed(new, entries)
        if sinfo.generation:
            gen = int((old.get("metadata") or {}).get("generation") or 1)
            changed = _spec_part(old, sinfo) != _spec_part(new, sinfo)
            if (sinfo.group, sinfo.kind) == ("apps", "Deployment") and subresource is None:
                # The Deployment strategy also counts annotation changes (legacy rollback annotation).
                changed = changed or (old.get("metadata") or {}).get("annotations") != md.get("annotations")
            md["generation"] = gen + (1 if changed else 0)
        if md.get("deletionTimestamp") and not md.get("finalizers") and not self._ns_finalizers(sinfo, new):
            if dry_run:
                return new
            self._remove(sinfo, key, new)
            return new
        # A write that changes nothing but managedFields timestamps is a no-op, as in the real
        # apiserver: the object (resourceVersion, times) stays as it was and no event is sent.
        if _sans_rv(old) == _sans_rv(new) or _sans_rv_and_times(old) == _sans_rv_and_times(new):
            return old
        return self._commit(sinfo, key, old, new, dry_run)

    @staticmethod
    def _ns_finalizers(info: KindInfo, obj: Obj) -> list[str]:
        if info.kind != "Namespace" or info.group:
            return []
        return list((obj.get("spec") or {}).get("finalizers") or [])

    def apply(
        self,
        obj: Obj,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        api_version = str(obj.get("apiVersion") or "")
        info = self.info(api_version, str(obj.get("kind") or ""))
        md_in = obj.get("metadata") or {}
        if md_in.get("managedFields") is not None:
            raise BadRequest("metadata.managedFields must be nil")
        if not field_manager:
            raise BadRequest(
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                "is required for apply patch"
            )
        config = clean(obj)
        cmd = config.setdefault("metadata", {})
        name = str(cmd.get("name") or "")
        sinfo = self.storage(info.group, info.kind) or info
        key = self.key_for(info, cmd.get("namespace"), name)
        old = self.store.get(key)
        keep = mf.keep_for(sinfo, subresource)
        rv = cmd.pop("resourceVersion", None)
        if subresource == "status":
            config = {
                "apiVersion": config.get("apiVersion"),
                "kind": config.get("kind"),
                "metadata": {"name": name},
                "status": config.get("status") or {},
            }
        elif subresource is None and sinfo.status_subresource:
            config.pop("status", None)
        config_set = {
            p for p in mf.field_set(mf.view(config, _bare(sinfo), subresource), info.kind) if keep(p)
        }
        if old is None:
            if subresource:
                raise NotFound(f'{info.qualified_resource} "{name}" not found')
            return self.create(
                config,
                field_manager=field_manager,
                dry_run=dry_run,
                operation="Apply",
                applied_set=config_set,
            )
        if rv and str(rv) != (old.get("metadata") or {}).get("resourceVersion"):
            raise self._conflict(info, name)
        config = self._to_storage(config, info)
        live = fast_copy(old)
        entries = mf.decode((live.get("metadata") or {}).pop("managedFields", None))
        cfg_body = {k: v for k, v in config.items() if k not in ("apiVersion", "kind")}
        cfg_md = {
            k: v
            for k, v in (cfg_body.get("metadata") or {}).items()
            if k in ("labels", "annotations", "finalizers", "ownerReferences")
        }
        cfg_body["metadata"] = cfg_md
        merged = mf.ssa_merge(live, cfg_body, info.kind)
        own = next(
            (e for e in entries if e.identity == (field_manager, "Apply", subresource or "", "")), None
        )
        if own is not None:
            owned: mf.FieldSet = set(config_set)
            for e in entries:
                if e is not own:
                    owned |= e.fields
            remove = own.fields - owned
            if remove:
                merged = mf.prune(merged, remove, owned, info.kind)
        cmp = mf.compare(mf.view(old, sinfo, subresource), mf.view(merged, sinfo, subresource), info.kind)
        cmp = cmp.filter(keep)
        entries = mf.record_apply(
            entries,
            cmp,
            config_set,
            field_manager,
            api_version,
            subresource or "",
            force,
            self.now_str(),
            not cmp.empty(),
        )
        out = self._finish_update(
            info, key, old, merged, field_manager, api_version, subresource, dry_run, entries=entries
        )
        return conv.convert(out, api_version)

    # ------------------------------------------------------------------ delete

    def delete(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        *,
        propagation_policy: PropagationPolicy = "Background",
        dry_run: bool = False,
        resource_version: str | None = None,
    ) -> Obj | None:
        key, old = self._load_for_write(info, namespace, name)
        sinfo = self.storage(info.group, info.kind) or info
        omd = old.get("metadata") or {}
        if resource_version and str(resource_version) != omd.get("resourceVersion"):
            raise Conflict(
                f'Operation cannot be fulfilled on {info.qualified_kind} "{name}": the ResourceVersion in the '
                f"precondition ({resource_version}) does not match the ResourceVersion in record "
                f"({omd.get('resourceVersion')}). The object might have been modified"
            )
        admission.admit(
            self,
            "DELETE",
            sinfo,
            info.resource.api_version,
            None,
            old,
            dry_run=dry_run,
            user=self.request_user,
            groups=self.request_groups,
        )
        finalizers = list(omd.get("finalizers") or [])
        if propagation_policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if propagation_policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        is_ns = sinfo.kind == "Namespace" and not sinfo.group
        if finalizers or is_ns or omd.get("deletionTimestamp"):
            new = fast_copy(old)
            md = new["metadata"]
            if not md.get("deletionTimestamp"):
                md["deletionTimestamp"] = self.now_str()
                md["deletionGracePeriodSeconds"] = 0
                if sinfo.generation:
                    md["generation"] = int(md.get("generation") or 1) + 1
            if finalizers:
                md["finalizers"] = finalizers
            if is_ns:
                new.setdefault("status", {})["phase"] = "Terminating"
            if dry_run:
                return conv.convert(new, info.resource.api_version)
            if _sans_rv(new) != _sans_rv(old):
                new = self._commit(sinfo, key, old, new, False)
            self.enqueue_gc(str(md.get("uid")))
            return conv.convert(new, info.resource.api_version)
        if dry_run:
            return None
        self._remove(sinfo, key, old)
        return None

    def delete_obj(self, obj: Obj, propagation_policy: PropagationPolicy = "Background") -> Obj | None:
        """Controller-side delete by object (storage version)."""
        md = obj.get("metadata") or {}
        info = self.storage(split_api_version(str(obj.get("apiVersion")))[0], str(obj.get("kind")))
        if info is None:
            return None
        try:
            return self.delete(
                info, md.get("namespace", ""), md.get("name", ""), propagation_policy=propagation_policy
            )
        except NotFound:
            return None

    # ------------------------------------------------------------------ persistence

    def _commit(self, info: KindInfo, key: Key, old: Obj | None, new: Obj, dry_run: bool) -> Obj:
        md = new.setdefault("metadata", {})
        if dry_run:
            if old is not None:
                md["resourceVersion"] = (old.get("metadata") or {}).get("resourceVersion", "")
            else:
                md.pop("resourceVersion", None)
            return new
        rv = self.store.next_rv()
        md["resourceVersion"] = str(rv)
        body = json.dumps(new, separators=(",", ":"))
        self.store.put(key, str(md.get("uid")), rv, body)
        self.store.add_event(rv, "ADDED" if old is None else "MODIFIED", key, body)
        new_refs = owner_refs(new)
        if (old is None and new_refs) or (old is not None and owner_refs(old) != new_refs):
            self.store.set_owners(key, [str(r.get("uid")) for r in new_refs])
            for r in new_refs:
                if self.store.key_by_uid(str(r.get("uid"))) is None:
                    self.enqueue_gc(str(r.get("uid")))
        self._after_write(info, key, old, new)
        return new

    def _remove(self, info: KindInfo, key: Key, obj: Obj) -> None:
        rv = self.store.next_rv()
        obj = fast_copy(obj)
        obj.setdefault("metadata", {})["resourceVersion"] = str(rv)
        self.store.remove(key)
        self.store.add_event(rv, "DELETED", key, json.dumps(obj, separators=(",", ":")))
        md = obj["metadata"]
        self.enqueue_gc(str(md.get("uid")))
        for r in owner_refs(obj):
            self.enqueue_gc(str(r.get("uid")))
        self._after_write(info, key, obj, None)

    def enqueue(self, key: Key, at: float | None = None) -> None:
        self.store.enqueue(key, self.now_ts() if at is None else at)

    def enqueue_gc(self, uid: str) -> None:
        self.store.enqueue(("", GC_KIND, "", uid), self.now_ts())

    def _after_write(self, info: KindInfo, key: Key, old: Obj | None, new: Obj | None) -> None:
        group, kind, ns, _name = key
        if (group, kind) in CONTROLLED:
            self.enqueue(key)
        for obj in (old, new):
            for r in owner_refs(obj or {}):
                og, _ = split_api_version(str(r.get("apiVersion") or ""))
                oinfo = self.storage(og, str(r.get("kind") or ""))
                ons = ns if (oinfo is None or oinfo.namespaced) else ""
                if (og, r.get("kind")) in CONTROLLED:
                    self.enqueue((og, str(r.get("kind")), ons, str(r.get("name"))))
        if group == CRD_GROUP and kind == CRD_KIND:
            self._bump_crd_epoch()
        if new is None and ns:
            self.enqueue(("", "Namespace", "", ns))
            if kind != "ResourceQuota" or group:
                for quota in self.store.list_objects("", "ResourceQuota", ns):  # recount usage
                    self.enqueue(("", "ResourceQuota", ns, quota["metadata"]["name"]))
        if new is None and (group, kind) == ("", "PersistentVolumeClaim"):
            volume = ((old or {}).get("spec") or {}).get("volumeName")
            if volume:
                self.enqueue(("", "PersistentVolume", "", volume))
        if new is not None and (new.get("metadata") or {}).get("deletionTimestamp"):
            self.enqueue_gc(str(new["metadata"].get("uid")))
        if new is None and (group, kind) == ("", "Pod"):
            for vol in ((old or {}).get("spec") or {}).get("volumes") or []:
                claim = ((vol or {}).get("persistentVolumeClaim") or {}).get("claimName")
                if claim:
                    self.enqueue(("", "PersistentVolumeClaim", ns, claim))
        if (group, kind) in (("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet")) and ns:
            old_r = ((old or {}).get("spec") or {}).get("replicas")
            new_r = ((new or {}).get("spec") or {}).get("replicas")
            if old is None or new is None or old_r != new_r:
                for hpa in self.store.list_objects("autoscaling", "HorizontalPodAutoscaler", ns):
                    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
                    if ref.get("kind") == kind and ref.get("name") == key[3]:
                        # The HPA does not watch its target; it notices changes on its 15 s resync.
                        self.enqueue(
                            ("autoscaling", "HorizontalPodAutoscaler", ns, hpa["metadata"]["name"]),
                            self.now_ts() + 15,
                        )

    # ------------------------------------------------------------------ controller helpers

    def write_as(
        self, obj: Obj, manager: str, *, subresource: str | None = None, create: bool = False
    ) -> Obj:
        """Controller write (storage-version object): create, update or status update."""
        if create:
            return self.create(obj, field_manager=manager)
        clean_obj = fast_copy(obj)
        clean_obj.setdefault("metadata", {}).pop("resourceVersion", None)
        return self.update(clean_obj, field_manager=manager, subresource=subresource)

    def system_update(self, obj: Obj) -> Obj:
        """A write that bypasses the field manager (GC, finalizer bookkeeping done by the server)."""
        md = obj.get("metadata") or {}
        info = self.storage(split_api_version(str(obj.get("apiVersion")))[0], str(obj.get("kind")))
        assert info is not None
        key = self.key_for(info, md.get("namespace"), str(md.get("name")))
        old = self.store.get(key)
        if old is None:
            raise NotFound(f'{info.qualified_resource} "{md.get("name")}" not found')
        new = fast_copy(obj)
        nmd = new.setdefault("metadata", {})
        if nmd.get("deletionTimestamp") and not nmd.get("finalizers") and not self._ns_finalizers(info, new):
            self._remove(info, key, new)
            return new
        if _sans_rv(old) == _sans_rv(new):
            return old
        return self._commit(info, key, old, new, False)


def _bare(info: KindInfo) -> KindInfo:
    """Same kind without skeleton: apply configs own only what they contain."""
    return KindInfo(info.resource, info.status_subresource, info.generation, info.name_rule, (), info.builtin)


def _qos_class(pod: Obj) -> str:
    containers = ((pod.get("spec") or {}).get("containers") or []) + (
        (pod.get("spec") or {}).get("initContainers") or []
    )
    any_set = False
    guaranteed = True
    for c in containers:
        res = (c or {}).get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and req[r] != lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


Reconciler = Callable[[Core, Key], None]
