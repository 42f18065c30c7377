"""Every drill on a fresh demo: `runbook suggest` picks the runbook that fits, and the walk's
conclusion names the real cause with concrete evidence and the right suggested action."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import pytest

from console.demo.bootstrap import init_demo
from console.engine.refresh import refresh
from console.engine.runbooks import library
from console.engine.runbooks.walk import suggest, walk
from console.engine.scenarios import run as drills
from console.engine.scenarios.catalog import SCENARIOS
from console.engine.sync import lease
from console.engine.workspace import load
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Case:
    scenario: str
    app: str
    runbook: str
    step: str  # the decisive step
    action: str  # its suggested action
    evidence: tuple[str, ...]  # every one appears in the decisive step's summary + evidence


CASES = [
    Case(
        "bad-commit-autosynced",
        "risk-engine-prod-us",
        "bad-commit-autosynced",
        "offending-commit",
        "revert-commit",
        ("risk-engine: roll out 2.3.8 to prod-us", "Dave Tanaka", "-newTag: 2.3.7", '+newTag: "2.3.8"'),
    ),
    Case(
        "degraded-but-synced",
        "identity-api-prod-eu",
        "degraded-but-synced",
        "classify",
        "escalate",
        ("ImagePullBackOff", "registry.acme.example/identity/api:5.12.3", "older pods", "runs in ready pods"),
    ),
    Case(
        "immutable-field",
        "payments-api-staging",
        "immutable-field",
        "which-field",
        "revert-commit",
        ("Deployment payments/payments-api", "spec.selector", "field is immutable"),
    ),
    Case(
        "hpa-noise",
        "payments-worker-prod-us",
        "out-of-sync",
        "diff-ignore",
        "ignore-rule",
        ("spec.replicas", "kube-controller-manager", "on /scale", "Git 2, live 4", "(verified)"),
    ),
    Case(
        "sidecar-injection",
        "identity-api-prod-eu",
        "out-of-sync",
        "diff-ignore",
        "ignore-rule",
        ("containers[name=istio-proxy]", "istio-sidecar-injector", "(verified)"),
    ),
    Case(
        "manual-drift",
        "identity-api-prod-eu",
        "out-of-sync",
        "live-mutated",
        "sync",
        (
            "spec.template.spec.containers[0].resources.limits.memory",
            "kubectl-edit",
            "live 1Gi",
            "selfHeal is off",
        ),
    ),
    Case(
        "shared-resource",
        "payments-worker-prod-us",
        "out-of-sync",
        "fighting",
        "revert-commit",
        ("payments-worker-batch-prod-us", "SharedResourceWarning", "Deployment payments/payments-worker"),
    ),
    Case(
        "stuck-hook",
        "payments-api-staging",
        "operation-stuck",
        "waiting-on",
        "terminate-operation",
        ("PreSync hook Job payments/payments-api-db-migrate", "ImagePullBackOff", "api-migrations:1.43.0"),
    ),
    Case(
        "sync-window-freeze",
        "risk-engine-prod-us",
        "emergency-change-during-freeze",
        "window",
        "break-glass-sync",
        (
            "deny window 'risk change freeze (quarter close)'",
            "prod-us",
            "active until",
            "manual syncs blocked",
        ),
    ),
    Case(
        "repo-unreachable",
        "risk-engine-prod-us",
        "comparison-error",
        "source",
        "escalate",
        ("is unreachable", "does not appear to be a git repository", "grace period ended"),
    ),
    Case(
        "admission-rejected",
        "payments-api-staging",
        "sync-failed",
        "why",
        "revert-commit",
        (
            "ValidatingAdmissionPolicy 'payments-images-pinned-by-digest'",
            "pinned by digest",
            "kubectl-client-side-apply",
        ),
    ),
    Case(
        "quota-exceeded",
        "identity-api-prod-eu",
        "sync-failed",
        "why",
        "escalate",
        ("exceeded quota: object-counts", "identity-api-feature-flags", "created by kubectl-create"),
    ),
    Case(
        "crd-missing",
        "risk-engine-prod-us",
        "sync-failed",
        "why",
        "escalate",
        ("ServiceMonitor risk/risk-engine", "monitoring.coreos.com/v1", "not served by cluster prod-us"),
    ),
]


def test_the_table_covers_every_scenario() -> None:
    assert {c.scenario for c in CASES} == set(SCENARIOS)
    for c in CASES:
        assert SCENARIOS[c.scenario].default_app == c.app
        assert SCENARIOS[c.scenario].runbook == c.runbook


@pytest.mark.parametrize("case", CASES, ids=[c.scenario for c in CASES])
def test_drill_then_runbook_names_the_real_cause(case: Case, tmp_path: Path) -> None:
    init_demo(tmp_path / "demo")
    ws = load(tmp_path / "demo")
    refresh(ws)
    lib = library.load(ws)
    before, _ = suggest(ws, lib, case.app)
    assert case.runbook not in [f.loaded.name for f in before][:1]  # the drill is what makes it fit

    result = drills.run(ws, case.scenario)
    assert result.app == case.app and result.steps

    ws = load(tmp_path / "demo")
    fits, facts = suggest(ws, lib, case.app)
    assert fits, f"no runbook fits {case.app} after {case.scenario}"
    assert fits[0].loaded.name == case.runbook, [(f.loaded.name, f.why) for f in fits]
    assert fits[0].why

    w = walk(ws, lib.get(case.runbook), case.app, prepare=False, facts=facts)
    c = w.conclusion
    assert c is not None, json.dumps(w.to_json(), indent=1)
    assert c.step.id == case.step, json.dumps(w.to_json(), indent=1)
    assert c.result is not None and c.suggestion is not None
    text = "\n".join([c.result.summary, *c.result.evidence])
    for needle in case.evidence:
        assert needle in text, f"{needle!r} not in the decisive evidence:\n{text}"
    assert c.suggestion.action == case.action
    if case.action == "revert-commit":
        sha = c.suggestion.details["commit"]["sha"]
        assert sha in {x["sha"] for x in result.commits}  # the drill's own commit, found from Git
    if case.action == "ignore-rule":
        assert "ignoreDifferences:" in c.suggestion.snippet
        assert c.suggestion.details["verified"] is True
    if case.action == "break-glass-sync":
        assert c.suggestion.commands == [
            f"trueup app sync {case.app} --break-glass --reason 'INCIDENT-ID: Emergency change during a freeze' "
            f"--confirm {case.app}"
        ]
    # every step was answered from the facts, none crashed
    for s in w.steps:
        if s.result is not None:
            assert "the check failed" not in s.result.summary, s.result.summary


# --- the CLI end to end: drill, runbook, the revert pushed as a person would, auto-sync heals ----


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


def test_bad_commit_drill_revert_push_and_auto_sync_restores_healthy(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", "init", str(demo)).returncode == 0
    w = ["-w", str(demo)]
    assert run_cli(*w, "refresh").returncode == 0
    r = run_cli(*w, "scenario", "run", "bad-commit-autosynced", "-o", "json")
    assert r.returncode == 0, r.stderr
    drill = json.loads(r.stdout)
    bad = drill["commits"][0]
    assert drill["status"]["health"] == "Degraded"

    r = run_cli(*w, "runbook", "run", "bad-commit-autosynced", "risk-engine-prod-us", "-o", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    conclusion = out["conclusion"]
    assert conclusion["step"] == "offending-commit"
    action = conclusion["action"]
    assert action["type"] == "revert-commit"
    assert action["commit"]["sha"] == bad["sha"]
    assert action["commit"]["subject"] == "risk-engine: roll out 2.3.8 to prod-us"
    assert (
        bad["sha"][:7] in conclusion["summary"]
        and "risk-engine: roll out 2.3.8 to prod-us" in conclusion["summary"]
    )
    prepared = action["prepared"]
    fleet = demo / "fleet"
    origin_main = _git("-C", str(demo / "git" / "fleet.git"), "rev-parse", "main")
    assert origin_main == bad["sha"]  # trueup did not push
    assert _git("-C", str(fleet), "rev-parse", prepared["branch"]) == prepared["sha"]
    assert f"This reverts commit {bad['sha']}" in _git(
        "-C", str(fleet), "log", "-1", "--format=%B", prepared["branch"]
    )
    assert action["commands"] == [
        f"git -C {fleet} show trueup/revert/risk-engine-prod-us",
        f"git -C {fleet} push origin trueup/revert/risk-engine-prod-us:main",
    ]
    # the human review and push, as printed
    subprocess.run(action["commands"][0].split(" "), check=True, capture_output=True)
    subprocess.run(action["commands"][1].split(" "), check=True, capture_output=True)
    # running the runbook again reports the same prepared revert (nothing new is made)
    again = json.loads(
        run_cli(*w, "runbook", "run", "bad-commit", "risk-engine-prod-us", "-o", "json").stdout
    )
    assert (
        again["conclusion"]["action"]["prepared"]["reused"] is True
        or again["conclusion"]["step"] != "offending-commit"
    )

    # auto-sync delivers the revert: the controller's passes, then the rollout finishes
    for _ in range(10):
        assert run_cli(*w, "controller", "run", "--once").returncode == 0
        got = json.loads(run_cli(*w, "app", "get", "risk-engine-prod-us", "--refresh", "-o", "json").stdout)
        status = got["status"]
        if status["health"]["status"] == "Healthy" and status["sync"]["revision"] == prepared["sha"]:
            break
    assert status["sync"] == {**status["sync"], "status": "Synced", "revision": prepared["sha"]}
    assert status["health"]["status"] == "Healthy"
    assert status["history"][-1]["revision"] == prepared["sha"]
    assert status["operationState"]["operation"]["initiatedBy"]["automated"] is True
    r = run_cli(*w, "runbook", "suggest", "risk-engine-prod-us", "-o", "json")
    assert json.loads(r.stdout)["runbook"] is None  # nothing left to fix


# --- reset restores the demo exactly -----------------------------------------------------------


def _snapshot(root: Path) -> dict[str, Any]:
    """Everything a drill can touch, read without the engine: every sim cluster's tables (objects,
    clock, events, queues, the audit chain), every Git repository's refs, HEAD and status, and the
    workspace file."""
    out: dict[str, Any] = {"trueup.yaml": (root / "trueup.yaml").read_text()}
    for db in sorted((root / ".trueup" / "clusters").glob("*.db")):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            out[db.name] = {
                t: con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()  # noqa: S608 - fixed names
                for t in ("meta", "objects", "events", "due", "owner_refs")
            }
        finally:
            con.close()
    for repo in (root / "git" / "fleet.git", root / "fleet"):
        if not repo.exists():
            out[str(repo.relative_to(root))] = "missing"
            continue
        r = git.Repo(repo)
        out[str(repo.relative_to(root))] = {
            "refs": sorted((ref.path, ref.commit.hexsha) for ref in r.refs),
            "head": r.head.commit.hexsha,
            "status": r.git.status("--porcelain") if not r.bare else "",
            "files": sorted(
                (str(p.relative_to(repo)), p.read_bytes())
                for p in repo.rglob("*")
                if p.is_file() and ".git" not in p.relative_to(repo).parts
            )
            if not r.bare
            else [],
        }
    return out


def test_reset_restores_git_clusters_applications_and_files_exactly(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    init_demo(demo)
    ws = load(demo)
    refresh(ws)
    before = _snapshot(demo)
    w = ["-w", str(demo)]
    assert run_cli(*w, "scenario", "run", "bad-commit-autosynced").returncode == 0
    assert run_cli(*w, "runbook", "run", "bad-commit-autosynced", "risk-engine-prod-us").returncode == 0
    assert run_cli(*w, "scenario", "run", "manual-drift").returncode == 0
    assert run_cli(*w, "scenario", "run", "repo-unreachable").returncode == 0
    (demo / "incident-notes.md").write_text("mine\n")
    listed = run_cli(*w, "scenario", "list", "-o", "json")
    assert [d["scenario"] for d in json.loads(listed.stdout)["active"]] == [
        "bad-commit-autosynced",
        "manual-drift",
        "repo-unreachable",
    ]
    assert _snapshot(demo) != before

    # a running controller (a console) would keep a world that no longer exists: refused
    lease.heartbeat(load(demo).control(), "console-elsewhere")
    r = run_cli(*w, "scenario", "reset")
    assert r.returncode == 4 and "controller is running (console-elsewhere)" in r.stderr
    lease.stop_heartbeat(load(demo).control(), "console-elsewhere")

    r = run_cli(*w, "scenario", "reset")
    assert r.returncode == 0, r.stderr
    assert (
        "undid 3 drill(s)" in r.stdout
        and "left in place (not part of the demo): incident-notes.md" in r.stdout
    )
    after = _snapshot(demo)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], f"{key} differs after reset"
    assert (demo / "incident-notes.md").read_text() == "mine\n"
    r = run_cli(*w, "scenario", "reset")
    assert r.returncode == 0 and "nothing to reset" in r.stdout
    # and the demo works as before
    r = run_cli(*w, "app", "list", "-o", "json")
    health = {a["name"]: a["health"]["status"] for a in json.loads(r.stdout)}
    assert health["risk-engine-prod-us"] == "Healthy" and health["risk-engine-prod-eu"] == "Degraded"


def test_a_real_cluster_refuses_drills_in_one_line(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    init_demo(demo)
    text = (demo / "trueup.yaml").read_text()
    text = text.replace(
        "clusters:\n",
        "clusters:\n  - name: prod\n    type: kube\n    server: https://127.0.0.1:1\n    context: prod\n",
        1,
    )
    (demo / "trueup.yaml").write_text(text)
    for argv in (["scenario", "run", "manual-drift"], ["scenario", "reset"]):
        r = run_cli("-w", str(demo), *argv)
        assert r.returncode == 2
        assert r.stderr.count("\n") == 1
        assert 'cluster "prod" is a real cluster (type kube); drills run on sim workspaces only' in r.stderr
    assert not (demo / ".trueup" / "scenarios").exists()


def test_unknown_scenario_and_unsuitable_app_are_bad_input(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    init_demo(demo)
    w = ["-w", str(demo)]
    r = run_cli(*w, "scenario", "run", "no-such-drill")
    assert r.returncode == 2 and "unknown scenario 'no-such-drill' (see `trueup scenario list`)" in r.stderr
    r = run_cli(*w, "scenario", "run", "bad-commit-autosynced", "--app", "payments-api-prod-us")
    assert r.returncode == 2 and "needs an application with automated sync" in r.stderr
    r = run_cli(*w, "scenario", "run", "hpa-noise", "--app", "identity-api-prod-eu")
    assert r.returncode == 2 and "needs an app with a HorizontalPodAutoscaler" in r.stderr
    (demo / "fleet" / "wip.txt").write_text("unfinished\n")
    r = run_cli(*w, "scenario", "run", "bad-commit-autosynced")
    assert r.returncode == 2 and "the working clone fleet/ has uncommitted changes" in r.stderr
    assert "Traceback" not in r.stderr
