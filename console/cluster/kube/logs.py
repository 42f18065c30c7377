"""A `pods/log` response as an iterator of lines that another thread can abort (follow mode)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from console.cluster.kube.stream import AbortableStream

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


class KubeLogStream(AbortableStream):
    """Lines of one open log connection; ends when the server closes it (container exited, or the
    non-follow read is complete) or when `close()` shuts the socket from another thread."""

    def __iter__(self) -> Iterator[str]:
        buf = b""
        try:
            for chunk in self._chunks():
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
            self._release()
