"""Validation with the real apiserver's field paths, error types and messages (the subset of
ValidateObjectMeta and per-kind Validate*/Validate*Update that manifests commonly trip over)."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from console.cluster.api import Invalid, StatusCause
from console.cluster.sim.admission import policy_causes
from console.cluster.sim.discovery import KindInfo
from console.cluster.sim.labels import matches_label_selector

Obj = dict[str, Any]

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

MSG_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
MSG_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
MSG_DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
MSG_QUALIFIED = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
MSG_LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
MSG_CONFIG_KEY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
IMMUTABLE = "field is immutable"
_CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every"}
)
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


def show(value: Any) -> str:
    """Render a value the way field errors quote it (strings quoted, numbers bare)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return "map[string]string" + json.dumps(value, separators=(",", ":"), sort_keys=True)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class Errs:
    def __init__(self) -> None:
        self.causes: list[StatusCause] = []

    def required(self, field: str, detail: str = "") -> None:
        self.causes.append(
            StatusCause(field, "Required value" + (f": {detail}" if detail else ""), "FieldValueRequired")
        )

    def invalid(self, field: str, value: Any, detail: str) -> None:
        self.causes.append(StatusCause(field, f"Invalid value: {show(value)}: {detail}", "FieldValueInvalid"))

    def unsupported(self, field: str, value: Any, supported: list[str]) -> None:
        vals = ", ".join(json.dumps(s) for s in supported)
        self.causes.append(
            StatusCause(
                field, f"Unsupported value: {show(value)}: supported values: {vals}", "FieldValueNotSupported"
            )
        )

    def forbidden(self, field: str, detail: str) -> None:
        self.causes.append(StatusCause(field, f"Forbidden: {detail}", "FieldValueForbidden"))

    def duplicate(self, field: str, value: Any) -> None:
        self.causes.append(StatusCause(field, f"Duplicate value: {show(value)}", "FieldValueDuplicate"))

    def raise_for(self, info: KindInfo, name: str) -> None:
        if not self.causes:
            return
        parts = [f"{c.field}: {c.message}" for c in self.causes]
        body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        raise Invalid(f'{info.qualified_kind} "{name}" is invalid: {body}', causes=list(self.causes))


def name_problem(name: str, rule: str) -> str | None:
    if rule == "path":
        if name in (".", ".."):
            return f"may not be '{name}'"
        for bad in ("/", "%"):
            if bad in name:
                return f"may not contain '{bad}'"
        return None
    if rule == "label" or rule == "dns1035":
        if len(name) > 63:
            return "must be no more than 63 characters"
        regex, msg = (DNS1123_LABEL, MSG_LABEL) if rule == "label" else (DNS1035_LABEL, MSG_DNS1035)
        return None if regex.match(name) else msg
    if len(name) > 253:
        return "must be no more than 253 characters"
    return None if DNS1123_SUBDOMAIN.match(name) else MSG_SUBDOMAIN


def _qualified_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "prefix part " + MSG_SUBDOMAIN
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    return None if _QUALIFIED_NAME.match(name) else MSG_QUALIFIED


def _meta(e: Errs, obj: Obj, info: KindInfo) -> None:
    md = obj.get("metadata") or {}
    name = md.get("name") or ""
    if not name:
        e.required("metadata.name", "name or generateName is required")
    else:
        problem = name_problem(name, info.name_rule)
        if problem:
            e.invalid("metadata.name", name, problem)
    for k, v in (md.get("labels") or {}).items():
        problem = _qualified_key_problem(str(k))
        if problem:
            e.invalid("metadata.labels", k, problem)
        if not isinstance(v, str):
            e.invalid(f"metadata.labels[{k}]", v, "label values must be strings")
        elif len(v) > 63:
            e.invalid("metadata.labels", v, "must be no more than 63 characters")
        elif not _LABEL_VALUE.match(v):
            e.invalid("metadata.labels", v, MSG_LABEL_VALUE)
    for k, v in (md.get("annotations") or {}).items():
        problem = _qualified_key_problem(str(k))
        if problem:
            e.invalid("metadata.annotations", k, problem)
        if not isinstance(v, str):
            e.invalid(f"metadata.annotations[{k}]", v, "annotation values must be strings")
    controllers = 0
    for i, ref in enumerate(md.get("ownerReferences") or []):
        f = f"metadata.ownerReferences[{i}]"
        for key in ("apiVersion", "kind", "name", "uid"):
            if not (ref or {}).get(key):
                e.invalid(f"{f}.{key}", (ref or {}).get(key, ""), f"{key} must not be empty")
        if (ref or {}).get("controller"):
            controllers += 1
    if controllers > 1:
        e.invalid(
            "metadata.ownerReferences",
            md.get("ownerReferences"),
            "Only one reference can have Controller set to true",
        )


