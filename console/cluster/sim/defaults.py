"""Server-side defaulting, as the real apiserver's SetDefaults_* functions, registry allocators and
default admission plugins (DefaultStorageClass, DefaultIngressClass, ServiceAccount, Priority,
DefaultTolerationSeconds) fill objects in.

Defaulting runs on every write (create, update, patch result, apply result), like decoding does in
the real server, so a PUT that omits a defaulted field gets it back unchanged.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

from console.cluster.api import Invalid, StatusCause

Obj = dict[str, Any]


class DefaultsContext(Protocol):
    def allocate_cluster_ip(self) -> str: ...

    def allocate_node_port(self) -> int: ...

    def default_storage_class(self) -> str | None: ...

    def default_ingress_class(self) -> str | None: ...


def _set(d: Obj, key: str, value: Any) -> None:
    if d.get(key) is None:
        d[key] = value


def _dict(d: Obj, key: str) -> Obj:
    v = d.get(key)
    if not isinstance(v, dict):
        v = {}
        d[key] = v
    return v


def pull_policy(image: str) -> str:
    """Always for `:latest` or no tag (and no digest), IfNotPresent otherwise."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "Always"
    return "Always" if last.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def _probe(p: Any) -> None:
    if not isinstance(p, dict):
        return
    _set(p, "timeoutSeconds", 1)
    _set(p, "periodSeconds", 10)
    _set(p, "successThreshold", 1)
    _set(p, "failureThreshold", 3)
    if isinstance(p.get("httpGet"), dict):
        _set(p["httpGet"], "scheme", "HTTP")


