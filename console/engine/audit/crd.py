"""The audit kinds in the control cluster: `AuditRecord` (one per record) and `AuditChain` (the head).

Records are `rec-<seq, 12 digits>` so names sort in chain order and a second writer that raced for
the same position gets AlreadyExists from the API server. The head (`AuditChain/head`) holds the
last sequence number and hash and is only ever written with a resourceVersion precondition.
"""

from __future__ import annotations

from typing import Any

from console.engine import model

API_VERSION = model.API_VERSION
NAMESPACE = model.CONTROL_NAMESPACE
RECORD_KIND, CHAIN_KIND = "AuditRecord", "AuditChain"
HEAD_NAME = "head"

Obj = dict[str, Any]


def record_name(seq: int) -> str:
    return f"rec-{seq:012d}"


def seq_of_name(name: str) -> int | None:
    if not name.startswith("rec-") or not name[4:].isdigit():
        return None
    return int(name[4:])


def _crd(kind: str, plural: str, short: list[str], columns: list[Obj]) -> Obj:
    return {
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
                "shortNames": short,
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": model.VERSION,
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "required": ["metadata", "spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                }
            ],
        },
    }


def crds() -> list[Obj]:
    """What `trueup install` (and the sim/demo control cluster) applies for the audit chain."""
    return [
        _crd(
            RECORD_KIND,
            "auditrecords",
            ["auditrec"],
            [
                {"name": "Seq", "type": "integer", "jsonPath": ".spec.seq"},
                {"name": "Time", "type": "string", "jsonPath": ".spec.time"},
                {"name": "Actor", "type": "string", "jsonPath": ".spec.actor.user"},
                {"name": "Action", "type": "string", "jsonPath": ".spec.action"},
                {"name": "App", "type": "string", "jsonPath": ".spec.app"},
                {"name": "Outcome", "type": "string", "jsonPath": ".spec.outcome"},
            ],
        ),
        _crd(
            CHAIN_KIND,
            "auditchains",
            [],
            [
                {"name": "Seq", "type": "integer", "jsonPath": ".spec.seq"},
                {"name": "Hash", "type": "string", "jsonPath": ".spec.hash"},
            ],
        ),
    ]