def _pod_spec(e: Errs, spec: Obj, f: str, restart: list[str] | None = None) -> None:
    containers = spec.get("containers")
    if not containers:
        e.required(f"{f}.containers")
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            cf = f"{f}.{key}[{i}]"
            if not isinstance(c, dict):
                e.invalid(cf, c, "must be an object")
                continue
            name = c.get("name") or ""
            if not name:
                e.required(f"{cf}.name")
            elif not DNS1123_LABEL.match(name) or len(name) > 63:
                e.invalid(f"{cf}.name", name, MSG_LABEL)
            elif name in seen:
                e.duplicate(f"{cf}.name", name)
            seen.add(name)
            if not c.get("image"):
                e.required(f"{cf}.image")
            for j, port in enumerate(c.get("ports") or []):
                cp = (port or {}).get("containerPort")
                if not isinstance(cp, int) or not 1 <= cp <= 65535:
                    e.invalid(f"{cf}.ports[{j}].containerPort", cp, "must be between 1 and 65535, inclusive")
            pol = c.get("imagePullPolicy")
            if pol is not None and pol not in ("Always", "IfNotPresent", "Never"):
                e.unsupported(f"{cf}.imagePullPolicy", pol, ["Always", "IfNotPresent", "Never"])
    rp = spec.get("restartPolicy")
    allowed = restart or ["Always", "OnFailure", "Never"]
    if rp not in allowed:
        if rp is None:
            e.required(f"{f}.restartPolicy")
        else:
            e.unsupported(f"{f}.restartPolicy", rp, allowed)


def _selector_matches_template(e: Errs, spec: Obj, what: str) -> None:
    sel = spec.get("selector")
    if not isinstance(sel, dict) or not (sel.get("matchLabels") or sel.get("matchExpressions")):
        if sel is None:
            e.required("spec.selector")
        else:
            e.invalid("spec.selector", sel, f"empty selector is invalid for {what}")
        return
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not matches_label_selector(sel, labels):
        e.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")


def _nonneg(e: Errs, spec: Obj, field: str, f: str = "spec") -> None:
    v = spec.get(field)
    if isinstance(v, int) and v < 0:
        e.invalid(f"{f}.{field}", v, "must be greater than or equal to 0")


def _immutable(e: Errs, old: Obj | None, new: Obj, *path: str) -> None:
    if old is None:
        return
    o: Any = old
    n: Any = new
    for p in path:
        o = o.get(p) if isinstance(o, dict) else None
        n = n.get(p) if isinstance(n, dict) else None
    if o != n:
        e.invalid(".".join(path), n, IMMUTABLE)


def _workload(e: Errs, obj: Obj, old: Obj | None, what: str, restart: list[str]) -> None:
    spec = obj.get("spec") or {}
    _selector_matches_template(e, spec, what)
    _nonneg(e, spec, "replicas")
    tpl = (spec.get("template") or {}).get("spec")
    if not isinstance(tpl, dict):
        e.required("spec.template.spec.containers")
    else:
        _pod_spec(e, tpl, "spec.template.spec", restart)
    _immutable(e, old, obj, "spec", "selector")


