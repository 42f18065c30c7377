"""Real servers on 127.0.0.1 for the repository tests: git over HTTP (git http-backend behind basic
auth), a Helm chart repository (static files behind basic auth) and sshd with a test key.

Each server is a context manager that starts on a free loopback port and stops what it started
(by its own handle or pid) on exit.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _AuthHandler(BaseHTTPRequestHandler):
    user = ""
    password = ""
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        pass

    def _authorised(self) -> bool:
        want = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        self.requests.append(self.path)
        if self.headers.get("Authorization") == want:
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="trueup-test"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False


def _git_handler(root: Path, user: str, password: str, log: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(_AuthHandler):
        def _cgi(self) -> None:
            if not self._authorised():
                return
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_CONFIG_NOSYSTEM": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": user,
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            }
            if self.headers.get("Content-Encoding") == "gzip":
                env["HTTP_CONTENT_ENCODING"] = "gzip"
            out = subprocess.run(
                [GIT_HTTP_BACKEND], input=body, env=env, capture_output=True, check=False
            ).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = out.partition(b"\n\n")
            status = 200
            headers = []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _cgi  # noqa: N815 - http.server's naming
        do_POST = _cgi  # noqa: N815

    Handler.user, Handler.password, Handler.requests = user, password, log
    return Handler


def _static_handler(root: Path, user: str, password: str, log: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(_AuthHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if not self._authorised():
                return
            rel = self.path.split("?", 1)[0].lstrip("/")
            target = (root / rel).resolve()
            if not target.is_file() or not target.is_relative_to(root.resolve()):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    Handler.user, Handler.password, Handler.requests = user, password, log
    return Handler


class HTTPServerHandle:
    def __init__(self, url: str, requests: list[str]) -> None:
        self.url = url
        self.requests = requests


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler], log: list[str]) -> Iterator[HTTPServerHandle]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield HTTPServerHandle(f"http://127.0.0.1:{server.server_address[1]}", log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def git_http_server(root: Path, user: str, password: str) -> Iterator[HTTPServerHandle]:
    """git smart HTTP for the bare repositories under `root` (URL: <url>/<name>.git), basic auth."""
    log: list[str] = []
    with _serve(_git_handler(root, user, password, log), log) as handle:
        yield handle


@contextmanager
def static_http_server(root: Path, user: str, password: str) -> Iterator[HTTPServerHandle]:
    """Files under `root` (a Helm chart repository: index.yaml + .tgz), basic auth."""
    log: list[str] = []
    with _serve(_static_handler(root, user, password, log), log) as handle:
        yield handle


class SSHServerHandle:
    def __init__(self, port: int, client_key: Path, known_hosts: Path, user: str) -> None:
        self.port = port
        self.client_key = client_key
        self.known_hosts = known_hosts
        self.user = user

    def url(self, repo: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{repo}"


def sshd_available() -> str | None:
    """Why sshd cannot run here, or None (the test then fails with this message, never skips)."""
    if not Path(SSHD).exists():
        return (
            "openssh-server is not installed: `make test` (.ci/run) installs it with "
            "`apt-get install -y openssh-server`; or install it by hand"
        )
    return None


@contextmanager
def ssh_server(work: Path) -> Iterator[SSHServerHandle]:
    """sshd on 127.0.0.1 accepting one generated client key for the current user (key auth only)."""
    import getpass

    work.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)], check=True)
    shutil.copy(work / "client_key.pub", work / "authorized_keys")
    os.chmod(work / "authorized_keys", 0o600)
    port = free_port()
    config = work / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {work / 'host_key'}",
                f"AuthorizedKeysFile {work / 'authorized_keys'}",
                f"PidFile {work / 'sshd.pid'}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding no",
                "X11Forwarding no",
                "LogLevel ERROR",
            ]
        )
        + "\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    host_pub = (work / "host_key.pub").read_text().split()
    known = work / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=open(work / "sshd.log", "wb"))  # noqa: SIM115
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(work / 'sshd.log').read_text()}")
            time.sleep(0.05)
        yield SSHServerHandle(port, work / "client_key", known, getpass.getuser())
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
