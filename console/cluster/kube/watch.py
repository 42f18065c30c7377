"""A watch response as an iterator of WatchEvents that another thread can abort.

Reads block on the socket for up to the watch timeout; `close()` shuts the socket down so a cache
thread (or `KubeCluster.close`) stops at once instead of waiting for the server's timeout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from console.cluster.api import ClusterError, Gone, WatchEvent
from console.cluster.kube.errors import error_from_status
from console.cluster.kube.stream import AbortableStream


def event_of(ev: dict[str, Any]) -> WatchEvent:
    """One decoded watch line; ERROR events raise (410 as Gone, the rest as their typed error)."""
    etype = ev.get("type")
    obj = ev.get("object") or {}
    if etype == "ERROR":
        err: ClusterError = error_from_status(obj)
        if err.code == 410:
            raise Gone(err.message)
        raise err
    return WatchEvent(etype, obj)  # type: ignore[arg-type]


class WatchStream(AbortableStream, Iterator[WatchEvent]):
    """Iterator over one open watch connection; ends when the server closes it (timeoutSeconds)."""

    def __init__(
        self,
        resp: Any,
        on_transport_error: Callable[[BaseException], ClusterError],
        on_done: Callable[[WatchStream], None],
    ) -> None:
        super().__init__(resp, on_transport_error)
        self._on_done = on_done
        self._gen = self._events()

    def __iter__(self) -> Iterator[WatchEvent]:
        return self

    def __next__(self) -> WatchEvent:
        return next(self._gen)

    def _events(self) -> Iterator[WatchEvent]:
        buf = b""
        try:
            for chunk in self._chunks():
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        yield event_of(json.loads(line))
        finally:
            self._on_done(self)
            self._release()
