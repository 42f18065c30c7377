"""`trueup import argocd`: an existing Argo CD install, read without changing it, as a new workspace.

Read (GET/LIST only, never a write to the Argo install): Applications and AppProjects; argocd-cm
(resource customizations in the nested `resource.customizations` and the split-key forms
`resource.customizations.{health,useOpenLibs,ignoreDifferences,actions}.<group_kind>`,
`resource.exclusions`, `resource.compareoptions`, `resource.sensitive.mask.annotations`);
argocd-rbac-cm (`policy.csv`, `policy.default`); cluster, repository and repo-creds Secrets.
Servers and URLs go into the workspace; every credential goes into the OS keyring.

The workspace's control cluster is a sim (trueup keeps its own Applications); the cluster Argo CD
runs in becomes `in-cluster` (a kube cluster through the given context, alias
https://kubernetes.default.svc). trueup does not take ownership by default: it tracks resources
with its own annotation unless `use_argocd_tracking`, which switches to
argocd.argoproj.io/tracking-id (then both tools claim the same resources: stop Argo's first).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.cluster.api import Cluster, NotFound, Obj
from console.engine import credentials, manage, model, workspace_edit, yamlsafe
from console.engine.appstore import AppStore
from console.engine.workspace import Workspace

ARGO_TRACKING = "argocd.argoproj.io/tracking-id"
IN_CLUSTER = "https://kubernetes.default.svc"
SECRET_TYPE = "argocd.argoproj.io/secret-type"
_SPLIT_FIELDS = {
    "health": "health.lua",
    "useOpenLibs": "health.lua.useOpenLibs",
    "ignoreDifferences": "ignoreDifferences",
    "ignoreResourceUpdates": "ignoreResourceUpdates",
    "actions": "actions",
    "knownTypeFields": "knownTypeFields",
}


@dataclass
class ImportReport:
    applications: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    customizations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _override_key(group_kind: str) -> str:
    """argocd-cm split keys: `apps_Deployment` -> apps/Deployment, `Service` -> Service, `all` -> all."""
    parts = group_kind.split("_")
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    return group_kind


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def customizations(cm_data: dict[str, Any], warn: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Resource overrides from argocd-cm, both forms; split keys win over the nested block (as Argo merges)."""
    out: dict[str, dict[str, Any]] = {}
    nested = _text(cm_data, "resource.customizations")
    if nested:
        try:
            doc = yamlsafe.load_one(nested, "argocd-cm resource.customizations")
        except yamlsafe.ManifestError as exc:
            warn(f"argocd-cm resource.customizations ignored: {exc}")
            doc = None
        for key, value in (doc or {}).items() if isinstance(doc, dict) else []:
            if isinstance(value, dict):
                entry = out.setdefault(str(key), {})
                for k, v in value.items():
                    if k in ("health.lua.useOpenLibs",):
                        entry[k] = v in (True, "true")
                    elif isinstance(v, (dict, list)):
                        entry[k] = yamlsafe.dump(v)
                    else:
                        entry[k] = v
    for key, value in cm_data.items():
        if not key.startswith("resource.customizations.") or not isinstance(value, str):
            continue
        rest = key[len("resource.customizations.") :]
        what, _, group_kind = rest.partition(".")
        if what not in _SPLIT_FIELDS or not group_kind:
            continue
        entry = out.setdefault(_override_key(group_kind), {})
        entry[_SPLIT_FIELDS[what]] = value.strip().lower() == "true" if what == "useOpenLibs" else value
    return out


def _yaml_value(text: str, where: str, warn: Callable[[str], None]) -> Any:
    if not text:
        return None
    try:
        return yamlsafe.load_one(text, where)
    except yamlsafe.ManifestError as exc:
        warn(f"{where} ignored: {exc}")
        return None


