"""Turn apiserver Status bodies and transport failures into the typed errors of `api.py`.

The server's message is kept verbatim: SREs search for it, and the engine shows it as Argo CD does.
Transport failures become one line naming the cluster and server, never a urllib3 traceback.
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import urllib3.exceptions as u3

from console.cluster.api import (
    ERRORS_BY_REASON,
    BadRequest,
    ClusterError,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    StatusCause,
    Timeout,
    Unauthorized,
    Unavailable,
)

_BY_CODE: dict[int, type[ClusterError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: Unavailable,
    503: Unavailable,
    504: Timeout,
}


def error_from_status(status: dict[str, Any], http_code: int = 0) -> ClusterError:
    """A metav1.Status (from a response body or a watch ERROR event) as a typed error."""
    code = int(status.get("code") or http_code or 500)
    reason = str(status.get("reason") or "")
    message = str(status.get("message") or reason or f"HTTP {code}")
    details = status.get("details") or {}
    causes = [
        StatusCause(
            field=str(c.get("field") or ""),
            message=str(c.get("message") or ""),
            reason=str(c.get("reason") or ""),
        )
        for c in details.get("causes") or []
        if isinstance(c, dict)
    ]
    cls = ERRORS_BY_REASON.get(reason) or _BY_CODE.get(code)
    if cls is None:
        err = ClusterError(message, causes=causes)
        err.code = code
        err.reason = reason or "InternalError"
        return err
    err = cls(message, causes=causes)
    if code == 429:  # no dedicated class: Unavailable is what callers retry, keep the real code visible
        err.code, err.reason = 429, reason or "TooManyRequests"
    return err


def error_from_response(http_code: int, body: bytes) -> ClusterError:
    """Error for a non-2xx response; a non-Status body (proxy page, plain text) keeps its first line."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        return error_from_status(parsed, http_code)
    text = body.decode("utf-8", "replace").strip().splitlines()
    return error_from_status(
        {"code": http_code, "message": text[0] if text else f"HTTP {http_code}"}, http_code
    )


def _root(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    cur: BaseException = exc
    while id(cur) not in seen:
        seen.add(id(cur))
        nxt = getattr(cur, "reason", None)
        if isinstance(nxt, BaseException):
            cur = nxt
            continue
        if cur.__cause__ is not None:
            cur = cur.__cause__
            continue
        if cur.__context__ is not None and not isinstance(cur, (ssl.SSLError, OSError)):
            cur = cur.__context__
            continue
        break
    return cur


def describe_transport(exc: BaseException) -> str:
    """Short human cause of a connection failure: 'connection refused', 'DNS lookup failed', ..."""
    root = _root(exc)
    if isinstance(exc, u3.ReadTimeoutError) or isinstance(root, (TimeoutError, socket.timeout)):
        return "read timed out" if isinstance(exc, u3.ReadTimeoutError) else "connection timed out"
    if isinstance(exc, u3.NameResolutionError) or isinstance(root, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(root, ConnectionRefusedError):
        return "connection refused"
    if isinstance(root, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(root, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {root.verify_message or root.reason}"
    if isinstance(root, ssl.SSLError) or isinstance(exc, u3.SSLError):
        return f"TLS error: {getattr(root, 'reason', None) or str(root).splitlines()[0]}"
    if isinstance(exc, u3.ProtocolError):
        return "connection closed by server"
    text = str(root).strip().splitlines()
    return text[0] if text else type(root).__name__


def transport_error(exc: BaseException, cluster: str, server: str) -> Unavailable:
    """The request never got an HTTP answer (`err.transport` tells it from a server-sent 503)."""
    err = Unavailable(f'cluster "{cluster}" ({server}) is unreachable: {describe_transport(exc)}')
    err.transport = True  # type: ignore[attr-defined]
    return err


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (u3.HTTPError, OSError)