def _deployment(e: Errs, obj: Obj, old: Obj | None) -> None:
    _workload(e, obj, old, "deployment", ["Always"])
    spec = obj.get("spec") or {}
    strat = spec.get("strategy") or {}
    st = strat.get("type")
    if st not in ("RollingUpdate", "Recreate"):
        e.unsupported("spec.strategy.type", st, ["Recreate", "RollingUpdate"])
    if st == "Recreate" and strat.get("rollingUpdate") is not None:
        e.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    ru = strat.get("rollingUpdate") or {}
    if st == "RollingUpdate" and ru.get("maxSurge") in (0, "0%") and ru.get("maxUnavailable") in (0, "0%"):
        e.invalid(
            "spec.strategy.rollingUpdate.maxUnavailable",
            ru.get("maxUnavailable"),
            "may not be 0 when `maxSurge` is 0",
        )
    for f in ("revisionHistoryLimit", "minReadySeconds", "progressDeadlineSeconds"):
        _nonneg(e, spec, f)


def _statefulset(e: Errs, obj: Obj, old: Obj | None) -> None:
    _workload(e, obj, old, "statefulset", ["Always"])
    if old is not None:
        mutable = {
            "replicas",
            "ordinals",
            "template",
            "updateStrategy",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
        }
        ns = {k: v for k, v in (obj.get("spec") or {}).items() if k not in mutable}
        os_ = {k: v for k, v in (old.get("spec") or {}).items() if k not in mutable}
        if ns != os_:
            e.forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                "'minReadySeconds' are forbidden",
            )


def _job(e: Errs, obj: Obj, old: Obj | None) -> None:
    spec = obj.get("spec") or {}
    _selector_matches_template(e, spec, "job")
    tpl = (spec.get("template") or {}).get("spec")
    if isinstance(tpl, dict):
        _pod_spec(e, tpl, "spec.template.spec", ["OnFailure", "Never"])
    else:
        e.required("spec.template.spec.containers")
    for f in (
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
    ):
        _nonneg(e, spec, f)
    _immutable(e, old, obj, "spec", "selector")
    _immutable(e, old, obj, "spec", "template")
    _immutable(e, old, obj, "spec", "completionMode")


