"""How an operation attempt ends: a retry scheduled per the operation's retry strategy, or the final
write (the `operation` field cleared first, then operationState, then history); and the minimal
ending when even that fails after an unexpected error.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from console.cluster.api import ClusterError, Obj
from console.engine import model
from console.engine.compare import unexpected_error
from console.engine.sync import hooks
from console.engine.sync import tasks as tk
from console.engine.sync.history import append_history
from console.engine.sync.operation import (
    is_completed,
    operation_state,
    rfc3339,
    update_app,
    update_status,
)
from console.engine.sync.syncpass import Pass, Superseded

MSG_UNEXPECTED = "the operation stopped on an unexpected error"


def kitchen(at: datetime) -> str:
    """Go's time.Kitchen ("3:04PM"), in UTC."""
    at = at.astimezone(UTC)
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d}{'AM' if at.hour < 12 else 'PM'}"


def retry_strategy(op: Obj) -> model.RetryStrategy | None:
    raw = op.get("retry")
    if not isinstance(raw, dict):
        return None
    backoff_raw = raw.get("backoff")
    backoff = None
    if isinstance(backoff_raw, dict):
        factor = backoff_raw.get("factor")
        backoff = model.Backoff(
            duration=str(backoff_raw.get("duration") or ""),
            factor=int(factor) if factor is not None else None,
            max_duration=str(backoff_raw.get("maxDuration") or ""),
        )
    return model.RetryStrategy(
        limit=int(raw.get("limit") or 0), backoff=backoff, refresh=bool(raw.get("refresh"))
    )


def complete(run: Pass, phase: str, message: str, *, retryable: bool = True) -> str:
    strategy = retry_strategy(run.op)
    count = int(run.state.get("retryCount") or 0)
    if phase in (tk.FAILED, tk.ERROR) and retryable and strategy is not None and strategy.allows_retry(count):
        retry_at = run.now + timedelta(seconds=strategy.next_retry_delay(count))
        run.state["retryCount"] = count + 1
        run.state["phase"] = tk.RUNNING
        run.state["finishedAt"] = rfc3339(run.now)
        run.state["message"] = f"{message}. Retrying attempt #{count + 1} at {kitchen(retry_at)}."
        hooks.cleanup(run, succeeded=False)
        run.persist()
        return tk.RUNNING
    if count:
        message = f"{message} (retried {count} times)."
    hooks.cleanup(run, succeeded=phase == tk.SUCCEEDED)
    run.state["phase"] = phase
    run.state["message"] = message
    run.state["finishedAt"] = rfc3339(run.now)
    results = run.results() if (run.tasks or run.sync_fail or run.extra_results) else None
    final = copy.deepcopy(run.state)
    if results is not None:
        final.setdefault("syncResult", {})["resources"] = results
    record = phase == tk.SUCCEEDED and not run.dry_run and not run.selective
    op = run.op
    started = run.state.get("startedAt")

    def clear(app: Obj) -> None:
        app["operation"] = None
        app.pop("operation", None)

    # `operation` first: a crash between the two writes leaves a Running state whose own
    # copy of the operation lets the next pass finish it.
    update_app(run.store, run.name, clear)

    def mutate(status: Obj) -> None:
        live = status.get("operationState")
        if not isinstance(live, dict) or live.get("startedAt") != started or is_completed(live):
            raise Superseded()
        status["operationState"] = final
        if record:
            append_history(status, run.app, final, op, deployed_at=rfc3339(run.now))

    update_status(run.store, run.name, mutate)
    run.state = final
    return phase


def end_with_error(run: Pass, exc: Exception) -> str:
    """Anything unexpected inside a pass ends the operation as Error with a one-line message.

    A cluster error is retryable per the operation's retry strategy (the cluster may be back next
    time); anything else would fail the same way again, so it is not. When even the normal ending
    fails (e.g. cleaning up hooks on a broken cluster), the phase is written without the cleanup.
    """
    message = f"{MSG_UNEXPECTED}: {unexpected_error(exc)}"
    try:
        return complete(run, tk.ERROR, message, retryable=isinstance(exc, ClusterError))
    except Superseded:
        fresh = operation_state(run.store.get_app(run.name)) or {}
        return str(fresh.get("phase") or tk.ERROR)
    except Exception:  # noqa: BLE001 - fall through to the minimal ending below
        pass
    started = run.state.get("startedAt")
    final = {
        **copy.deepcopy(run.state),
        "phase": tk.ERROR,
        "message": message,
        "finishedAt": rfc3339(run.now),
    }

    def clear(app: Obj) -> None:
        app.pop("operation", None)

    def mutate(status: Obj) -> None:
        live = status.get("operationState")
        if not isinstance(live, dict) or live.get("startedAt") != started or is_completed(live):
            raise Superseded()
        status["operationState"] = final

    update_app(run.store, run.name, clear)
    try:
        update_status(run.store, run.name, mutate)
    except Superseded:
        pass
    return tk.ERROR
