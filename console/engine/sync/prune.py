"""Pruning inside a sync wave: `Prune=confirm` resources wait for the Application's
`argocd.argoproj.io/deletion-approved` annotation, the others are deleted with the app's
PrunePropagationPolicy and recorded as Pruned.
"""

from __future__ import annotations

from console.cluster.api import ClusterError
from console.engine.sync import tasks as tk
from console.engine.sync.apply import error_message
from console.engine.sync.operation import parse_time
from console.engine.sync.syncpass import Pass

DELETION_APPROVED = "argocd.argoproj.io/deletion-approved"


def deletion_approved(run: Pass) -> bool:
    """`argocd.argoproj.io/deletion-approved` on the Application, not older than the operation."""
    fresh = run.store.get_app(run.name)
    value = ((fresh.get("metadata") or {}).get("annotations") or {}).get(DELETION_APPROVED)
    at = parse_time(value)
    return at is not None and at >= run.started_at


def prune_wave(run: Pass, prunes: list[tk.SyncTask]) -> str | None:
    """Delete the wave's prune tasks; a phase (Running, waiting for approval) when the pass must stop."""
    to_confirm = [t for t in prunes if t.requires_prune_confirmation and not t.prune_skipped]
    if to_confirm and not deletion_approved(run):
        return run.running(tk.prune_confirmation_message(to_confirm))
    if prunes:
        policy = run.app_options.prune_propagation_policy
        for t in prunes:
            if t.prune_skipped:
                t.operation_state = tk.SUCCEEDED
                continue
            try:
                run.delete(t, policy)
                t.sync_status, t.operation_state, t.message = tk.PRUNED, tk.SUCCEEDED, "pruned"
            except ClusterError as exc:
                t.sync_status, t.operation_state, t.message = (
                    tk.SYNC_FAILED,
                    tk.FAILED,
                    error_message(exc, t, run.ws.settings.sensitive_annotations),
                )
        run.persist()
    return None