def _cronjob(e: Errs, obj: Obj) -> None:
    spec = obj.get("spec") or {}
    sched = spec.get("schedule")
    if not sched:
        e.required("spec.schedule")
    elif str(sched).startswith(("TZ=", "CRON_TZ=")):
        e.invalid("spec.schedule", sched, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    elif str(sched).startswith("@"):
        if str(sched).split()[0] not in _CRON_MACROS:
            e.invalid("spec.schedule", sched, f"unrecognized descriptor: {sched}")
    else:
        from croniter import croniter

        if not croniter.is_valid(str(sched)):
            e.invalid("spec.schedule", sched, "unparseable cron expression")
    cp = spec.get("concurrencyPolicy")
    if cp not in ("Allow", "Forbid", "Replace"):
        e.unsupported("spec.concurrencyPolicy", cp, ["Allow", "Forbid", "Replace"])
    tpl = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    if isinstance(tpl, dict):
        _pod_spec(e, tpl, "spec.jobTemplate.spec.template.spec", ["OnFailure", "Never"])
    else:
        e.required("spec.jobTemplate.spec.template.spec.containers")


def _service(e: Errs, obj: Obj, old: Obj | None) -> None:
    spec = obj.get("spec") or {}
    types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    st = spec.get("type")
    if st not in types:
        e.unsupported("spec.type", st, types)
        return
    ports = spec.get("ports") or []
    if st == "ExternalName":
        if not spec.get("externalName"):
            e.required("spec.externalName")
    elif not ports and spec.get("clusterIP") != "None":
        e.required("spec.ports")
    seen: set[tuple[Any, Any]] = set()
    names: set[str] = set()
    for i, p in enumerate(ports):
        f = f"spec.ports[{i}]"
        port = (p or {}).get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            e.invalid(f"{f}.port", port, "must be between 1 and 65535, inclusive")
        proto = (p or {}).get("protocol")
        if proto not in ("TCP", "UDP", "SCTP"):
            e.unsupported(f"{f}.protocol", proto, ["SCTP", "TCP", "UDP"])
        if (port, proto) in seen:
            e.duplicate(f, {"port": port, "protocol": proto})
        seen.add((port, proto))
        name = (p or {}).get("name")
        if len(ports) > 1 and not name:
            e.required(f"{f}.name")
        elif name:
            if name in names:
                e.duplicate(f"{f}.name", name)
            names.add(name)
    ip = spec.get("clusterIP")
    old_spec = (old or {}).get("spec") or {}
    old_ip = old_spec.get("clusterIP")
    if old_ip and old_spec.get("type") != "ExternalName" and st != "ExternalName":
        # The registry first aligns clusterIPs[0] with clusterIP, then refuses any change (and
        # never gets to allocation, so no range error on update).
        ips = list(spec.get("clusterIPs") or [ip])
        if ips:
            ips[0] = ip
        if ip != old_ip or ips[:1] != list(old_spec.get("clusterIPs") or [old_ip])[:1]:
            e.invalid("spec.clusterIPs[0]", ips, "may not change once set")
    elif ip and ip != "None":
        try:
            if ipaddress.ip_address(ip) not in SERVICE_CIDR:
                e.invalid(
                    "spec.clusterIPs",
                    [ip],
                    f"failed to allocate IP {ip}: the provided network does not match the current range",
                )
        except ValueError:
            e.invalid("spec.clusterIP", ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")


def _config_data(e: Errs, obj: Obj, old: Obj | None, fields: tuple[str, ...]) -> None:
    for fld in fields:
        for k in obj.get(fld) or {}:
            if not _CONFIG_KEY.match(k) or len(k) > 253:
                e.invalid(f"{fld}[{k}]", k, MSG_CONFIG_KEY)
    if old is not None and old.get("immutable"):
        if not obj.get("immutable"):
            e.forbidden("immutable", "field is immutable when `immutable` is set")
        for fld in fields:
            if (obj.get(fld) or {}) != (old.get(fld) or {}):
                e.forbidden(fld, "field is immutable when `immutable` is set")


def _secret(e: Errs, obj: Obj, old: Obj | None) -> None:
    _config_data(e, obj, old, ("data",))
    t = obj.get("type")
    data = obj.get("data") or {}
    need = {
        "kubernetes.io/tls": ("tls.crt", "tls.key"),
        "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
        "kubernetes.io/dockercfg": (".dockercfg",),
    }.get(str(t), ())
    for key in need:
        if key not in data:
            e.required(f"data[{key}]")
    if old is not None and old.get("type") != t:
        e.invalid("type", t, IMMUTABLE)


def _pvc(e: Errs, obj: Obj, old: Obj | None) -> None:
    spec = obj.get("spec") or {}
    if not spec.get("accessModes"):
        e.required("spec.accessModes", "at least 1 access mode is required")
    if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
        e.required("spec.resources[storage]")
    if old is None:
        return
    o = dict(old.get("spec") or {})
    n = dict(spec)
    if not o.get("volumeName"):
        o["volumeName"] = n.get("volumeName")
    bound = ((old.get("status") or {}).get("phase")) == "Bound"
    for d in (o, n):
        d.pop("volumeAttributesClassName", None)
        if bound:
            d["resources"] = {k: v for k, v in (d.get("resources") or {}).items() if k != "requests"}
    if o != n:
        e.forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and "
            "volumeAttributesClassName for bound claims",
        )


def _ingress(e: Errs, obj: Obj) -> None:
    for i, rule in enumerate((obj.get("spec") or {}).get("rules") or []):
        for j, path in enumerate(((rule or {}).get("http") or {}).get("paths") or []):
            f = f"spec.rules[{i}].http.paths[{j}]"
            pt = (path or {}).get("pathType")
            if pt is None:
                e.required(f"{f}.pathType", "pathType must be specified")
            elif pt not in ("Exact", "Prefix", "ImplementationSpecific"):
                e.unsupported(f"{f}.pathType", pt, ["Exact", "ImplementationSpecific", "Prefix"])
            if not (path or {}).get("backend"):
                e.required(f"{f}.backend")


def _hpa(e: Errs, obj: Obj) -> None:
    spec = obj.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    if not ref.get("kind"):
        e.required("spec.scaleTargetRef.kind")
    if not ref.get("name"):
        e.required("spec.scaleTargetRef.name")
    lo, hi = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if not isinstance(hi, int):
        e.required("spec.maxReplicas")
    elif isinstance(lo, int):
        if lo < 1:
            e.invalid("spec.minReplicas", lo, "must be greater than or equal to 1")
        if hi < lo:
            e.invalid("spec.maxReplicas", hi, "must be greater than or equal to `minReplicas`")


def _crd(e: Errs, obj: Obj) -> None:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    name = (obj.get("metadata") or {}).get("name") or ""
    if not group:
        e.required("spec.group")
    elif "." not in group:
        e.invalid("spec.group", group, "should be a domain with at least one dot")
    if not names.get("plural"):
        e.required("spec.names.plural")
    if not names.get("kind"):
        e.required("spec.names.kind")
    if names.get("plural") and group and name != f"{names['plural']}.{group}":
        e.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        e.unsupported("spec.scope", spec.get("scope"), ["Cluster", "Namespaced"])
    versions = spec.get("versions") or []
    if not versions:
        e.invalid("spec.versions", versions, "must have exactly one version marked as storage version")
    elif sum(1 for v in versions if (v or {}).get("storage")) != 1:
        e.invalid("spec.versions", versions, "must have exactly one version marked as storage version")


def _pod_update(e: Errs, obj: Obj, old: Obj) -> None:
    def strip(spec: Obj) -> Obj:
        s = json.loads(json.dumps(spec))
        for key in ("containers", "initContainers"):
            for c in s.get(key) or []:
                c.pop("image", None)
        for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "nodeName"):
            s.pop(key, None)
        return s

    if strip(obj.get("spec") or {}) != strip(old.get("spec") or {}):
        e.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
            "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
            "was previously negative)",
        )


