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


def test_a_walk_under_an_incident_is_in_the_audit_chain_and_the_report(tmp_path: Path) -> None:
    w, sha = _workspace(tmp_path)
    listed = json.loads(run_cli(*w, "audit", "list", "-o", "json").stdout)
    r = run_cli(*w, "runbook", "run", "out-of-sync", "web")  # no incident: a read, nothing recorded
    assert r.returncode == 0 and "Recorded in the audit chain" not in r.stdout
    assert json.loads(run_cli(*w, "audit", "list", "-o", "json").stdout) == listed

    r = run_cli(*w, "runbook", "run", "out-of-sync", "web", "--incident", "INC-3", "-o", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    seqs = out["audit"]
    intent, result = json.loads(run_cli(*w, "audit", "list", "--incident", "INC-3", "-o", "json").stdout)
    assert (intent["seq"], result["seq"]) == (seqs["intentSeq"], seqs["resultSeq"])
    assert (
        intent["action"] == "runbook" and intent["phase"] == "intent" and intent["actor"]["user"] == "admin"
    )
    assert intent["parameters"] == {
        "runbook": "out-of-sync",
        "title": "Application OutOfSync",
        "reference": "seed §24.1",
        "via": "cli",
    }
    assert result["outcome"] == "succeeded" and result["intentSeq"] == intent["seq"]
    steps = result["parameters"]["steps"]
    assert [s["step"] for s in steps] == [s["id"] for s in out["steps"]]
    assert steps[0]["result"] == "yes" and steps[0]["suggestedAction"] == "sync" and steps[0]["conclusive"]
    assert result["parameters"]["conclusion"]["step"] == "git-ahead"
    assert run_cli(*w, "audit", "verify").returncode == 0  # the records hash the same after the round trip

    report = json.loads(run_cli(*w, "audit", "report", "--incident", "INC-3", "-o", "json").stdout)
    [walk] = report["walks"]
    assert walk["runbook"] == "out-of-sync" and walk["via"] == "cli" and len(walk["steps"]) == len(steps)
    assert any(e["kind"] == "commit" and e["revision"] == sha for e in report["timeline"])
    md = run_cli(*w, "audit", "report", "--incident", "INC-3").stdout
    assert "## Runbook out-of-sync on web" in md and "\x1b" not in md  # the hostile subject, escaped
    assert "| 1 | Is Git ahead of the live cluster? | git-ahead | yes: Git is 1 commit ahead" in md

    # from an export: what the records say (no Git, no cluster)
    export = tmp_path / "audit.jsonl"
    assert run_cli(*w, "audit", "export", str(export)).returncode == 0
    r = run_cli(*w, "audit", "report", "--incident", "INC-3", "--file", str(export), "-o", "json")
    offline = json.loads(r.stdout)
    assert r.returncode == 0 and offline["chain"]["ok"] and offline["walks"] == report["walks"]
    assert offline["outcome"]["applications"] is None
    assert [e["kind"] for e in offline["timeline"]] == ["runbook"]

    # a user who may not read the app may not walk its runbook (and nothing is recorded)
    r = run_cli(
        *w, "runbook", "run", "out-of-sync", "web", "--incident", "INC-3", env={"TRUEUP_USER": "mallory"}
    )
    assert "mallory may not get applications/default/web" in assert_one_line_error(r, 3)
    r = run_cli(*w, "runbook", "suggest", "web", env={"TRUEUP_USER": "mallory"})
    assert_one_line_error(r, 3)
    assert len(json.loads(run_cli(*w, "audit", "list", "--incident", "INC-3", "-o", "json").stdout)) == 2
