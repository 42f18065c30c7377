"""Running an operation in the foreground: progress lines, the final result table, and Ctrl-C or
SIGTERM handled so an operation is never left stuck silently (handed to a running controller, or
terminated here).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from console.cli.output import emit_json, one_line, table
from console.cluster.api import Obj
from console.engine.appstore import AppStore
from console.engine.workspace import Workspace


def _result_rows(app: Obj) -> list[list[str]]:
    state = (app.get("status") or {}).get("operationState") or {}
    when = state.get("finishedAt") or state.get("startedAt") or ""
    health = {
        (r.get("group", ""), r.get("kind", ""), r.get("namespace", ""), r.get("name", "")): (
            r.get("health") or {}
        ).get("status", "")
        for r in (app.get("status") or {}).get("resources") or []
    }
    rows = []
    for r in (state.get("syncResult") or {}).get("resources") or []:
        key = (r.get("group", ""), r.get("kind", ""), r.get("namespace", ""), r.get("name", ""))
        rows.append(
            [
                when,
                r.get("group", ""),
                r.get("kind", ""),
                r.get("namespace", ""),
                r.get("name", ""),
                r.get("status", ""),
                health.get(key, "") if not r.get("hookType") else "",
                r.get("hookType", ""),
                one_line(r.get("message", ""), 100),
            ]
        )
    return rows


def print_operation(app: Obj, output: str | None) -> int:
    state = (app.get("status") or {}).get("operationState") or {}
    phase = state.get("phase", "")
    if output == "json":
        emit_json(
            {
                "name": app["metadata"]["name"],
                "operationState": state,
                "sync": (app.get("status") or {}).get("sync") or {},
                "health": (app.get("status") or {}).get("health") or {},
            }
        )
    else:
        rows = _result_rows(app)
        if rows:
            table(
                ["TIMESTAMP", "GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE"],
                rows,
            )
            print()
        sr = state.get("syncResult") or {}
        for k, v in (
            ("Name", app["metadata"]["name"]),
            ("Sync Revision", sr.get("revision", "")),
            ("Phase", phase),
            ("Start", state.get("startedAt", "")),
            ("Finished", state.get("finishedAt", "")),
            ("Message", state.get("message", "")),
        ):
            print(f"{k + ':':<15}{v}")
    return 0 if phase == "Succeeded" else 1


class Signalled(KeyboardInterrupt):
    """SIGINT or SIGTERM while a foreground operation runs (a KeyboardInterrupt, so no `except
    Exception` on the way swallows it; the executor's steps are persisted, so stopping anywhere is
    safe)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def interrupts() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into Signalled for the duration (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise Signalled(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _say(line: str) -> None:
    sys.stderr.write(f"trueup: {line}\n")
    sys.stderr.flush()


def finish_termination(ws: Workspace, name: str, holder: str) -> Obj:
    """Ask for termination, then run it here unless a live controller has the operation: the
    executor deletes the running hooks and ends the operation Failed "Operation terminated". An
    operation Lease held by an executor that died is waited out (it expires after its duration)."""
    import time

    from console.engine.sync import lease
    from console.engine.sync.executor import process_operation
    from console.engine.sync.operation import NoOperation, is_in_progress, request_terminate

    store = AppStore(ws.control())
    try:
        request_terminate(store, name)
    except NoOperation:
        pass  # it ended meanwhile
    deadline = time.monotonic() + lease.lease_seconds() + 2
    while True:
        process_operation(ws, name, holder=holder)
        app = store.get_app(name)
        if not is_in_progress(app) or time.monotonic() > deadline:
            return app
        owner = lease.holder_of(store.cluster, name)
        if owner is not None and owner == lease.running_controller(store.cluster):
            return app  # a live controller holds it and finishes the termination on its next pass
        time.sleep(0.25)


def state_text(app: Obj) -> str:
    state = (app.get("status") or {}).get("operationState") or {}
    return f"{state.get('phase') or 'unknown'}: {state.get('message') or 'no message'}"


def interrupted(ws: Workspace, name: str, holder: str, signum: int, *, waiting: bool = False) -> int:
    """Ctrl-C (or SIGTERM) in a foreground sync: never leave the operation stuck silently.

    A running controller (its heartbeat Lease is fresh) takes the operation over: our operation
    Lease is released so it resumes at once. Otherwise this process terminates the operation
    itself. `waiting` (app wait): the user only stopped watching, so the operation is left as it is
    and the line says how to resume or end it. A second signal during this stops at once.
    """
    from console.engine.sync import lease
    from console.engine.sync.operation import is_in_progress

    code = 128 + signum
    store = AppStore(ws.control())
    try:
        with interrupts():
            app = store.get_app(name)
            if not is_in_progress(app):
                if waiting:
                    _say(f"stopped waiting for {name}; no operation is in progress")
                else:
                    _say(f"interrupted: the operation of {name} had already finished ({state_text(app)})")
                return code
            controller = lease.running_controller(store.cluster)
            if controller is not None or waiting:
                lease.release(store.cluster, name, holder)
                if controller is not None:
                    _say(
                        f"interrupted: the operation of {name} goes on in controller {controller}; "
                        f"follow it with `trueup app wait {name} --operation`"
                    )
                else:
                    _say(
                        f"stopped waiting: the operation of {name} is still running and no controller is "
                        f"running; `trueup app wait {name} --operation` resumes it, "
                        f"`trueup app terminate-op {name}` ends it"
                    )
                return code
            app = finish_termination(ws, name, holder)
            if is_in_progress(app):
                _say(
                    f"interrupted: the operation of {name} is {state_text(app)}; its executor "
                    f"{lease.holder_of(store.cluster, name) or 'has gone'}: `trueup app terminate-op {name}` "
                    "finishes it"
                )
            else:
                _say(f"interrupted: the operation of {name} was terminated ({state_text(app)})")
            return code
    except Signalled:
        try:
            lease.release(store.cluster, name, holder)
            left = state_text(store.get_app(name))
        except Exception:  # noqa: BLE001 - the user insisted on stopping; report what we know
            left = "unknown"
        _say(
            f"interrupted again: the operation of {name} is left {left}; `trueup app terminate-op {name}` ends it"
        )
        return code


def follower(ws: Workspace, name: str, args: argparse.Namespace, holder: str) -> Callable[[], Obj]:
    """Run the requested operation to completion here (inside the audited attempt), printing
    progress; Ctrl-C/SIGTERM raise Signalled out of the gate, which records it."""
    from console.engine.sync.executor import run_operation

    quiet = getattr(args, "output", None) == "json"
    last: list[str] = [""]

    def progress(app: Obj) -> None:
        state = (app.get("status") or {}).get("operationState") or {}
        line = f"{state.get('phase', '')}: {state.get('message', '')}"
        if line != last[0] and not quiet:
            print(line, file=sys.stderr)
            last[0] = line

    def follow() -> Obj:
        with interrupts():
            return run_operation(ws, name, holder=holder, timeout=args.timeout, progress=progress, poll=0.25)

    return follow
