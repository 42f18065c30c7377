"""A `pods/log` response as an iterator of lines that another thread can abort (follow mode)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from console.cluster.api import ClusterError
from console.cluster.kube.errors import TRANSPORT_ERRORS

MAX_LINE = 64 * 1024  # a line longer than this is cut (a binary blob must not fill memory)


def log_query(container: str | None, tail: int | None, follow: bool, previous: bool) -> list[tuple[str, Any]]:
    q: list[tuple[str, Any]] = []
    if container:
        q.append(("container", container))
    if tail is not None:
        q.append(("tailLines", max(0, int(tail))))
    if follow:
        q.append(("follow", "true"))
    if previous:
        q.append(("previous", "true"))
    return q


class KubeLogStream:
    """Lines of one open log connection; ends when the server closes it (container exited, or the
    non-follow read is complete) or when `close()` shuts the socket from another thread."""

    def __init__(self, resp: Any, on_transport_error: Callable[[BaseException], ClusterError]) -> None:
        self._resp = resp
        self._on_transport_error = on_transport_error
        self.closed = False

    def close(self) -> None:
        self.closed = True
        try:
            self._resp.shutdown()
        except Exception:  # best effort: the socket may already be gone
            pass

    def __iter__(self) -> Iterator[str]:
        buf = b""
        try:
            while not self.closed:
                try:
                    chunk = self._resp.read1(65536)
                except TRANSPORT_ERRORS as exc:
                    if self.closed:
                        return
                    raise self._on_transport_error(exc) from None
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    yield line[:MAX_LINE].decode("utf-8", "replace")
                if len(buf) > MAX_LINE:
                    yield buf[:MAX_LINE].decode("utf-8", "replace")
                    buf = b""
            if buf and not self.closed:
                yield buf.decode("utf-8", "replace")
        finally:
            try:
                self._resp.close()
                self._resp.release_conn()
            except Exception:  # best effort after an aborted socket
                pass
