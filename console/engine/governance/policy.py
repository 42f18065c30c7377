"""Where the RBAC policy comes from.

* A real control cluster: ConfigMap `trueup-rbac-cm` in namespace `trueup`, in `argocd-rbac-cm`
  format (policy.csv, policy.<x>.csv, policy.default, scopes, policy.matchMode) — an existing
  argocd-rbac-cm's `data` can be copied in unchanged. The workspace file's `rbac:` section is
  ignored there (a local file must not grant cluster permissions). No ConfigMap: the built-in
  policy only, no default role — deny by default (`admin` is still role:admin, as in Argo CD).
* A sim workspace: the `rbac:` section of trueup.yaml.

Project roles come from the AppProjects in the control cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.cluster.api import Cluster, Forbidden, NotFound
from console.engine import model
from console.engine.governance import rbac

RBAC_CONFIGMAP = "trueup-rbac-cm"
NAMESPACE = model.CONTROL_NAMESPACE


class PolicyUnavailable(Exception):
    """The policy cannot be read (exit 3: nothing is allowed without it)."""


def config_from_cluster(control: Cluster) -> rbac.PolicyConfig:
    try:
        cm = control.get("v1", "ConfigMap", NAMESPACE, RBAC_CONFIGMAP)
    except NotFound:
        return rbac.PolicyConfig(source=f"built-in policy only (no ConfigMap {NAMESPACE}/{RBAC_CONFIGMAP})")
    except Forbidden as exc:
        raise PolicyUnavailable(
            f"cannot read the RBAC policy ConfigMap {NAMESPACE}/{RBAC_CONFIGMAP}: {exc.message}; "
            "ask a cluster admin to let your identity get it"
        ) from None
    data = cm.get("data") if isinstance(cm.get("data"), dict) else {}
    return rbac.from_rbac_configmap(data or {}, f"ConfigMap {NAMESPACE}/{RBAC_CONFIGMAP}")


def config_from_workspace(section: Mapping[str, Any]) -> rbac.PolicyConfig:
    if not section:
        return rbac.PolicyConfig(source="built-in policy only (trueup.yaml has no rbac section)")
    return rbac.from_workspace(section, "trueup.yaml rbac")


def projects_from_cluster(control: Cluster) -> dict[str, model.AppProject]:
    """The control cluster's AppProjects (invalid ones skipped: their roles grant nothing)."""
    out: dict[str, model.AppProject] = {}
    for obj in control.list(model.API_VERSION, "AppProject", NAMESPACE).items:
        try:
            proj = model.parse_project(obj)
        except model.SpecError:
            continue
        out[proj.name] = proj
    out.setdefault(model.DEFAULT_PROJECT, model.default_project())
    return out