def validate(obj: Obj, info: KindInfo, old: Obj | None) -> None:
    """Raise Invalid (422) with field causes, or return."""
    e = Errs()
    _meta(e, obj, info)
    gk = (info.group, info.kind)
    if gk == ("apps", "Deployment"):
        _deployment(e, obj, old)
    elif gk == ("apps", "ReplicaSet"):
        _workload(e, obj, old, "replicaset", ["Always"])
    elif gk == ("apps", "DaemonSet"):
        _workload(e, obj, old, "daemonset", ["Always"])
    elif gk == ("apps", "StatefulSet"):
        _statefulset(e, obj, old)
    elif gk == ("batch", "Job"):
        _job(e, obj, old)
    elif gk == ("batch", "CronJob"):
        _cronjob(e, obj)
    elif gk == ("", "Pod"):
        _pod_spec(e, obj.get("spec") or {}, "spec")
        if old is not None:
            _pod_update(e, obj, old)
    elif gk == ("", "Service"):
        _service(e, obj, old)
    elif gk == ("", "ConfigMap"):
        _config_data(e, obj, old, ("data", "binaryData"))
    elif gk == ("", "Secret"):
        _secret(e, obj, old)
    elif gk == ("", "PersistentVolumeClaim"):
        _pvc(e, obj, old)
    elif gk == ("networking.k8s.io", "Ingress"):
        _ingress(e, obj)
    elif gk == ("autoscaling", "HorizontalPodAutoscaler"):
        _hpa(e, obj)
    elif gk == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        _crd(e, obj)
        _immutable(e, old, obj, "spec", "scope")
    elif gk == ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"):
        e.causes.extend(policy_causes(obj))
    elif gk in (
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ):
        if not (obj.get("roleRef") or {}).get("name"):
            e.required("roleRef.name")
        if old is not None and old.get("roleRef") != obj.get("roleRef"):
            e.invalid("roleRef", obj.get("roleRef"), "cannot change roleRef")
    e.raise_for(info, (obj.get("metadata") or {}).get("name") or "")
