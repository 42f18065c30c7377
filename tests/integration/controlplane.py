"""A real Kubernetes control plane on 127.0.0.1 for integration tests.

etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok (one fake node), started
from locally built binaries (scripts/build-tools.sh) so tests exercise real admission, RBAC,
garbage collection, scheduling and watch semantics instead of a simulator.
Recipe and rationale: /work/shared/reference/real-control-plane.md (section 6A).

Identities (client certificates signed by the cluster CA):
- admin: CN=admin, O=system:masters: everything.
- engine: CN=trueup-engine, O=trueup: the least-privilege GitOps engine identity, see ENGINE_RBAC_DOC.
- viewer: CN=trueup-viewer, O=trueup-viewers: a person with read access (get/list/watch on
  everything) who may only append to trueup's audit chain and record Events (VIEWER_RBAC_DOC).

Run one by hand: `python -m tests.integration.controlplane up DIR` (Ctrl-C stops it).
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import functools
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
STAGES_FILE = "kwok-stages.yaml"
NODE_NAME = "kwok-node-0"
ENGINE_USER = "trueup-engine"
VIEWER_USER = "trueup-viewer"
VIEWER_GROUP = "trueup-viewers"
VIEWER_RBAC_DOC = """\
Viewer identity "trueup-viewer" (group trueup-viewers), bound by ClusterRoleBinding/RoleBindings:
- trueup-viewer:read  get/list/watch on every resource of every API group;
- in namespace `trueup` (created on demand): create auditrecords.trueup.dev, get/create/update
  auditchains.trueup.dev, create events (core and events.k8s.io) — what trueup writes on behalf of
  anyone who *attempts* something, so a refused attempt is recorded too. Nothing else.
"""
ENGINE_GROUP = "trueup"
SERVICE_CIDR = "10.0.0.0/24"
POD_CIDR = "10.244.0.0/24"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
READ_VERBS = ("get", "list", "watch")
RBAC_GROUP = "rbac.authorization.k8s.io"
ENGINE_RBAC_DOC = """\
Engine identity "trueup-engine" (User trueup-engine, group trueup), bound by ClusterRoleBindings:
- trueup-engine:read   get/list/watch on every resource of every API group (incl. Secrets, CRs).
- trueup-engine:write  create/update/patch/delete/deletecollection on every resource (and
  subresource) of every API group served at start-up (core, apps, batch, networking, policy,
  apiextensions, admissionregistration, ...), cluster-wide, EXCEPT rbac.authorization.k8s.io
  where only namespaced roles and rolebindings are writable.