def _container(c: Any) -> None:
    if not isinstance(c, dict):
        return
    if isinstance(c.get("image"), str):
        _set(c, "imagePullPolicy", pull_policy(c["image"]))
    _set(c, "terminationMessagePath", "/dev/termination-log")
    _set(c, "terminationMessagePolicy", "File")
    _set(c, "resources", {})
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            _set(port, "protocol", "TCP")
    for env in c.get("env") or []:
        ref = ((env or {}).get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(ref, dict):
            _set(ref, "apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(name))


def pod_spec(spec: Obj, *, is_pod: bool = False) -> None:
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "restartPolicy", "Always")
    _set(spec, "schedulerName", "default-scheduler")
    _set(spec, "securityContext", {})
    _set(spec, "terminationGracePeriodSeconds", 30)
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            _container(c)
    for vol in spec.get("volumes") or []:
        if not isinstance(vol, dict):
            continue
        for src in ("configMap", "secret", "projected", "downwardAPI"):
            if isinstance(vol.get(src), dict):
                _set(vol[src], "defaultMode", 420)
        if isinstance(vol.get("hostPath"), dict):
            _set(vol["hostPath"], "type", "")
    if is_pod:
        _set(spec, "enableServiceLinks", True)
        _set(spec, "preemptionPolicy", "PreemptLowerPriority")
        _set(spec, "priority", 0)
        _set(spec, "serviceAccountName", spec.get("serviceAccount") or "default")
        _set(spec, "serviceAccount", spec["serviceAccountName"])
        if spec.get("tolerations") is None:
            spec["tolerations"] = [
                {
                    "effect": "NoExecute",
                    "key": f"node.kubernetes.io/{k}",
                    "operator": "Exists",
                    "tolerationSeconds": 300,
                }
                for k in ("not-ready", "unreachable")
            ]


def _template(holder: Obj) -> None:
    """SetDefaults_PodSpec applies to templates too (so a Job template defaults to restartPolicy
    Always and Job validation then rejects it, exactly like the real server)."""
    tpl = _dict(holder, "template")
    pod_spec(_dict(tpl, "spec"))


def _job_spec(spec: Obj) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    _set(spec, "parallelism", 1)
    _set(spec, "backoffLimit", 6)
    _set(spec, "completionMode", "NonIndexed")
    _set(spec, "suspend", False)
    _set(spec, "podReplacementPolicy", "TerminatingOrFailed")
    _template(spec)


def _job_selector(obj: Obj) -> None:
    """The Job strategy generates the selector and pod labels from the uid (unless manualSelector)."""
    spec = _dict(obj, "spec")
    md = obj.get("metadata") or {}
    if spec.get("manualSelector") or spec.get("selector"):
        return
    uid, name = md.get("uid", ""), md.get("name", "")
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    spec["manualSelector"] = False
    labels = _dict(_dict(_dict(spec, "template"), "metadata"), "labels")
    labels.update(
        {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
    )


def _service(obj: Obj, old: Obj | None, ctx: DefaultsContext) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "type", "ClusterIP")
    stype = spec["type"]
    old_spec = (old or {}).get("spec") or {}
    _set(spec, "sessionAffinity", "None")
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p
        for p in old_spec.get("ports") or []
        if isinstance(p, dict)
    }
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        _set(port, "protocol", "TCP")
        _set(port, "targetPort", port.get("port"))
        if stype in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            prev = old_ports.get((port.get("port"), port["protocol"]), {}).get("nodePort")
            port["nodePort"] = prev or ctx.allocate_node_port()
    if stype == "ExternalName":
        return
    if not spec.get("clusterIP") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
        spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
    if not spec.get("clusterIP"):
        spec["clusterIP"] = ctx.allocate_cluster_ip()
    _set(spec, "clusterIPs", [spec["clusterIP"]])
    _set(spec, "ipFamilies", ["IPv4"])
    _set(spec, "ipFamilyPolicy", "SingleStack")
    _set(spec, "internalTrafficPolicy", "Cluster")
    if stype in ("NodePort", "LoadBalancer"):
        _set(spec, "externalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        _set(spec, "allocateLoadBalancerNodePorts", True)


def _secret(obj: Obj) -> None:
    _set(obj, "type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = _dict(obj, "data")
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
    for k, v in (obj.get("data") or {}).items():
        try:
            base64.b64decode(str(v), validate=True)
        except ValueError as exc:
            raise Invalid(
                f"illegal base64 data in Secret data[{k}]",
                causes=[StatusCause(f"data[{k}]", f"illegal base64 data: {exc}")],
            ) from exc


def apply_defaults(obj: Obj, group: str, kind: str, old: Obj | None, ctx: DefaultsContext) -> None:
    """Fill defaults in place. `old` is the live object on updates (allocated values carry over)."""
    md = _dict(obj, "metadata")
    for key in ("labels", "annotations"):
        if md.get(key) == {}:
            del md[key]
    gk = (group, kind)
    if gk == ("", "Pod"):
        pod_spec(_dict(obj, "spec"), is_pod=True)
    elif gk == ("", "Service"):
        _service(obj, old, ctx)
        if old is None:
            obj["status"] = {"loadBalancer": {}}
    elif gk == ("", "Secret"):
        _secret(obj)
    elif gk == ("", "Namespace"):
        _set(_dict(obj, "spec"), "finalizers", ["kubernetes"])
        _dict(md, "labels")["kubernetes.io/metadata.name"] = md.get("name", "")
    elif gk == ("", "PersistentVolumeClaim"):
        s = _dict(obj, "spec")
        _set(s, "volumeMode", "Filesystem")
        if old is None and "storageClassName" not in s:
            sc = ctx.default_storage_class()
            if sc:
                s["storageClassName"] = sc
    elif gk == ("", "PersistentVolume"):
        s = _dict(obj, "spec")
        _set(s, "persistentVolumeReclaimPolicy", "Retain")
        _set(s, "volumeMode", "Filesystem")
    elif gk == ("", "Endpoints"):
        for subset in obj.get("subsets") or []:
            for port in (subset or {}).get("ports") or []:
                if isinstance(port, dict):
                    _set(port, "protocol", "TCP")
    elif gk == ("apps", "Deployment"):
        s = _dict(obj, "spec")
        _set(s, "replicas", 1)
        strat = _dict(s, "strategy")
        _set(strat, "type", "RollingUpdate")
        if strat["type"] == "RollingUpdate":
            ru = _dict(strat, "rollingUpdate")
            _set(ru, "maxUnavailable", "25%")
            _set(ru, "maxSurge", "25%")
        _set(s, "revisionHistoryLimit", 10)
        _set(s, "progressDeadlineSeconds", 600)
        _template(s)
    elif gk == ("apps", "ReplicaSet"):
        s = _dict(obj, "spec")
        _set(s, "replicas", 1)
        _template(s)
    elif gk == ("apps", "StatefulSet"):
        s = _dict(obj, "spec")
        _set(s, "replicas", 1)
        _set(s, "podManagementPolicy", "OrderedReady")
        us = _dict(s, "updateStrategy")
        _set(us, "type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            _set(_dict(us, "rollingUpdate"), "partition", 0)
        _set(s, "revisionHistoryLimit", 10)
        pol = _dict(s, "persistentVolumeClaimRetentionPolicy")
        _set(pol, "whenDeleted", "Retain")
        _set(pol, "whenScaled", "Retain")
        for vct in s.get("volumeClaimTemplates") or []:
            if isinstance(vct, dict):
                _set(vct, "apiVersion", "v1")
                _set(vct, "kind", "PersistentVolumeClaim")
                _set(_dict(vct, "spec"), "volumeMode", "Filesystem")
                _set(_dict(vct, "status"), "phase", "Pending")
        _template(s)
    elif gk == ("apps", "DaemonSet"):
        s = _dict(obj, "spec")
        us = _dict(s, "updateStrategy")
        _set(us, "type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            ru = _dict(us, "rollingUpdate")
            _set(ru, "maxUnavailable", 1)
            _set(ru, "maxSurge", 0)
        _set(s, "revisionHistoryLimit", 10)
        _template(s)
    elif gk == ("batch", "Job"):
        _job_spec(_dict(obj, "spec"))
        if old is None:
            _job_selector(obj)
        # SetDefaults_Job: a Job without labels takes its template's (the generated ones included,
        # since the real server defaults again when it decodes the stored object).
        tpl_labels = ((obj["spec"].get("template") or {}).get("metadata") or {}).get("labels")
        if not md.get("labels") and tpl_labels:
            md["labels"] = dict(tpl_labels)
    elif gk == ("batch", "CronJob"):
        s = _dict(obj, "spec")
        _set(s, "concurrencyPolicy", "Allow")
        _set(s, "suspend", False)
        _set(s, "successfulJobsHistoryLimit", 3)
        _set(s, "failedJobsHistoryLimit", 1)
        # SetDefaults_Job applies to Job objects only; the template's pod spec is still defaulted.
        _template(_dict(_dict(s, "jobTemplate"), "spec"))
    elif gk == ("networking.k8s.io", "Ingress"):
        s = _dict(obj, "spec")
        if old is None and not s.get("ingressClassName"):
            cls = ctx.default_ingress_class()
            if cls:
                s["ingressClassName"] = cls
        if old is None:
            obj["status"] = {"loadBalancer": {}}
    elif gk == ("networking.k8s.io", "NetworkPolicy"):
        s = _dict(obj, "spec")
        _dict(s, "podSelector")
        if s.get("policyTypes") is None:
            s["policyTypes"] = ["Ingress"] + (["Egress"] if s.get("egress") else [])
        for rule in (s.get("ingress") or []) + (s.get("egress") or []):
            for port in (rule or {}).get("ports") or []:
                if isinstance(port, dict):
                    _set(port, "protocol", "TCP")
    elif gk == ("autoscaling", "HorizontalPodAutoscaler"):
        s = _dict(obj, "spec")
        _set(s, "minReplicas", 1)
        if not s.get("metrics"):
            s["metrics"] = [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                }
            ]
    elif gk == ("storage.k8s.io", "StorageClass"):
        _set(obj, "reclaimPolicy", "Delete")
        _set(obj, "volumeBindingMode", "Immediate")
    elif gk == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        s = _dict(obj, "spec")
        _set(_dict(s, "conversion"), "strategy", "None")
