"""The object types kube-apiserver declares for `request` and `namespaceObject`, for type checking.

The apiserver type-checks admission expressions against DeclTypes (`kubernetes.AdmissionRequest`,
`kubernetes.Namespace`, ... in k8s.io/apiserver/pkg/admission/plugin/cel/compile.go), so
`request.operaton` is a compile error there. cel-cpp learns message types from a protobuf
descriptor pool; this module builds one with the same type and field names. The types are used
only to check expressions: evaluation binds plain maps, as the apiserver evaluates over
unstructured objects (an absent field is an error to read, not a default value).
"""

from __future__ import annotations

import functools
from typing import Any

_STRING, _BOOL, _INT = "string", "bool", "int64"  # scalar fields; anything starting with "." is a message
_STRUCT, _VALUE, _TIME = ".google.protobuf.Struct", ".google.protobuf.Value", ".google.protobuf.Timestamp"
REQUEST = "kubernetes.AdmissionRequest"
NAMESPACE = "kubernetes.Namespace"

# message name -> [(field, scalar type, message type name or "map", repeated)]
_MESSAGES: dict[str, list[tuple[str, str, bool]]] = {
    "GroupVersionKind": [("group", _STRING, False), ("version", _STRING, False), ("kind", _STRING, False)],
    "GroupVersionResource": [
        ("group", _STRING, False),
        ("version", _STRING, False),
        ("resource", _STRING, False),
    ],
    "UserInfo": [
        ("username", _STRING, False),
        ("uid", _STRING, False),
        ("groups", _STRING, True),
        ("extra", _STRUCT, False),  # map(string, list(string)) in the apiserver; a JSON map here
    ],
    "AdmissionRequest": [
        ("kind", ".kubernetes.GroupVersionKind", False),
        ("resource", ".kubernetes.GroupVersionResource", False),
        ("subResource", _STRING, False),
        ("requestKind", ".kubernetes.GroupVersionKind", False),
        ("requestResource", ".kubernetes.GroupVersionResource", False),
        ("requestSubResource", _STRING, False),
        ("name", _STRING, False),
        ("namespace", _STRING, False),
        ("operation", _STRING, False),
        ("userInfo", ".kubernetes.UserInfo", False),
        ("dryRun", _BOOL, False),
        ("options", _VALUE, False),
    ],
    "NamespaceSpec": [("finalizers", _STRING, True)],
    "NamespaceCondition": [
        ("status", _STRING, False),
        ("type", _STRING, False),
        ("lastTransitionTime", _TIME, False),
        ("message", _STRING, False),
        ("reason", _STRING, False),
    ],
    "NamespaceStatus": [("conditions", ".kubernetes.NamespaceCondition", True), ("phase", _STRING, False)],
    "NamespaceMetadata": [
        ("name", _STRING, False),
        ("generateName", _STRING, False),
        ("namespace", _STRING, False),
        ("labels", "map", False),
        ("annotations", "map", False),
        ("UID", _STRING, False),  # sic: the apiserver declares `UID`
        ("creationTimestamp", _TIME, False),
        ("deletionGracePeriodSeconds", _INT, False),
        ("deletionTimestamp", _TIME, False),
        ("generation", _INT, False),
        ("resourceVersion", _STRING, False),
        ("finalizers", _STRING, True),
    ],
    "Namespace": [
        ("metadata", ".kubernetes.NamespaceMetadata", False),
        ("spec", ".kubernetes.NamespaceSpec", False),
        ("status", ".kubernetes.NamespaceStatus", False),
    ],
}


def _add_field(msg: Any, number: int, name: str, kind: str, repeated: bool) -> None:
    from google.protobuf.descriptor_pb2 import FieldDescriptorProto as F

    f = msg.field.add(name=name, number=number, json_name=name)
    f.label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
    scalars = {_STRING: F.TYPE_STRING, _BOOL: F.TYPE_BOOL, _INT: F.TYPE_INT64}
    if kind == "map":  # map<string, string>: a repeated nested entry message, as protoc writes it
        entry = msg.nested_type.add(name=name[0].upper() + name[1:] + "Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, label=F.LABEL_OPTIONAL, type=F.TYPE_STRING)
        entry.field.add(name="value", number=2, label=F.LABEL_OPTIONAL, type=F.TYPE_STRING)
        f.label, f.type, f.type_name = (
            F.LABEL_REPEATED,
            F.TYPE_MESSAGE,
            f".kubernetes.{msg.name}.{entry.name}",
        )
    elif kind in scalars:
        f.type = scalars[kind]
    else:
        f.type, f.type_name = F.TYPE_MESSAGE, kind


@functools.cache
def pool() -> Any:
    """A protobuf descriptor pool holding the Kubernetes admission types (and the well-known types
    they use). Built on first use: protobuf is imported only when a policy is compiled."""
    from google.protobuf import descriptor_pb2, descriptor_pool, struct_pb2, timestamp_pb2

    out = descriptor_pool.DescriptorPool()
    for wkt in (struct_pb2, timestamp_pb2):
        out.Add(descriptor_pb2.FileDescriptorProto.FromString(wkt.DESCRIPTOR.serialized_pb))
    fdp = descriptor_pb2.FileDescriptorProto(
        name="trueup/sim/kubernetes.proto", package="kubernetes", syntax="proto3"
    )
    fdp.dependency.extend(["google/protobuf/struct.proto", "google/protobuf/timestamp.proto"])
    for name, fields in _MESSAGES.items():
        msg = fdp.message_type.add(name=name)
        for number, (field, kind, repeated) in enumerate(fields, 1):
            _add_field(msg, number, field, kind, repeated)
    out.Add(fdp)
    return out
