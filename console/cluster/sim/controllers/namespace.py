"""Namespace controllers: the per-namespace `default` ServiceAccount and `kube-root-ca.crt`
ConfigMap, and termination (delete all content, report what remains, then drop the
`kubernetes` finalizer so the namespace disappears)."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from console.cluster.sim.clock import rfc3339
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import KCM, set_condition
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
ROOT_CA = "-----BEGIN CERTIFICATE-----\nc2ltdWxhdGVkIGNsdXN0ZXIgQ0E=\n-----END CERTIFICATE-----\n"
RETRY = 5.0


def _ensure_defaults(core: Core, ns: str) -> None:
    if core.find("", "ServiceAccount", ns, "default") is None:
        core.write_as(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}},
            KCM,
            create=True,
        )
    if core.find("", "ConfigMap", ns, "kube-root-ca.crt") is None:
        core.write_as(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "kube-root-ca.crt",
                    "namespace": ns,
                    "annotations": {
                        "kubernetes.io/description": (
                            "Contains a CA bundle that can be used to verify the kube-apiserver when "
                            "using internal endpoints such as the internal service IP or "
                            "kubernetes.default.svc. No other usage is guaranteed across "
                            "distributions of Kubernetes clusters."
                        )
                    },
                },
                "data": {"ca.crt": ROOT_CA},
            },
            KCM,
            create=True,
        )


@register("", "Namespace")
def reconcile(core: Core, key: Key) -> None:
    nso = core.find(*key)
    if nso is None:
        return
    ns = key[3]
    if not nso["metadata"].get("deletionTimestamp"):
        _ensure_defaults(core, ns)
        return
    for k in core.store.keys_in_namespace(ns):
        obj = core.store.get(k)
        if obj is not None and not obj["metadata"].get("deletionTimestamp"):
            core.delete_obj(obj)
    remaining = [o for o in (core.store.get(k) for k in core.store.keys_in_namespace(ns)) if o is not None]
    now_s = rfc3339(core.now())
    status: Obj = copy.deepcopy(nso.get("status") or {})
    conds = status.get("conditions")
    for ctype, reason, msg in (
        ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        (
            "NamespaceDeletionContentFailure",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
    ):
        conds = set_condition(conds, ctype, "False", reason, msg, now_s)
    if remaining:
        kinds = Counter(_resource(core, o) for o in remaining)
        fins = Counter(f for o in remaining for f in o["metadata"].get("finalizers") or [])
        conds = set_condition(
            conds,
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain",
            "Some resources are remaining: "
            + ", ".join(f"{r} has {n} resource instances" for r, n in sorted(kinds.items())),
            now_s,
        )
        if fins:
            conds = set_condition(
                conds,
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: "
                + ", ".join(f"{f} in {n} resource instances" for f, n in sorted(fins.items())),
                now_s,
            )
        else:
            conds = set_condition(
                conds,
                "NamespaceFinalizersRemaining",
                "False",
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
                now_s,
            )
    else:
        conds = set_condition(
            conds,
            "NamespaceContentRemaining",
            "False",
            "ContentRemoved",
            "All content successfully removed",
            now_s,
        )
        conds = set_condition(
            conds,
            "NamespaceFinalizersRemaining",
            "False",
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
            now_s,
        )
    status.update({"phase": "Terminating", "conditions": conds})
    if status != nso.get("status"):
        updated = copy.deepcopy(nso)
        updated["status"] = status
        nso = core.write_as(updated, "kube-controller-manager", subresource="status")
    if remaining:
        core.enqueue(key, core.now_ts() + RETRY)
        return
    final = copy.deepcopy(nso)
    final["spec"]["finalizers"] = [f for f in (final["spec"].get("finalizers") or []) if f != "kubernetes"]
    if not final["spec"]["finalizers"]:
        del final["spec"]["finalizers"]
    core.system_update(final)


def _resource(core: Core, obj: Obj) -> str:
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    info = core.storage(group, str(obj.get("kind", "")))
    return f"{info.resource.plural}.{group}" if info else str(obj.get("kind", ""))
