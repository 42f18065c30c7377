"""The served kinds: built-ins with their real group/version/plural/scope, plus established CRDs.

Besides what discovery reports, each kind carries how the real registry strategy treats it:
whether it has a status subresource (main-resource writes ignore `status`), whether it sets
`metadata.generation`, how its name is validated, and which struct fields exist in the Go zero
value (they decide where the real server writes `.: {}` in managedFields).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.cluster.api import APIResource, NoKindMatch, split_api_version

Path = tuple[str, ...]
_T = ("spec", "template")
_POD_TEMPLATE: tuple[Path, ...] = (("spec",), _T, (*_T, "metadata"), (*_T, "spec"))


@dataclass(frozen=True)
class KindInfo:
    resource: APIResource
    status_subresource: bool = False
    generation: bool = False
    name_rule: str = "subdomain"  # subdomain | label | dns1035 | path
    skeleton: tuple[Path, ...] = ()
    builtin: bool = True
    served_versions: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return self.resource.group

    @property
    def kind(self) -> str:
        return self.resource.kind

    @property
    def namespaced(self) -> bool:
        return self.resource.namespaced

    @property
    def qualified_resource(self) -> str:
        """`deployments.apps` / `pods`: how the apiserver names the resource in messages."""
        r = self.resource
        return f"{r.plural}.{r.group}" if r.group else r.plural

    @property
    def qualified_kind(self) -> str:
        """`Deployment.apps` / `Service`: how Invalid errors name the kind."""
        r = self.resource
        return f"{r.kind}.{r.group}" if r.group else r.kind


def _b(
    api_version: str,
    kind: str,
    plural: str,
    namespaced: bool,
    *,
    sub: tuple[str, ...] = (),
    gen: bool = False,
    name: str = "subdomain",
    skel: Iterable[Path] = (),
    verbs: tuple[str, ...] | None = None,
) -> KindInfo:
    group, version = split_api_version(api_version)
    res = APIResource(group, version, kind, plural, namespaced, subresources=sub)
    if verbs is not None:
        res = APIResource(group, version, kind, plural, namespaced, verbs=verbs, subresources=sub)
    return KindInfo(
        res, status_subresource="status" in sub, generation=gen, name_rule=name, skeleton=tuple(skel)
    )


_STATUS = ("status",)
BUILTINS: tuple[KindInfo, ...] = (
    _b(
        "v1",
        "Namespace",
        "namespaces",
        False,
        sub=("status", "finalize"),
        name="label",
        skel=[("spec",), ("status",)],
    ),
    _b(
        "v1",
        "Pod",
        "pods",
        True,
        sub=("status", "binding", "eviction", "log", "exec", "ephemeralcontainers"),
        gen=True,
        skel=[("spec",), ("status",)],
    ),
    _b(
        "v1",
        "Service",
        "services",
        True,
        sub=("status", "proxy"),
        name="dns1035",
        skel=[("spec",), ("status",), ("status", "loadBalancer")],
    ),
    _b("v1", "ConfigMap", "configmaps", True),
    _b("v1", "Secret", "secrets", True),
    _b("v1", "ServiceAccount", "serviceaccounts", True, sub=("token",)),
    _b(
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        True,
        sub=_STATUS,
        skel=[("spec",), ("spec", "resources"), ("status",)],
    ),
    _b("v1", "PersistentVolume", "persistentvolumes", False, sub=_STATUS, skel=[("spec",), ("status",)]),
    _b(
        "v1",
        "Node",
        "nodes",
        False,
        sub=("status", "proxy"),
        skel=[
            ("spec",),
            ("status",),
            ("status", "daemonEndpoints"),
            ("status", "daemonEndpoints", "kubeletEndpoint"),
            ("status", "nodeInfo"),
        ],
    ),
    _b("v1", "Event", "events", True, skel=[("involvedObject",), ("source",)]),
    _b("v1", "Endpoints", "endpoints", True),
    _b("v1", "ResourceQuota", "resourcequotas", True, sub=_STATUS, skel=[("spec",), ("status",)]),
    _b("v1", "LimitRange", "limitranges", True, skel=[("spec",)]),
    _b(
        "apps/v1",
        "Deployment",
        "deployments",
        True,
        sub=("status", "scale"),
        gen=True,
        skel=[*_POD_TEMPLATE, ("spec", "strategy"), ("status",)],
    ),
    _b(
        "apps/v1",
        "ReplicaSet",
        "replicasets",
        True,
        sub=("status", "scale"),
        gen=True,
        skel=[*_POD_TEMPLATE, ("status",)],
    ),
    _b(
        "apps/v1",
        "StatefulSet",
        "statefulsets",
        True,
        sub=("status", "scale"),
        gen=True,
        skel=[*_POD_TEMPLATE, ("spec", "updateStrategy"), ("status",)],
    ),
    _b(
        "apps/v1",
        "DaemonSet",
        "daemonsets",
        True,
        sub=_STATUS,
        gen=True,
        skel=[*_POD_TEMPLATE, ("spec", "updateStrategy"), ("status",)],
    ),
    _b("apps/v1", "ControllerRevision", "controllerrevisions", True),
    _b("batch/v1", "Job", "jobs", True, sub=_STATUS, gen=True, skel=[*_POD_TEMPLATE, ("status",)]),
    _b(
        "batch/v1",
        "CronJob",
        "cronjobs",
        True,
        sub=_STATUS,
        gen=True,
        skel=[
            ("spec",),
            ("spec", "jobTemplate"),
            ("spec", "jobTemplate", "metadata"),
            ("spec", "jobTemplate", "spec"),
            ("spec", "jobTemplate", "spec", "template"),
            ("spec", "jobTemplate", "spec", "template", "metadata"),
            ("spec", "jobTemplate", "spec", "template", "spec"),
            ("status",),
        ],
    ),
    _b(
        "networking.k8s.io/v1",
        "Ingress",
        "ingresses",
        True,
        sub=_STATUS,
        gen=True,
        skel=[("spec",), ("status",), ("status", "loadBalancer")],
    ),
    _b("networking.k8s.io/v1", "IngressClass", "ingressclasses", False, gen=True, skel=[("spec",)]),
    _b(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        True,
        gen=True,
        skel=[("spec",), ("spec", "podSelector")],
    ),
    _b(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        sub=_STATUS,
        skel=[("spec",), ("spec", "scaleTargetRef"), ("status",)],
    ),
    _b(
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        sub=_STATUS,
        skel=[("spec",), ("spec", "scaleTargetRef"), ("status",)],
    ),
    _b(
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        True,
        sub=_STATUS,
        gen=True,
        skel=[("spec",), ("status",)],
    ),
    _b("rbac.authorization.k8s.io/v1", "Role", "roles", True, name="path"),
    _b("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True, name="path", skel=[("roleRef",)]),
    _b("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False, name="path"),
    _b(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        False,
        name="path",
        skel=[("roleRef",)],
    ),
    _b("storage.k8s.io/v1", "StorageClass", "storageclasses", False),
    _b(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        sub=_STATUS,
        gen=True,
        skel=[("spec",), ("spec", "names"), ("status",), ("status", "acceptedNames")],
    ),
    _b("coordination.k8s.io/v1", "Lease", "leases", True, skel=[("spec",)]),
    _b(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        False,
        sub=_STATUS,
        gen=True,
        skel=[("spec",), ("status",)],
    ),
    _b(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        False,
        gen=True,
        skel=[("spec",)],
    ),
    _b(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        False,
    ),
    _b(
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        False,
    ),
    _b(
        "apiregistration.k8s.io/v1",
        "APIService",
        "apiservices",
        False,
        sub=_STATUS,
        skel=[("spec",), ("status",)],
    ),
    _b("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False),
    _b("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True),
)

# Kinds served in several versions of one group; the first is the storage (and preferred) version.
_BY_GVK: dict[tuple[str, str, str], KindInfo] = {(k.group, k.resource.version, k.kind): k for k in BUILTINS}
_STORAGE: dict[tuple[str, str], KindInfo] = {}
for _k in BUILTINS:
    _STORAGE.setdefault((_k.group, _k.kind), _k)


def storage_info(group: str, kind: str) -> KindInfo | None:
    return _STORAGE.get((group, kind))


def builtin(group: str, version: str, kind: str) -> KindInfo | None:
    return _BY_GVK.get((group, version, kind))


def no_kind_match(api_version: str, kind: str) -> NoKindMatch:
    return NoKindMatch(f'no matches for kind "{kind}" in version "{api_version}"')


def crd_established(crd: dict) -> bool:
    for cond in (crd.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Established" and cond.get("status") == "True":
            return True
    return False


def kinds_of_crd(crd: dict) -> list[KindInfo]:
    """Discovery entries for every served version of an established CRD."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    served = tuple(v.get("name", "") for v in versions)
    storage = [v for v in versions if v.get("storage")]
    ordered = storage + [v for v in versions if not v.get("storage")]
    out = []
    for v in ordered:
        subs = tuple(sorted((v.get("subresources") or {}).keys()))
        res = APIResource(
            group,
            v.get("name", ""),
            names.get("kind", ""),
            names.get("plural", ""),
            namespaced,
            subresources=subs,
        )
        out.append(
            KindInfo(
                res,
                status_subresource="status" in subs,
                generation=True,
                builtin=False,
                served_versions=served,
            )
        )
    return out
