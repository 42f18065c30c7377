"""Applications, AppProjects and ApplicationSets live as `trueup.dev` custom resources in the control
cluster (namespace `trueup`), exactly where Argo CD keeps its own. This module is the only code that
reads and writes them, through the same Cluster protocol on sim and on real clusters.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from console.cluster.api import Cluster, Conflict, NotFound, Obj
from console.engine import model

NAMESPACE = model.CONTROL_NAMESPACE
EXECUTOR_OWNED = ("operationState", "history")
API_VERSION = model.API_VERSION

_KINDS: tuple[tuple[str, str, str, list[str]], ...] = (
    ("Application", "applications", "app", ["apps"]),
    ("AppProject", "appprojects", "appproj", ["appprojs"]),
    ("ApplicationSet", "applicationsets", "appset", ["appsets"]),
    # the audit chain (console.engine.audit): one object per record, and the chain head
    ("AuditRecord", "auditrecords", "auditrec", []),
    ("AuditChain", "auditchains", "auditchain", []),
)

_PRINTER_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Application": [
        {"name": "Sync Status", "type": "string", "jsonPath": ".status.sync.status"},
        {"name": "Health Status", "type": "string", "jsonPath": ".status.health.status"},
        {"name": "Revision", "type": "string", "jsonPath": ".status.sync.revision", "priority": 10},
        {"name": "Project", "type": "string", "jsonPath": ".spec.project", "priority": 10},
    ],
    "AppProject": [{"name": "Description", "type": "string", "jsonPath": ".spec.description"}],
    "ApplicationSet": [],
    "AuditRecord": [
        {"name": "Seq", "type": "integer", "jsonPath": ".spec.seq"},
        {"name": "Time", "type": "string", "jsonPath": ".spec.time"},
        {"name": "Actor", "type": "string", "jsonPath": ".spec.actor.user"},
        {"name": "Action", "type": "string", "jsonPath": ".spec.action"},
        {"name": "App", "type": "string", "jsonPath": ".spec.app"},
        {"name": "Outcome", "type": "string", "jsonPath": ".spec.outcome"},
    ],
    "AuditChain": [
        {"name": "Seq", "type": "integer", "jsonPath": ".spec.seq"},
        {"name": "Hash", "type": "string", "jsonPath": ".spec.hash"},
    ],
}


def crds() -> list[Obj]:
    """The CustomResourceDefinitions `trueup install` applies (schema kept open like Argo's)."""
    out = []
    for kind, plural, short, extra_short in _KINDS:
        out.append(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{plural}.{model.GROUP}"},
                "spec": {
                    "group": model.GROUP,
                    "names": {
                        "kind": kind,
                        "listKind": f"{kind}List",
                        "plural": plural,
                        "singular": kind.lower(),
                        "shortNames": [short, *extra_short],
                    },
                    "scope": "Namespaced",
                    "versions": [
                        {
                            "name": model.VERSION,
                            "served": True,
                            "storage": True,
                            "subresources": {"status": {}},
                            "additionalPrinterColumns": _PRINTER_COLUMNS[kind],
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "required": ["metadata", "spec"],
                                    "properties": {
                                        "apiVersion": {"type": "string"},
                                        "kind": {"type": "string"},
                                        "metadata": {"type": "object"},
                                        "spec": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                        "status": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                        "operation": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                    },
                                }
                            },
                        }
                    ],
                },
            }
        )
    return out


def namespace_manifest() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


class AppStore:
    """Reads and writes trueup objects in the control cluster; status writes retry on 409 only."""

    def __init__(self, cluster: Cluster, field_manager: str = "trueup") -> None:
        self.cluster = cluster
        self.field_manager = field_manager

    # reads ------------------------------------------------------------
    def list_apps(self) -> list[Obj]:
        items = self.cluster.list(API_VERSION, "Application", NAMESPACE).items
        return sorted(items, key=lambda o: o["metadata"]["name"])

    def get_app(self, name: str) -> Obj:
        return self.cluster.get(API_VERSION, "Application", NAMESPACE, name)

    def list_projects(self) -> list[Obj]:
        items = self.cluster.list(API_VERSION, "AppProject", NAMESPACE).items
        names = {o["metadata"]["name"] for o in items}
        if "default" not in names:
            items.append(default_project_object())
        return sorted(items, key=lambda o: o["metadata"]["name"])

    def get_project(self, name: str) -> Obj:
        try:
            return self.cluster.get(API_VERSION, "AppProject", NAMESPACE, name)
        except NotFound:
            if name == "default":
                return default_project_object()
            raise

    # writes -----------------------------------------------------------
    def install(self) -> None:
        """Idempotent: CRDs (the trueup kinds and the audit chain's) and the namespace."""
        for crd in crds():
            self.cluster.apply(crd, field_manager=self.field_manager, force=True)
        self.cluster.apply(namespace_manifest(), field_manager=self.field_manager, force=True)

    def write_status(self, name: str, status: Obj, *, attempts: int = 5) -> Obj:
        """Write the comparison part of `status` (sync, health, resources, conditions...).

        `operationState` and `history` are always kept as they are live. On 409 re-read and retry.
        Operations write their part through console.engine.sync.operation.update_status.
        """
        for i in range(attempts):
            live = self.get_app(name)
            # operationState and history belong to the executor: a refresh that read the app before
            # an operation step must never put back what it saw then.
            merged = {k: v for k, v in status.items() if k not in EXECUTOR_OWNED}
            for key in EXECUTOR_OWNED:
                if key in (live.get("status") or {}):
                    merged[key] = live["status"][key]
            if live.get("status") == merged:
                return live
            new = copy.deepcopy(live)
            new["status"] = merged
            try:
                return self.cluster.update(new, field_manager=self.field_manager, subresource="status")
            except Conflict:
                time.sleep(0.01 * (2**i))
        raise Conflict(f'could not write status of application "{name}": too many concurrent writers')


def default_project_object() -> Obj:
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": {"name": "default", "namespace": NAMESPACE},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"namespace": "*", "server": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }
