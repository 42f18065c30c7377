"""Auto-sync and self-heal decisions (argocd-features.md §2.7, AC:controller/appcontroller.go `autoSync`).

Pure functions of the Application, its fresh comparison and the time, so every skip rule can be
tested without a cluster. Messages are Argo's verbatim (log reasons prefixed "Skipping auto-sync: ",
conditions of type SyncError). The one input that is not pure, `revision_has_changes`, renders the
previous revision; `decide` takes it as a callable so tests can pass a constant.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.cluster.api import Obj
from console.engine.compare import CompareContext, Comparison, compare_app
from console.engine.sync.operation import is_in_progress, operation_state, parse_time

SYNCED, OUT_OF_SYNC = "Synced", "OutOfSync"
DEFAULT_AUTO_RETRY: Obj = {"limit": 5}

REASON_DISABLED = "automated sync is disabled"
REASON_IN_PROGRESS = "another operation is in progress"
REASON_DELETING = "deletion in progress"
REASON_PRUNE_ONLY = "need to prune extra resources only but automated prune is disabled"


@dataclass(frozen=True)
class SelfHealBackoff:
    """--self-heal-backoff-timeout-seconds / -factor / -cap-seconds, and the cooldown after which
    the attempt count starts again from zero (--self-heal-backoff-cooldown-seconds, 330 s)."""

    duration: float = 2.0
    factor: float = 3.0
    cap: float = 300.0
    cooldown: float = 330.0

    def delay(self, attempts: int) -> float:
        """k8s wait.Backoff stepped `attempts` times: 0, 2, 6, 18, ... capped (first heal immediate)."""
        delay, step = 0.0, self.duration
        for _ in range(max(0, attempts)):
            delay = step
            step = min(self.cap, step * self.factor) if self.cap > 0 else step * self.factor
        return delay


@dataclass(frozen=True)
class ResourceView:
    """What auto-sync needs of one resource of the comparison."""

    group: str
    kind: str
    namespace: str
    name: str
    status: str
    requires_pruning: bool = False


@dataclass
class AutoSyncDecision:
    """`action` is "sync" (request `operation`) or "skip"; `condition` is a SyncError message."""

    action: str
    reason: str = ""
    condition: str | None = None
    revisions: list[str] = field(default_factory=list)
    retry_in: float | None = None  # self-heal backoff still running: look again after this
    self_heal: bool = False
    self_heal_attempts: int = 0
    backoff: float = 0.0  # the self-heal backoff this attempt waited for (0 for the first)
    resources: list[Obj] = field(default_factory=list)
    prune: bool = False
    sync_options: list[str] | None = None
    retry: Obj | None = None

    @property
    def revision_text(self) -> str:
        return ", ".join(self.revisions)


def automated(app: Obj) -> Obj | None:
    """`syncPolicy.automated` when auto-sync is on (`enabled: false` turns it off, T:IsAutomatedSyncEnabled)."""
    policy = (app.get("spec") or {}).get("syncPolicy") or {}
    auto = policy.get("automated")
    if not isinstance(auto, dict):
        return None
    if auto.get("enabled") is False:
        return None
    return auto


def _clean(value: Any) -> Any:
    """Drop empty values so a spec written by hand compares equal to Go's omitempty structs."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", {}, [], False)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def already_attempted(
    app: Obj, desired: Sequence[str], revision_has_changes: Callable[[], bool]
) -> tuple[bool, list[str], str]:
    """Argo's alreadyAttemptedSync: (attempted, last attempted revisions, last phase).

    Revisions are compared only when the new revision may change this app's manifests (trueup
    renders both and compares; Argo does so when manifest-generate-paths is set, else assumes yes).
    """
    state = operation_state(app)
    if state is None:
        return False, [], ""
    phase = str(state.get("phase") or "")
    result = state.get("syncResult")
    if not isinstance(result, dict) or not result:
        return phase in ("Failed", "Error", "Succeeded"), [], phase
    spec = app.get("spec") or {}
    multi = bool(spec.get("sources"))
    last = list(result.get("revisions") or []) if multi else [str(result.get("revision") or "")]
    if list(desired) != last and revision_has_changes():
        return False, last, phase
    if multi:
        same = _clean(spec.get("sources")) == _clean(result.get("sources"))
    else:
        same = _clean(spec.get("source")) == _clean(result.get("source"))
    return same, last, phase


def _self_heal_attempts(app: Obj, now: datetime, backoff: SelfHealBackoff) -> int:
    """Carry the count only while the cooldown since the last (successful) op has not elapsed."""
    state = operation_state(app) or {}
    finished = parse_time(state.get("finishedAt"))
    if finished is None:
        return 0
    elapsed = (now - finished).total_seconds()
    if elapsed >= backoff.cooldown and state.get("phase") == "Succeeded":
        return 0
    sync = (state.get("operation") or {}).get("sync") or {}
    return int(sync.get("autoHealAttemptsCount") or 0)


def _remaining_backoff(
    app: Obj, attempts: int, now: datetime, backoff: SelfHealBackoff
) -> tuple[float, float]:
    """(remaining seconds, full delay) of the self-heal backoff (Argo selfHealRemainingBackoff)."""
    delay = backoff.delay(attempts)
    state = operation_state(app) or {}
    finished = parse_time(state.get("finishedAt"))
    if finished is None:
        return delay, delay
    return delay - (now - finished).total_seconds(), delay


def decide(
    app: Obj,
    *,
    sync_status: str,
    revisions: Sequence[str],
    resources: Sequence[ResourceView],
    now: datetime,
    backoff: SelfHealBackoff = SelfHealBackoff(),  # noqa: B008 - frozen dataclass
    revision_has_changes: Callable[[], bool] = lambda: True,
) -> AutoSyncDecision:
    """One auto-sync decision, in Argo's rule order."""
    auto = automated(app)
    if auto is None:
        return AutoSyncDecision("skip", REASON_DISABLED)
    if is_in_progress(app):
        return AutoSyncDecision("skip", REASON_IN_PROGRESS)
    if (app.get("metadata") or {}).get("deletionTimestamp"):
        return AutoSyncDecision("skip", REASON_DELETING)
    if sync_status != OUT_OF_SYNC:
        return AutoSyncDecision("skip", f"application status is {sync_status}")
    prune = bool(auto.get("prune"))
    if not prune and all(r.status == SYNCED or r.requires_pruning for r in resources):
        return AutoSyncDecision("skip", REASON_PRUNE_ONLY)

    policy = (app.get("spec") or {}).get("syncPolicy") or {}
    desired = [r for r in revisions if r]
    out = AutoSyncDecision(
        "sync",
        revisions=desired,
        prune=prune,
        sync_options=list(policy.get("syncOptions") or []) or None,
        retry=copy.deepcopy(policy["retry"])
        if isinstance(policy.get("retry"), dict)
        else dict(DEFAULT_AUTO_RETRY),
    )
    attempted, last, phase = already_attempted(app, desired, revision_has_changes)
    if attempted:
        last_text = ", ".join(last)
        if phase != "Succeeded":
            message = (operation_state(app) or {}).get("message", "")
            cond = f"Failed last sync attempt to {last_text}: {message}"
            return AutoSyncDecision(
                "skip",
                f"failed previous sync attempt to {last_text} and will not retry for {out.revision_text}",
                condition=cond,
                revisions=desired,
            )
        if not auto.get("selfHeal"):
            return AutoSyncDecision(
                "skip", f"most recent sync already to {out.revision_text}", revisions=desired
            )
        attempts = _self_heal_attempts(app, now, backoff)
        remaining, delay = _remaining_backoff(app, attempts, now, backoff)
        if remaining > 0:
            return AutoSyncDecision(
                "skip",
                f"already attempted sync to {last_text} with timeout {delay:g}s (retrying in {remaining:g}s)",
                revisions=desired,
                retry_in=remaining,
                self_heal_attempts=attempts,
                backoff=delay,
            )
        out.self_heal = True
        out.self_heal_attempts = attempts + 1
        out.backoff = delay
        out.resources = [
            {"group": r.group, "kind": r.kind, "namespace": r.namespace, "name": r.name}
            for r in resources
            if r.status != SYNCED
        ]
    if prune and not auto.get("allowEmpty") and all(r.requires_pruning for r in resources):
        message = f"Skipping sync attempt to {out.revision_text}: auto-sync will wipe out all resources"
        return AutoSyncDecision("skip", message, condition=message, revisions=desired)
    return out


# --- the one impure input: does the new revision change this app's manifests? ----------------


def _targets_digest(cmp: Comparison) -> str:
    return json.dumps(
        sorted(
            (str(r.key), json.dumps(r.target, sort_keys=True, default=str)) for r in cmp.resources if r.target
        ),
    )


def revision_has_changes(ctx: CompareContext, app: Obj, cmp: Comparison) -> bool:
    """Does the new revision change this app's manifests compared with the last synced one?

    Argo answers this only when `manifest-generate-paths` is set (else: assume it does). trueup
    renders from cached trees, so it compares the rendered manifests themselves: a commit that does
    not touch an app is not a new revision *for that app*, and does not undo a drift the app's
    owners chose not to self-heal. Any doubt (render error, multi-source) counts as a change.
    """
    if (app.get("spec") or {}).get("sources"):
        return True
    old = ((operation_state(app) or {}).get("syncResult") or {}).get("revision")
    if not old or old == cmp.revision:
        return True
    try:
        previous = compare_app(ctx, app, revision_override=str(old))
    except Exception:  # noqa: BLE001 - cannot tell: treat as changed, like Argo
        return True
    if previous.has_error() or previous.kept_previous:
        return True
    return _targets_digest(previous) != _targets_digest(cmp)
