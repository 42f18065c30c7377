"""Repository and cluster credentials, kept only in the OS keyring (through `keyring`).

Nothing secret is ever written to `trueup.yaml`, `.trueup/`, logs, audit records or messages: the
workspace records only that an entry exists (`credentials: https|ssh`), and every text that could
carry a secret (git's stderr, helm's) goes through `scrub` first.

Without a usable backend the tool fails closed (CredentialStoreUnavailable, with the way to
configure one). keyring's plaintext file backend (keyrings.alt PlaintextKeyring) is used only when
it was chosen explicitly (PYTHON_KEYRING_BACKEND or keyringrc.cfg), never as a silent fallback.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SERVICE = "trueup"
HOW_TO_CONFIGURE = (
    "run a Secret Service (e.g. gnome-keyring inside `dbus-run-session`), or choose a backend explicitly: "
    "`pip install keyrings.alt` and `export PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring` "
    "(or keyrings.alt.file.PlaintextKeyring on a machine only you use)"
)


class CredentialStoreUnavailable(Exception):
    """No usable keyring backend; the message says what was found and how to configure one."""


@dataclass(frozen=True)
class Credential:
    """One keyring entry. HTTPS: username + password (or token); SSH: the private key (PEM text)."""

    username: str = ""
    password: str = ""
    ssh_private_key: str = ""
    extra: tuple[tuple[str, str], ...] = ()  # cluster credentials (bearerToken, tls data...) from import

    def secrets(self) -> list[str]:
        """Every secret value, for scrubbing output (short values are skipped: they would mangle text)."""
        values = [self.password, self.ssh_private_key, *(v for _, v in self.extra)]
        out = [v for v in values if len(v) >= 4]
        for v in list(out):
            out.extend(line for line in v.splitlines() if len(line) >= 16)
        return out

    def to_json(self) -> str:
        data: dict[str, Any] = {}
        if self.username:
            data["username"] = self.username
        if self.password:
            data["password"] = self.password
        if self.ssh_private_key:
            data["sshPrivateKey"] = self.ssh_private_key
        if self.extra:
            data["extra"] = dict(self.extra)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Credential:
        try:
            data = json.loads(text)
        except ValueError:
            return cls(password=text)
        if not isinstance(data, dict):
            return cls()
        raw_extra = data.get("extra")
        extra: dict[str, Any] = raw_extra if isinstance(raw_extra, dict) else {}
        return cls(
            username=str(data.get("username", "")),
            password=str(data.get("password", "")),
            ssh_private_key=str(data.get("sshPrivateKey", "")),
            extra=tuple(sorted((str(k), str(v)) for k, v in extra.items())),
        )


def repo_key(url: str) -> str:
    return f"repo:{url}"


def template_key(prefix: str) -> str:
    return f"repocreds:{prefix}"


def cluster_key(name: str) -> str:
    return f"cluster:{name}"


def _explicitly_chosen() -> bool:
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        from keyring import core

        return core.load_config() is not None
    except Exception:  # noqa: BLE001 - an unreadable keyringrc is not an explicit choice
        return False


def backend() -> Any:
    """The keyring backend to use, or CredentialStoreUnavailable (fail closed)."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise CredentialStoreUnavailable(
            "the `keyring` package is not installed; " + HOW_TO_CONFIGURE
        ) from None
    try:
        kr = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken backend configuration
        raise CredentialStoreUnavailable(
            f"the OS keyring cannot be opened ({exc}); {HOW_TO_CONFIGURE}"
        ) from None
    name = f"{type(kr).__module__}.{type(kr).__name__}"
    unusable = isinstance(kr, fail.Keyring) or name == "keyring.backends.null.Keyring"
    if isinstance(kr, chainer.ChainerBackend) and not kr.backends:
        unusable = True
    if unusable:
        raise CredentialStoreUnavailable(f"no usable OS keyring backend (found {name}); {HOW_TO_CONFIGURE}")
    if "Plaintext" in type(kr).__name__ and not _explicitly_chosen():
        raise CredentialStoreUnavailable(
            f"the only keyring backend found stores secrets in plain text ({name}) and it was not chosen "
            f"explicitly; {HOW_TO_CONFIGURE}"
        )
    return kr


def reset_backend() -> None:
    """Detect the backend again (after PYTHON_KEYRING_BACKEND or the data directory changed)."""
    from keyring import core

    core.init_backend()


def store(key: str, credential: Credential) -> None:
    kr = backend()
    try:
        kr.set_password(SERVICE, key, credential.to_json())
    except Exception as exc:  # noqa: BLE001 - backend errors never carry our secret, but say little
        raise CredentialStoreUnavailable(
            f"the keyring refused to store {key} ({type(exc).__name__}); {HOW_TO_CONFIGURE}"
        ) from None


def load(key: str) -> Credential | None:
    kr = backend()
    try:
        text = kr.get_password(SERVICE, key)
    except Exception as exc:  # noqa: BLE001
        raise CredentialStoreUnavailable(
            f"the keyring could not read {key} ({type(exc).__name__}); {HOW_TO_CONFIGURE}"
        ) from None
    return Credential.from_json(text) if text else None


def delete(key: str) -> bool:
    kr = backend()
    try:
        kr.delete_password(SERVICE, key)
        return True
    except Exception:  # noqa: BLE001 - keyring raises PasswordDeleteError for a missing entry
        return False


_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/@\s]+)@")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret value replaced by *** and URL userinfo (user:pass@) removed."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _URL_USERINFO.sub(lambda m: m.group("scheme") + "***@", text)


def keyring_kubeconfig(name: str, server: str) -> dict[str, Any]:
    """An in-memory kubeconfig for cluster `name` from its keyring entry (Argo's cluster secret
    config: bearerToken, tlsClientConfig caData/certData/keyData/insecure). Never written to disk by us."""
    from console.cluster.api import Unavailable

    try:
        cred = load(cluster_key(name))
    except CredentialStoreUnavailable as exc:
        raise Unavailable(
            f'cluster "{name}": its credentials are in the OS keyring, which is unavailable: {exc}'
        ) from None
    if cred is None:
        raise Unavailable(f'cluster "{name}": no credentials in the OS keyring (entry {cluster_key(name)})')
    extra = dict(cred.extra)
    cluster: dict[str, Any] = {"server": server}
    if extra.get("caData"):
        cluster["certificate-authority-data"] = extra["caData"]
    if extra.get("insecure") == "true":
        cluster["insecure-skip-tls-verify"] = True
    user: dict[str, Any] = {}
    if extra.get("bearerToken"):
        user["token"] = extra["bearerToken"]
    if cred.username and cred.password:
        user["username"], user["password"] = cred.username, cred.password
    if extra.get("certData"):
        user["client-certificate-data"] = extra["certData"]
    if extra.get("keyData"):
        user["client-key-data"] = extra["keyData"]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
