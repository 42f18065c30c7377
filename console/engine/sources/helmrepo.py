"""Helm charts from HTTP(S) chart repositories, and `helm dependency build` for charts that need it.

Charts are pulled with the real `helm` in a throwaway HELM_* environment (nothing of the
operator's helm configuration is read): `helm repo add NAME URL --password-stdin` (the password
goes through stdin, never argv), then `helm pull`. The archive is unpacked by trueup's own safe
extractor (no links out, no `..`, read-only files), once per exact chart version. Dependencies of
a chart are built only from repositories registered in the workspace (`trueup repo add URL
--type helm`), with their keyring credentials; an unregistered repository URL is refused, so a
repository's Chart.yaml cannot make trueup contact an arbitrary server.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.engine import yamlsafe
from console.engine.credentials import Credential, scrub
from console.engine.sources.extract import UnsafeTree, extract
from console.engine.sources.git import RepoError, redact_url
from console.engine.sources.tools import TOOL_TIMEOUT, find_tool, tool_locations

MAX_CHART_BYTES = 64 * 1024 * 1024  # unpacked chart archive
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.\-]+)?(\+[0-9A-Za-z.\-]+)?$")
_CHART_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

Auth = Callable[[str], "Credential | None"]


@dataclass
class HelmRepos:
    """The workspace's Helm repositories as the renderer needs them."""

    cache_root: Path
    registered: list[str] = field(default_factory=list)  # helm repository URLs (trueup repo add --type helm)
    auth: Auth | None = None

    def credential(self, url: str) -> Credential | None:
        return self.auth(url) if self.auth is not None else None

    def is_registered(self, url: str) -> bool:
        return _norm(url) in {_norm(u) for u in self.registered}


def _norm(url: str) -> str:
    return url.rstrip("/")


def _check_url(url: str) -> str:
    if not re.match(r"^https?://[^\s/@]+(/[^\s]*)?$", url):
        raise RepoError(
            f"invalid Helm repository URL {redact_url(url)!r}: use http(s)://host/path (oci:// registries are not supported)",
            url=url,
        )
    return _norm(url)


def fetch_env(home: Path) -> dict[str, str]:
    """helm's environment for downloads: its own dirs under `home`, the operator's proxies, nothing else."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home),
        "KUBECONFIG": str(home / "no-kubeconfig"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_PLUGINS": str(home / "plugins"),
        "HELM_REGISTRY_CONFIG": str(home / "registry.json"),
        "HELM_REPOSITORY_CONFIG": str(home / "repositories.yaml"),
        "HELM_REPOSITORY_CACHE": str(home / "repository"),
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def _helm() -> str:
    helm = find_tool("helm")
    if helm is None:
        raise RepoError(f"helm is not installed (looked in {', '.join(tool_locations('helm'))})")
    return helm


def _repo_add(helm: str, home: Path, name: str, url: str, cred: Credential | None) -> None:
    argv = [helm, "repo", "add", "--force-update", name, url]
    stdin = None
    if cred is not None and (cred.username or cred.password):
        argv += ["--username", cred.username, "--password-stdin"]
        stdin = cred.password
    run = _run(argv, home, stdin)
    if run[0] != 0:
        secrets = cred.secrets() if cred else []
        raise _error(
            url, f"cannot read the index of Helm repository {redact_url(url)}", run[1], secrets, home
        )


def _run(argv: list[str], home: Path, stdin: str | None) -> tuple[int, str]:
    import subprocess

    try:
        proc = subprocess.run(  # noqa: S603 - argv list, fixed binary
            argv,
            env=fetch_env(home),
            cwd=str(home),
            input=(stdin or "").encode(),
            capture_output=True,
            timeout=TOOL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {TOOL_TIMEOUT:g} s"
    return proc.returncode, proc.stderr.decode("utf-8", "replace")


def _error(url: str, what: str, stderr: str, secrets: list[str], home: Path) -> RepoError:
    text = scrub(stderr, secrets).replace(str(home), "<tmp>")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = "; ".join(lines[:2])[:400] or "no error output"
    low = text.lower()
    transient = not any(s in low for s in ("401", "403", "unauthorized", "forbidden", "not found", "404"))
    return RepoError(f"{what}: {detail}", transient=transient, url=url)


def check(repos: HelmRepos, url: str, timeout: float = 10.0) -> None:
    """Connection check (`repo list`): GET index.yaml with the repository's credentials."""
    url = _check_url(url)
    cred = repos.credential(url)
    req = urllib.request.Request(url + "/index.yaml")
    if cred is not None and (cred.username or cred.password):
        token = base64.b64encode(f"{cred.username}:{cred.password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) checked above
            resp.read(1)
    except urllib.error.HTTPError as exc:
        raise RepoError(f"Helm repository {redact_url(url)} answered HTTP {exc.code}", url=url) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RepoError(
            f"Helm repository {redact_url(url)} is unreachable: {reason}", transient=True, url=url
        ) from None


def pull(repos: HelmRepos, url: str, chart: str, version: str) -> tuple[str, Path]:
    """(chart version, tree) for `chart` at `version` from repository `url`; the chart is tree/<chart>."""
    url = _check_url(url)
    if not _CHART_NAME.match(chart or ""):
        raise RepoError(f"invalid chart name {chart!r}", url=url)
    if version and not re.match(r"^[0-9A-Za-z.\-+<>=~^*, |x]+$", version):
        raise RepoError(f"invalid chart version {version!r}", url=url)
    exact = bool(_EXACT_VERSION.match(version or ""))
    key = hashlib.sha256(f"{url}\0{chart}\0{version}".encode()).hexdigest()[:32]
    final = repos.cache_root / "charts" / key
    if exact and (final / chart / "Chart.yaml").is_file():
        return _version_of(final / chart), final
    helm = _helm()
    cred = repos.credential(url)
    (repos.cache_root / "charts").mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix="trueup-helm-pull-") as tmpname:
        home = Path(tmpname)
        _repo_add(helm, home, "source", url, cred)
        (home / "out").mkdir()
        argv = [helm, "pull", f"source/{chart}", "--destination", str(home / "out")]
        if version:
            argv += ["--version", version]
        code, err = _run(argv, home, None)
        if code != 0:
            raise _error(
                url,
                f"cannot pull chart {chart} {version or '(latest)'} from {redact_url(url)}",
                err,
                cred.secrets() if cred else [],
                home,
            )
        archives = list((home / "out").glob("*.tgz"))
        if len(archives) != 1:
            raise RepoError(f"helm pull of {chart} from {redact_url(url)} produced no chart archive", url=url)
        tree = home / "tree"
        _unpack(archives[0], tree, url)
        if not (tree / chart / "Chart.yaml").is_file():
            raise RepoError(
                f"chart archive of {chart} from {redact_url(url)} has no {chart}/Chart.yaml", url=url
            )
        got = _version_of(tree / chart)
        if not exact:  # a range: cache under the version it resolved to
            key = hashlib.sha256(f"{url}\0{chart}\0{got}".encode()).hexdigest()[:32]
            final = repos.cache_root / "charts" / key
        if not (final / chart / "Chart.yaml").is_file():
            tmp_final = final.with_name(f".{final.name}-{os.getpid()}")
            shutil.rmtree(tmp_final, ignore_errors=True)
            shutil.move(str(tree), tmp_final)
            try:
                os.rename(tmp_final, final)
            except OSError:
                shutil.rmtree(tmp_final, ignore_errors=True)  # another process won the race
    return got, final