Forbidden (403) for the engine:
- any write to clusterroles and clusterrolebindings;
- writes to API groups that appear after start-up (CRDs' custom resources) until an admin calls
  ControlPlane.grant_engine_write(group);
- verbs outside the lists above: impersonate, escalate, bind, approve, sign; so a Role or
  RoleBinding granting more than the engine holds is rejected by RBAC escalation checks.
"""


class ControlPlaneError(RuntimeError):
    """A control-plane component failed to start or stop; the message carries its log tail."""


class ToolsUnavailable(ControlPlaneError):
    """The binaries are missing and could not be built (no Go, no module proxy, build error)."""


def _venv_kubectl() -> str:
    """The venv's kubectl (pinned 1.37), not whatever is on PATH (may be a gcloud dispatcher)."""
    for cand in (Path(sys.executable).parent / "kubectl", REPO_ROOT / ".venv" / "bin" / "kubectl"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which("kubectl")
    if found is None:
        raise ToolsUnavailable("kubectl not found in the virtualenv nor on PATH")
    return found


def _missing_tools(bin_dir: Path) -> list[str]:
    missing = [b for b in BINARIES if not os.access(bin_dir / b, os.X_OK)]
    if not (bin_dir / STAGES_FILE).is_file():
        missing.append(STAGES_FILE)
    return missing


def find_bin_dir(build: bool = True, build_timeout: float = 3600) -> Path:
    """Directory holding the control-plane binaries; builds them when absent.

    $TRUEUP_TOOLS_BIN wins and is never built into (it is someone else's directory). Otherwise
    ~/.cache/trueup/tools/bin, built by `scripts/build-tools.sh controlplane` (a no-op when the
    version stamps are present; 25-35 min cold on 2 cores).
    """
    env_bin = os.environ.get("TRUEUP_TOOLS_BIN")
    if env_bin:
        bin_dir = Path(env_bin).expanduser()
        missing = _missing_tools(bin_dir)
        if missing:
            raise ToolsUnavailable(f"TRUEUP_TOOLS_BIN={bin_dir} lacks {', '.join(missing)}")
        return bin_dir
    cache = os.environ.get("TRUEUP_TOOLS_CACHE")
    bin_dir = (Path(cache).expanduser() if cache else Path.home() / ".cache" / "trueup" / "tools") / "bin"
    if not _missing_tools(bin_dir):
        return bin_dir
    if not build:
        raise ToolsUnavailable(f"{bin_dir} lacks {', '.join(_missing_tools(bin_dir))}")
    script = REPO_ROOT / "scripts" / "build-tools.sh"
    try:
        r = subprocess.run(
            ["bash", str(script), "controlplane"],
            capture_output=True,
            text=True,
            timeout=build_timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolsUnavailable(f"{script} controlplane failed: {exc}") from exc
    if r.returncode != 0:
        tail = "\n".join((r.stderr or r.stdout).splitlines()[-20:])
        raise ToolsUnavailable(f"{script} controlplane exited {r.returncode}:\n{tail}")
    lines = r.stdout.strip().splitlines()
    built = Path(lines[-1]) if lines else bin_dir
    missing = _missing_tools(built)
    if missing:
        raise ToolsUnavailable(f"{script} succeeded but {built} lacks {', '.join(missing)}")
    return built


# --- PKI --------------------------------------------------------------------------------------


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, orgs: Sequence[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class _CA:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, cn: str) -> _CA:
        key = _new_key()
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(_name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def issue(self, cn: str, orgs: Sequence[str] = (), *, server: bool = False) -> tuple[bytes, bytes]:
        """A leaf cert (PEM cert, PEM key): client auth, plus loopback serving SANs when server."""
        key = _new_key()
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn, orgs))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                    if server
                    else [ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
                        x509.DNSName("localhost"),
                        x509.DNSName("kubernetes"),
                        x509.DNSName("kubernetes.default.svc"),
                    ]
                ),
                critical=False,
            )
        cert = builder.sign(self.key, hashes.SHA256())
        return _cert_pem(cert), _key_pem(key)


# --- helpers ----------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux PR_SET_PDEATHSIG: if the test process is SIGKILLed, its control plane is killed too
    instead of living on as orphans holding ports and CPU (stop() handles every other exit).
    SIGKILL, not SIGTERM: an apiserver whose etcd died with it hangs in graceful shutdown."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, n: int = 20) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


@dataclass
class _Proc:
    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    health: str | None = None  # URL polled until it answers 200
    extra: dict[str, int] = field(default_factory=dict)


