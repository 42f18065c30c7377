"""Working clones in the workspace: the checkouts people commit to (the demo's `fleet/`).

trueup reads repositories through its own bare mirrors (`sources.git`); this module is the other
side, where a person works. Two callers: incident drills commit and push here as a teammate would
(`scenarios`), and runbooks prepare a revert commit here on a new branch for review — never
pushing it (`runbooks`). Every git call is an argv list through GitPython with prompts off and the
clone's hooks disabled (a drill or a runbook must not run whatever a hook does), and nothing
touches the person's checkout or index except the drill's own commit: a revert is made in a
temporary `git worktree` that is removed again.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import git

from console.engine.sources.git import FULL_SHA, validate_repo_url

_ENV = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
_NO_HOOKS = ("-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false")
REVERT_BRANCH_PREFIX = "trueup/revert/"
_BRANCH_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CloneError(Exception):
    """The working clone cannot be used for this (dirty, diverged, missing, conflict); says what to do."""


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


@dataclass(frozen=True)
class Clone:
    path: Path
    remote: str  # the remote whose URL is the repository (usually `origin`)
    shown: str  # the path as messages show it (relative to the workspace)


@dataclass(frozen=True)
class PreparedRevert:
    branch: str
    sha: str  # the revert commit
    reverted: str  # the commit it reverts
    base: str  # the remote branch tip it was made on
    reused: bool  # the branch already held this revert
    clone: Clone
    target_branch: str

    def review_commands(self) -> list[list[str]]:
        """argv of the commands a person runs: review the revert, then push it."""
        where = str(self.clone.path)
        return [
            ["git", "-C", where, "show", self.branch],
            ["git", "-C", where, "push", self.clone.remote, f"{self.branch}:{self.target_branch}"],
        ]


def _norm(url: str) -> str:
    try:
        return validate_repo_url(url, allow_file=True).removesuffix(".git").rstrip("/")
    except Exception:  # noqa: BLE001 - a remote we cannot parse is simply not the one we look for
        return ""


def find_clone(root: Path, repo_url: str) -> Clone | None:
    """A git work tree directly under the workspace `root` with a remote pointing at `repo_url`."""
    want = _norm(repo_url)
    if not want:
        return None
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return None
    for child in children:
        if not (child / ".git").exists() or child.is_symlink():
            continue
        try:
            repo = git.Repo(child)
            for remote in repo.remotes:
                if any(_norm(u) == want for u in remote.urls):
                    return Clone(child, remote.name, child.name)
        except (git.GitError, OSError, ValueError):
            continue
    return None


def _git(repo: git.Repo, *args: str, env: Mapping[str, str] | None = None) -> str:
    return str(repo.git.execute(["git", *_NO_HOOKS, *args], env={**os.environ, **_ENV, **(env or {})}))


def _identity_env(who: Identity, at: datetime | None) -> dict[str, str]:
    env = {
        "GIT_AUTHOR_NAME": who.name,
        "GIT_AUTHOR_EMAIL": who.email,
        "GIT_COMMITTER_NAME": who.name,
        "GIT_COMMITTER_EMAIL": who.email,
    }
    if at is not None:
        stamp = f"{int(at.astimezone(UTC).timestamp())} +0000"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
    return env


def _safe_rel(rel: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or p.parts[0] == ".git":
        raise CloneError(f"refusing to write {rel!r}: not a path inside the repository")
    return p


def commit_and_push(
    clone: Clone,
    branch: str,
    files: Mapping[str, str | None],
    message: str,
    author: Identity,
    *,
    at: datetime | None = None,
) -> str:
    """Write (None: delete) repo-relative `files` in the clone, commit as `author`, push `branch`.

    Refuses a clone with uncommitted changes, on another branch, or with local commits that are
    not on the remote: a drill must never publish someone's unfinished work.
    """
    repo = git.Repo(clone.path)
    try:
        current = repo.active_branch.name
    except TypeError:
        current = ""
    if current != branch:
        raise CloneError(
            f"the working clone {clone.shown}/ is on {current or 'a detached HEAD'}, not {branch}: "
            f"run `git -C {clone.path} switch {branch}` first"
        )
    if repo.is_dirty(untracked_files=True):
        raise CloneError(
            f"the working clone {clone.shown}/ has uncommitted changes: commit or stash them first "
            "(drills commit there as a teammate would)"
        )
    _git(repo, "fetch", "--quiet", clone.remote, branch)
    remote_ref = f"{clone.remote}/{branch}"
    ahead = _git(repo, "rev-list", "--count", f"{remote_ref}..HEAD").strip()
    if ahead not in ("", "0"):
        raise CloneError(
            f"the working clone {clone.shown}/ has {ahead} commit(s) not pushed to {remote_ref}: "
            "push or drop them first"
        )
    _git(repo, "merge", "--quiet", "--ff-only", remote_ref)
    for rel, text in files.items():
        path = clone.path.joinpath(*_safe_rel(rel).parts)
        if text is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(repo, "add", "--all", "--", *files.keys())
    _git(repo, "commit", "--quiet", "-m", message, env=_identity_env(author, at))
    sha = repo.head.commit.hexsha
    _git(repo, "push", "--quiet", clone.remote, f"{branch}:{branch}")
    return sha


def revert_branch_name(app: str) -> str:
    return REVERT_BRANCH_PREFIX + (_BRANCH_SAFE.sub("-", app).strip("-.") or "app")


def _reverts(repo: git.Repo, rev: str, sha: str) -> bool:
    try:
        return f"This reverts commit {sha}" in repo.commit(rev).message
    except (git.GitError, ValueError):
        return False


def prepare_revert(
    clone: Clone,
    target_branch: str,
    sha: str,
    app: str,
    author: Identity,
    *,
    note: str = "",
    at: datetime | None = None,
) -> PreparedRevert:
    """A commit reverting `sha`, on branch `trueup/revert/<app>` made from the remote's
    `target_branch`, in a temporary worktree; the person's checkout is untouched and nothing is pushed.

    Idempotent: a branch that already reverts `sha` is reported again. A branch holding another,
    unpushed revert is left alone (the message says how to proceed). A conflicting revert is
    aborted and nothing is left behind.
    """
    sha = sha.lower()
    if not FULL_SHA.match(sha):
        raise CloneError(f"cannot revert {sha!r}: not a full commit SHA")
    repo = git.Repo(clone.path)
    branch = revert_branch_name(app)
    _git(repo, "fetch", "--quiet", clone.remote, target_branch)
    remote_ref = f"{clone.remote}/{target_branch}"
    base = _git(repo, "rev-parse", remote_ref).strip()
    try:
        repo.commit(sha)
    except (git.GitError, ValueError):
        raise CloneError(f"commit {sha[:7]} is not in the working clone {clone.shown}/") from None
    existing = branch in [h.name for h in repo.heads]
    if existing:
        tip = repo.heads[branch].commit.hexsha
        if _reverts(repo, tip, sha):
            return PreparedRevert(branch, tip, sha, base, True, clone, target_branch)
        merged = _is_ancestor(repo, tip, base)
        if not merged:
            raise CloneError(
                f"branch {branch} in {clone.shown}/ holds another unpushed change ({tip[:7]}): "
                f"push it or delete it (`git -C {clone.path} branch -D {branch}`), then run the runbook again"
            )
    if not _is_ancestor(repo, sha, base):
        raise CloneError(f"commit {sha[:7]} is not on {remote_ref}: there is nothing to revert there")
    tmp = Path(tempfile.mkdtemp(prefix="trueup-revert-"))
    work = tmp / "w"
    try:
        _git(repo, "worktree", "add", "--quiet", "--force", "-B", branch, str(work), base)
        wt = git.Repo(work)
        message = _revert_message(repo, sha, note)
        try:
            _git(wt, "revert", "--no-commit", sha)
        except git.GitCommandError:
            _abort(wt)
            _git(repo, "worktree", "remove", "--force", str(work))
            _git(repo, "branch", "-D", branch)
            raise CloneError(
                f"reverting {sha[:7]} conflicts with later commits on {remote_ref}: revert it by hand "
                f"(`git -C {clone.path} revert {sha[:7]}`) and resolve the conflict"
            ) from None
        try:
            _git(wt, "diff", "--cached", "--quiet")
            nothing = True
        except git.GitCommandError:
            nothing = False
        if nothing:
            _abort(wt)
            _git(repo, "worktree", "remove", "--force", str(work))
            _git(repo, "branch", "-D", branch)
            raise CloneError(
                f"{remote_ref} no longer contains the changes of {sha[:7]} (already reverted or fixed)"
            )
        _git(wt, "commit", "--quiet", "-m", message, env=_identity_env(author, at))
        new = wt.head.commit.hexsha
    finally:
        if work.exists():
            try:
                _git(repo, "worktree", "remove", "--force", str(work))
            except git.GitCommandError:
                pass
        _git(repo, "worktree", "prune")
        shutil.rmtree(tmp, ignore_errors=True)
    return PreparedRevert(branch, new, sha, base, False, clone, target_branch)


def _abort(wt: git.Repo) -> None:
    try:
        _git(wt, "revert", "--abort")
    except git.GitCommandError:
        pass


def _is_ancestor(repo: git.Repo, older: str, newer: str) -> bool:
    try:
        _git(repo, "merge-base", "--is-ancestor", older, newer)
    except git.GitCommandError:
        return False
    return True


def _revert_message(repo: git.Repo, sha: str, note: str) -> str:
    subject = repo.commit(sha).summary
    text = subject if isinstance(subject, str) else subject.decode("utf-8", "replace")
    body = f'Revert "{text}"\n\nThis reverts commit {sha}.\n'
    if note:
        body += f"\n{note}\n"
    return body
