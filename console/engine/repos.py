"""Registered repositories of a workspace: which credentials a URL gets, and the GitCache that uses them.

Lookup follows Argo CD: a repository registered with its own credentials wins; otherwise the
longest credential template (`repocreds`) whose URL prefix matches. Credentials are read from the
keyring only when the workspace says an entry exists, so a workspace without credentials never
needs a keyring backend. A mirror (`repositories.urlRewrites`) gets the credentials registered for
the mirror's URL, never the upstream's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from console.engine import credentials
from console.engine.sources.git import GitCache, RepoAuth, RepoError, validate_repo_url
from console.engine.sources.helmrepo import HelmRepos
from console.engine.workspace import RepoConfig, Workspace


@dataclass(frozen=True)
class Match:
    key: str  # keyring entry
    kind: str  # https | ssh
    insecure_ignore_host_key: bool = False


def normalize(ws: Workspace, url: str) -> str:
    try:
        return validate_repo_url(url, allow_file=True)
    except RepoError:
        return url


def registered(ws: Workspace, url: str) -> RepoConfig | None:
    norm = normalize(ws, url)
    for repo in ws.repositories.repos:
        if normalize(ws, repo.url) == norm:
            return repo
    return None


def match(ws: Workspace, url: str) -> Match | None:
    """Which keyring entry serves `url` (exact repository first, then the longest template)."""
    repo = registered(ws, url)
    if repo is not None and repo.credentials != "none":
        return Match(
            credentials.repo_key(normalize(ws, repo.url)), repo.credentials, repo.insecure_ignore_host_key
        )
    norm = normalize(ws, url)
    best = None
    for t in ws.repositories.templates:
        if norm.startswith(t.url) and (best is None or len(t.url) > len(best.url)):
            best = t
    if best is not None:
        insecure = repo.insecure_ignore_host_key if repo is not None else False
        return Match(credentials.template_key(best.url), best.credentials, insecure)
    return None


def credential_for(ws: Workspace, url: str) -> tuple[Match, credentials.Credential] | None:
    """The credential for `url`, or None when none is registered; fails closed without a keyring."""
    m = match(ws, url)
    if m is None:
        return None
    try:
        cred = credentials.load(m.key)
    except credentials.CredentialStoreUnavailable as exc:
        raise RepoError(
            f"credentials for {url} are in the OS keyring, which is unavailable: {exc}", url=url
        ) from None
    if cred is None:
        raise RepoError(
            f"credentials for {url} are registered but missing from the OS keyring (entry {m.key}); "
            f"run `trueup repo add {url} ...` again",
            url=url,
        )
    return m, cred


def git_cache(ws: Workspace, root: Path | None = None) -> GitCache:
    """The workspace's GitCache: its mirrors, credentials, git settings and known hosts."""
    cache: dict[str, RepoAuth | None] = {}

    def auth(fetch_url: str) -> RepoAuth | None:
        if fetch_url not in cache:
            found = credential_for(ws, fetch_url)
            cache[fetch_url] = (
                None
                if found is None
                else RepoAuth(found[0].kind, found[0].key, found[1], found[0].insecure_ignore_host_key)
            )
        return cache[fetch_url]

    known = ws.repositories.ssh_known_hosts_file
    if known:
        known = str((ws.root / Path(known).expanduser()).resolve())
    return GitCache(
        root or ws.cache_dir / "git",
        allow_file_urls=ws.settings.allow_file_urls,
        rewrites=ws.repositories.url_rewrites,
        auth=auth,
        git_config=ws.repositories.git_config,
        known_hosts=known,
    )


def helm_repos(ws: Workspace) -> HelmRepos:
    """The workspace's registered Helm repositories, with keyring credentials (read on first use)."""
    cache: dict[str, credentials.Credential | None] = {}

    def auth(url: str) -> credentials.Credential | None:
        if url not in cache:
            found = credential_for(ws, url)
            cache[url] = found[1] if found is not None else None
        return cache[url]

    return HelmRepos(
        cache_root=ws.cache_dir,
        registered=[r.url for r in ws.repositories.repos if r.type == "helm"],
        auth=auth,
    )
