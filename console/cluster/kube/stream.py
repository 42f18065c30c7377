"""An open streaming response (watch, pods/log) that another thread can abort.

Reads block on the socket; `close()` shuts it down so the reading thread sees the end of the stream
at once instead of waiting for the server's timeout. Watches and logs differ only in what they
make of the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from console.cluster.api import ClusterError
from console.cluster.kube.errors import TRANSPORT_ERRORS


class AbortableStream:
    def __init__(self, resp: Any, on_transport_error: Callable[[BaseException], ClusterError]) -> None:
        self._resp = resp
        self._on_transport_error = on_transport_error
        self.closed = False

    def close(self) -> None:
        """Abort from any thread: the reading thread sees end of stream."""
        self.closed = True
        try:
            self._resp.shutdown()
        except Exception:  # best effort: the socket may already be gone
            pass

    def _chunks(self) -> Iterator[bytes]:
        """Bytes as they arrive, until the server ends the response or `close()`; a transport
        error after `close()` is the abort, not an error."""
        while not self.closed:
            try:
                chunk = self._resp.read1(65536)
            except TRANSPORT_ERRORS as exc:
                if self.closed:
                    return
                raise self._on_transport_error(exc) from None
            if not chunk:
                return
            yield chunk

    def _release(self) -> None:
        try:
            self._resp.close()  # a half-read stream cannot be reused for keep-alive
            self._resp.release_conn()
        except Exception:  # best effort after an aborted socket
            pass
