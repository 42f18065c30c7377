"""Bad input to the engine, through the real `trueup` command: exactly one line on stderr, the
documented exit code (DESIGN.md §4), no traceback, and the condition on the one app it belongs to.

Covers: a manifest nested far deeper than any parser limit (one app broken, the others compared,
its sync ends Error and a later sync is accepted); resources in namespaces the project forbids;
damaged sim cluster files (control and workload) and a truncated one; wrong types in trueup.yaml.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from console.engine import yamlsafe
from tests.conftest import run_cli
from tests.helpers import application, make_workspace, project

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: good}
data: {a: "1"}
"""
DEPTH = 5_000  # far past CPython's recursion limit, and past any sane manifest depth limit
DEEP = (
    '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "data": {"x": "y"}, "extra": '
    + "[" * DEPTH
    + "]" * DEPTH
    + "}"
)
ESCALATE = """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: admin, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: team-a, apiGroup: rbac.authorization.k8s.io}]
"""


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _status(root: Path, name: str) -> dict[str, Any]:
    r = run_cli("-w", str(root), "app", "get", name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["status"]


def _conditions(root: Path, name: str) -> list[tuple[str, str]]:
    return [(c["type"], c["message"]) for c in _status(root, name).get("conditions") or []]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-engine")
    w, repo, _ = make_workspace(
        root,
        {"good/cm.yaml": CM, "deep/deep.json": DEEP, "team/cm.yaml": CM, "team/escalate.yaml": ESCALATE},
        clusters=("dev", "edge"),
    )
    control = w.control()
    control.create(
        project("team-a", sourceRepos=["*"], destinations=[{"name": "dev", "namespace": "team-a"}]),
        field_manager="t",
    )
    w.open_cluster("dev").create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}, field_manager="t"
    )
    for app in (
        application("good", repo, "good"),
        application("deep", repo, "deep"),
        application("team", repo, "team", namespace="team-a", project="team-a"),
        application("edge-app", repo, "good", cluster="edge"),
    ):
        control.create(app, field_manager="t")
    r = run_cli("-w", str(root), "app", "sync", "good")
    assert r.returncode == 0, r.stdout + r.stderr
    return root


# ------------------------------------------------------------------ one deeply nested manifest


def test_deep_manifest_is_one_apps_condition_and_the_others_refresh(ws: Path) -> None:
    r = run_cli("-w", str(ws), "refresh")
    assert r.returncode == 0
    assert _one_line(r.stderr).startswith("refreshed 4 application(s)")
    conditions = _conditions(ws, "deep")
    assert [t for t, _ in conditions] == ["ComparisonError"], conditions
    assert _status(ws, "deep")["sync"]["status"] == "Unknown"
    good = _status(ws, "good")
    assert (good["sync"]["status"], good["health"]["status"]) == ("Synced", "Healthy")
    assert "conditions" not in good
    assert _status(ws, "edge-app")["sync"]["status"] == "OutOfSync"  # compared normally


def test_diff_of_the_deep_app_is_one_line_exit_2(ws: Path) -> None:
    r = run_cli("-w", str(ws), "app", "diff", "deep")
    assert r.returncode == 2
    assert _one_line(r.stderr).startswith("trueup: cannot diff deep: ")
    assert run_cli("-w", str(ws), "app", "diff", "good").returncode == 0


def test_sync_of_the_deep_app_ends_error_and_a_later_sync_is_accepted(ws: Path) -> None:
    for _ in range(2):  # the second sync is accepted (exit 1, not 4 "operation in progress")
        r = run_cli("-w", str(ws), "app", "sync", "deep", "-o", "json")
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr
        state = json.loads(r.stdout)["operationState"]
        assert state["phase"] == "Error"
        assert state["message"].startswith("ComparisonError: ")


# ------------------------------------------------------------------ project namespaces


def test_resource_in_a_forbidden_namespace(ws: Path) -> None:
    message = "namespace kube-system is not permitted in project 'team-a'"
    r = run_cli("-w", str(ws), "refresh", "team")
    assert r.returncode == 0
    assert ("InvalidSpecError", message) in _conditions(ws, "team")
    r = run_cli("-w", str(ws), "app", "diff", "team")
    assert r.returncode == 2
    assert _one_line(r.stderr) == f"trueup: cannot diff team: {message}"
    r = run_cli("-w", str(ws), "app", "sync", "team")
    assert r.returncode == 1
    assert (
        _one_line(r.stderr) == f"Failed: one or more synchronization tasks are not valid, reason: {message}"
    )


