"""Live data for the console: the Application feed (list, then watch) and the embedded controller.

The feed runs in a thread with its own Workspace (no cluster connection shared with UI
workers). Watch events land in a pending map keyed by application name (latest state wins), and
the UI drains it at most every 500 ms (`drain()`), so a burst of 1,000 status writes is one flush;
a paused console simply does not drain. A lost watch (410 Gone) is a relist; a failing control
cluster is retried with backoff while the rows on screen stay, marked stale with their age.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.message import Message

from console.cluster.api import ClusterError, Gone
from console.engine import model
from console.engine.appstore import NAMESPACE, AppStore
from console.engine.workspace import WorkspaceError, load
from console.tui.gcpause import gc_paused
from console.tui.messages import FeedStatus, FleetLoaded

Obj = dict[str, Any]
FLUSH_SECONDS = 0.5
WATCH_SECONDS = 5.0  # a watch is re-opened this often, so stop() and staleness are prompt
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class FleetFeed:
    """List + watch Applications of the control cluster; `drain()` hands out what changed."""

    def __init__(self, root: Path, post: Callable[[Message], object], *, watch: bool = True) -> None:
        self.root = root
        self.post = post
        self.watch = watch
        self.last_contact: float | None = None  # time.monotonic() of the last good answer
        self.error = ""
        self._pending: dict[str, Obj | None] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stream: Any = None
        # which apps this user may see (RBAC `get`), decided here in the feed's thread: at 0.2 ms
        # a decision, a fleet of thousands must not pay it on the UI thread
        self.admit: Callable[[Obj], bool] = lambda _app: True

    # -- UI side ---------------------------------------------------------------------------
    def drain(self) -> dict[str, Obj | None]:
        with self._lock:
            out, self._pending = self._pending, {}
        return out

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._pending)

    def stop(self) -> None:
        self._stop.set()
        stream = self._stream
        close = getattr(stream, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - best effort from another thread
                pass

    # -- thread side -----------------------------------------------------------------------
    def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._cycle()
                failures = 0
                if not self.watch:
                    return
            except (ClusterError, WorkspaceError, OSError) as exc:
                delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                failures += 1
                self.error = " ".join((getattr(exc, "message", None) or str(exc)).split())
                self.post(FeedStatus(self.error, retry_in=delay))
                self._stop.wait(delay)

    def _cycle(self) -> None:
        ws = load(self.root)
        control = ws.control()
        store = AppStore(control)
        with gc_paused():
            listed = control.list(model.API_VERSION, "Application", NAMESPACE)
        projects = store.list_projects()
        self._contact()
        visible = [a for a in listed.items if self.admit(a)]
        self.post(FleetLoaded(sorted(visible, key=lambda a: a["metadata"]["name"]), projects))
        rv = listed.resource_version
        while self.watch and not self._stop.is_set():
            try:
                stream = control.watch(
                    model.API_VERSION,
                    "Application",
                    NAMESPACE,
                    resource_version=rv,
                    timeout_seconds=WATCH_SECONDS,
                )
                self._stream = stream
                for ev in stream:
                    if self._stop.is_set():
                        return
                    obj = ev.object or {}
                    md = obj.get("metadata") or {}
                    if ev.type == "BOOKMARK":
                        rv = str(md.get("resourceVersion") or rv)
                        continue
                    name = md.get("name")
                    if not name:
                        continue
                    rv = str(md.get("resourceVersion") or rv)
                    with self._lock:
                        gone = ev.type == "DELETED" or not self.admit(obj)
                        self._pending[str(name)] = None if gone else obj
                    self._contact()
                self._contact()
            except Gone:
                return  # relist
            finally:
                self._stream = None

    def _contact(self) -> None:
        if self.error:
            self.error = ""
            self.post(FeedStatus(""))
        self.last_contact = time.monotonic()


class EmbeddedController:
    """The reconcile loop in a daemon thread of the console process (its own Workspace, so no
    cluster connection is shared with UI workers); logs go to `.trueup/controller.log`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._controller: Any = None
        self.error = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="trueup-controller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from console.engine.controller.log import ControllerLog
        from console.engine.controller.loop import Controller

        try:
            ws = load(self.root)
            log_path = ws.state_dir / "controller.log"
            with log_path.open("a", encoding="utf-8") as stream:
                self._controller = Controller(ws, holder=f"console-{os.getpid()}", log=ControllerLog(stream))
                self._controller.run(self._stop)
        except Exception as exc:  # noqa: BLE001 - shown in the status bar, never a traceback
            self.error = f"embedded controller stopped: {' '.join(str(exc).split())[:200]}"

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._controller is not None:
            self._controller.wake()
        if self._thread is not None:
            self._thread.join(timeout)