class ControlPlane:
    """One control plane: start() brings it up, stop() tears it down; see module docstring."""

    def __init__(self, workdir: Path, bin_dir: Path) -> None:
        self.workdir = Path(workdir).resolve()
        self.bin_dir = Path(bin_dir).resolve()
        self.pki = self.workdir / "pki"
        self.admin_kubeconfig = self.workdir / "admin.kubeconfig"
        self.engine_kubeconfig = self.workdir / "engine.kubeconfig"
        self.viewer_kubeconfig = self.workdir / "viewer.kubeconfig"
        self.pod_log_file = self.workdir / "pod-logs" / "container.log"
        self.server = ""
        self.node_name = NODE_NAME
        self.engine_user = ENGINE_USER
        self.startup_seconds: float | None = None
        self._procs: list[_Proc] = []
        self.launched_pids: list[int] = []  # every PID ever started, for leak checks
        self._kubectl = _venv_kubectl()
        self._atexit_registered = False

    # --- public API -----------------------------------------------------------------------

    def start(self, timeout: float = 120) -> None:
        """etcd -> apiserver (/readyz) -> RBAC -> kcm -> scheduler -> kwok -> Node Ready."""
        missing = _missing_tools(self.bin_dir)
        if missing:
            raise ToolsUnavailable(f"{self.bin_dir} lacks {', '.join(missing)}")
        t0 = time.monotonic()
        deadline = t0 + timeout
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self._write_pki()
            etcd_url = self._start_with_retry("etcd", self._etcd_proc, deadline)
            self._start_with_retry("kube-apiserver", lambda: self._apiserver_proc(etcd_url), deadline)
            self._write_kubeconfigs()
            self._install_engine_rbac()
            self._start_with_retry("kube-controller-manager", self._kcm_proc, deadline)
            self._start_with_retry("kube-scheduler", self._scheduler_proc, deadline)
            self._start_with_retry("kwok", self._kwok_proc, deadline)
            self._create_node()
            self._wait(self._node_ready, deadline, "kwok", f"Node {NODE_NAME} Ready")
            self._wait(
                lambda: self._api_ok("/api/v1/namespaces/default/serviceaccounts/default"),
                deadline,
                "kube-controller-manager",
                "ServiceAccount default/default",
            )
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0

    def stop(self) -> None:
        """SIGTERM our own PIDs in reverse start order, SIGKILL any still alive after 10 s."""
        for proc in reversed(self._procs):
            p = proc.popen
            if p is None or p.poll() is not None:
                continue
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._procs.clear()
        shutil.rmtree(self.workdir / "etcd-data", ignore_errors=True)

    def kubectl(
        self, *args: str, kubeconfig: Path | None = None, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the venv's kubectl against this cluster (admin unless kubeconfig is given)."""
        env = dict(os.environ)
        env["KUBECACHEDIR"] = str(self.workdir / "kubectl-cache")
        env.pop("KUBECONFIG", None)
        return subprocess.run(
            [self._kubectl, f"--kubeconfig={kubeconfig or self.admin_kubeconfig}", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            check=False,
            env=env,
        )

    def apply(self, *objs: Mapping[str, Any], kubeconfig: Path | None = None) -> None:
        """Server-side apply manifests (dicts) as admin; raises ControlPlaneError on failure."""
        doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objs)})
        r = self.kubectl(
            "apply",
            "--server-side",
            "--field-manager=trueup-harness",
            "-f",
            "-",
            kubeconfig=kubeconfig,
            input=doc,
        )
        if r.returncode != 0:
            raise ControlPlaneError(f"kubectl apply failed: {r.stderr.strip()}")

    def grant_engine_write(self, *api_groups: str) -> None:
        """Let the engine write custom resources of groups registered after start (CRDs)."""
        for group in api_groups:
            name = f"trueup-engine:write:{group}"
            self.apply(
                {
                    "apiVersion": f"{RBAC_GROUP}/v1",
                    "kind": "ClusterRole",
                    "metadata": {"name": name},
                    "rules": [{"apiGroups": [group], "resources": ["*"], "verbs": list(WRITE_VERBS)}],
                },
                _binding(name),
            )

    def api_get(self, path: str, timeout: float = 10) -> Any:
        """GET an API path as admin and decode the JSON body (raises urllib.error.HTTPError)."""
        with urllib.request.urlopen(self.server + path, context=self._admin_ssl(), timeout=timeout) as resp:  # noqa: S310 - loopback https only
            return json.loads(resp.read())

    # --- PKI and kubeconfigs --------------------------------------------------------------

    def _write_pki(self) -> None:
        self.pki.mkdir(parents=True, exist_ok=True)
        ca = _CA.create("trueup-test-ca")
        (self.pki / "ca.crt").write_bytes(_cert_pem(ca.cert))
        _write_private(self.pki / "ca.key", _key_pem(ca.key))
        for name, cn, orgs, server in (
            ("apiserver", "kube-apiserver", (), True),
            ("admin", "admin", ("system:masters",), False),
            ("engine", ENGINE_USER, (ENGINE_GROUP,), False),
            ("viewer", VIEWER_USER, (VIEWER_GROUP,), False),
        ):
            crt, key = ca.issue(cn, orgs, server=server)
            (self.pki / f"{name}.crt").write_bytes(crt)
            _write_private(self.pki / f"{name}.key", key)
        _write_private(self.pki / "sa.key", _key_pem(_new_key()))

    def _write_kubeconfigs(self) -> None:
        ca = _b64((self.pki / "ca.crt").read_bytes())
        for path, user in (
            (self.admin_kubeconfig, "admin"),
            (self.engine_kubeconfig, "engine"),
            (self.viewer_kubeconfig, "viewer"),
        ):
            cfg = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "trueup-test",
                        "cluster": {"server": self.server, "certificate-authority-data": ca},
                    }
                ],
                "users": [
                    {
                        "name": user,
                        "user": {
                            "client-certificate-data": _b64((self.pki / f"{user}.crt").read_bytes()),
                            "client-key-data": _b64((self.pki / f"{user}.key").read_bytes()),
                        },
                    }
                ],
                "contexts": [
                    {"name": f"{user}@trueup-test", "context": {"cluster": "trueup-test", "user": user}}
                ],
                "current-context": f"{user}@trueup-test",
            }
            _write_private(path, json.dumps(cfg, indent=2).encode())

    def _admin_ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    # --- processes ------------------------------------------------------------------------

    def _etcd_proc(self) -> _Proc:
        client, peer = _free_port(), _free_port()
        data = self.workdir / "etcd-data"
        shutil.rmtree(data, ignore_errors=True)
        argv = [
            str(self.bin_dir / "etcd"),
            "--name=default",
            f"--data-dir={data}",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=default=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]
        return _Proc(
            "etcd",
            argv,
            self.workdir / "etcd.log",
            health=f"http://127.0.0.1:{client}/health",
            extra={"client": client},
        )

    def _apiserver_proc(self, etcd_url: str) -> _Proc:
        port = _free_port()
        self.server = f"https://127.0.0.1:{port}"
        p = self.pki
        argv = [
            str(self.bin_dir / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            "--advertise-address=127.0.0.1",
            "--endpoint-reconciler-type=none",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={p / 'apiserver.crt'}",
            f"--tls-private-key-file={p / 'apiserver.key'}",
            f"--client-ca-file={p / 'ca.crt'}",
            f"--service-account-issuer=https://127.0.0.1:{port}",
            f"--service-account-key-file={p / 'sa.key'}",
            f"--service-account-signing-key-file={p / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            "--enable-admission-plugins=ResourceQuota,ValidatingAdmissionPolicy",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            # pods/log goes to kwok's kubelet-like server on the node's InternalIP (127.0.0.1);
            # the Hostname address (kwok-node-0) does not resolve
            "--kubelet-preferred-address-types=InternalIP",
        ]
        return _Proc(
            "kube-apiserver", argv, self.workdir / "kube-apiserver.log", health=f"{self.server}/readyz"
        )

    def _component_serving(self) -> tuple[list[str], str]:
        port = _free_port()
        args = [
            f"--kubeconfig={self.admin_kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            "--leader-elect=false",
            f"--tls-cert-file={self.pki / 'apiserver.crt'}",
            f"--tls-private-key-file={self.pki / 'apiserver.key'}",
            "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
        ]
        return args, f"https://127.0.0.1:{port}/healthz"

    def _kcm_proc(self) -> _Proc:
        args, health = self._component_serving()
        argv = [
            str(self.bin_dir / "kube-controller-manager"),
            *args,
            f"--root-ca-file={self.pki / 'ca.crt'}",
            f"--service-account-private-key-file={self.pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--kube-api-qps=200",
            "--kube-api-burst=400",
            "--concurrent-gc-syncs=5",
            "--node-monitor-grace-period=60s",
        ]
        return _Proc(
            "kube-controller-manager", argv, self.workdir / "kube-controller-manager.log", health=health
        )

    def _scheduler_proc(self) -> _Proc:
        args, health = self._component_serving()
        argv = [str(self.bin_dir / "kube-scheduler"), *args, "--kube-api-qps=200", "--kube-api-burst=400"]
        return _Proc("kube-scheduler", argv, self.workdir / "kube-scheduler.log", health=health)

    def _kwok_proc(self) -> _Proc:
        """kwok with its kubelet-like server on a loopback port (the Node's daemonEndpoints): it
        serves pods/log from the file a ClusterLogs object names (write_pod_log fills it)."""
        port = _free_port()
        self.pod_log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pod_log_file.touch()
        logs_config = self.workdir / "kwok-logs.yaml"
        logs_config.write_text(
            json.dumps(
                {
                    "apiVersion": "kwok.x-k8s.io/v1alpha1",
                    "kind": "ClusterLogs",
                    "metadata": {"name": "all-pods"},
                    "spec": {"logs": [{"logsFile": str(self.pod_log_file), "follow": False}]},
                }
            )
        )
        argv = [
            str(self.bin_dir / "kwok"),
            f"--kubeconfig={self.admin_kubeconfig}",
            f"--config={self.bin_dir / STAGES_FILE}",
            f"--config={logs_config}",
            "--manage-all-nodes=true",
            "--node-ip=127.0.0.1",
            "--node-lease-duration-seconds=40",
            f"--cidr={POD_CIDR}",
            f"--node-port={port}",
            f"--server-address=127.0.0.1:{port}",
        ]
        return _Proc("kwok", argv, self.workdir / "kwok.log", health=f"http://127.0.0.1:{port}/healthz")

    def write_pod_log(self, lines: Sequence[str]) -> None:
        """What every container's log reads as (kwok's ClusterLogs file, CRI log format)."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        text = "".join(f"{stamp} stdout F {line}\n" for line in lines)
        self.pod_log_file.write_text(text)

    def _launch(self, proc: _Proc) -> None:
        log = proc.log.open("ab")
        try:
            proc.popen = subprocess.Popen(
                proc.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # Ctrl-C reaches us, we stop them in order
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        self._procs.append(proc)
        self.launched_pids.append(proc.popen.pid)

    def _start_with_retry(self, name: str, make: Any, deadline: float, attempts: int = 3) -> str:
        """Start a component, wait for its health URL; retry with fresh ports on a bind race."""
        for attempt in range(1, attempts + 1):
            proc: _Proc = make()
            self._launch(proc)
            try:
                what = f"{proc.health} = 200" if proc.health else "process running"
                self._wait(functools.partial(self._health_ok, proc), deadline, name, what, proc=proc)
                if name == "etcd":
                    return f"http://127.0.0.1:{proc.extra['client']}"
                return proc.health or ""
            except ControlPlaneError:
                log = _tail(proc.log, 200)
                bind_race = "address already in use" in log.lower()
                self._terminate(proc)
                if not bind_race or attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    def _terminate(self, proc: _Proc) -> None:
        if proc.popen is not None and proc.popen.poll() is None:
            proc.popen.terminate()
            try:
                proc.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=10)
        if proc in self._procs:
            self._procs.remove(proc)

    def _wait(self, ok: Any, deadline: float, component: str, what: str, proc: _Proc | None = None) -> None:
        """Poll ok() until true; fail fast when any started process dies, or at the deadline."""
        delay = 0.1
        while True:
            for p in [*self._procs, *([proc] if proc else [])]:
                if p.popen is not None and p.popen.poll() is not None:
                    raise ControlPlaneError(
                        f"{p.name} exited with code {p.popen.returncode} while waiting for {what}; "
                        f"last lines of {p.log}:\n{_tail(p.log)}"
                    )
            try:
                if ok():
                    return
            except (OSError, ValueError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                log = self.workdir / f"{component}.log"
                raise ControlPlaneError(f"timed out waiting for {what}; last lines of {log}:\n{_tail(log)}")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def _health_ok(self, proc: _Proc) -> bool:
        if proc.health is None:  # no listener (kwok): being alive is all we can check here
            return True
        ctx = (
            ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
            if proc.health.startswith("https")
            else None
        )
        with urllib.request.urlopen(proc.health, context=ctx, timeout=5) as resp:  # noqa: S310 - loopback only
            body = resp.read()
        return resp.status == 200 and (proc.name != "etcd" or json.loads(body).get("health") == "true")

    def _api_ok(self, path: str) -> bool:
        try:
            self.api_get(path)
        except urllib.error.HTTPError:
            return False
        return True

    # --- cluster objects ------------------------------------------------------------------

    def _install_engine_rbac(self) -> None:
        """Bind the engine identity; write rules are derived from the groups served right now."""
        groups = [g["name"] for g in self.api_get("/apis")["groups"] if g["name"] != RBAC_GROUP]
        write_rules: list[dict[str, Any]] = [
            {"apiGroups": ["", *sorted(groups)], "resources": ["*"], "verbs": list(WRITE_VERBS)},
            {"apiGroups": [RBAC_GROUP], "resources": ["roles", "rolebindings"], "verbs": list(WRITE_VERBS)},
        ]
        read = {
            "apiVersion": f"{RBAC_GROUP}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "trueup-engine:read"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": list(READ_VERBS)}],
        }
        write = {
            "apiVersion": f"{RBAC_GROUP}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "trueup-engine:write"},
            "rules": write_rules,
        }
        self.apply(read, write, _binding("trueup-engine:read"), _binding("trueup-engine:write"))
        self.apply(*viewer_rbac())

    def _create_node(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
                "labels": {
                    "beta.kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/role": "agent",
                    "node-role.kubernetes.io/agent": "",
                    "type": "kwok",
                },
            },
            "status": {
                "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            },
        }
        r = self.kubectl("create", "-f", "-", input=json.dumps(node))
        if r.returncode != 0 and "AlreadyExists" not in r.stderr:
            raise ControlPlaneError(f"creating Node {NODE_NAME} failed: {r.stderr.strip()}")

    def _node_ready(self) -> bool:
        node = self.api_get(f"/api/v1/nodes/{NODE_NAME}")
        conds = node.get("status", {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def viewer_rbac() -> list[dict[str, Any]]:
    """VIEWER_RBAC_DOC's cluster-wide part (the `trueup` namespace part: viewer_audit_rbac)."""
    role = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "trueup-viewer:read"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": list(READ_VERBS)}],
    }
    binding = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "trueup-viewer:read"},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "trueup-viewer:read"},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": VIEWER_GROUP}],
    }
    return [role, binding]


