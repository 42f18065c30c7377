"""The RBAC enforcer for a workspace (console.engine.governance.policy says where policy comes from)."""

from __future__ import annotations

from console.engine import model
from console.engine.governance import rbac
from console.engine.governance.policy import (
    PolicyUnavailable,
    config_from_cluster,
    config_from_workspace,
    projects_from_cluster,
)
from console.engine.workspace import Workspace

__all__ = ["PolicyUnavailable", "control_is_real", "enforcer_for", "load_config", "load_projects"]


def control_is_real(ws: Workspace) -> bool:
    """A `type: kube` control cluster: identities are verified, the policy is the cluster's."""
    return ws.cluster_config(ws.control_cluster).type == "kube"


def load_config(ws: Workspace) -> rbac.PolicyConfig:
    if control_is_real(ws):
        return config_from_cluster(ws.control())
    return config_from_workspace(ws.rbac)


def load_projects(ws: Workspace) -> dict[str, model.AppProject]:
    return projects_from_cluster(ws.control())


def enforcer_for(ws: Workspace, config: rbac.PolicyConfig | None = None) -> rbac.Enforcer:
    """The enforcer for `ws`; raises PolicyUnavailable, or rbac.PolicyError for a bad policy line."""
    return rbac.Enforcer(config or load_config(ws), projects=load_projects(ws))