# ------------------------------------------------------------------ damaged sim cluster files


def _copy(ws: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(ws, dst)  # with the -wal files: they hold committed data not yet checkpointed
    return dst


def _damage(db: Path, how: str) -> None:
    """Damage the file as a disk or a careless `cp` would; the WAL is checkpointed into it first, so
    the truncated file really lacks committed pages (not just an old snapshot)."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for side in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        side.unlink(missing_ok=True)
    data = db.read_bytes()
    if how == "garbage":
        db.write_bytes(b"\x13\x37 definitely not sqlite " * 400)
    elif how == "truncated":
        db.write_bytes(data[: len(data) // 3])
    else:
        db.write_bytes(b"")


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty"])
def test_damaged_control_cluster_fails_in_one_line(ws: Path, tmp_path: Path, how: str) -> None:
    root = _copy(ws, tmp_path)
    _damage(root / ".trueup" / "clusters" / "in-cluster.db", how)
    for args in (["app", "list"], ["refresh"], ["app", "sync", "good"], ["app", "terminate-op", "good"]):
        r = run_cli("-w", str(root), *args)
        assert r.returncode == 5, (args, r.stderr)
        line = _one_line(r.stderr)
        assert "sim cluster state file .trueup/clusters/in-cluster.db is damaged" in line
        assert str(root) not in line  # workspace-relative, no host path


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty"])
def test_damaged_workload_cluster_marks_only_its_apps(ws: Path, tmp_path: Path, how: str) -> None:
    root = _copy(ws, tmp_path)
    _damage(root / ".trueup" / "clusters" / "edge.db", how)
    r = run_cli("-w", str(root), "refresh")
    assert r.returncode == 0
    _one_line(r.stderr)
    edge = _status(root, "edge-app")
    assert (edge["sync"]["status"], edge["health"]["status"]) == ("Unknown", "Unknown")
    [(kind, message)] = _conditions(root, "edge-app")
    assert kind == "ComparisonError"
    assert message.startswith(
        'cluster "edge" is unreachable: sim cluster state file .trueup/clusters/edge.db is damaged'
    )
    assert str(root) not in message
    good = _status(root, "good")
    assert (good["sync"]["status"], good["health"]["status"]) == ("Synced", "Healthy")
    r = run_cli("-w", str(root), "app", "diff", "edge-app")
    assert r.returncode == 2
    assert _one_line(r.stderr).startswith('trueup: cannot diff edge-app: cluster "edge" is unreachable')


# ------------------------------------------------------------------ trueup.yaml types


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"repoErrorGracePeriodSeconds": "abc"},
            "settings.repoErrorGracePeriodSeconds: must be an integer, got 'abc'",
        ),
        ([1], "settings: must be a mapping, got [1]"),
        ({"trackingAnnotation": ["x"]}, "settings.trackingAnnotation: must be a string, got ['x']"),
        (
            {"ignoreResourceStatusField": "sometimes"},
            "settings.ignoreResourceStatusField: must be one of 'all', 'crd', 'none', 'off' or 'false', got 'sometimes'",
        ),
    ],
)
def test_wrong_setting_types_name_the_field(ws: Path, tmp_path: Path, settings: Any, message: str) -> None:
    root = _copy(ws, tmp_path)
    doc = yamlsafe.load_one((root / "trueup.yaml").read_text())
    doc["settings"] = settings
    (root / "trueup.yaml").write_text(yamlsafe.dump(doc))
    for args in (["app", "list"], ["refresh"], ["app", "diff", "good"]):
        r = run_cli("-w", str(root), *args)
        assert r.returncode == 2, (args, r.stderr)
        assert _one_line(r.stderr).endswith(f"trueup.yaml: {message}")


def test_terminate_op_with_nothing_running(ws: Path) -> None:
    r = run_cli("-w", str(ws), "app", "terminate-op", "good")
    assert r.returncode == 2
    assert _one_line(r.stderr) == (
        "trueup: Unable to terminate operation. No operation is in progress (application good)"
    )