def viewer_audit_rbac(namespace: str = "trueup") -> list[dict[str, Any]]:
    """VIEWER_RBAC_DOC's namespaced part: append to the audit chain, record Events."""
    role = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "Role",
        "metadata": {"name": "trueup-audit-writer", "namespace": namespace},
        "rules": [
            {"apiGroups": ["trueup.dev"], "resources": ["auditrecords"], "verbs": ["create"]},
            {"apiGroups": ["trueup.dev"], "resources": ["auditchains"], "verbs": ["get", "create", "update"]},
            {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
        ],
    }
    binding = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "trueup-audit-writer", "namespace": namespace},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "trueup-audit-writer"},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": VIEWER_GROUP}],
    }
    return [role, binding]


def _binding(role: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": role},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": ENGINE_USER}],
    }


def main(argv: Iterable[str] | None = None) -> int:
    """`up DIR`: start a control plane in DIR, print how to reach it, stop on Ctrl-C/SIGTERM."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "up":
        print("usage: python -m tests.integration.controlplane up DIR", file=sys.stderr)
        return 2
    try:
        cp = ControlPlane(Path(args[1]), find_bin_dir())
        cp.start()
    except ControlPlaneError as exc:
        print(f"controlplane: {exc}", file=sys.stderr)
        return 1

    def _on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_term)
    print(f"admin kubeconfig:  {cp.admin_kubeconfig}")
    print(f"engine kubeconfig: {cp.engine_kubeconfig}")
    print(f"viewer kubeconfig: {cp.viewer_kubeconfig}")
    print(f"server:            {cp.server}")
    print(f"started in {cp.startup_seconds:.1f} s; logs in {cp.workdir}/*.log; Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cp.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
