"""One executor per operation: a coordination.k8s.io/v1 Lease per Application in the control cluster.

The Lease is the same primitive Kubernetes controllers use for leader election, so a console, a CLI
and any number of controller replicas can race for an operation and exactly one runs it. A holder
that dies stops renewing; once `renewTime + leaseDurationSeconds` has passed (control-cluster
clock), anyone may take it over and resume the persisted operation.

Every running controller also keeps a heartbeat Lease `trueup-controller-<holder>` (label
`trueup.dev/component=controller`, like a kubelet's node Lease), renewed by its loop and deleted
when it stops. A CLI interrupted mid-operation reads them to decide whether to leave the operation
to a live controller or to terminate it itself (`running_controller`).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta

from console.cluster.api import AlreadyExists, Cluster, Conflict, NotFound, Obj
from console.engine.appstore import NAMESPACE
from console.engine.sync.operation import cluster_now, parse_time

API_VERSION = "coordination.k8s.io/v1"
KIND = "Lease"
ENV_LEASE_SECONDS = "TRUEUP_OP_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 15.0
MANAGER = "trueup"


def lease_seconds(explicit: float | None = None) -> float:
    """Explicit value, else $TRUEUP_OP_LEASE_SECONDS (tests shorten it), else 15 s."""
    if explicit is not None:
        return float(explicit)
    raw = os.environ.get(ENV_LEASE_SECONDS)
    if raw:
        try:
            return max(1.0, float(raw))
        except ValueError:
            pass
    return DEFAULT_LEASE_SECONDS


def lease_name(app_name: str) -> str:
    return f"trueup-op-{app_name}"[:253]


def _micro(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _expired(lease: Obj, now: datetime) -> bool:
    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    duration = float(spec.get("leaseDurationSeconds") or DEFAULT_LEASE_SECONDS)
    return renewed is None or renewed + timedelta(seconds=duration) <= now


def holder_of(cluster: Cluster, app_name: str) -> str | None:
    """Current holder (None when free or expired)."""
    try:
        lease = cluster.get(API_VERSION, KIND, NAMESPACE, lease_name(app_name))
    except NotFound:
        return None
    if _expired(lease, cluster_now(cluster)):
        return None
    return (lease.get("spec") or {}).get("holderIdentity") or None


def acquire(cluster: Cluster, app_name: str, holder: str, *, seconds: float | None = None) -> bool:
    """Take or renew the Lease. False when another live holder has it (or won a race)."""
    return _take(cluster, lease_name(app_name), holder, lease_seconds(seconds))


def _take(
    cluster: Cluster, name: str, holder: str, duration: float, labels: dict[str, str] | None = None
) -> bool:
    now = cluster_now(cluster)
    try:
        lease = cluster.get(API_VERSION, KIND, NAMESPACE, name)
    except NotFound:
        md: Obj = {"name": name, "namespace": NAMESPACE}
        if labels:
            md["labels"] = dict(labels)
        obj: Obj = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": md,
            "spec": {
                "holderIdentity": holder,
                "leaseDurationSeconds": max(1, round(duration)),
                "acquireTime": _micro(now),
                "renewTime": _micro(now),
                "leaseTransitions": 0,
            },
        }
        try:
            cluster.create(obj, field_manager=MANAGER)
            return True
        except (AlreadyExists, Conflict):
            return False
    spec = dict(lease.get("spec") or {})
    current = spec.get("holderIdentity") or ""
    if current and current != holder and not _expired(lease, now):
        return False
    if current != holder:
        spec["acquireTime"] = _micro(now)
        spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
    spec["holderIdentity"] = holder
    spec["renewTime"] = _micro(now)
    spec["leaseDurationSeconds"] = max(1, round(duration))
    lease = dict(lease)
    lease["spec"] = spec
    try:
        cluster.update(lease, field_manager=MANAGER)
    except (Conflict, NotFound):
        return False
    return True


def release(cluster: Cluster, app_name: str, holder: str) -> None:
    """Give the Lease up (only if still ours), so the next operation starts without waiting."""
    _drop(cluster, lease_name(app_name), holder)


def _drop(cluster: Cluster, name: str, holder: str) -> None:
    try:
        lease = cluster.get(API_VERSION, KIND, NAMESPACE, name)
    except NotFound:
        return
    if (lease.get("spec") or {}).get("holderIdentity") != holder:
        return
    try:
        cluster.delete(
            API_VERSION,
            KIND,
            NAMESPACE,
            name,
            resource_version=(lease.get("metadata") or {}).get("resourceVersion"),
        )
    except (Conflict, NotFound):
        pass


# --- controller heartbeats -----------------------------------------------------------------------

COMPONENT_LABEL = "trueup.dev/component"
CONTROLLER = "controller"
HEARTBEAT_SECONDS = 30.0  # outlives a long pass (a fleet refresh, a wave delay) between renewals


def controller_lease_name(holder: str) -> str:
    """`trueup-controller-<holder>` as a DNS-1123 name (holder ids are host names and pids)."""
    safe = re.sub(r"[^a-z0-9.-]+", "-", holder.lower()).strip("-.") or "unnamed"
    return f"trueup-controller-{safe}"[:253].rstrip("-.")


def heartbeat(cluster: Cluster, holder: str, *, seconds: float = HEARTBEAT_SECONDS) -> bool:
    """Create or renew this controller's heartbeat Lease."""
    return _take(cluster, controller_lease_name(holder), holder, seconds, {COMPONENT_LABEL: CONTROLLER})


def stop_heartbeat(cluster: Cluster, holder: str) -> None:
    _drop(cluster, controller_lease_name(holder), holder)


def running_controller(cluster: Cluster) -> str | None:
    """The holder id of a controller whose heartbeat is fresh (None when none is running)."""
    now = cluster_now(cluster)
    try:
        leases = cluster.list(API_VERSION, KIND, NAMESPACE, label_selector=f"{COMPONENT_LABEL}={CONTROLLER}")
    except NotFound:
        return None
    for item in sorted(leases.items, key=lambda x: str((x.get("metadata") or {}).get("name"))):
        if not _expired(item, now):
            holder = (item.get("spec") or {}).get("holderIdentity")
            if holder:
                return str(holder)
    return None