def _unpack(archive: Path, dest: Path, url: str) -> None:
    tar = archive.with_suffix(".tar")
    total = 0
    with gzip.open(archive, "rb") as src, open(tar, "wb") as out:
        while chunk := src.read(1 << 20):
            total += len(chunk)
            if total > MAX_CHART_BYTES:
                raise RepoError(
                    f"chart archive from {redact_url(url)} exceeds {MAX_CHART_BYTES >> 20} MB unpacked",
                    url=url,
                )
            out.write(chunk)
    try:
        extract(tar, dest)
    except UnsafeTree as exc:
        raise RepoError(f"chart archive from {redact_url(url)} refused: {exc}", url=url) from None


def _version_of(chart_dir: Path) -> str:
    try:
        meta = yamlsafe.load_one((chart_dir / "Chart.yaml").read_bytes(), "Chart.yaml")
    except (OSError, yamlsafe.ManifestError):
        return ""
    return str(meta.get("version", "")) if isinstance(meta, dict) else ""


def dependency_build(repos: HelmRepos, chart_dir: Path, chart: dict[str, Any], shown: str) -> None:
    """`helm dependency build` in `chart_dir` (a writable copy), with the registered repositories."""
    helm = _helm()
    needed: list[str] = []
    for dep in chart.get("dependencies") or []:
        if not isinstance(dep, dict):
            continue
        repo = str(dep.get("repository") or "")
        if not repo or repo.startswith("file://"):
            continue
        if repo.startswith("oci://") or repo.startswith("@") or repo.startswith("alias:"):
            raise RepoError(
                f"{shown}: dependency {dep.get('name')!r} repository {repo!r} is not supported "
                "(use an http(s) Helm repository registered with `trueup repo add URL --type helm`)"
            )
        if not repos.is_registered(repo):
            raise RepoError(
                f"{shown}: dependency {dep.get('name')!r} comes from {redact_url(repo)}, which is not a registered "
                f"Helm repository: run `trueup repo add {redact_url(repo)} --type helm` (with credentials if it needs them)"
            )
        if _norm(repo) not in needed:
            needed.append(_norm(repo))
    with tempfile.TemporaryDirectory(prefix="trueup-helm-dep-") as tmpname:
        home = Path(tmpname)
        secrets: list[str] = []
        for i, url in enumerate(needed):
            cred = repos.credential(url)
            if cred is not None:
                secrets += cred.secrets()
            _repo_add(helm, home, f"dep{i}", url, cred)
        code, err = _run([helm, "dependency", "build", "--skip-refresh", str(chart_dir)], home, None)
        if code != 0:
            text = (
                scrub(err, secrets)
                .replace(str(chart_dir), shown.rsplit("/", 1)[0] or ".")
                .replace(str(home), "<tmp>")
            )
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            raise RepoError(
                f"helm dependency build of {shown} failed: {'; '.join(lines[:2])[:400]}", transient=code == -1
            )
