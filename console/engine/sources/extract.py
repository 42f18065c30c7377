"""Materialise a `git archive` tarball so that nothing is written through a symlink or outside `dest`.

A commit is attacker-controlled: its tree can hold a symlink and a directory of the same name, or a
path whose parent is a symlink, so a naive extractor writes `a/x` *through* the link `a -> ../..`.
Two independent layers stop that. First the whole listing is validated before a single byte is
written: member names, types, duplicates, parents that are not directories, and every symlink
resolved the way the kernel would (following other links of the tree) must stay inside the tree
(Argo CD's out-of-bounds symlink rule, applied at extraction instead of at render). Then writing
uses directory file descriptors opened with O_NOFOLLOW and files created with O_EXCL|O_NOFOLLOW,
so even a filesystem quirk the listing check did not foresee (case-insensitive or normalising
filesystems) fails closed instead of following a link. Symlinks are created last.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

_MAX_HOPS = 40  # the kernel's MAXSYMLINKS: beyond it the lookup fails with ELOOP and reads nothing
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FD_CACHE = 128  # directory fds kept open while writing (a monorepo has thousands of directories)

Parts = tuple[str, ...]


class UnsafeTree(Exception):
    """The tree cannot be materialised safely; the message names repo-relative paths only."""


@dataclass(frozen=True)
class _Entry:
    kind: str  # "dir" | "file" | "link"
    member: tarfile.TarInfo | None  # None: a directory implied by a deeper path


def _show(parts: Parts) -> str:
    text = "/".join(parts)
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def _parts(name: str) -> Parts:
    if name.startswith("/"):
        raise UnsafeTree(f"repository contains an unsafe path {_show((name,))} (absolute)")
    parts = tuple(name.rstrip("/").split("/"))
    for comp in parts:
        if comp in ("", ".", ".."):
            raise UnsafeTree(
                f"repository contains an unsafe path {_show((name,))} (empty, '.' or '..' component)"
            )
    return parts


def plan(members: list[tarfile.TarInfo]) -> dict[Parts, _Entry]:
    """Validate the whole listing; the entries in creation order, or UnsafeTree."""
    entries: dict[Parts, _Entry] = {}
    for m in members:
        parts = _parts(m.name)
        if m.isdir():
            kind = "dir"
        elif m.isreg():
            kind = "file"
        elif m.issym():
            kind = "link"
            if not m.linkname or "\x00" in m.linkname:
                raise UnsafeTree(f"repository contains symlink {_show(parts)} with an empty target")
        else:
            raise UnsafeTree(f"repository contains an unsupported entry {_show(parts)} (hard link or device)")
        for i in range(1, len(parts)):
            prefix = parts[:i]
            seen = entries.get(prefix)
            if seen is None:
                entries[prefix] = _Entry("dir", None)
            elif seen.kind != "dir":
                what = "symlink" if seen.kind == "link" else "file"
                raise UnsafeTree(f"repository contains path {_show(parts)} inside {what} {_show(prefix)}")
        seen = entries.get(parts)
        if seen is not None:
            if not (kind == "dir" and seen.kind == "dir" and seen.member is None):
                raise UnsafeTree(
                    f"repository contains a duplicate entry {_show(parts)} (two entries, one name)"
                )
        entries[parts] = _Entry(kind, m)
    for parts, entry in entries.items():
        if entry.kind == "link" and entry.member is not None:
            if _escapes(entries, parts[:-1], entry.member.linkname):
                raise UnsafeTree(f"repository contains out-of-bounds symlinks. file: {'/'.join(parts)}")
    return entries


def _escapes(entries: dict[Parts, _Entry], parent: Parts, target: str) -> bool:
    """Whether `target`, read in directory `parent`, resolves outside the tree (links followed)."""
    if target.startswith("/"):
        return True
    stack = list(parent)
    pending = list(reversed(target.split("/")))
    hops = 0
    while pending:
        comp = pending.pop()
        if comp in ("", "."):
            continue
        if comp == "..":
            if not stack:
                return True
            stack.pop()
            continue
        stack.append(comp)
        entry = entries.get(tuple(stack))
        if entry is not None and entry.kind == "link" and entry.member is not None:
            hops += 1
            if hops > _MAX_HOPS:
                return False  # ELOOP on disk: the lookup fails, nothing outside is read
            stack.pop()
            link = entry.member.linkname
            if link.startswith("/"):
                return True
            pending.extend(reversed(link.split("/")))
        # missing components and files continue lexically: stricter than the kernel (ENOENT/ENOTDIR)
    return False


class _Writer:
    def __init__(self, root_fd: int) -> None:
        self.fds: dict[Parts, int] = {(): root_fd}

    def dir_fd(self, parts: Parts) -> int:
        """A directory fd for `parts`, creating missing directories; never follows a symlink."""
        if parts not in self.fds and len(self.fds) >= _FD_CACHE:
            self.close(keep_root=True)
        return self._open(parts)

    def _open(self, parts: Parts) -> int:
        fd = self.fds.get(parts)
        if fd is not None:
            return fd
        parent = self._open(parts[:-1])
        try:
            os.mkdir(parts[-1], 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        fd = os.open(parts[-1], _DIR_FLAGS, dir_fd=parent)  # ELOOP/ENOTDIR: never through a link
        self.fds[parts] = fd
        return fd

    def close(self, *, keep_root: bool = False) -> None:
        for parts, fd in list(self.fds.items()):
            if keep_root and parts == ():
                continue
            os.close(fd)
            del self.fds[parts]


def extract(tar_path: Path, dest: Path) -> None:
    """Unpack `tar_path` into the new directory `dest` (its parent must exist), or raise UnsafeTree.

    Files become read-only (0444, or 0555 when executable): exported trees are shared by every
    Application of the commit and must never change after export.
    """
    try:
        tf = tarfile.open(tar_path, mode="r:")
    except tarfile.ReadError:
        if not _empty_archive(tar_path.read_bytes()):
            raise UnsafeTree("repository tree cannot be read (malformed archive)") from None
        os.mkdir(dest, 0o755)  # a commit with an empty tree
        return
    with tf:
        members = tf.getmembers()
        entries = plan(members)
        os.mkdir(dest, 0o755)
        root_fd = os.open(dest, _DIR_FLAGS)
        writer = _Writer(root_fd)
        current: Parts = ()
        try:
            for parts, entry in entries.items():
                current = parts
                if entry.kind == "dir":
                    writer.dir_fd(parts)
                elif entry.kind == "file":
                    assert entry.member is not None
                    _write_file(tf, entry.member, writer.dir_fd(parts[:-1]), parts[-1])
            for parts, entry in entries.items():
                if entry.kind == "link":
                    current = parts
                    assert entry.member is not None
                    os.symlink(entry.member.linkname, parts[-1], dir_fd=writer.dir_fd(parts[:-1]))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise UnsafeTree(
                f"repository tree cannot be written safely at {_show(current)}: {reason}"
            ) from None
        finally:
            writer.close()


def _empty_archive(data: bytes) -> bool:
    """True for `git archive` of an empty tree: a pax global header then only zero blocks.

    Python's tarfile refuses an archive whose first member header is the end marker.
    """
    offset = 0
    while offset + 512 <= len(data) and data[offset + 156 : offset + 157] == b"g":
        try:
            size = int(data[offset + 124 : offset + 136].strip(b"\0 ") or b"0", 8)
        except ValueError:
            return False
        offset += 512 + (size + 511) // 512 * 512
    return not data[offset:].strip(b"\0")


def _write_file(tf: tarfile.TarFile, member: tarfile.TarInfo, dir_fd: int, name: str) -> None:
    src = tf.extractfile(member)
    if src is None:
        raise UnsafeTree(f"repository tree cannot be read at {_show((member.name,))}")
    fd = os.open(name, _FILE_FLAGS, 0o600, dir_fd=dir_fd)
    with src, os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
        os.fchmod(out.fileno(), 0o555 if member.mode & 0o111 else 0o444)
