"""Git history reads for runbook checks: commits between two revisions on an app's paths, the
files and lines a commit changed. Local reads of trueup's own bare mirror (`sources.git`), after
`GitCache.resolve` fetched what is needed: argv lists, literal pathspecs (no `:(magic)` from a
manifest annotation), paths leaving the repository ignored, output size bounded.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

import git

from console.cluster.api import Obj
from console.engine.sources import CommitInfo, GitCache, RepoError
from console.engine.sources.git import FULL_SHA
from console.engine.workspace import Workspace

MANIFEST_GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
_FORMAT = "--format=%H%x00%an%x00%ae%x00%aI%x00%s"
_MAX_OUTPUT = 256 * 1024


def _cache(ws: Workspace) -> GitCache:
    return GitCache(ws.cache_dir / "git", allow_file_urls=ws.settings.allow_file_urls)


def app_paths(app: Obj, source: Obj) -> list[str]:
    """The repo paths whose commits affect the app: its source path, or the paths its
    `manifest-generate-paths` annotation names (`;`-separated, relative to the source path or
    absolute from the repository root), as Argo CD reads them."""
    base = str(source.get("path") or ".")
    declared = ((app.get("metadata") or {}).get("annotations") or {}).get(MANIFEST_GENERATE_PATHS)
    raw = [base]
    if isinstance(declared, str) and declared.strip():
        raw = [
            p.strip().lstrip("/") if p.strip().startswith("/") else posixpath.join(base, p.strip())
            for p in declared.split(";")
            if p.strip()
        ] or [base]
    out = []
    for p in raw:
        norm = posixpath.normpath(p.strip().lstrip("/")) if p.strip() else "."
        if norm == ".." or norm.startswith("../"):
            continue
        out.append(norm)
    return out


def _run(cache: GitCache, url: str, args: list[str]) -> str:
    env = {"GIT_DIR": str(cache.mirror_path(url)), "GIT_TERMINAL_PROMPT": "0", "GIT_NO_REPLACE_OBJECTS": "1"}
    status, out, err = git.Git(str(cache.root)).execute(
        [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", "--literal-pathspecs", *args],
        with_extended_output=True,
        with_exceptions=False,
        env=env,
        strip_newline_in_stdout=False,
    )
    if status:
        first = (str(err).strip().splitlines() or ["git failed"])[0]
        raise RepoError(f"cannot read the history of the repository: {first}", url=url)
    return str(out)[:_MAX_OUTPUT]


def _specs(paths: Sequence[str]) -> list[str]:
    if not paths or any(p in ("", ".") for p in paths):
        return []
    return [p for p in paths if p not in ("..",) and not p.startswith("../")]


def _infos(out: str) -> list[CommitInfo]:
    infos = []
    for line in out.splitlines():
        fields = line.split("\x00")
        if len(fields) == 5 and FULL_SHA.match(fields[0]):
            infos.append(
                CommitInfo(
                    sha=fields[0], author=fields[1], email=fields[2], date=fields[3], subject=fields[4]
                )
            )
    return infos


def log_range(
    ws: Workspace, url: str, older: str, newer: str, paths: Sequence[str], *, limit: int = 20
) -> list[CommitInfo]:
    """Commits reachable from `newer` but not from `older` (all of `newer`'s when `older` is
    empty) that touched `paths`, newest first."""
    cache = _cache(ws)
    new = cache.resolve(url, newer)
    rng = new
    if older:
        old = cache.resolve(url, older)
        rng = f"{old}..{new}"
    args = ["log", "--no-show-signature", f"--max-count={max(1, limit)}", _FORMAT, rng, "--", *_specs(paths)]
    return _infos(_run(cache, url, args))


def commit_info(ws: Workspace, url: str, sha: str) -> CommitInfo:
    return _cache(ws).commit_info(url, sha)


def changed_files(ws: Workspace, url: str, sha: str) -> list[str]:
    cache = _cache(ws)
    full = cache.resolve(url, sha)
    out = _run(
        cache, url, ["show", "--no-show-signature", "--format=", "--name-only", "--no-renames", full, "--"]
    )
    return [line for line in out.splitlines() if line.strip()][:50]


def changed_lines(ws: Workspace, url: str, sha: str, paths: Sequence[str], *, limit: int = 6) -> list[str]:
    """`path: -old` / `path: +new` lines of a commit's diff under `paths` (comments skipped)."""
    cache = _cache(ws)
    full = cache.resolve(url, sha)
    out = _run(
        cache,
        url,
        ["show", "--no-show-signature", "--format=", "--unified=0", "--no-color", full, "--", *_specs(paths)],
    )
    lines: list[str] = []
    current = ""
    hidden: set[str] = set()
    for line in out.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else ""
            if current and _holds_secret(cache, url, full, current):
                hidden.add(current)
                lines.append(f"{current}: (a Secret manifest changed; its values are not shown)")
            continue
        if current in hidden:
            continue
        if line.startswith(("--- ", "diff ", "index ", "@@", "new file", "deleted file")):
            continue
        if line[:1] in "+-" and line[1:].strip() and not line[1:].strip().startswith("#"):
            lines.append(
                f"{current}: {line[0]}{line[1:].strip()}" if current else f"{line[0]}{line[1:].strip()}"
            )
            if len(lines) >= limit:
                break
    return lines


def pickaxe(ws: Workspace, url: str, revision: str, text: str) -> CommitInfo | None:
    """The oldest commit reachable from `revision` that added `text` (git log -S): which commit
    introduced a manifest line."""
    cache = _cache(ws)
    head = cache.resolve(url, revision)
    out = _run(cache, url, ["log", "--no-show-signature", "--reverse", _FORMAT, f"-S{text}", head, "--"])
    found = _infos(out)
    return found[0] if found else None


_SECRET_KIND = re.compile(r"^\s*kind:\s*[\"']?Secret[\"']?\s*$", re.M)


def _holds_secret(cache: GitCache, url: str, sha: str, path: str) -> bool:
    """Whether the file (at the commit, or before it when deleted) declares a Secret: its changed
    lines would show secret data, so they are never printed."""
    for rev in (sha, f"{sha}^"):
        try:
            text = _run(cache, url, ["show", f"{rev}:{path}"])
        except RepoError:
            continue
        return bool(_SECRET_KIND.search(text))
    return True
