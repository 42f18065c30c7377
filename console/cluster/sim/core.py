"""The write path shared by the public API and the simulated controllers.

Every method here runs inside a Store transaction (the caller opens it). A write goes through the
same stages as in the real apiserver: resolve kind -> prepare (system metadata, status reset) ->
defaulting -> validation -> generation -> managedFields -> persist (global resourceVersion, watch
event, ownerReference index, controller queue).

The stages live beside this file: kind resolution and reads (`kinds`), allocation (`allocate`),
defaulting (`defaults`), validation (`validation`), admission (`admission`), managedFields
(`managedfields`), persistence (`persist`); this module is the request pipeline that runs them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
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
from console.cluster.sim.allocate import Allocation
from console.cluster.sim.defaults import apply_defaults
from console.cluster.sim.discovery import (
    KindInfo,
)
from console.cluster.sim.fastcopy import fast_copy
from console.cluster.sim.objects import (
    CRD_FINALIZER,
    CRD_GROUP,
    CRD_KIND,
    SYSTEM_META,
    bare,
    clean,
    qos_class,
    rand_suffix,
    sans_rv,
    sans_rv_and_times,
    spec_part,
)
from console.cluster.sim.patch import json_patch, merge_patch, strategic_merge_patch
from console.cluster.sim.persist import Persistence
from console.cluster.sim.store import Key
from console.cluster.sim.validation import validate

log = logging.getLogger(__name__)


Obj = dict[str, Any]


# Finalizers the real server (admission plugins / apiextensions) puts on new objects.
_CREATE_FINALIZERS = {
    ("", "PersistentVolumeClaim"): "kubernetes.io/pvc-protection",
    ("", "PersistentVolume"): "kubernetes.io/pv-protection",
    (CRD_GROUP, CRD_KIND): CRD_FINALIZER,
}


class Core(Persistence, Allocation):
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
        for k in (*SYSTEM_META, "resourceVersion", "selfLink"):
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
            status = {"phase": "Pending", "qosClass": qos_class(obj)}
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
        for k in (*SYSTEM_META, "name", "namespace"):
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
            changed = spec_part(old, sinfo) != spec_part(new, sinfo)
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
        if sans_rv(old) == sans_rv(new) or sans_rv_and_times(old) == sans_rv_and_times(new):
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
            p for p in mf.field_set(mf.view(config, bare(sinfo), subresource), info.kind) if keep(p)
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
            if sans_rv(new) != sans_rv(old):
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
        if sans_rv(old) == sans_rv(new):
            return old
        return self._commit(info, key, old, new, False)


Reconciler = Callable[[Core, Key], None]
