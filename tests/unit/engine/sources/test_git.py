"""GitCache and URL/revision validation against real repositories made with the git CLI."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from console.engine.sources.git import (
    GitCache,
    RefNotFound,
    RepoError,
    validate_repo_url,
    validate_revision,
)

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2024-03-01T12:30:00+02:00",
    "GIT_COMMITTER_DATE": "2024-03-01T12:30:00+02:00",
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], env=GIT_ENV, check=True)
    commit(repo, {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"}, "first commit")
    git(repo, "tag", "light")
    git(repo, "tag", "-a", "v1.0.0", "-m", "release 1")
    return repo


@pytest.fixture
def cache(tmp_path: Path) -> GitCache:
    return GitCache(tmp_path / "cache", allow_file_urls=True)


def test_resolve_branch_tags_head_short_and_full_sha(origin: Path, cache: GitCache) -> None:
    sha = git(origin, "rev-parse", "HEAD")
    url = f"file://{origin}"
    assert cache.fetch(url, "main") == (sha, cache.tree(url, sha))
    assert cache.resolve(url, "HEAD") == sha
    assert cache.resolve(url, "") == sha  # empty targetRevision means HEAD, as in Argo CD
    assert cache.resolve(url, "light") == sha
    assert cache.resolve(url, "v1.0.0") == sha  # annotated tag peeled to its commit
    assert cache.resolve(url, "refs/heads/main") == sha
    assert cache.resolve(url, sha[:8]) == sha
    assert cache.resolve(url, sha.upper()) == sha
    assert cache.resolve(str(origin), "main") == sha  # plain absolute path shares the mirror
    assert cache.fetch_count == 1


def test_full_sha_present_needs_no_fetch_even_without_origin(origin: Path, tmp_path: Path) -> None:
    url = f"file://{origin}"
    first = GitCache(tmp_path / "cache", allow_file_urls=True)
    sha = first.resolve(url, "main")
    shutil.rmtree(origin)
    second = GitCache(tmp_path / "cache", allow_file_urls=True)  # a new process on the same cache
    assert second.resolve(url, sha) == sha
    assert (second.tree(url, sha) / "app" / "cm.yaml").is_file()
    assert second.fetch_count == 0
    with pytest.raises(RepoError) as err:
        second.resolve(url, "main")  # a branch needs a fetch, and the origin is gone
    assert err.value.transient


def test_one_fetch_per_cycle_and_new_commits_after_begin_cycle(origin: Path, cache: GitCache) -> None:
    url = f"file://{origin}"
    old = cache.resolve(url, "main")
    for _ in range(1000):
        assert cache.resolve(url, "main") == old
    new = commit(origin, {"app/cm2.yaml": "kind: x\n"}, "second")
    assert cache.resolve(url, "main") == old  # same cycle: no refetch
    assert cache.fetch_count == 1
    cache.begin_cycle()
    assert cache.resolve(url, "main") == new
    assert cache.resolve(url, "v1.0.0") == old
    assert cache.fetch_count == 2


def test_deleted_branch_is_pruned_on_next_cycle(origin: Path, cache: GitCache) -> None:
    url = f"file://{origin}"
    git(origin, "branch", "feature/x")
    assert cache.resolve(url, "feature/x") == git(origin, "rev-parse", "HEAD")
    git(origin, "branch", "-D", "feature/x")
    cache.begin_cycle()
    with pytest.raises(RefNotFound):
        cache.resolve(url, "feature/x")


def test_ttl_is_shared_between_instances(origin: Path, tmp_path: Path) -> None:
    url = f"file://{origin}"
    a = GitCache(tmp_path / "cache", allow_file_urls=True, ttl=3600)
    sha = a.resolve(url, "main")
    b = GitCache(tmp_path / "cache", allow_file_urls=True, ttl=3600)
    commit(origin, {"x.yaml": "a: 1\n"}, "later")
    b.begin_cycle()
    assert b.resolve(url, "main") == sha  # fetched less than ttl ago by another instance
    assert (a.fetch_count, b.fetch_count) == (1, 0)
    c = GitCache(tmp_path / "cache", allow_file_urls=True)  # ttl=0: fetches in its first cycle
    newer = c.resolve(url, "main")
    assert newer != sha
    assert a.resolve(url, "main") == newer  # a sees refs another process fetched, without fetching
    assert a.fetch_count == 1


def test_unknown_ref_and_unknown_sha(origin: Path, cache: GitCache) -> None:
    url = f"file://{origin}"
    with pytest.raises(RefNotFound) as err:
        cache.resolve(url, "nope")
    assert str(err.value) == f'revision "nope" not found in "{url}"'
    assert not err.value.transient
    with pytest.raises(RefNotFound):
        cache.resolve(url, "0" * 40)


def test_fetch_of_a_pull_request_ref(origin: Path, cache: GitCache) -> None:
    sha = commit(origin, {"pr.yaml": "a: 1\n"}, "pr")
    git(origin, "update-ref", "refs/pull/7/head", sha)
    git(origin, "reset", "-q", "--hard", "HEAD~1")
    assert cache.resolve(f"file://{origin}", "refs/pull/7/head") == sha


def test_unreachable_repository_is_transient_and_costs_one_attempt_per_cycle(
    tmp_path: Path, cache: GitCache
) -> None:
    url = f"file://{tmp_path}/does-not-exist"
    with pytest.raises(RepoError) as err:
        cache.resolve(url, "main")
    message = str(err.value)
    assert err.value.transient and not isinstance(err.value, RefNotFound)
    assert message.startswith(f'repository "{url}" is unreachable: ')
    assert "does not appear to be a git repository" in message and "\n" not in message
    with pytest.raises(RepoError):
        cache.resolve(url, "other-branch")
    assert cache.fetch_count == 1


def test_connection_refused_is_transient_and_credentials_are_redacted(tmp_path: Path) -> None:
    cache = GitCache(tmp_path / "cache", fetch_timeout=20)
    with socket.socket() as s:  # find a free loopback port, then close it: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"https://deploy:s3cr3t-token@127.0.0.1:{port}/org/repo.git"
    with pytest.raises(RepoError) as err:
        cache.resolve(url, "main")
    assert err.value.transient
    assert "s3cr3t" not in str(err.value)
    assert f'repository "https://***@127.0.0.1:{port}/org/repo.git" is unreachable' in str(err.value)


def test_fetch_timeout_is_transient(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    cache = GitCache(tmp_path / "cache", fetch_timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(RepoError) as err:  # TLS handshake never answered
            cache.resolve(f"https://127.0.0.1:{server.getsockname()[1]}/repo.git", "main")
    finally:
        for conn in accepted:
            conn.close()
        server.close()
    assert time.monotonic() - started < 10
    assert err.value.transient
    assert "timed out after 1 s" in str(err.value)


def test_tree_export_is_faithful_read_only_and_cached(origin: Path, cache: GitCache) -> None:
    (origin / ".gitattributes").write_text("app/hidden.yaml export-ignore\napp/subst.yaml export-subst\n")
    os.symlink("cm.yaml", origin / "app" / "link.yaml")
    sha = commit(origin, {"app/hidden.yaml": "h: 1\n", "app/subst.yaml": "v: $Format:%H$\n"}, "attrs")
    url = f"file://{origin}"
    tree = cache.tree(url, cache.resolve(url, "main"))
    assert tree.name == sha
    assert (tree / "app" / "hidden.yaml").read_text() == "h: 1\n"  # export-ignore has no effect
    assert (tree / "app" / "subst.yaml").read_text() == "v: $Format:%H$\n"  # nor export-subst
    assert os.readlink(tree / "app" / "link.yaml") == "cm.yaml"
    assert (tree / "app" / "cm.yaml").stat().st_mode & 0o222 == 0
    assert cache.tree(url, sha) == tree
    assert [p.name for p in tree.parent.iterdir()] == [sha]  # no temp leftovers
    with pytest.raises(RepoError):
        cache.tree(url, "main")  # trees are by SHA only


def test_commit_info(origin: Path, cache: GitCache) -> None:
    url = f"file://{origin}"
    sha = cache.resolve(url, "main")
    info = cache.commit_info(url, sha)
    assert (info.sha, info.author, info.email, info.subject) == (
        sha,
        "Ada Lovelace",
        "ada@example.com",
        "first commit",
    )
    assert info.date == "2024-03-01T12:30:00+02:00"
    assert datetime.datetime.fromisoformat(info.date).utcoffset() == datetime.timedelta(hours=2)


def test_concurrent_instances_share_one_mirror(origin: Path, tmp_path: Path) -> None:
    url = f"file://{origin}"
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(GitCache(tmp_path / "cache", allow_file_urls=True).resolve(url, "main"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert set(results) == {git(origin, "rev-parse", "HEAD")}
    assert len(list((tmp_path / "cache" / "repos").glob("*.init-*"))) == 0


# -- validation ------------------------------------------------------------------------------


def test_ext_transport_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cache = GitCache(tmp_path / "cache", allow_file_urls=True)
    for url in (f"ext::sh -c touch {marker}", f"ext::sh%20-c%20touch%20{marker}", "fd::17"):
        with pytest.raises(RepoError, match="invalid repository URL"):
            cache.resolve(url, "main")
    # Defence in depth: even if validation were bypassed, the git environment refuses ext::.
    mirror = tmp_path / "m"
    subprocess.run(["git", "init", "-q", "--bare", str(mirror)], env=GIT_ENV, check=True)
    status, _, err, _ = cache._exec(mirror, ["fetch", "--", f"ext::sh -c touch% {marker}", "main"])
    assert status != 0 and "not allowed" in err
    assert not marker.exists()


@pytest.mark.parametrize(
    "url",
    [
        "--upload-pack=touch /tmp/x",
        "-oProxyCommand=touch /tmp/x",
        "-oProxyCommand=touch:repo",
        "ssh://-oProxyCommand=touch/repo",
        "ssh://git@-oProxyCommand/repo",
        "git@-oProxyCommand=x:org/repo",
        "https://example.com/--upload-pack=touch",
        "https://example.com/org/repo?x=--upload-pack=y",
        "git@host:-repo",
        "https://example.com/org/repo .git",
        "https://example.com/org/\nrepo",
        "http://example.com/org/repo.git",
        "git://example.com/org/repo.git",
        "ftp://example.com/org/repo.git",
        "relative/path",
        "https:///nohost",
        "",
    ],
)
def test_dangerous_or_unsupported_urls_are_rejected(url: str) -> None:
    with pytest.raises(RepoError) as err:
        validate_repo_url(url, allow_file=True)
    assert not err.value.transient
    if url:
        assert "invalid repository URL" in str(err.value)


def test_local_repositories_need_allow_file(origin: Path, tmp_path: Path) -> None:
    for url in (f"file://{origin}", str(origin)):
        with pytest.raises(RepoError, match="not allowed"):
            validate_repo_url(url, allow_file=False)
    cache = GitCache(tmp_path / "cache")  # allow_file_urls defaults to False
    with pytest.raises(RepoError, match="file:// URLs are not allowed"):
        cache.resolve(f"file://{origin}", "main")
    assert cache.fetch_count == 0


def test_url_normalisation() -> None:
    assert (
        validate_repo_url("https://GitHub.com/Org/Repo.git/", allow_file=False)
        == "https://github.com/Org/Repo.git"
    )
    assert validate_repo_url("git@GitHub.com:org/repo.git", allow_file=False) == "git@github.com:org/repo.git"
    assert (
        validate_repo_url("ssh://git@host:2222/org/repo", allow_file=False) == "ssh://git@host:2222/org/repo"
    )
    assert validate_repo_url("/srv/git/../repos/app", allow_file=True) == "file:///srv/repos/app"
    assert validate_repo_url("file:///srv/repos/app/", allow_file=True) == "file:///srv/repos/app"


def test_url_error_names_url_without_secrets() -> None:
    with pytest.raises(RepoError) as err:
        validate_repo_url("http://user:hunter2@example.com/repo.git", allow_file=False)
    assert "hunter2" not in str(err.value) and "example.com/repo.git" in str(err.value)
    assert "plain http:// is allowed only on this machine" in str(err.value)


@pytest.mark.parametrize(
    "rev",
    ["--foo", "-b", "a..b", "main@{1}", "@", "a b", "a\x00b", "a\tb", "HEAD~1", "HEAD^", "x:y", "a?", "a*", "a[b",
     "a\\b", "x.lock", "refs/heads/x.lock", ".hidden", "a/.b", "a//b", "a/", "/a", "a."],
)  # fmt: skip
def test_bad_revisions_are_rejected(rev: str, tmp_path: Path) -> None:
    with pytest.raises(RepoError) as err:
        validate_revision(rev)
    assert "invalid revision" in str(err.value)


@pytest.mark.parametrize(
    "rev",
    [
        "main",
        "HEAD",
        "v1.2.3",
        "feature/login-form",
        "refs/heads/x",
        "refs/tags/v1",
        "a1b2c3d",
        "release-2024.03",
    ],
)
def test_good_revisions_are_accepted(rev: str) -> None:
    assert validate_revision(rev) == rev


def test_bad_revision_never_reaches_git(origin: Path, cache: GitCache) -> None:
    with pytest.raises(RepoError, match='invalid revision "--upload-pack=x"'):
        cache.resolve(f"file://{origin}", "--upload-pack=x")
    assert cache.fetch_count == 0