def _b64(secret: Obj, key: str) -> str:
    raw = (secret.get("data") or {}).get(key)
    if raw is None:
        plain = (secret.get("stringData") or {}).get(key)
        return str(plain) if plain is not None else ""
    try:
        return base64.b64decode(raw).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


def _clean_meta(md: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": md.get("name"), "namespace": model.CONTROL_NAMESPACE}
    for key in ("labels", "annotations", "finalizers"):
        value = md.get(key)
        if value:
            out[key] = copy.deepcopy(value)
    annotations = out.get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if "annotations" in out and not annotations:
        del out["annotations"]
    return out


def _mapped(obj: Obj, kind: str) -> Obj:
    return {
        "apiVersion": model.API_VERSION,
        "kind": kind,
        "metadata": _clean_meta(obj.get("metadata") or {}),
        "spec": copy.deepcopy(obj.get("spec") or {}),
    }


@dataclass
class ArgoInstall:
    applications: list[Obj]
    projects: list[Obj]
    cm: dict[str, Any]
    rbac: dict[str, Any]
    secrets: list[Obj]


def read_install(argo: Cluster, namespace: str) -> ArgoInstall:
    """Everything the import needs, by GET and LIST only."""

    def configmap(name: str) -> dict[str, Any]:
        try:
            return dict(argo.get("v1", "ConfigMap", namespace, name).get("data") or {})
        except NotFound:
            return {}

    secrets: list[Obj] = []
    for kind in ("cluster", "repository", "repo-creds"):
        secrets += argo.list("v1", "Secret", namespace, label_selector=f"{SECRET_TYPE}={kind}").items
    return ArgoInstall(
        applications=sorted(argo.list(model.ARGO_API_VERSION, "Application", namespace).items, key=_name),
        projects=sorted(argo.list(model.ARGO_API_VERSION, "AppProject", namespace).items, key=_name),
        cm=configmap("argocd-cm"),
        rbac=configmap("argocd-rbac-cm"),
        secrets=secrets,
    )


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def build_workspace(
    target: Path,
    install: ArgoInstall,
    *,
    context: str,
    kubeconfig: str,
    use_argocd_tracking: bool = False,
) -> tuple[Workspace, ImportReport]:
    """A new workspace in `target` holding the install's objects and settings."""
    report = ImportReport()
    warn = report.warnings.append
    ws = workspace_edit.init_workspace(target, control_name="control")
    # the cluster Argo CD runs in: its in-cluster destination
    ws = workspace_edit.add_cluster(
        ws, "in-cluster", sim=False, kubeconfig=kubeconfig, context=context, aliases=[IN_CLUSTER]
    )
    report.clusters.append("in-cluster")
    repo_entries: list[dict[str, Any]] = []
    template_entries: list[dict[str, Any]] = []
    cluster_entries: list[dict[str, Any]] = []
    for secret in install.secrets:
        kind = ((secret.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE)
        sname = _name(secret)
        if kind == "cluster":
            server = _b64(secret, "server").rstrip("/")
            name = _b64(secret, "name") or sname
            if not server or server == IN_CLUSTER:
                continue
            config = _yaml_value(_b64(secret, "config"), f"cluster secret {sname} config", warn) or {}
            tls = config.get("tlsClientConfig") or {} if isinstance(config, dict) else {}
            extra = {
                k: str(v)
                for k, v in (
                    ("bearerToken", config.get("bearerToken") if isinstance(config, dict) else None),
                    ("caData", tls.get("caData")),
                    ("certData", tls.get("certData")),
                    ("keyData", tls.get("keyData")),
                    ("insecure", "true" if tls.get("insecure") else None),
                )
                if v
            }
            username = str(config.get("username") or "") if isinstance(config, dict) else ""
            password = str(config.get("password") or "") if isinstance(config, dict) else ""
            credentials.store(
                credentials.cluster_key(name),
                credentials.Credential(
                    username=username, password=password, extra=tuple(sorted(extra.items()))
                ),
            )
            cluster_entries.append({"name": name, "type": "kube", "server": server, "credentials": "keyring"})
            report.clusters.append(name)
        elif kind in ("repository", "repo-creds"):
            url = _b64(secret, "url")
            if not url:
                warn(f"secret {sname}: no url, skipped")
                continue
            rtype = _b64(secret, "type") or "git"
            rtype = rtype if rtype in ("git", "helm") else "git"
            username, password, key = (
                _b64(secret, "username"),
                _b64(secret, "password"),
                _b64(secret, "sshPrivateKey"),
            )
            cred = None
            ckind = "none"
            if key:
                cred, ckind = credentials.Credential(ssh_private_key=key), "ssh"
            elif username or password:
                cred, ckind = credentials.Credential(username=username, password=password), "https"
            if kind == "repo-creds":
                if cred is None:
                    warn(f"secret {sname}: a credential template without credentials, skipped")
                    continue
                credentials.store(credentials.template_key(url), cred)
                template_entries.append({"url": url, "type": rtype, "credentials": ckind})
                report.templates.append(url)
                continue
            from console.engine.repos import normalize

            norm = url.rstrip("/") if rtype == "helm" else normalize(ws, url)
            if cred is not None:
                credentials.store(credentials.repo_key(norm), cred)
            entry: dict[str, Any] = {"url": norm, "type": rtype, "credentials": ckind}
            if _b64(secret, "name"):
                entry["name"] = _b64(secret, "name")
            if _b64(secret, "insecure") == "true" or _b64(secret, "insecureIgnoreHostKey") == "true":
                entry["insecureIgnoreHostKey"] = True
            repo_entries.append(entry)
            report.repositories.append(norm)
    cm = install.cm
    custom = customizations(cm, warn)
    report.customizations = sorted(custom)
    exclusions = _yaml_value(_text(cm, "resource.exclusions"), "argocd-cm resource.exclusions", warn)
    compare = _yaml_value(_text(cm, "resource.compareoptions"), "argocd-cm resource.compareoptions", warn)
    masks = _text(cm, "resource.sensitive.mask.annotations")

    def change(doc: dict[str, Any]) -> None:
        doc["clusters"] = [*doc.get("clusters", []), *cluster_entries]
        repos = doc.setdefault("repositories", {})
        repos["repos"] = repo_entries
        if template_entries:
            repos["credentialTemplates"] = template_entries
        if any(e["url"].startswith("file://") for e in repo_entries):
            repos["allowFileURLs"] = True
        settings = doc.setdefault("settings", {})
        settings["trackingAnnotation"] = ARGO_TRACKING if use_argocd_tracking else "trueup.dev/tracking-id"
        if custom:
            settings["resourceCustomizations"] = custom
        if isinstance(exclusions, list):
            settings["resourceExclusions"] = exclusions
        if isinstance(compare, dict):
            settings["resourceCompareOptions"] = compare
        if masks:
            settings["sensitiveMaskAnnotations"] = masks
        policy, default = _text(install.rbac, "policy.csv"), _text(install.rbac, "policy.default")
        if policy or default:
            doc["rbac"] = {k: v for k, v in (("policy", policy), ("default", default)) if v}

    ws = workspace_edit.edit(ws.root, change)
    store = AppStore(ws.control())
    for proj in install.projects:
        manage.write(store, _mapped(proj, model.KIND_APPPROJECT))
        report.projects.append(_name(proj))
    for app in install.applications:
        obj = _mapped(app, model.KIND_APPLICATION)
        try:
            model.parse_application(obj)
        except model.SpecError as exc:
            warn(f"application {_name(app)} is imported as it is, but its spec is invalid: {exc}")
        manage.write(store, obj)
        report.applications.append(_name(app))
    return ws, report


def summary(report: ImportReport) -> dict[str, Any]:
    return json.loads(json.dumps(report.__dict__))
