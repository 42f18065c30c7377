"""Git acquisition: validated URLs and revisions, one bare mirror per repository, trees by SHA.

Every git process runs through GitPython with argv lists, `--` before positional URLs and a
locked-down environment (GIT_ALLOW_PROTOCOL, no prompts, no submodules), because repo URLs and
revisions come from Application specs that any tenant can write. Fetches are rationed: at most one
per repository per refresh cycle (or per `ttl` seconds), so a thousand Applications on one monorepo
cost one network round trip, and a failed fetch is remembered for the cycle so an unreachable repo
costs one timeout, not a thousand.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import posixpath
import re
import secrets
import shlex
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import git

from console.engine.credentials import Credential, scrub
from console.engine.sources.extract import UnsafeTree, extract

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{4,39}$")
_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*::")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_SCP = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^@/:\[\]]+):(?P<path>.*)$")
_GIT_OPTION = re.compile(
    r"--(upload-pack|receive-pack|exec|config|template|bundle-uri|separate-git-dir|reference)", re.I
)
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f]")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")

_HEADS_TAGS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_REMOTE_HEAD = "+HEAD:refs/trueup/HEAD"
# Every fetched object is verified (git fsck rules): a tree with duplicate names (a symlink and a
# directory both called `a`), `..`/`.git` entries or malformed objects is refused at the door.
_FSCK = ("fetch.fsckObjects", "transfer.fsckObjects", "receive.fsckObjects")
# $GIT_DIR/info/attributes outranks in-tree .gitattributes: exported trees are byte-identical to
# the commit (no export-ignore/export-subst, no eol conversion, no smudge filters such as LFS).
_NEUTRAL_ATTRIBUTES = "* -text -filter -ident -export-ignore -export-subst -working-tree-encoding !eol\n"


@dataclass(frozen=True)
class RepoAuth:
    """How to authenticate one fetch URL: the keyring entry (read again by the askpass helper, so
    the secret never reaches argv, a URL or the environment) and its value (to scrub output)."""

    kind: str  # "https" | "ssh"
    key: str  # keyring entry name
    credential: Credential
    insecure_ignore_host_key: bool = False


AuthLookup = Callable[[str], "RepoAuth | None"]
_ALLOWED_CONFIG = re.compile(r"^http\.([^\s=]+\.)?[A-Za-z][A-Za-z0-9]*$")


def allowed_git_config(key: str) -> bool:
    """The git settings a workspace may pass to fetches (`repositories.gitConfig`): http.* only."""
    return bool(_ALLOWED_CONFIG.match(key))


class RepoError(Exception):
    """A repository could not be used. `transient` errors (unreachable, timeout) may heal by retry."""

    def __init__(self, message: str, *, transient: bool = False, url: str = "") -> None:
        super().__init__(message)
        self.transient = transient
        self.url = url


class RefNotFound(RepoError):
    """The revision does not exist in the repository (permanent until someone pushes it)."""


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    date: str  # RFC 3339, author date with its original offset
    subject: str


def redact_url(url: str) -> str:
    """The URL with credentials removed, for messages and logs (cf. CVE-2023-25163)."""
    m = _SCHEME.match(url)
    if not m:
        return url
    netloc, sep, tail = url[len(m.group(0)) :].partition("/")
    if "@" not in netloc:
        return url
    userinfo, _, hostport = netloc.rpartition("@")
    if m.group(1).lower() == "ssh":
        if ":" not in userinfo:
            return url  # ssh user names (git@) are not secrets
        shown = userinfo.split(":", 1)[0] + ":***"
    else:
        shown = "***"  # https user names are often tokens
    return f"{m.group(0)}{shown}@{hostport}{sep}{tail}"


def _quote(text: str) -> str:
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def _bad_url(url: str, reason: str) -> RepoError:
    return RepoError(f"invalid repository URL {_quote(redact_url(url))}: {reason}", url=url)


def _check_segments(url: str, *parts: str) -> None:
    for part in parts:
        for seg in re.split(r"[/:@]", part):
            if seg.startswith("-"):
                raise _bad_url(url, f"component {_quote(seg)} starts with '-' (option injection)")


def validate_repo_url(url: str, *, allow_file: bool) -> str:
    """Return the normalised URL, or raise RepoError naming the URL and the reason.

    Accepted: https://, ssh://, scp-like `user@host:path`; file:// and absolute paths only when
    `allow_file`. Normalisation lowercases scheme and host, drops a trailing '/', and turns local
    paths into file:// URLs, so spellings of one repository share one mirror.
    """
    if not isinstance(url, str) or not url:
        raise RepoError("repository URL is empty", url="")
    if _BAD_CHARS.search(url):
        raise _bad_url(url, "contains whitespace or control characters")
    if url.startswith("-"):
        raise _bad_url(url, "starts with '-' (option injection)")
    if _TRANSPORT.match(url):
        raise _bad_url(url, "the <transport>::<address> syntax (e.g. ext::) is not allowed")
    if _GIT_OPTION.search(url):
        raise _bad_url(url, "contains a git command-line option")
    m = _SCHEME.match(url)
    if m:
        scheme = m.group(1).lower()
        if scheme == "file":
            if not allow_file:
                raise _bad_url(url, "file:// URLs are not allowed (local repositories are disabled)")
            path = url[len(m.group(0)) :]
            if not path.startswith("/"):
                raise _bad_url(url, "file:// URLs must name an absolute local path (file:///path)")
            return "file://" + _norm_local(url, path)
        if scheme not in ("https", "ssh", "http"):
            raise _bad_url(url, f"scheme {scheme}:// is not allowed; use https://, ssh:// or user@host:path")
        try:
            parts = urlsplit(url)
            host = parts.hostname
            port = parts.port
        except ValueError as exc:
            raise _bad_url(url, str(exc)) from None
        if not host:
            raise _bad_url(url, "has no host")
        if scheme == "http" and not is_loopback(host):
            raise _bad_url(
                url, "plain http:// is allowed only on this machine (127.0.0.1, ::1, localhost); use https://"
            )
        if parts.fragment:
            raise _bad_url(url, "must not contain a '#' fragment")
        _check_segments(url, parts.username or "", host, parts.path)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = (
            (userinfo + "@" if userinfo else "")
            + (f"[{host}]" if ":" in host else host).lower()
            + (f":{port}" if port is not None else "")
        )
        path = parts.path.rstrip("/")
        query = f"?{parts.query}" if parts.query else ""
        return f"{scheme}://{netloc}{path}{query}"
    if url.startswith("/"):
        if not allow_file:
            raise _bad_url(url, "local paths are not allowed (local repositories are disabled)")
        return "file://" + _norm_local(url, url)
    scp = _SCP.match(url)
    if not scp or "/" in url.split(":", 1)[0]:
        raise _bad_url(url, "not a repository URL; use https://host/path, ssh://host/path or user@host:path")
    user, host, path = scp.group("user") or "", scp.group("host"), scp.group("path")
    if not path:
        raise _bad_url(url, "has no repository path after ':'")
    _check_segments(url, user, host, path)
    return f"{user + '@' if user else ''}{host.lower()}:{path.rstrip('/') or path}"


def _norm_local(url: str, path: str) -> str:
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if any(seg.startswith("-") for seg in norm.split("/")):
        raise _bad_url(url, "a path component starts with '-' (option injection)")
    return norm


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: plain HTTP to these never leaves the machine."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_revision(rev: str | None) -> str:
    """Return the revision ('' means HEAD, as in Argo CD), or raise RepoError naming it and why.

    The rules are git check-ref-format's plus: no leading '-', no revision syntax (`..`, `@{`,
    `~`, `^`, `:`), so a revision can only ever name a ref, HEAD or a commit id.
    """
    if rev is None or rev == "":
        return "HEAD"
    if not isinstance(rev, str):
        raise RepoError(f"invalid revision {rev!r}: not a string")

    def bad(reason: str) -> RepoError:
        return RepoError(f"invalid revision {_quote(rev)}: {reason}")

    if len(rev) > 255:
        raise bad("longer than 255 characters")
    if rev.startswith("-"):
        raise bad("starts with '-' (option injection)")
    if _BAD_CHARS.search(rev):
        raise bad("contains whitespace or control characters")
    if ".." in rev:
        raise bad("contains '..'")
    if "@{" in rev or rev == "@":
        raise bad("reflog syntax ('@{') is not allowed")
    forbidden = _REF_FORBIDDEN.search(rev)
    if forbidden:
        raise bad(f"contains {forbidden.group(0)!r}")
    if rev.startswith("/") or rev.endswith("/") or "//" in rev:
        raise bad("has an empty path component")
    if rev.endswith("."):
        raise bad("ends with '.'")
    for comp in rev.split("/"):
        if comp.startswith("."):
            raise bad("a component starts with '.'")
        if comp.endswith(".lock"):
            raise bad("a component ends with '.lock'")
    return rev


@dataclass
class _RepoState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    fetched_cycle: int = -1
    error: RepoError | None = None
    error_cycle: int = -1
    error_time: float = 0.0
    refs: dict[str, str] | None = None
    refs_loaded: float = 0.0  # wall time of the last ref load (another process may fetch later)
    commits: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)  # sha -> why its tree cannot be exported
    tried: dict[str, int] = field(default_factory=dict)  # extra fetch (sha / refs/...) -> cycle
    infos: dict[str, CommitInfo] = field(default_factory=dict)


class GitCache:
    """Bare mirrors under `root/repos/<sha256(url)>`, exported trees under `root/trees/<secret>/`.

    Tree directories are named by an HMAC of the URL with a per-cache random key (`root/tree-key`,
    0600) under owner-only (0700) directories, so no repository content can name, guess or reach
    another repository's tree by a path (CVE-2022-24348 class); renderers also confine every path
    to the tree they render.

    `ttl=0` (default): a branch/tag/HEAD resolution fetches at most once per cycle; the engine
    calls `begin_cycle()` before each refresh round. `ttl>0`: at most once per `ttl` seconds,
    measured by a stamp file so that separate processes (console, CLI) share it.
    """

    def __init__(
        self,
        root: Path,
        *,
        allow_file_urls: bool = False,
        fetch_timeout: float = 60.0,
        ttl: float = 0.0,
        rewrites: Mapping[str, str] | None = None,
        auth: AuthLookup | None = None,
        git_config: Mapping[str, str] | None = None,
        known_hosts: str = "",
    ) -> None:
        self.root = Path(root)
        # prefix -> mirror: the Application keeps its upstream URL (projects check that one), the
        # fetch goes to the mirror; longest prefix first
        self.rewrites = sorted((rewrites or {}).items(), key=lambda kv: -len(kv[0]))
        self.auth = auth
        self.git_config = {k: v for k, v in (git_config or {}).items() if allowed_git_config(k)}
        self.known_hosts = known_hosts
        self.allow_file_urls = allow_file_urls
        self.fetch_timeout = fetch_timeout
        self.ttl = ttl
        self.fetch_count = 0  # network fetches made by this instance (metrics, tests)
        self._cycle = 0
        self._guard = threading.Lock()
        self._states: dict[str, _RepoState] = {}
        for sub in ("repos", "trees"):
            (self.root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(OSError):
                os.chmod(self.root / sub, 0o700)
        self._tree_key = _tree_key(self.root / "tree-key")
        # http is reachable only for loopback hosts (validate_repo_url refuses the others)
        protocols = "https:ssh:http:file" if allow_file_urls else "https:ssh:http"
        self._env = {
            # isolated from the operator's git configuration: only what trueup names applies
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_ALLOW_PROTOCOL": protocols,
            "GIT_PROTOCOL_FROM_USER": "0",
            "GIT_TERMINAL_PROMPT": "0",
            "GCM_INTERACTIVE": "never",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND") or "ssh -o BatchMode=yes",
        }

    # -- public API -------------------------------------------------------------------------

    def begin_cycle(self) -> None:
        """Start a refresh round: each repository may be fetched once more (ttl=0)."""
        with self._guard:
            self._cycle += 1

    def resolve(self, repo_url: str, revision: str) -> str:
        """Full 40-hex commit SHA for a branch, tag, HEAD, refs/... name, short or full SHA."""
        url = validate_repo_url(repo_url, allow_file=self.allow_file_urls)
        rev = validate_revision(revision)
        key = self._key(url)
        st = self._state(key)
        with st.lock:
            if FULL_SHA.match(rev.lower()):
                sha = rev.lower()
                if self._has_commit(key, st, sha):
                    return sha
                self._ensure_fetched(url, key, st)
                if not self._has_commit(key, st, sha):
                    self._fetch_extra(url, key, st, sha, f"refs/trueup/sha/{sha}")
                if self._has_commit(key, st, sha):
                    return sha
                raise self._not_found(url, rev)
            self._ensure_fetched(url, key, st)
            sha_or_none = self._lookup(key, st, rev)
            if (
                sha_or_none is None
                and rev.startswith("refs/")
                and not rev.startswith(("refs/heads/", "refs/tags/"))
            ):
                if self._fetch_extra(url, key, st, rev, rev):
                    self._reload_refs(key, st)
                    sha_or_none = self._lookup(key, st, rev)
            if sha_or_none is None:
                raise self._not_found(url, rev)
            return sha_or_none

    def fetch(self, repo_url: str, revision: str) -> tuple[str, Path]:
        """Resolve a revision and export its tree: DESIGN.md's `sources.fetch` step."""
        sha = self.resolve(repo_url, revision)
        return sha, self.tree(repo_url, sha)

    def tree(self, repo_url: str, sha: str) -> Path:
        """Directory holding the files of commit `sha` (read-only files; exported once per SHA)."""
        url = validate_repo_url(repo_url, allow_file=self.allow_file_urls)
        sha = sha.lower()
        if not FULL_SHA.match(sha):
            raise RepoError(f"tree export needs a full commit SHA, got {_quote(sha)}", url=url)
        key = self._key(url)
        parent = self.root / "trees" / self._tree_dir(url)
        dest = parent / sha
        if dest.is_dir():
            return dest
        self.resolve(url, sha)
        st = self._state(key)
        if sha in st.refused:
            raise RepoError(st.refused[sha], url=url)
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = parent / f".tmp-{sha[:12]}-{uuid.uuid4().hex}"
        tmp.mkdir(mode=0o700)
        try:
            tar = tmp.with_suffix(".tar")
            self._run(key, ["archive", "--format=tar", "-o", str(tar), sha], url=url)
            try:
                extract(tar, tmp / "t")
            except UnsafeTree as exc:
                st.refused[sha] = str(exc)
                raise RepoError(str(exc), url=url) from None
            finally:
                tar.unlink(missing_ok=True)
            try:
                os.rename(tmp / "t", dest)
            except OSError:
                if not dest.is_dir():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return dest

    def commit_info(self, repo_url: str, sha: str) -> CommitInfo:
        """Author, date and subject of a commit (cached; commits are immutable)."""
        url = validate_repo_url(repo_url, allow_file=self.allow_file_urls)
        full = self.resolve(url, sha)
        st = self._state(self._key(url))
        cached = st.infos.get(full)
        if cached:
            return cached
        out = self._run(
            self._key(url),
            ["show", "-s", "--no-show-signature", "--format=%H%x00%an%x00%ae%x00%aI%x00%s", full, "--"],
            url=url,
        )
        fields = out.rstrip("\n").split("\x00")
        if len(fields) != 5:
            raise RepoError(f"cannot read commit {full} of {_quote(redact_url(url))}", url=url)
        info = CommitInfo(sha=fields[0], author=fields[1], email=fields[2], date=fields[3], subject=fields[4])
        st.infos[full] = info
        return info

    def log(
        self,
        repo_url: str,
        sha: str,
        paths: Sequence[str] = (),
        *,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[CommitInfo]:
        """Commits reachable from `sha` that touched any of `paths` (repo-relative; none or "."
        means the whole repository), newest first. Paths leaving the repository are ignored, and
        pathspecs are literal (no `:(magic)` from a manifest)."""
        url = validate_repo_url(repo_url, allow_file=self.allow_file_urls)
        full = self.resolve(url, sha)
        specs: list[str] = []
        whole = not paths
        for raw in paths:
            norm = posixpath.normpath(raw.strip().lstrip("/")) if raw.strip() else "."
            if norm == ".":
                whole = True
            elif not norm.startswith("../") and norm != "..":
                specs.append(norm)
        if not whole and not specs:
            return []
        args = [
            "--literal-pathspecs",
            "log",
            "--no-show-signature",
            f"--max-count={max(1, int(limit))}",
            "--format=%H%x00%an%x00%ae%x00%aI%x00%s",
        ]
        if since is not None:
            args.append(f"--since={since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
        args += [full, "--", *([] if whole else specs)]
        out = self._run(self._key(url), args, url=url)
        commits = []
        for line in out.splitlines():
            fields = line.split("\x00")
            if len(fields) == 5:
                commits.append(CommitInfo(*fields))
        return commits

    def mirror_path(self, repo_url: str) -> Path:
        url = validate_repo_url(repo_url, allow_file=self.allow_file_urls)
        return self._mirror(self._key(url))

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()

    def _tree_dir(self, url: str) -> str:
        return hmac.new(self._tree_key, url.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _mirror(self, key: str) -> Path:
        return self.root / "repos" / key

    def _state(self, key: str) -> _RepoState:
        with self._guard:
            st = self._states.get(key)
            if st is None:
                st = self._states[key] = _RepoState()
            return st

    def _exec(
        self,
        git_dir: Path | None,
        args: list[str],
        *,
        timeout: float | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> tuple[int, str, str, bool]:
        env = dict(self._env, **(extra_env or {}))
        if git_dir is not None:
            env["GIT_DIR"] = str(git_dir)
        status, out, err = git.Git(str(self.root)).execute(
            [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", *args],
            with_extended_output=True,
            with_exceptions=False,
            kill_after_timeout=timeout,
            env=env,
            strip_newline_in_stdout=False,
        )
        timed_out = (
            timeout is not None and "did not complete in" in str(err) and str(err).startswith("Timeout:")
        )
        return int(status or 0), str(out), str(err), timed_out

    def _run(self, key: str, args: list[str], *, url: str) -> str:
        status, out, err, _ = self._exec(self._mirror(key), args, timeout=self.fetch_timeout)
        if status != 0:
            raise RepoError(
                f"git {args[0]} failed for {_quote(redact_url(url))}: {_first_error_line(err, url)}", url=url
            )
        return out

    def _has_commit(self, key: str, st: _RepoState, sha: str) -> bool:
        if sha in st.commits:
            return True
        mirror = self._mirror(key)
        if not (mirror / "HEAD").exists():
            return False
        status, out, _, _ = self._exec(mirror, ["cat-file", "-t", sha])
        if status == 0 and out.strip() == "commit":
            st.commits.add(sha)
            return True
        return False

    def _fetch_due(self, key: str, st: _RepoState) -> bool:
        if self.ttl > 0:
            return self._stamp_age(key) >= self.ttl
        return st.fetched_cycle != self._cycle

    def _stamp_age(self, key: str) -> float:
        try:
            return time.time() - (self.root / "repos" / f"{key}.fetched").stat().st_mtime
        except FileNotFoundError:
            return float("inf")

    def _ensure_fetched(self, url: str, key: str, st: _RepoState) -> None:
        if st.error is not None:
            recent = (
                (time.time() - st.error_time) < self.ttl if self.ttl > 0 else st.error_cycle == self._cycle
            )
            if recent:
                raise RepoError(str(st.error), transient=st.error.transient, url=url)
            st.error = None
        if not self._fetch_due(key, st) and (self._mirror(key) / "HEAD").exists():
            if st.refs is None or (self.ttl > 0 and time.time() - self._stamp_age(key) > st.refs_loaded):
                self._reload_refs(key, st)
            return
        try:
            self._fetch(url, key)
        except RepoError as exc:
            st.error, st.error_cycle, st.error_time = exc, self._cycle, time.time()
            raise
        st.fetched_cycle = self._cycle
        self._reload_refs(key, st)

    def _reload_refs(self, key: str, st: _RepoState) -> None:
        st.refs_loaded = time.time()
        st.refs = self._load_refs(key)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        """Exclusive lock on one mirror across processes (flock) and threads (separate fds)."""
        with open(self.root / "repos" / f"{key}.lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _init_mirror(self, url: str, key: str) -> None:
        mirror = self._mirror(key)
        if (mirror / "HEAD").exists():
            return
        tmp = mirror.with_name(f"{key}.init-{uuid.uuid4().hex}")
        try:
            status, _, err, _ = self._exec(tmp, ["init", "--quiet", "--bare"])
            if status != 0:
                raise RepoError(
                    f"cannot create a mirror for {_quote(redact_url(url))}: {err.strip()}", url=url
                )
            for k, v in (
                ("gc.auto", "0"),
                ("core.logAllRefUpdates", "false"),
                ("fetch.recurseSubmodules", "false"),
                ("submodule.recurse", "false"),
                ("trueup.url", redact_url(url)),
                *((k, "true") for k in _FSCK),
            ):
                self._exec(tmp, ["config", k, v])
            (tmp / "info").mkdir(exist_ok=True)
            (tmp / "info" / "attributes").write_text(_NEUTRAL_ATTRIBUTES)
            os.rename(tmp, mirror)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _fetch(self, url: str, key: str) -> None:
        started = time.time()
        with self._locked(key):
            stamp = self.root / "repos" / f"{key}.fetched"
            # Another process fetched while we waited for the lock: its result is as fresh as ours.
            if (self._mirror(key) / "HEAD").exists() and stamp.exists() and stamp.stat().st_mtime >= started:
                return
            self._init_mirror(url, key)
            refspecs = [*_HEADS_TAGS, _REMOTE_HEAD]
            status, err, timed_out = self._git_fetch(key, url, refspecs)
            if status != 0 and "couldn't find remote ref head" in err.lower():
                status, err, timed_out = self._git_fetch(key, url, list(_HEADS_TAGS))  # empty repo
            if status != 0:
                raise self._fetch_error(url, err, timed_out)
            stamp.touch()

    def fetch_url(self, url: str) -> str:
        """Where `url` is fetched from: its mirror when a `repositories.urlRewrites` prefix matches."""
        for prefix, mirror in self.rewrites:
            if url.startswith(prefix):
                rewritten = mirror + url[len(prefix) :]
                return validate_repo_url(rewritten, allow_file=self.allow_file_urls)
        return url

    def _config_args(self) -> list[str]:
        return [a for k, v in sorted(self.git_config.items()) for a in ("-c", f"{k}={v}")]

    @contextlib.contextmanager
    def _auth_env(self, fetch_url: str) -> Iterator[tuple[dict[str, str], list[str]]]:
        """Environment for one network git command against `fetch_url`, and the secrets to scrub.

        HTTPS: GIT_ASKPASS is trueup's helper, which reads the keyring entry named in
        TRUEUP_ASKPASS_KEY. SSH: the key is written to a private temporary file outside the
        workspace for the duration of the command, and ssh reads no user configuration.
        """
        env: dict[str, str] = {
            "GIT_ASKPASS": self._askpass(),
            "SSH_ASKPASS": "",
            "TRUEUP_ASKPASS_KEY": "",
            "TRUEUP_ASKPASS_URL": fetch_url,
        }
        auth = self.auth(fetch_url) if self.auth is not None else None
        secrets = auth.credential.secrets() if auth is not None else []
        tmpdir = None
        try:
            if auth is not None and auth.kind == "https":
                env["TRUEUP_ASKPASS_KEY"] = auth.key
            elif auth is not None and auth.kind == "ssh" and auth.credential.ssh_private_key:
                tmpdir = tempfile.mkdtemp(prefix="trueup-ssh-")
                keyfile = Path(tmpdir) / "id"
                fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    key = auth.credential.ssh_private_key
                    fh.write(key if key.endswith("\n") else key + "\n")
                opts = [
                    "-F",
                    os.devnull,
                    "-i",
                    str(keyfile),
                    "-o",
                    "IdentitiesOnly=yes",
                    "-o",
                    "IdentityAgent=none",
                ]
                opts += ["-o", "BatchMode=yes", "-o", "PasswordAuthentication=no"]
                if auth.insecure_ignore_host_key:
                    opts += ["-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={os.devnull}"]
                else:
                    opts += ["-o", "StrictHostKeyChecking=yes"]
                    if self.known_hosts:
                        opts += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
                env["GIT_SSH_COMMAND"] = "ssh " + " ".join(shlex.quote(o) for o in opts)
                env["GIT_SSH_VARIANT"] = "ssh"
            yield env, secrets
        finally:
            if tmpdir is not None:
                shutil.rmtree(tmpdir, ignore_errors=True)

    def _askpass(self) -> str:
        """A tiny wrapper around `python -m console.engine.sources.askpass` (created once, 0700)."""
        import sys

        path = self.root / "askpass.sh"
        text = f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m console.engine.sources.askpass "$@"\n'
        try:
            if path.read_text() == text:
                return str(path)
        except OSError:
            pass
        tmp = path.with_name(f".askpass-{uuid.uuid4().hex}")
        tmp.write_text(text)
        os.chmod(tmp, 0o700)
        os.replace(tmp, path)
        return str(path)

    def _git_fetch(self, key: str, url: str, refspecs: list[str]) -> tuple[int, str, bool]:
        self.fetch_count += 1
        source = self.fetch_url(url)
        args = [
            "-c", "protocol.version=2",
            *(a for k in _FSCK for a in ("-c", f"{k}=true")),  # also for mirrors made before fsck
            *self._config_args(),
            "fetch", "--quiet", "--prune", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head",
            "--", source, *refspecs,
        ]  # fmt: skip
        with self._auth_env(source) as (env, secrets):
            status, _, err, timed_out = self._exec(
                self._mirror(key), args, timeout=self.fetch_timeout, extra_env=env
            )
        err = scrub(err, secrets)
        if source != url:
            err = err.replace(source, redact_url(source))
        return status, err, timed_out

    def check(self, repo_url: str) -> None:
        """Connection check (`repo list`): `git ls-remote` with the repository's credentials."""
        url = validate_repo_url(repo_url, allow_file=self.allow_file_urls)
        source = self.fetch_url(url)
        with self._auth_env(source) as (env, secrets):
            status, _, err, timed_out = self._exec(
                None,
                [*self._config_args(), "ls-remote", "--heads", "--", source],
                timeout=self.fetch_timeout,
                extra_env=env,
            )
        if status != 0:
            raise self._fetch_error(url, scrub(err, secrets), timed_out)

    def _fetch_extra(self, url: str, key: str, st: _RepoState, what: str, dest: str) -> bool:
        """Fetch one object or ref not covered by heads/tags (once per cycle). True on success."""
        if st.tried.get(what) == self._cycle:
            return False
        st.tried[what] = self._cycle
        with self._locked(key):
            self._init_mirror(url, key)
            status, _, _ = self._git_fetch(key, url, [f"+{what}:{dest}"])
        return status == 0

    def _fetch_error(self, url: str, stderr: str, timed_out: bool) -> RepoError:
        shown = _quote(redact_url(url))
        source = self.fetch_url(url)
        if source != url:
            shown += f" (mirror {_quote(redact_url(source))})"
        if timed_out:
            return RepoError(
                f"repository {shown} is unreachable: fetch timed out after {self.fetch_timeout:g} s",
                transient=True,
                url=url,
            )
        line = _first_error_line(stderr, url)
        low = stderr.lower()
        if "fsck error" in low or ("error: object " in low and "index-pack failed" in low):
            return RepoError(
                f"repository {shown} failed object verification (git fsck), refusing it: {line}", url=url
            )
        if "transport" in low and "not allowed" in low:
            return RepoError(f"repository {shown} uses a transport that is not allowed: {line}", url=url)
        if any(
            s in low
            for s in (
                "authentication failed",
                "permission denied",
                "could not read username",
                "invalid username",
            )
        ):
            return RepoError(f"repository {shown} refused access: {line}", url=url)
        return RepoError(f"repository {shown} is unreachable: {line}", transient=True, url=url)

    def _load_refs(self, key: str) -> dict[str, str]:
        fmt = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)"
        status, out, _, _ = self._exec(self._mirror(key), ["for-each-ref", f"--format={fmt}"])
        refs: dict[str, str] = {}
        if status != 0:
            return refs
        for line in out.splitlines():
            parts = line.split("\x00")
            if len(parts) != 5:
                continue
            name, otype, oid, ptype, poid = parts
            if otype == "commit":
                refs[name] = oid
            elif otype == "tag" and ptype == "commit":
                refs[name] = poid
        return refs

    def _lookup(self, key: str, st: _RepoState, rev: str) -> str | None:
        refs = st.refs or {}
        if rev == "HEAD":
            return refs.get("refs/trueup/HEAD")
        if rev.startswith("refs/"):
            return refs.get(rev)
        for candidate in (f"refs/heads/{rev}", f"refs/tags/{rev}"):
            if candidate in refs:
                return refs[candidate]
        if _SHORT_SHA.match(rev.lower()):
            status, out, _, _ = self._exec(
                self._mirror(key), ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"]
            )
            sha = out.strip()
            if status == 0 and FULL_SHA.match(sha):
                st.commits.add(sha)
                return sha
        return None

    def _not_found(self, url: str, rev: str) -> RefNotFound:
        return RefNotFound(f"revision {_quote(rev)} not found in {_quote(redact_url(url))}", url=url)


def _first_error_line(stderr: str, url: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    chosen = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[0] if lines else "")
    for prefix in ("fatal:", "error:"):
        if chosen.startswith(prefix):
            chosen = chosen[len(prefix) :].strip()
    if url != redact_url(url):
        chosen = chosen.replace(url, redact_url(url))
    return chosen[:300] or "git failed without a message"


def _tree_key(path: Path) -> bytes:
    """The cache's random tree-naming key, created once (0600) and shared by every process."""
    corrupt = False
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    except ValueError:
        corrupt = True
    tmp = path.with_name(f".{path.name}-{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    try:
        if corrupt:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic: the first process to get here wins, the others read its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())
