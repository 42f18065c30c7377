"""The seeded demo incidents hold exactly, checked through the CLI a user would type."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

EXPECTED_APPS = {
    "cluster-root",
    "platform-namespaces-prod-us",
    "platform-namespaces-prod-eu",
    "payments-api-staging",
    "payments-api-prod-us",
    "payments-api-prod-eu",
    "payments-worker-prod-us",
    "risk-engine-prod-us",
    "risk-engine-prod-eu",
    "identity-api-prod-us",
    "identity-api-prod-eu",
}
SEEDED = {
    "payments-api-prod-us": ("OutOfSync", "Healthy"),
    "risk-engine-prod-eu": ("Synced", "Degraded"),
    "identity-api-prod-us": ("OutOfSync", "Healthy"),
    "payments-worker-prod-us": ("Synced", "Healthy"),
    "payments-api-prod-eu": ("OutOfSync", "Healthy"),
}


def _apps(ws: Path, *extra: str) -> list[dict]:
    r = run_cli("-w", str(ws), "app", "list", "-o", "json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_fleet_states_after_one_refresh(demo_workspace: Path) -> None:
    apps = {a["name"]: a for a in _apps(demo_workspace)}
    assert EXPECTED_APPS <= set(apps)
    for name, app in apps.items():
        want = SEEDED.get(name, ("Synced", "Healthy"))
        assert (app["sync"]["status"], app["health"]["status"]) == want, (name, app)
    for key in ("name", "project", "cluster", "namespace", "sync", "health", "conditions", "autoSync"):
        assert key in apps["payments-api-prod-us"]
    assert len(apps["payments-api-prod-us"]["sync"]["revision"]) == 40


def test_payments_api_prod_us_is_one_commit_behind_git(demo_workspace: Path) -> None:
    app = {a["name"]: a for a in _apps(demo_workspace)}["payments-api-prod-us"]
    assert app["autoSync"] is False
    import git

    head = git.Repo(demo_workspace / "git" / "fleet.git").commit("main").hexsha
    assert app["sync"]["revision"] == head
    r = run_cli("-w", str(demo_workspace), "app", "diff", "payments-api-prod-us")
    assert r.returncode == 1, r.stderr
    assert "@sha256:" in r.stdout and "Deployment" in r.stdout
    # Git moved and live still holds what trueup applied: a Git change, not drift
    assert "===== apps/Deployment payments/payments-api (changed in Git) ======" in r.stdout
    assert (
        "# git: /spec/template/spec/containers/0/image changed in Git; live is what trueup applied"
        in r.stdout
    )
    assert "# drift:" not in r.stdout
    j = run_cli("-w", str(demo_workspace), "app", "diff", "payments-api-prod-us", "-o", "json")
    attributions = [a for d in json.loads(j.stdout) for a in d["attributions"]]
    assert attributions and all(a["drift"] is False and a["manager"] == "trueup" for a in attributions)


def test_risk_engine_prod_eu_progress_deadline(demo_workspace: Path) -> None:
    app = {a["name"]: a for a in _apps(demo_workspace)}["risk-engine-prod-eu"]
    assert app["health"]["message"].startswith("Caused by apps/Deployment:risk/risk-engine")
    r = run_cli("-w", str(demo_workspace), "app", "get", "risk-engine-prod-eu", "-o", "json")
    resources = json.loads(r.stdout)["status"]["resources"]
    dep = next(x for x in resources if x["kind"] == "Deployment")
    assert dep["health"] == {
        "status": "Degraded",
        "message": 'Deployment "risk-engine" exceeded its progress deadline',
    }
    tree = run_cli("-w", str(demo_workspace), "app", "get", "risk-engine-prod-eu", "-o", "tree").stdout
    assert "Back-off pulling image" in tree


def test_identity_drift_is_attributed_to_kubectl_edit(demo_workspace: Path) -> None:
    r = run_cli("-w", str(demo_workspace), "app", "diff", "identity-api-prod-us")
    assert r.returncode == 1
    assert "kubectl-edit" in r.stdout
    assert (
        "# drift: /spec/template/spec/containers/0/env/0/value changed by kubectl-edit (Update)" in r.stdout
    )
    assert "(live differs from Git)" in r.stdout and "# git:" not in r.stdout
    assert "LOG_LEVEL" in r.stdout or "debug" in r.stdout
    app = {a["name"]: a for a in _apps(demo_workspace)}["identity-api-prod-us"]
    assert app["selfHeal"] is False
    j = run_cli("-w", str(demo_workspace), "app", "diff", "identity-api-prod-us", "-o", "json")
    assert j.returncode == 1
    diffs = json.loads(j.stdout)
    managers = {a["manager"] for d in diffs for a in d["attributions"]}
    assert "kubectl-edit" in managers
    assert all(a["drift"] for d in diffs for a in d["attributions"] if a["manager"] == "kubectl-edit")
    changes = [c for d in diffs for c in d["changes"]]
    assert {
        "op": "changed",
        "path": "/spec/template/spec/containers/0/env/0/value",
        "live": "debug",
        "desired": "info",
    } in changes


def test_hpa_replicas_ignored(demo_workspace: Path) -> None:
    r = run_cli("-w", str(demo_workspace), "app", "diff", "payments-worker-prod-us")
    assert r.returncode == 0, r.stdout + r.stderr
    live = run_cli(
        "-w",
        str(demo_workspace),
        "app",
        "manifests",
        "payments-worker-prod-us",
        "--source",
        "live",
        "-o",
        "json",
    )
    git_ = run_cli(
        "-w",
        str(demo_workspace),
        "app",
        "manifests",
        "payments-worker-prod-us",
        "--source",
        "git",
        "-o",
        "json",
    )
    dep_live = next(o for o in json.loads(live.stdout) if o["kind"] == "Deployment")
    dep_git = next(o for o in json.loads(git_.stdout) if o["kind"] == "Deployment")
    assert dep_live["spec"]["replicas"] != dep_git["spec"]["replicas"]


def test_deny_window_present_on_payments(demo_workspace: Path) -> None:
    r = run_cli("-w", str(demo_workspace), "project", "get", "payments", "-o", "json")
    assert r.returncode == 0, r.stderr
    windows = json.loads(r.stdout)["spec"]["syncWindows"]
    assert any(w["kind"] == "deny" and "prod-eu" in (w.get("clusters") or []) for w in windows)


def test_filters_and_output_formats(demo_workspace: Path) -> None:
    oos = _apps(demo_workspace, "--sync", "OutOfSync")
    assert {a["name"] for a in oos} == {
        "payments-api-prod-us",
        "payments-api-prod-eu",
        "identity-api-prod-us",
    }
    assert {a["name"] for a in _apps(demo_workspace, "-p", "risk")} == {
        "risk-engine-prod-us",
        "risk-engine-prod-eu",
    }
    assert {a["name"] for a in _apps(demo_workspace, "--health", "Degraded")} == {"risk-engine-prod-eu"}
    names = run_cli("-w", str(demo_workspace), "app", "list", "-o", "name").stdout.split()
    assert set(names) >= EXPECTED_APPS
    wide = run_cli("-w", str(demo_workspace), "app", "list", "-o", "wide")
    assert wide.returncode == 0 and "AUTOSYNC" in wide.stdout
    y = run_cli("-w", str(demo_workspace), "app", "list", "-o", "yaml")
    assert y.returncode == 0 and "payments-api-prod-us" in y.stdout


def test_app_get_tree_shows_live_children(demo_workspace: Path) -> None:
    r = run_cli("-w", str(demo_workspace), "app", "get", "payments-api-prod-us", "-o", "tree")
    assert r.returncode == 0, r.stderr
    assert "Deployment/" in r.stdout and "ReplicaSet/" in r.stdout and "Pod/" in r.stdout
    assert "Healthy" in r.stdout


def test_secret_value_never_printed(demo_workspace: Path) -> None:
    ws = str(demo_workspace)
    outputs = [
        run_cli("-w", ws, "app", "manifests", "payments-api-prod-us"),
        run_cli("-w", ws, "app", "manifests", "payments-api-prod-us", "--source", "live"),
        run_cli("-w", ws, "app", "manifests", "payments-api-prod-us", "-o", "json"),
        run_cli("-w", ws, "app", "diff", "payments-api-prod-us"),
        run_cli("-w", ws, "app", "diff", "payments-api-prod-us", "-o", "json"),
        run_cli("-w", ws, "app", "get", "payments-api-prod-us", "-o", "json"),
        run_cli("-w", ws, "app", "list", "-o", "yaml"),
    ]
    import base64

    needles = ("demo-s3cr3t-value", base64.b64encode(b"demo-s3cr3t-value").decode())
    for r in outputs:
        for needle in needles:
            assert needle not in r.stdout and needle not in r.stderr
    assert "++++++++" in outputs[0].stdout


def test_unknown_app_is_a_clear_error(demo_workspace: Path) -> None:
    r = run_cli("-w", str(demo_workspace), "app", "get", "nope")
    assert r.returncode == 2
    assert "nope" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("-w", str(demo_workspace), "refresh", "nope")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    r = run_cli("app", "list", cwd=tmp_path)
    assert r.returncode == 2
    assert "trueup.yaml" in r.stderr and "Traceback" not in r.stderr
