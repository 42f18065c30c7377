"""`trueup runbook ...` on a small real workspace: Git ahead, a team's runbook, bad input, and
hostile commit subjects that never reach the terminal raw (while JSON keeps them exact)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.helpers import SUBJECT, application, assert_one_line_error, commit_files, make_workspace

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata:\n  LEVEL: info\n"
TEAM = """\
apiVersion: trueup.dev/v1alpha1
kind: Runbook
metadata:
  name: web-release
spec:
  title: Web release check
  priority: 99
  appliesWhen:
    - check: git-ahead
  steps:
    - id: ahead
      question: What is waiting in Git?
      check: git-ahead
      branches:
        - when: yes
          decision: Ship it.
          action: sync
          conclusive: true
"""


def _workspace(tmp_path: Path) -> tuple[list[str], str]:
    ws, repo, work = make_workspace(tmp_path, {"web/cm.yaml": CM})
    ws.control().create(
        application(
            "web", repo, "web", namespace="web", syncPolicy={"syncOptions": ["CreateNamespace=true"]}
        ),
        field_manager="test",
    )
    w = ["-w", str(tmp_path)]
    assert run_cli(*w, "app", "sync", "web").returncode == 0
    sha = commit_files(work, tmp_path / "work", {"web/cm.yaml": CM.replace("info", "debug")}, SUBJECT)
    assert run_cli(*w, "refresh").returncode == 0
    return w, sha


def test_git_ahead_with_a_hostile_subject_and_a_team_runbook(tmp_path: Path) -> None:
    w, sha = _workspace(tmp_path)
    r = run_cli(*w, "runbook", "suggest", "web", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["runbook"] == "out-of-sync"

    r = run_cli(*w, "runbook", "run", "out-of-sync", "web")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout and "\x07" not in r.stdout
    assert "Git is 1 commit ahead: live " in r.stdout and f"-> Git {sha[:7]} 'deploy \\x1b]52;" in r.stdout
    assert "web/cm.yaml: -LEVEL: info" in r.stdout and "$ trueup app sync web" in r.stdout
    out = json.loads(run_cli(*w, "runbook", "run", "out-of-sync", "web", "-o", "json").stdout)
    step = out["steps"][0]
    assert step["id"] == "git-ahead" and step["decisive"] and step["result"] == "yes"
    assert SUBJECT in step["summary"]  # exact in JSON
    assert out["conclusion"]["action"] == {
        "type": "sync",
        "text": "sync the application to Git",
        "commands": ["trueup app sync web"],
    }

    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "web.yaml").write_text(TEAM)
    (tmp_path / "runbooks" / "broken.yaml").write_text(
        TEAM.replace("web-release", "broken").replace("git-ahead", "git-ahed")
    )
    r = run_cli(*w, "runbook", "list", "-o", "json")
    assert r.returncode == 0
    assert (
        "warning: runbooks/broken.yaml: spec.appliesWhen[0].check: unknown check 'git-ahed' (did you mean 'git-ahead'?) (skipped)"
        in r.stderr
    )
    listed = {x["name"]: x for x in json.loads(r.stdout)}
    assert (
        listed["web-release"]["file"] == "runbooks/web.yaml"
        and listed["web-release"]["source"] == "workspace"
    )
    assert (
        json.loads(run_cli(*w, "runbook", "suggest", "web", "-o", "json").stdout)["runbook"] == "web-release"
    )
    r = run_cli(*w, "runbook", "run", "broken", "web")
    assert_one_line_error(r, 2)
    assert "runbooks/broken.yaml: spec.appliesWhen[0].check: unknown check 'git-ahed'" in r.stderr


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    w, _ = _workspace(tmp_path)
    r = run_cli(*w, "runbook", "run", "out-of-snyc", "web")
    assert "unknown runbook 'out-of-snyc' (did you mean 'out-of-sync'?)" in assert_one_line_error(r, 2)
    r = run_cli(*w, "runbook", "suggest", "nope")
    assert "application 'nope' not found" in assert_one_line_error(r, 2)
    r = run_cli(*w, "runbook", "run", "out-of-sync", "nope", "-o", "json")
    assert "application 'nope' not found" in assert_one_line_error(r, 2)
    r = run_cli(*w, "runbook", "show", "outofsync", "-o", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["metadata"]["name"] == "out-of-sync"
