"""Where the RBAC policy comes from, and the enforcer every command and the controller use.

* A real control cluster: ConfigMap `trueup-rbac-cm` in namespace `trueup`, in `argocd-rbac-cm`
  format (policy.csv, policy.<x>.csv, policy.default, scopes, policy.matchMode) — an existing
  argocd-rbac-cm's `data` can be copied in unchanged. The workspace file's `rbac:` section is
  ignored there (a local file must not grant cluster permissions). No ConfigMap: the built-in
  policy only, no default role — deny by default (`admin` is still role:admin, as in Argo CD).
* A sim workspace: the `rbac:` section of trueup.yaml.

Project roles come from the AppProjects in the control cluster.
"""

from __future__ import annotations

from console.cluster.api import Forbidden, NotFound
from console.engine import model
from console.engine.appstore import NAMESPACE, AppStore
from console.engine.governance import rbac
from console.engine.workspace import Workspace

RBAC_CONFIGMAP = "trueup-rbac-cm"


class PolicyUnavailable(Exception):
    """The policy cannot be read (exit 3: nothing is allowed without it)."""


def load_config(ws: Workspace) -> rbac.PolicyConfig:
    from console.engine.governance.identity import control_is_real

    if control_is_real(ws):
        try:
            cm = ws.control().get("v1", "ConfigMap", NAMESPACE, RBAC_CONFIGMAP)
        except NotFound:
            return rbac.PolicyConfig(
                source=f"built-in policy only (no ConfigMap {NAMESPACE}/{RBAC_CONFIGMAP})"
            )
        except Forbidden as exc:
            raise PolicyUnavailable(
                f"cannot read the RBAC policy ConfigMap {NAMESPACE}/{RBAC_CONFIGMAP}: {exc.message}; "
                "ask a cluster admin to let your identity get it"
            ) from None
        data = cm.get("data") if isinstance(cm.get("data"), dict) else {}
        return rbac.from_rbac_configmap(data or {}, f"ConfigMap {NAMESPACE}/{RBAC_CONFIGMAP}")
    if not ws.rbac:
        return rbac.PolicyConfig(source="built-in policy only (trueup.yaml has no rbac section)")
    return rbac.from_workspace(ws.rbac, "trueup.yaml rbac")


def load_projects(ws: Workspace) -> dict[str, model.AppProject]:
    """The control cluster's AppProjects (invalid ones skipped: their roles grant nothing)."""
    out: dict[str, model.AppProject] = {}
    for obj in AppStore(ws.control()).list_projects():
        try:
            proj = model.parse_project(obj)
        except model.SpecError:
            continue
        out[proj.name] = proj
    return out


def enforcer_for(ws: Workspace, config: rbac.PolicyConfig | None = None) -> rbac.Enforcer:
    """The enforcer for `ws`; raises PolicyUnavailable, or rbac.PolicyError for a bad policy line."""
    return rbac.Enforcer(config or load_config(ws), projects=load_projects(ws))
