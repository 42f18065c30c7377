"""Nothing from a repository is written through a symlink or outside its tree directory.

Trees are built as real git objects with plumbing (`hash-object`, `mktree`, `commit-tree`), so they
can hold what a porcelain never makes: a symlink and a directory with one name, `..` entries,
duplicates. Each generated commit goes through the real GitCache (fetch with fsck, `git archive`,
extraction) and, to test the extraction layer on its own, `git archive` output straight from the
origin into `extract`. Either way nothing outside the export may change and every refusal is one
clean error that names repo-relative paths only.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.engine.sources.extract import UnsafeTree, extract
from console.engine.sources.git import GitCache, RepoError

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Mallory",
    "GIT_AUTHOR_EMAIL": "m@example.com",
    "GIT_COMMITTER_NAME": "Mallory",
    "GIT_COMMITTER_EMAIL": "m@example.com",
}

# A tree spec: (mode, name, blob bytes | symlink target | nested tree spec)
Spec = list[tuple[str, str, Union[bytes, str, "Spec"]]]

NAMES = ["a", "b", "A", "..", ".", ".git", "sub"]
TARGETS = [
    "../sentinel",
    "../../sentinel",
    "../../../sentinel",
    "../../../../sentinel",
    "../../../../../sentinel",
    "/etc",
    ".",
    "..",
    "a",
    "a/..",
    "a/../..",
    "sub",
    "sub/../../sentinel",
    "b/x",
]


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], env=GIT_ENV, input=stdin, check=True, capture_output=True
    )
    return out.stdout.decode().strip()


def write_tree(repo: Path, spec: Spec) -> str:
    lines = []
    for mode, name, content in spec:
        if mode == "040000":
            assert isinstance(content, list)
            lines.append(f"040000 tree {write_tree(repo, content)}\t{name}")
        else:
            data = content.encode() if isinstance(content, str) else content
            assert isinstance(data, bytes)
            oid = git(repo, "hash-object", "-w", "--stdin", stdin=data)
            lines.append(f"{mode} blob {oid}\t{name}")
    return git(repo, "mktree", stdin=("\n".join(lines) + "\n").encode() if lines else b"")


def commit(repo: Path, spec: Spec) -> str:
    sha = git(repo, "commit-tree", write_tree(repo, spec), "-m", "crafted")
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


def snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple[str, bytes | str]]:
    """Every path under `root` (not following links) with its type and content or link target."""
    out: dict[str, tuple[str, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not any((here / d) == s for s in skip)]
        for name in dirnames + filenames:
            p = here / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", "")
            else:
                out[rel] = ("file", p.read_bytes())
    return out


def plant_sentinels(base: Path, depth: int) -> None:
    """A `sentinel` directory at every level a `../`-chain from the export could reach."""
    level = base
    for _ in range(depth):
        (level / "sentinel").mkdir(exist_ok=True)
        (level / "sentinel" / "keep").write_text("untouched")
        level = level / "l"
        level.mkdir(exist_ok=True)


def assert_inside(tree: Path) -> None:
    real_root = os.path.realpath(tree)
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                try:
                    real = os.path.realpath(p, strict=True)
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        continue  # the kernel refuses to follow it (`sub -> sub/../..`): nothing is reached
                    real = os.path.realpath(p)  # dangling: judged by where it would point
                assert real == real_root or real.startswith(real_root + os.sep), (p, real)


blobs = st.sampled_from([b"x", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"])
leaf = st.one_of(
    st.tuples(st.sampled_from(["100644", "100755"]), st.sampled_from(NAMES), blobs),
    st.tuples(st.just("120000"), st.sampled_from(NAMES), st.sampled_from(TARGETS)),
)
trees: st.SearchStrategy[Spec] = st.recursive(
    st.lists(leaf, max_size=4),
    lambda children: st.lists(
        st.one_of(leaf, st.tuples(st.just("040000"), st.sampled_from(NAMES), children)), max_size=4
    ),
    max_leaves=10,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=trees)
def test_generated_trees_never_write_outside_the_export(spec: Spec) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "l" / "l" / "l"
        base.mkdir(parents=True)
        plant_sentinels(Path(tmp), 8)
        origin = base / "origin"
        subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], env=GIT_ENV, check=True)
        sha = commit(origin, spec)
        url = origin.as_uri()

        # 1. the real acquisition path: fetch (fsck), git archive, extraction
        cache_root = base / "cache"
        before = snapshot(Path(tmp), skip=(origin,))
        cache = GitCache(cache_root, allow_file_urls=True)
        exported: Path | None = None
        try:
            exported = cache.fetch(url, "main")[1]
        except RepoError as exc:
            message = str(exc).replace(url, "<url>")
            assert tmp not in message and "\n" not in message and "Traceback" not in message
        after = snapshot(Path(tmp), skip=(origin,))
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        allowed = str(cache_root.relative_to(tmp))
        stray = sorted(
            k
            for k in changed
            if not k.startswith(allowed + os.sep) and k != allowed  # the cache itself
        )
        assert stray == []
        # inside the cache, only the mirror, the key and the export itself may be new
        trees_dir = cache_root / "trees"
        for k in changed:
            p = Path(tmp) / k
            if p.parent == trees_dir:
                assert p.is_dir() and not p.is_symlink(), k  # the repository's own (private) directory
            elif p.is_relative_to(trees_dir) and p != trees_dir:
                assert exported is not None and p.is_relative_to(exported), k
        assert not [p for p in trees_dir.rglob(".tmp-*")], "scratch exports must be removed"
        if exported is not None:
            assert_inside(exported)

        # 2. the extraction layer alone (no fsck in front of it): git archive straight from origin
        tar = base / "raw.tar"
        archived = subprocess.run(
            ["git", "-C", str(origin), "archive", "--format=tar", "-o", str(tar), sha],
            env=GIT_ENV,
            check=False,
            capture_output=True,
        )
        if archived.returncode != 0:
            return  # git archive itself refuses some trees (e.g. a `..` entry)
        dest_parent = base / "raw"
        dest_parent.mkdir()
        before = snapshot(Path(tmp), skip=(origin, cache_root))
        try:
            extract(tar, dest_parent / "t")
        except UnsafeTree as exc:
            assert tmp not in str(exc) and "\n" not in str(exc)
        else:
            assert_inside(dest_parent / "t")
        after = snapshot(Path(tmp), skip=(origin, cache_root, dest_parent / "t"))
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        assert changed <= {str((dest_parent / "t").relative_to(tmp))}


def test_symlink_and_directory_of_one_name_is_refused_by_fsck(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], env=GIT_ENV, check=True)
    commit(origin, [("120000", "a", "../../../../sentinel"), ("040000", "a", [("100644", "x", b"pwned")])])
    (tmp_path / "sentinel").mkdir()
    cache = GitCache(tmp_path / "cache", allow_file_urls=True)
    with pytest.raises(RepoError) as err:
        cache.fetch(origin.as_uri(), "main")
    assert "failed object verification (git fsck)" in str(err.value)
    assert "duplicateEntries" in str(err.value)
    assert not err.value.transient
    assert list((tmp_path / "sentinel").iterdir()) == []


def _tar(*members: tuple[str, str, str]) -> bytes:
    """A tarball from (type, name, payload) where type is dir/file/link/hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            elif kind == "file":
                data = payload.encode()
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                info.type = tarfile.SYMTYPE if kind == "link" else tarfile.LNKTYPE
                info.linkname = payload
                tf.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (
            [("link", "a", "../sentinel"), ("dir", "a", ""), ("file", "a/x", "pwned")],
            'duplicate entry "a"',
        ),
        ([("link", "a", "../sentinel"), ("file", "a/x", "pwned")], 'path "a/x" inside symlink "a"'),
        ([("file", "a", "f"), ("file", "a/x", "pwned")], 'path "a/x" inside file "a"'),
        ([("file", "../sentinel/x", "pwned")], 'unsafe path "../sentinel/x"'),
        ([("file", "/tmp/x", "pwned")], 'unsafe path "/tmp/x" (absolute)'),
        ([("hardlink", "h", "../sentinel/keep")], 'unsupported entry "h"'),
        ([("file", "ok.yaml", "x"), ("link", "leak", "../sentinel/keep")], "out-of-bounds symlinks. file: leak"),
        # a chain of links, each harmless alone: sub/l -> .. (the root), m -> sub/l/.. (outside)
        (
            [("dir", "sub", ""), ("link", "sub/l", ".."), ("link", "m", "sub/l/../sentinel")],
            "out-of-bounds symlinks. file: m",
        ),
        ([("link", "abs", "/etc/passwd")], "out-of-bounds symlinks. file: abs"),
    ],
    ids=["link-then-dir", "file-under-link", "file-under-file", "dotdot", "absolute", "hardlink",
         "out-of-bounds", "link-chain", "absolute-link"],
)  # fmt: skip
def test_crafted_archives_are_refused_before_anything_is_written(
    tmp_path: Path, members: list[tuple[str, str, str]], message: str
) -> None:
    (tmp_path / "sentinel").mkdir()
    (tmp_path / "sentinel" / "keep").write_text("untouched")
    tar = tmp_path / "evil.tar"
    tar.write_bytes(_tar(*members))
    with pytest.raises(UnsafeTree) as err:
        extract(tar, tmp_path / "t")
    assert message in str(err.value)
    assert str(tmp_path) not in str(err.value)
    assert not (tmp_path / "t").exists(), "the listing is validated before anything is written"
    assert sorted(p.name for p in (tmp_path / "sentinel").iterdir()) == ["keep"]
    assert (tmp_path / "sentinel" / "keep").read_text() == "untouched"


