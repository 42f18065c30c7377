"""The working clone: drills commit there as a teammate would (never publishing someone's work),
runbooks prepare reverts on a branch without touching the checkout and never push."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from console.engine.sources.workclone import (
    CloneError,
    Identity,
    commit_and_push,
    find_clone,
    prepare_revert,
)

DAVE = Identity("Dave Tanaka", "dave@acme.example")
ALICE = Identity("Alice Moreau", "alice@acme.example")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, git.Repo, str]:
    bare = tmp_path / "git" / "fleet.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(tmp_path / "fleet", initial_branch="main")
    work.create_remote("origin", bare.as_uri())
    (tmp_path / "fleet" / "app").mkdir()
    (tmp_path / "fleet" / "app" / "k.yaml").write_text("images:\n  - name: x\n    newTag: 1.0.0\n")
    work.git.add("--all")
    work.git.execute(["git", "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "-m", "initial"])
    work.git.push("origin", "main")
    return tmp_path, work, bare.as_uri()


def test_find_clone_matches_the_remote_url(repo: tuple[Path, git.Repo, str]) -> None:
    root, _work, url = repo
    clone = find_clone(root, url)
    assert clone is not None and clone.path == root / "fleet" and clone.remote == "origin"
    assert find_clone(root, url + "/") is not None  # same repository, spelled differently
    assert find_clone(root, "file:///elsewhere/fleet.git") is None


def test_commit_and_push_as_the_author(repo: tuple[Path, git.Repo, str]) -> None:
    root, work, url = repo
    clone = find_clone(root, url)
    assert clone is not None
    sha = commit_and_push(
        clone, "main", {"app/k.yaml": "images:\n  - name: x\n    newTag: 1.0.1\n"}, "bump", DAVE
    )
    origin = git.Repo(root / "git" / "fleet.git")
    assert origin.commit("main").hexsha == sha
    assert origin.commit("main").author.name == "Dave Tanaka"
    assert not work.is_dirty(untracked_files=True)


def test_commit_refuses_dirty_wrong_branch_unpushed_and_escaping_paths(
    repo: tuple[Path, git.Repo, str],
) -> None:
    root, work, url = repo
    clone = find_clone(root, url)
    assert clone is not None
    (root / "fleet" / "notes.txt").write_text("mine")
    with pytest.raises(CloneError, match="uncommitted changes"):
        commit_and_push(clone, "main", {"app/a.yaml": "a: 1\n"}, "x", DAVE)
    (root / "fleet" / "notes.txt").unlink()
    (root / "fleet" / "app" / "k.yaml").write_text("changed\n")
    work.git.execute(["git", "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qam", "local only"])
    with pytest.raises(CloneError, match="not pushed"):
        commit_and_push(clone, "main", {"app/a.yaml": "a: 1\n"}, "x", DAVE)
    work.git.reset("--hard", "origin/main")
    work.git.checkout("-b", "feature")
    with pytest.raises(CloneError, match="is on feature, not main"):
        commit_and_push(clone, "main", {"app/a.yaml": "a: 1\n"}, "x", DAVE)
    work.git.checkout("main")
    with pytest.raises(CloneError, match="not a path inside"):
        commit_and_push(clone, "main", {"../outside.txt": "x"}, "x", DAVE)
    assert not (root / "outside.txt").exists()


def test_prepare_revert_on_a_branch_leaves_the_checkout_and_the_remote_alone(
    repo: tuple[Path, git.Repo, str],
) -> None:
    root, work, url = repo
    clone = find_clone(root, url)
    assert clone is not None
    bad = commit_and_push(
        clone, "main", {"app/k.yaml": "images:\n  - name: x\n    newTag: 9.9.9\n"}, "bad", DAVE
    )
    work.git.reset("--hard", "HEAD~1")  # the person's checkout is behind, on purpose
    head_before = work.head.commit.hexsha
    origin = git.Repo(root / "git" / "fleet.git")
    prepared = prepare_revert(clone, "main", bad, "risk-engine-prod-us", ALICE, note="INC-7")
    assert prepared.branch == "trueup/revert/risk-engine-prod-us" and not prepared.reused
    commit = work.commit(prepared.branch)
    assert commit.parents[0].hexsha == bad  # made on the remote's tip, not on the local main
    assert f"This reverts commit {bad}" in commit.message and "INC-7" in commit.message
    assert commit.author.name == "Alice Moreau"
    assert work.git.show(f"{prepared.branch}:app/k.yaml") == "images:\n  - name: x\n    newTag: 1.0.0"
    assert work.head.commit.hexsha == head_before and work.active_branch.name == "main"
    assert origin.commit("main").hexsha == bad  # never pushed
    assert "trueup/revert/risk-engine-prod-us" not in [h.name for h in origin.heads]
    assert work.git.worktree("list").count("\n") == 0  # the temporary worktree is gone
    again = prepare_revert(clone, "main", bad, "risk-engine-prod-us", ALICE)
    assert again.reused and again.sha == prepared.sha
    assert prepared.review_commands()[1] == [
        "git",
        "-C",
        str(root / "fleet"),
        "push",
        "origin",
        "trueup/revert/risk-engine-prod-us:main",
    ]


def test_a_conflicting_revert_is_aborted_without_leftovers(repo: tuple[Path, git.Repo, str]) -> None:
    root, work, url = repo
    clone = find_clone(root, url)
    assert clone is not None
    bad = commit_and_push(
        clone, "main", {"app/k.yaml": "images:\n  - name: x\n    newTag: 9.9.9\n"}, "bad", DAVE
    )
    commit_and_push(
        clone, "main", {"app/k.yaml": "images:\n  - name: x\n    newTag: 9.9.10\n"}, "later", DAVE
    )
    with pytest.raises(CloneError, match="conflicts with later commits"):
        prepare_revert(clone, "main", bad, "app", ALICE)
    assert "trueup/revert/app" not in [h.name for h in work.heads]
    assert work.git.worktree("list").count("\n") == 0
    assert not work.is_dirty(untracked_files=True)


def test_another_unpushed_revert_on_the_branch_is_not_overwritten(repo: tuple[Path, git.Repo, str]) -> None:
    root, _work, url = repo
    clone = find_clone(root, url)
    assert clone is not None
    a = commit_and_push(clone, "main", {"app/a.yaml": "a: 1\n"}, "a", DAVE)
    b = commit_and_push(clone, "main", {"app/b.yaml": "b: 1\n"}, "b", DAVE)
    prepare_revert(clone, "main", a, "app", ALICE)
    with pytest.raises(CloneError, match="holds another unpushed change"):
        prepare_revert(clone, "main", b, "app", ALICE)