def test_in_bounds_links_and_executables_are_kept(tmp_path: Path) -> None:
    tar = tmp_path / "ok.tar"
    tar.write_bytes(
        _tar(
            ("dir", "app", ""),
            ("file", "app/cm.yaml", "x"),
            ("dir", "shared", ""),
            ("link", "app/shared", "../shared"),
            ("link", "up", "app/.."),
            ("link", "dangling", "nope"),
        )
    )
    extract(tar, tmp_path / "t")
    assert os.readlink(tmp_path / "t" / "app" / "shared") == "../shared"
    assert (tmp_path / "t" / "app" / "cm.yaml").read_text() == "x"
    assert (tmp_path / "t" / "app" / "cm.yaml").stat().st_mode & 0o777 == 0o444


def test_tree_directories_are_private_and_not_derivable_from_the_url(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], env=GIT_ENV, check=True)
    commit(origin, [("100644", "cm.yaml", b"x")])
    one = GitCache(tmp_path / "one", allow_file_urls=True).fetch(origin.as_uri(), "main")[1]
    two = GitCache(tmp_path / "two", allow_file_urls=True).fetch(origin.as_uri(), "main")[1]
    assert one.parent.name != two.parent.name  # a random per-cache key, not a hash of the URL
    again = GitCache(tmp_path / "one", allow_file_urls=True).fetch(origin.as_uri(), "main")[1]
    assert again == one  # the key is stable for one cache, shared between processes
    for d in (tmp_path / "one" / "trees", one.parent):
        assert d.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "one" / "tree-key").stat().st_mode & 0o777 == 0o600


def test_refused_tree_is_remembered_and_names_the_file(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], env=GIT_ENV, check=True)
    commit(origin, [("040000", "app", [("120000", "leak.yaml", "../../../../etc/passwd")])])
    cache = GitCache(tmp_path / "cache", allow_file_urls=True)
    for _ in range(2):
        with pytest.raises(
            RepoError, match=r"^repository contains out-of-bounds symlinks. file: app/leak.yaml$"
        ):
            cache.fetch(origin.as_uri(), "main")
    assert list((tmp_path / "cache" / "trees").rglob("leak.yaml")) == []
